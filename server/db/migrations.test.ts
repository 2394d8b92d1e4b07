import { execFile } from 'node:child_process'
import { cp, readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../testing/harness.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MIGRATIONS = join(ROOT, 'server/db/migrations')

describe('migrations', () => {
  it('the committed migrations are what drizzle-kit generates from schema.ts (nothing left to add)', async () => {
    const out = await tempDir()
    await cp(MIGRATIONS, out, { recursive: true })
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'node_modules/drizzle-kit/bin.cjs'),
        'generate',
        '--dialect',
        'sqlite',
        '--schema',
        './server/db/schema.ts',
        '--out',
        // drizzle-kit reads the folder as `./<out>`, so an absolute path will not do.
        relative(ROOT, out),
      ],
      { cwd: ROOT },
    )
    expect(stderr).not.toMatch(/error/i)
    expect(stdout).toContain('No schema changes')
    expect((await readdir(out)).sort()).toEqual((await readdir(MIGRATIONS)).sort())
  }, 60_000)
})
