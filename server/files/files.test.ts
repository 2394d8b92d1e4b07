import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir, testApp } from '../testing/harness.ts'

describe('files', () => {
  async function setup() {
    const t = await testApp()
    const upload = (name: string, body: string) =>
      t.app.request(`/api/files/${name}`, {
        method: 'PUT',
        headers: { cookie: t.cookie, 'content-type': 'application/octet-stream' },
        body,
      })
    return { ...t, upload }
  }

  it('uploads, lists, downloads and deletes files inside FILES_DIR', async () => {
    const { call, upload, services } = await setup()
    const res = await upload('hr.csv', 'id,name\n1,ada\n')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ name: 'hr.csv', size: 14 })
    expect(await readFile(join(services.filesDir, 'hr.csv'), 'utf8')).toBe('id,name\n1,ada\n')
    expect((await upload('in/2024/people.csv', 'x')).status).toBe(200)
    const list = (await (await call('GET', '/api/files')).json()) as {
      files: { name: string; size: number }[]
    }
    expect(list.files.map((f) => [f.name, f.size])).toEqual([
      ['hr.csv', 14],
      ['in/2024/people.csv', 1],
    ])
    const down = await call('GET', '/api/files/hr.csv')
    expect(down.status).toBe(200)
    expect(down.headers.get('content-disposition')).toContain('hr.csv')
    expect(await down.text()).toBe('id,name\n1,ada\n')
    expect(await (await call('GET', '/api/files/in/2024/people.csv')).text()).toBe('x')
    expect((await call('DELETE', '/api/files/hr.csv')).status).toBe(200)
    expect((await call('GET', '/api/files/hr.csv')).status).toBe(404)
  })

  it('refuses ../ with a clear error', async () => {
    const { call, upload } = await setup()
    for (const name of ['..%2Fescape.txt', '..%2F..%2Fetc%2Fpasswd', 'a%2F..%2F..%2Fx']) {
      const res = await call('GET', `/api/files/${name}`)
      expect(res.status, name).toBe(403)
      expect(await res.json()).toMatchObject({
        error: {
          code: 'PATH_OUTSIDE_FILES',
          message: expect.stringContaining('is outside the files folder'),
        },
      })
    }
    const up = await upload('..%2Fescape.txt', 'x')
    expect(up.status).toBe(403)
  })

  it('refuses an absolute path outside FILES_DIR, and accepts one inside it', async () => {
    const outside = await tempDir('syncgraph-outside-')
    await writeFile(join(outside, 'secret.txt'), 'secret')
    const { call, upload, services } = await setup()
    const res = await call('GET', `/api/files/${encodeURIComponent(join(outside, 'secret.txt'))}`)
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({
      error: {
        code: 'PATH_OUTSIDE_FILES',
        message: expect.stringContaining('absolute paths must point into it'),
      },
    })
    expect((await upload(encodeURIComponent(join(outside, 'new.txt')), 'x')).status).toBe(403)
    await writeFile(join(services.filesDir, 'inside.txt'), 'ok')
    expect(
      await (
        await call('GET', `/api/files/${encodeURIComponent(join(services.filesDir, 'inside.txt'))}`)
      ).text(),
    ).toBe('ok')
  })

  it('refuses a symlink leading out of FILES_DIR, for reads and writes', async () => {
    const outside = await tempDir('syncgraph-outside-')
    await writeFile(join(outside, 'secret.txt'), 'secret')
    const { call, upload, services } = await setup()
    await symlink(outside, join(services.filesDir, 'escape'))
    await symlink(join(outside, 'secret.txt'), join(services.filesDir, 'link.txt'))
    for (const name of ['escape/secret.txt', 'link.txt']) {
      const res = await call('GET', `/api/files/${name}`)
      expect(res.status, name).toBe(403)
      expect(await res.json()).toMatchObject({ error: { code: 'PATH_OUTSIDE_FILES' } })
    }
    expect((await upload('escape/planted.txt', 'x')).status).toBe(403)
    await expect(readFile(join(outside, 'planted.txt'))).rejects.toThrow()
    // A symlink that stays inside is fine.
    await mkdir(join(services.filesDir, 'data'))
    await writeFile(join(services.filesDir, 'data', 'a.txt'), 'a')
    await symlink(join(services.filesDir, 'data'), join(services.filesDir, 'alias'))
    expect(await (await call('GET', '/api/files/alias/a.txt')).text()).toBe('a')
  })

  it('limits upload size', async () => {
    const t = await testApp({ maxUploadBytes: 10 })
    const res = await t.app.request('/api/files/big.bin', {
      method: 'PUT',
      headers: { cookie: t.cookie, 'content-length': '11' },
      body: 'x'.repeat(11),
    })
    expect(res.status).toBe(413)
  })
})
