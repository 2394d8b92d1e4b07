import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createServices } from '../services.ts'
import { tempDir, testApp, testOptions, waitForRun } from '../testing/harness.ts'
import { createSecretBox, KEY_FILE } from './secret-box.ts'

const SECRET = 'hunter2-Sup3r-secret!'

describe('connections', () => {
  it('stores secrets write-only: no response contains them, the database holds them encrypted', async () => {
    const { call, services, dataDir, logLines } = await testApp()
    const created = await call('POST', '/api/connections', {
      name: 'hr-db',
      kind: 'sql',
      driver: 'postgres',
      settings: { host: 'db.example', port: 5432, database: 'hr', user: 'sync' },
      secrets: { password: SECRET },
    })
    expect(created.status).toBe(201)
    const text = await created.text()
    expect(text).not.toContain(SECRET)
    const { id } = JSON.parse(text) as { id: string }
    expect(JSON.parse(text)).toMatchObject({
      name: 'hr-db',
      kind: 'sql',
      driver: 'postgres',
      hasSecret: true,
      secretFields: ['password'],
      settings: { user: 'sync' },
    })

    const bodies = [
      await (await call('GET', '/api/connections')).text(),
      await (await call('GET', `/api/connections/${id}`)).text(),
      await // Pointing it elsewhere takes its secrets again (security-review.test.ts).
      (
        await call('PUT', `/api/connections/${id}`, {
          settings: { host: 'db2.example', port: 5432 },
          secrets: { password: SECRET },
        })
      ).text(),
      await (await call('POST', `/api/connections/${id}/test`)).text(),
      await (await call('GET', '/api/openapi.json')).text(),
    ]
    for (const body of bodies) expect(body).not.toContain(SECRET)
    expect(JSON.parse(bodies[2]!)).toMatchObject({ hasSecret: true, settings: { host: 'db2.example' } })

    const row = services.sqlite.prepare('select * from connections').get() as Record<string, string>
    expect(JSON.stringify(row)).not.toContain(SECRET)
    expect(row.secrets).toMatch(/^v1\./)
    for (const file of ['syncgraph.db', 'syncgraph.db-wal']) {
      expect(await readFile(join(dataDir, file), 'latin1').catch(() => '')).not.toContain(SECRET)
    }
    expect(logLines.join('\n')).not.toContain(SECRET)
    // The run's resolver (and only it) sees the secret.
    expect(services.connections.resolve('hr-db')).toMatchObject({
      driver: 'postgres',
      host: 'db2.example',
      password: SECRET,
    })
  })

  it('refuses secrets in settings and duplicate names; removes a secret with null; deletes', async () => {
    const { call } = await testApp()
    const bad = await call('POST', '/api/connections', {
      name: 'x',
      kind: 'ldap',
      settings: { url: 'ldap://h', bindPassword: SECRET },
    })
    expect(bad.status).toBe(400)
    const badText = await bad.text()
    expect(badText).not.toContain(SECRET)
    expect(JSON.parse(badText)).toMatchObject({ error: { code: 'SECRET_IN_SETTINGS' } })

    const { id } = (await (
      await call('POST', '/api/connections', {
        name: 'dir',
        kind: 'ldap',
        settings: { url: 'ldap://h' },
        secrets: { password: SECRET },
      })
    ).json()) as { id: string }
    expect((await call('POST', '/api/connections', { name: 'dir', kind: 'ldap', settings: {} })).status).toBe(
      409,
    )
    const kept = (await (
      await call('PUT', `/api/connections/${id}`, { secrets: { token: 'abc' } })
    ).json()) as { secretFields: string[] }
    expect(kept.secretFields).toEqual(['password', 'token'])
    const removed = (await (
      await call('PUT', `/api/connections/${id}`, { secrets: { password: null, token: null } })
    ).json()) as { hasSecret: boolean }
    expect(removed.hasSecret).toBe(false)
    expect((await call('DELETE', `/api/connections/${id}`)).status).toBe(200)
    expect((await call('GET', `/api/connections/${id}`)).status).toBe(404)
  })

  it('creates the key file with mode 0600 and reads secrets back after a restart', async () => {
    const dataDir = await tempDir()
    const first = await createServices(testOptions(dataDir))
    first.connections.create({
      name: 'c',
      kind: 'sql',
      driver: 'sqlite',
      settings: {},
      secrets: { password: SECRET },
    })
    await first.close()
    expect((await stat(join(dataDir, KEY_FILE))).mode & 0o777).toBe(0o600)
    const second = await createServices(testOptions(dataDir))
    expect(second.connections.resolve('c')).toMatchObject({ password: SECRET })
    await second.close()
  })

  it('uses SYNCGRAPH_SECRET_KEY when given, and a ciphertext cannot be moved to another record', async () => {
    const dataDir = await tempDir()
    const key = 'ab'.repeat(32)
    const services = await createServices(testOptions(dataDir, { secretKey: key }))
    services.connections.create({ name: 'c', kind: 'sql', settings: {}, secrets: { password: SECRET } })
    await services.close()
    await expect(stat(join(dataDir, KEY_FILE))).rejects.toThrow()
    const box = createSecretBox(Buffer.from(key, 'hex'))
    const sealed = box.seal('x', 'connection:a')
    expect(box.open(sealed, 'connection:a')).toBe('x')
    expect(() => box.open(sealed, 'connection:b')).toThrow()
  })

  it('tests a SQLite connection and reports an unreachable host without its secrets', async () => {
    const { call, services } = await testApp()
    const Database = (await import('better-sqlite3')).default
    new Database(join(services.filesDir, 'app.db')).close()
    const { id } = (await (
      await call('POST', '/api/connections', {
        name: 'lite',
        kind: 'sql',
        driver: 'sqlite',
        settings: { path: 'app.db' },
      })
    ).json()) as { id: string }
    expect(await (await call('POST', `/api/connections/${id}/test`)).json()).toEqual({
      ok: true,
      message: 'opened the SQLite database',
    })
    const far = (await (
      await call('POST', '/api/connections', {
        name: 'far',
        kind: 'sql',
        driver: 'postgres',
        settings: { host: '127.0.0.1', port: 1 },
        secrets: { password: SECRET },
      })
    ).json()) as { id: string }
    const res = await (await call('POST', `/api/connections/${far.id}/test`)).text()
    expect(JSON.parse(res)).toMatchObject({
      ok: false,
      message: expect.stringContaining('cannot reach 127.0.0.1:1'),
    })
    expect(res).not.toContain(SECRET)
  })

  it('graphs reference connections by name; a missing name fails the run clearly', async () => {
    const { call, services } = await testApp()
    const Database = (await import('better-sqlite3')).default
    const db = new Database(join(services.filesDir, 'hr.db'))
    db.exec("create table people (id integer, name text); insert into people values (1, 'ada'), (2, 'bob')")
    db.close()
    await call('POST', '/api/connections', {
      name: 'hr',
      kind: 'sql',
      driver: 'sqlite',
      settings: { path: 'hr.db' },
    })
    const graph = (connection: string) => ({
      syncgraph: 1,
      nodes: [
        { id: 'people', type: 'sql.read', config: { connection, table: 'people' } },
        { id: 'sink', type: 'test.discard', config: {} },
      ],
      edges: [{ from: 'people', to: 'sink' }],
    })
    const ok = ((await (await call('POST', '/api/runs', { graph: graph('hr') })).json()) as { id: string }).id
    const run = await waitForRun(call, ok)
    expect(run, JSON.stringify(run.errors)).toMatchObject({
      status: 'succeeded',
      nodes: { sink: { rowsIn: 2 } },
    })
    const missing = (
      (await (await call('POST', '/api/runs', { graph: graph('nope') })).json()) as { id: string }
    ).id
    expect(await waitForRun(call, missing)).toMatchObject({
      status: 'failed',
      errors: [expect.objectContaining({ code: 'CONNECTION_NOT_FOUND' })],
    })
  })
})
