import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createServer } from './main.ts'
import { tempDir, testOptions } from './testing/harness.ts'

describe('createServer', () => {
  it('binds 127.0.0.1, applies migrations in WAL mode and answers /api/health', async () => {
    const dataDir = await tempDir()
    const server = await createServer({ ...testOptions(dataDir), port: 0 })
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(await (await fetch(`${server.url}/api/health`)).json()).toEqual({
        ok: true,
        version: expect.any(String),
      })
      expect(server.services.sqlite.pragma('journal_mode', { simple: true })).toBe('wal')
      const tables = (
        server.services.sqlite
          .prepare("select name from sqlite_master where type = 'table' order by name")
          .all() as { name: string }[]
      ).map((t) => t.name)
      expect(tables).toEqual(
        expect.arrayContaining([
          'users',
          'sessions',
          'graphs',
          'graph_revisions',
          'templates',
          'connections',
          'runs',
          'run_rejected',
        ]),
      )
      expect(server.services.filesDir).toBe(join(dataDir, 'files'))
    } finally {
      await server.close()
    }
  })

  it('serves the built editor with an SPA fallback, and keeps /api answers JSON', async () => {
    const dataDir = await tempDir()
    const editorDir = join(dataDir, 'editor')
    await mkdir(join(editorDir, 'assets'), { recursive: true })
    await writeFile(join(editorDir, 'index.html'), '<!doctype html><title>Syncgraph</title>')
    await writeFile(join(editorDir, 'assets', 'app.js'), 'console.log(1)')
    const server = await createServer({ ...testOptions(dataDir), port: 0, editorDir })
    try {
      expect(await (await fetch(`${server.url}/`)).text()).toContain('<title>Syncgraph</title>')
      expect(await (await fetch(`${server.url}/graphs/123`)).text()).toContain('<title>Syncgraph</title>')
      const js = await fetch(`${server.url}/assets/app.js`)
      expect(js.headers.get('content-type')).toContain('javascript')
      expect(await js.text()).toBe('console.log(1)')
      const api = await fetch(`${server.url}/api/nope`)
      expect(api.status).toBe(401)
    } finally {
      await server.close()
    }
  })
})
