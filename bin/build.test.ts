import { execFile } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../test/helpers.ts'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
// Inside the project, so the compiled modules find package.json, the migrations and dist/editor
// the way dist/node does; a folder of its own, so a build here never races the real one.
const outDir = join(root, 'dist', `build-test-${process.pid}`)

afterAll(() => rm(outDir, { recursive: true, force: true }))

/** Run the compiled CLI's `main` with `args` in `cwd`. */
async function compiledCli(args: string[], cwd: string) {
  const main = new URL(`file://${join(outDir, 'cli', 'main.js')}`).href
  const script = `const { main } = await import(${JSON.stringify(main)}); process.exit(await main(${JSON.stringify(args)}))`
  return run(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
  })
}

describe('the compiled build (npm run build:node)', () => {
  it(
    'runs the CLI without the TypeScript loader, worker threads included',
    { timeout: 240_000 },
    async () => {
      await run(process.execPath, [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(root, 'tsconfig.build.json'),
        '--noCheck',
        '--outDir',
        outDir,
      ])
      const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }
      expect((await compiledCli(['--version'], root)).stdout.trim()).toBe(pkg.version)

      // A map the JSONata compiler cannot take runs on the worker pool: the pool must load the compiled worker.
      const dir = await tempDir()
      await writeFile(join(dir, 'in.csv'), 'id,name\n1,a\n2,b\n')
      const graph = {
        syncgraph: 1,
        name: 'compiled',
        settings: { workers: 1 },
        nodes: [
          { id: 'src', type: 'csv.read', config: { path: 'in.csv' } },
          {
            id: 'm',
            type: 'map',
            config: { expression: '{"id": id, "e": $each($, function($v, $k){$k & "=" & $v})}' },
          },
          { id: 'out', type: 'csv.write', config: { path: 'out.csv' } },
        ],
        edges: [
          { from: 'src', to: 'm' },
          { from: 'm', to: 'out' },
        ],
      }
      await writeFile(join(dir, 'graph.json'), JSON.stringify(graph))
      const { stdout } = await compiledCli(['run', 'graph.json', '--json'], dir)
      expect(JSON.parse(stdout)).toMatchObject({ status: 'succeeded', nodes: { out: { rowsIn: 2 } } })
      expect(await readFile(join(dir, 'out.csv'), 'utf8')).toBe('id,e\n1,id=1;name=a\n2,id=2;name=b\n')
    },
  )
})
