#!/usr/bin/env node
// The `syncgraph` command. It runs the compiled build (dist/node, written by `npm run build`) when
// that build is newer than every source file; otherwise (a fresh checkout, or sources edited since
// the build) it registers tsx's TypeScript loader and runs the sources, so it never runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))
const compiled = join(root, 'dist', 'node')
const SOURCE_DIRS = ['engine', 'nodes', 'server', 'cli']

/** The build is fresh when its stamp is newer than the newest .ts file of the sources it compiles. */
function buildIsFresh() {
  if (process.env.SYNCGRAPH_FROM_SOURCE === '1') return false
  const stamp = join(compiled, '.built')
  if (!existsSync(stamp)) return false
  const built = statSync(stamp).mtimeMs
  for (const dir of SOURCE_DIRS) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (
        entry.isFile() &&
        entry.name.endsWith('.ts') &&
        statSync(join(entry.parentPath, entry.name)).mtimeMs > built
      )
        return false
    }
  }
  return true
}

const fromBuild = buildIsFresh()
if (!fromBuild) {
  const tsx = await import('tsx/esm/api').catch(() => undefined)
  if (tsx === undefined) {
    process.stderr.write(
      'syncgraph: not built (run "npm run build"), and tsx is not installed to run the sources\n',
    )
    process.exit(2)
  }
  tsx.register()
}
/** A module of the CLI or server, compiled or from source. */
const load = (path) =>
  import(new URL(fromBuild ? `../dist/node/${path}.js` : `../${path}.ts`, import.meta.url).href)

const args = process.argv.slice(2)

if (args[0] === 'serve') {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('Usage: syncgraph serve [--port N] [--host H] [--data-dir D] [--files-dir F]\n')
    process.exit(0)
  }
  const server = await load('server/main')
  try {
    await server.main(args.slice(1))
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`${message.startsWith('syncgraph serve') ? '' : 'syncgraph serve: '}${message}\n`)
    process.exit(2)
  }
} else {
  const { main } = await load('cli/main')
  const code = await main(args)
  // Exit even if a stray handle (a worker, a timer) is still open; stdout and stderr are
  // synchronous for files and pipes, so nothing printed is lost.
  process.exit(code)
}
