#!/usr/bin/env node
// The `syncgraph` command. Plain JavaScript so it starts without a build: it registers tsx's
// TypeScript loader, then hands over to the CLI (cli/main.ts) or, for `serve`, to the server.
import { existsSync } from 'node:fs'
import { register } from 'tsx/esm/api'

register()
const args = process.argv.slice(2)

if (args[0] === 'serve') {
  const serverMain = new URL('../server/main.ts', import.meta.url)
  if (!existsSync(serverMain)) {
    process.stderr.write('syncgraph serve: not built yet (server/main.ts does not exist)\n')
    process.exit(2)
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('Usage: syncgraph serve [--port N] [--host H] [--data-dir D] [--files-dir F]\n')
    process.exit(0)
  }
  const server = await import(serverMain.href)
  if (typeof server.main !== 'function') {
    process.stderr.write('syncgraph serve: not built yet (server/main.ts exports no main())\n')
    process.exit(2)
  }
  try {
    await server.main(args.slice(1))
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`${message.startsWith('syncgraph serve') ? '' : 'syncgraph serve: '}${message}\n`)
    process.exit(2)
  }
} else {
  const { main } = await import('../cli/main.ts')
  const code = await main(args)
  // Exit even if a stray handle (a worker, a timer) is still open; stdout and stderr are
  // synchronous for files and pipes, so nothing printed is lost.
  process.exit(code)
}
