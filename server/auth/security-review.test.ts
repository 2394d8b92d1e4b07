import Database from 'better-sqlite3'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseGraph } from '../../engine/index.ts'
import { catalog } from '../../nodes/index.ts'
import { addUser, errorOf } from '../approvals/test-helpers.ts'
import { createGraph, json, okGraph, slowGraph } from '../collections/test-helpers.ts'
import { createApp } from '../app.ts'
import { checkPolicy } from '../policies/policy.ts'
import { createServices } from '../services.ts'
import {
  ADMIN_PASSWORD,
  login,
  tempDir,
  testApp,
  testOptions,
  testServer,
  waitForRun,
  type TestApp,
} from '../testing/harness.ts'
import { openSocket } from '../testing/ws-client.ts'
import { routeGuards } from './guards.ts'

/**
 * Holes found by a review of roles, permissions and policies (issue 8 points 5–6), each proven by a
 * test that failed before its fix; the suites "checks that hold" and "parameters are bound before the
 * policy check" passed from the start and keep those checks in place.
 */

async function setPolicy(t: TestApp, role: string, policy: unknown): Promise<void> {
  const res = await t.call('PUT', `/api/policies/${role}`, policy)
  expect(res.status, await res.clone().text()).toBe(200)
}

/** sql.read of a stored connection into the test sink. */
const readStored = (connection: string) => ({
  syncgraph: 1,
  name: 'read stored connection',
  settings: { workers: 0 },
  nodes: [
    { id: 'src', type: 'sql.read', config: { connection, query: 'select 1 as one' } },
    { id: 'sink', type: 'test.discard', config: {} },
  ],
  edges: [{ from: 'src', to: 'sink' }],
})

describe('the route guard table fails closed', () => {
  it('a route with no guard entry answers 403 instead of being open to any session', async () => {
    const services = await createServices(testOptions(await tempDir()))
    try {
      const { app } = createApp(services)
      // Routes added without touching server/auth/guards.ts, as a new feature might.
      app.get('/api/review-probe', (c) => c.json({ secret: 'open' }))
      app.get('/api/templates/:id/export', (c) => c.json({ secret: 'open' }))
      const cookie = await login(app, 'admin', ADMIN_PASSWORD)
      const get = (path: string) => app.request(path, { headers: { cookie } })
      for (const path of ['/api/review-probe', '/api/templates/some-id/export']) {
        const res = await get(path)
        expect(res.status, path).toBe(403)
        const body = await res.text()
        expect(body).not.toContain('open')
        expect(JSON.parse(body)).toMatchObject({ error: { code: 'FORBIDDEN' } })
      }
      // A path no route answers is still a 404, and guarded routes still answer.
      expect((await get('/api/no-such-route')).status).toBe(404)
      expect((await get('/api/templates')).status).toBe(200)
      expect((await get('/api/templates/no-such-id')).status).toBe(404)
    } finally {
      await services.close()
    }
  })

  it('every route the app registers (not only the documented ones) has its own guard entry', async () => {
    const t = await testApp()
    const missing = new Set<string>()
    for (const route of t.app.routes) {
      if (route.method === 'ALL' || route.path === '/api/health' || route.path === '/api/auth/login') continue
      if (!route.path.startsWith('/api/')) continue
      if (!routeGuards.some((g) => g.method === route.method && g.path === route.path))
        missing.add(`${route.method} ${route.path}`)
    }
    expect([...missing]).toEqual([])
  })
})

describe('policies follow what the run really uses', () => {
  it('a stored connection whose secrets or settings name another driver is checked as that driver', async () => {
    const t = await testApp()
    const dora = await addUser(t, 'dora', 'designer')
    await setPolicy(t, 'designer', { sources: { allow: ['sql:sqlite'] } })
    // The column says sqlite; the resolved connection (settings, then secrets, win) says postgres.
    for (const [name, extra] of [
      ['via-secrets', { settings: { path: 'x.db' }, secrets: { driver: 'postgres' } }],
      ['via-settings', { settings: { driver: 'postgres', path: 'x.db' } }],
    ] as const) {
      const created = await t.call('POST', '/api/connections', {
        name,
        kind: 'sql',
        driver: 'sqlite',
        ...extra,
      })
      expect(created.status, await created.clone().text()).toBe(201)
      const graphId = await createGraph(dora.call, readStored(name))
      const res = await dora.call('POST', '/api/runs', { graphId })
      const error = await errorOf(res)
      expect(error, name).toMatchObject({ status: 403, code: 'POLICY_VIOLATION' })
      expect(JSON.stringify(error.details)).toContain('sql:postgres')
    }
  })

  it('a run that waited in the queue is checked again when it starts (policy tightened meanwhile)', async () => {
    const t = await testApp({ maxRuns: 1 })
    const dora = await addUser(t, 'dora', 'designer')
    const blocker = await json<{ id: string }>(t.call('POST', '/api/runs', { graph: slowGraph('blocker') }))
    const graphId = await createGraph(dora.call, okGraph('queued one', 5))
    const queued = await json<{ id: string; status: string }>(dora.call('POST', '/api/runs', { graphId }))
    expect((await json<{ status: string }>(dora.call('GET', `/api/runs/${queued.id}`))).status).toBe('queued')
    // While it waits, the admin forbids the designer's destination.
    await setPolicy(t, 'designer', { destinations: { allow: ['csv'] } })
    expect((await t.call('POST', `/api/runs/${blocker.id}/cancel`)).status).toBeLessThan(300)
    const ended = await waitForRun(dora.call, queued.id)
    expect(ended.status).toBe('failed')
    expect(JSON.stringify(ended.errors)).toContain('POLICY_VIOLATION')
  })
})

describe('the WebSocket follows the session as it is now', () => {
  it('a disabled user’s socket is closed, and a subscription the new role may not view ends', async () => {
    const server = await testServer(await tempDir())
    const app = { request: (path: string, init: RequestInit) => fetch(server.url + path, init) }
    const send = async (method: string, path: string, body: unknown, cookie = server.cookie) => {
      const res = await fetch(server.url + path, {
        method,
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(res.status, await res.clone().text()).toBeLessThan(300)
      return (await res.json()) as { id: string }
    }
    const password = 'a password long enough'
    const dora = await send('POST', '/api/users', { username: 'dora', password, role: 'designer' })
    const vera = await send('POST', '/api/users', { username: 'vera', password, role: 'viewer' })
    const doraCookie = await login(app, 'dora', password)
    const veraCookie = await login(app, 'vera', password)
    const { id: graphId } = await send('POST', '/api/graphs', { graph: slowGraph('dora slow') }, doraCookie)
    const doraRun = (await send('POST', '/api/runs', { graphId }, doraCookie)).id
    const adminRun = (await send('POST', '/api/runs', { graph: slowGraph('admin slow') })).id
    try {
      const designer = await openSocket(server.url, doraCookie)
      designer.send({ type: 'subscribe', runId: doraRun })
      await designer.next('progress', (m) => m.runId === doraRun)
      const viewer = await openSocket(server.url, veraCookie)
      viewer.send({ type: 'subscribe', runId: adminRun })
      await viewer.next('progress', (m) => m.runId === adminRun)

      await send('PUT', `/api/users/${dora.id}`, { disabled: true })
      expect(await designer.closed).toBe(1008)

      // Vera becomes a designer: no view-any, so the admin's run is no longer hers to watch.
      await send('PUT', `/api/users/${vera.id}`, { role: 'designer' })
      const ended = await viewer.next('error', (m) => m.runId === adminRun)
      expect(ended.message).toBe(`no run with id "${adminRun}"`)
      viewer.ws.close()
    } finally {
      for (const id of [doraRun, adminRun]) await send('POST', `/api/runs/${id}/cancel`, {})
    }
  })
})

describe('policy writes.object reads the LDAP scope filter as LDAP does', () => {
  const sync = (filter: string) =>
    parseGraph({
      syncgraph: 1,
      name: 'g',
      nodes: [
        { id: 'hr', type: 'csv.read', config: { path: 'hr.csv' } },
        {
          id: 'sync1',
          type: 'ldap.sync',
          config: {
            connection: { url: 'ldap://dir.example.com', bindDN: 'cn=admin,dc=example,dc=com' },
            base: 'dc=example,dc=com',
            filter,
            key: [{ source: 'id', target: 'employeeNumber' }],
            create: false,
            attributes: { description: 'title' },
          },
        },
      ],
      edges: [{ from: 'hr', to: 'sync1' }],
    })
  const personOnly = { writes: [{ connector: 'ldap', object: 'person', attributes: '*' as const }] }
  const rules = (filter: string) => {
    const parsed = sync(filter)
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    return checkPolicy(parsed.graph, personOnly, { catalog }).map((v) => `${v.rule} ${v.value}`)
  }

  it('an objectClass inside an OR or a NOT does not make the scope that class', () => {
    // Groups are in scope here: the sync would update them, which a person-only policy forbids.
    expect(rules('(|(objectClass=person)(objectClass=groupOfNames))')).toEqual(['writes.object ?'])
    expect(rules('(&(|(objectClass=person)(cn=*))(sn=x))')).toEqual(['writes.object ?'])
    expect(rules('(!(!(objectClass=person)))')).toEqual(['writes.object ?'])
    // Required by AND (at any depth of ANDs) it is.
    expect(rules('(objectClass=person)')).toEqual([])
    expect(rules('(&(objectClass=person)(|(ou=a)(ou=b)))')).toEqual([])
    expect(rules('(&(&(objectClass=person))(!(objectClass=group)))')).toEqual([])
    expect(rules('(&(objectClass=groupOfNames)(mail=*))')).toEqual(['writes.object groupOfNames'])
  })
})

describe('policy actions and attributes of an LDAP sync that renames', () => {
  it('a sync whose DN rule may differ from a linked object’s DN renames or moves it: that is "move", and writes the naming attribute', () => {
    const parsed = parseGraph({
      syncgraph: 1,
      name: 'g',
      nodes: [
        { id: 'hr', type: 'csv.read', config: { path: 'hr.csv' } },
        {
          id: 'sync1',
          type: 'ldap.sync',
          config: {
            connection: { url: 'ldap://dir.example.com', bindDN: 'cn=admin,dc=example,dc=com' },
            base: 'dc=example,dc=com',
            filter: '(objectClass=person)',
            key: [{ source: 'id', target: 'employeeNumber' }],
            create: false,
            // Each linked person is renamed (cn) or moved into the row's container when it differs.
            dn: { rdn: 'cn', from: 'name', parent: 'ou=People,dc=example,dc=com', parentFrom: 'ou' },
            attributes: { description: 'title' },
          },
        },
      ],
      edges: [{ from: 'hr', to: 'sync1' }],
    })
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
    const policy = {
      writes: [
        { connector: 'ldap', object: 'person', attributes: ['description'], actions: ['update' as const] },
      ],
    }
    expect(checkPolicy(parsed.graph, policy, { catalog }).map((v) => `${v.rule} ${v.value}`)).toEqual([
      'writes.action move',
      'writes.attribute cn',
    ])
  })
})

describe('guards read the same JSON body as the route', () => {
  it('a JSON media type other than application/json (or in capitals) does not skip the body checks', async () => {
    const t = await testApp()
    const dora = await addUser(t, 'dora', 'designer')
    const adminGraph = await createGraph(t.call, okGraph('admin graph', 5))
    // csv.write is a destination: an unsaved graph that writes needs "approve", which designers lack.
    const writing = {
      ...okGraph('writes a file', 5),
      nodes: [
        { id: 'src', type: 'test.generate', config: { count: 5 } },
        { id: 'out', type: 'csv.write', config: { path: 'out.csv' } },
      ],
      edges: [{ from: 'src', to: 'out' }],
    }
    for (const type of [
      'application/vnd.syncgraph+json',
      'Application/JSON',
      'application/json; charset=utf-8',
    ]) {
      const run = await dora.call('POST', '/api/runs', { graph: writing }, { 'content-type': type })
      expect(await errorOf(run), type).toMatchObject({ status: 403, code: 'FORBIDDEN' })
      // A notification rule on a job the designer may not see answers as if the job did not exist.
      const rule = await dora.call(
        'POST',
        '/api/notifications/rules',
        { jobKind: 'graph', jobId: adminGraph, channel: 'email', to: ['d@example.com'], on: ['always'] },
        { 'content-type': type },
      )
      expect(await errorOf(rule), type).toMatchObject({ status: 404, code: 'NOT_FOUND' })
    }
  })
})

describe('no secret in what every user may read', () => {
  it('a stored connection refuses a password inside a settings URL (settings are shown to everyone)', async () => {
    const t = await testApp()
    const vera = await addUser(t, 'vera', 'viewer')
    const url = 'postgres://sync:hunter2-secret@db.example.com:5432/hr'
    const bad = await t.call('POST', '/api/connections', {
      name: 'hr',
      kind: 'sql',
      driver: 'postgres',
      settings: { url },
    })
    expect(await errorOf(bad)).toMatchObject({ status: 400, code: 'SECRET_IN_SETTINGS' })
    // Under secrets it is stored sealed, and nobody reads it back.
    const ok = await t.call('POST', '/api/connections', {
      name: 'hr',
      kind: 'sql',
      driver: 'postgres',
      settings: { database: 'hr' },
      secrets: { url },
    })
    expect(ok.status).toBe(201)
    const { id } = (await ok.json()) as { id: string }
    const put = await t.call('PUT', `/api/connections/${id}`, { settings: { url } })
    expect(await errorOf(put)).toMatchObject({ status: 400, code: 'SECRET_IN_SETTINGS' })
    expect(await (await vera.call('GET', '/api/connections')).text()).not.toContain('hunter2')
    // A URL without a password is a setting like any other.
    const plain = await t.call('POST', '/api/connections', {
      name: 'dir',
      kind: 'ldap',
      settings: { url: 'ldap://sync@dir.example.com:389' },
    })
    expect(plain.status).toBe(201)
  })
})

describe('checks that hold (no hole found): proven here so they stay held', () => {
  it('two admins disabling each other at once leave one enabled admin (409 LAST_ADMIN for the other)', async () => {
    const t = await testApp()
    const second = await addUser(t, 'root2', 'admin')
    const me = await json<{ user: { id: string } }>(t.call('GET', '/api/auth/me'))
    const answers = await Promise.all([
      t.call('PUT', `/api/users/${second.id}`, { disabled: true }),
      second.call('PUT', `/api/users/${me.user.id}`, { disabled: true }),
    ])
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409])
    const enabled = t.services.sqlite
      .prepare("SELECT count(*) AS n FROM users WHERE role = 'admin' AND disabled = 0")
      .get() as { n: number }
    expect(enabled.n).toBe(1)
  })

  it('a session follows the user as they are now: a role change applies to the next request', async () => {
    const t = await testApp()
    const dora = await addUser(t, 'dora', 'designer')
    expect((await dora.call('POST', '/api/graphs', { graph: okGraph('mine', 5) })).status).toBe(201)
    expect((await t.call('PUT', `/api/users/${dora.id}`, { role: 'viewer' })).status).toBe(200)
    expect(await errorOf(dora.call('POST', '/api/graphs', { graph: okGraph('mine', 5) }))).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    })
    // A user cannot change their own role: that is manage-users, an admin's.
    expect(await errorOf(dora.call('PUT', `/api/users/${dora.id}`, { role: 'admin' }))).toMatchObject({
      status: 403,
    })
  })

  it('applying an old plan after the policy changed is checked against the policy as it is now', async () => {
    const t = await testApp()
    const dora = await addUser(t, 'dora', 'designer')
    const db = new Database(join(t.services.filesDir, 'people.db'))
    db.exec('CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT)')
    db.close()
    const graphId = await createGraph(dora.call, {
      syncgraph: 1,
      name: 'people to table',
      settings: { workers: 0 },
      nodes: [
        { id: 'hr', type: 'test.values', config: { rows: [{ id: '1', name: 'Ann' }] } },
        {
          id: 'sync',
          type: 'sql.sync',
          config: {
            connection: { driver: 'sqlite', path: 'people.db' },
            table: 'people',
            key: ['id'],
            columns: { name: 'name' },
          },
        },
      ],
      edges: [{ from: 'hr', to: 'sync' }],
    })
    const plan = await json<{ id: string }>(dora.call('POST', '/api/runs', { graphId, mode: 'plan' }))
    expect((await waitForRun(dora.call, plan.id)).status).toBe('succeeded')
    await setPolicy(t, 'designer', { destinations: { allow: ['csv'] } })
    const refused = await errorOf(dora.call('POST', `/api/runs/${plan.id}/apply`))
    expect(refused).toMatchObject({ status: 403, code: 'POLICY_VIOLATION' })
    expect(JSON.stringify(refused.details)).toContain('sql:sqlite')
  })
})

describe('the files folder never holds the server’s own data', () => {
  it('refuses to start when FILES_DIR is DATA_DIR or holds it (every user reads files; graphs write them)', async () => {
    const parent = await tempDir()
    const dataDir = join(parent, 'data')
    for (const filesDir of [dataDir, parent])
      await expect(createServices(testOptions(dataDir, { filesDir }))).rejects.toThrow(/FILES_DIR/)
    // The default (a folder inside DATA_DIR) and a sibling folder are fine.
    for (const filesDir of [undefined, join(parent, 'files')]) {
      const services = await createServices(testOptions(dataDir, filesDir === undefined ? {} : { filesDir }))
      await services.close()
    }
  })
})

describe('parameters are bound before the policy check', () => {
  it('a $param naming the table is checked with the value of the run, of a collection step, and of a template', async () => {
    const t = await testApp()
    const dora = await addUser(t, 'dora', 'designer')
    const db = new Database(join(t.services.filesDir, 'people.db'))
    db.exec(
      'CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT); CREATE TABLE admins (id TEXT PRIMARY KEY, name TEXT)',
    )
    db.close()
    await setPolicy(t, 'designer', { writes: [{ connector: 'sql', object: 'people', attributes: '*' }] })
    const graph = {
      syncgraph: 1,
      name: 'to a table',
      settings: { workers: 0 },
      params: { table: { type: 'string', default: 'people' } },
      nodes: [
        { id: 'hr', type: 'test.values', config: { rows: [{ id: '1', name: 'Ann' }] } },
        {
          id: 'sync',
          type: 'sql.sync',
          config: {
            connection: { driver: 'sqlite', path: 'people.db' },
            table: { $param: 'table' },
            key: ['id'],
            columns: { name: 'name' },
          },
        },
      ],
      edges: [{ from: 'hr', to: 'sync' }],
    }
    const graphId = await createGraph(dora.call, graph)
    const refused = await errorOf(dora.call('POST', '/api/runs', { graphId, params: { table: 'admins' } }))
    expect(refused).toMatchObject({ status: 403, code: 'POLICY_VIOLATION' })
    expect(JSON.stringify(refused.details)).toContain('admins')
    // The default value is allowed.
    const ok = await json<{ id: string }>(dora.call('POST', '/api/runs', { graphId }))
    expect((await waitForRun(dora.call, ok.id)).status).toBe('succeeded')
    // A collection step's parameters: the whole collection is refused before its first step.
    const collection = await json<{ id: string }>(
      dora.call('POST', '/api/collections', {
        name: 'c',
        steps: [{ graphId, params: { table: 'admins' }, onFailure: 'abort' }],
      }),
    )
    expect(await errorOf(dora.call('POST', `/api/collections/${collection.id}/run`))).toMatchObject({
      status: 403,
      code: 'POLICY_VIOLATION',
    })
    // A template instantiated with the value: the graph it makes is checked when it runs.
    const template = await json<{ id: string }>(dora.call('POST', '/api/templates', { name: 'tpl', graph }))
    const made = await json<{ id: string }>(
      dora.call('POST', `/api/templates/${template.id}/instantiate`, {
        name: 'made',
        values: { table: 'admins' },
      }),
    )
    expect(await errorOf(dora.call('POST', '/api/runs', { graphId: made.id }))).toMatchObject({
      status: 403,
      code: 'POLICY_VIOLATION',
    })
    const people = new Database(join(t.services.filesDir, 'people.db'))
    expect(people.prepare('SELECT count(*) AS n FROM admins').get()).toEqual({ n: 0 })
    people.close()
  })
})

describe('owner-only files are not shared', () => {
  it('a file only its owner may read (an LDAP sync’s generated-password file) is downloaded by admins only', async () => {
    const t = await testApp()
    const vera = await addUser(t, 'vera', 'viewer')
    const dora = await addUser(t, 'dora', 'designer')
    // What ldap.sync with password.deliver = "file" writes: dn,password lines, mode 0600.
    const path = join(t.services.filesDir, 'passwords.csv')
    writeFileSync(path, 'cn=ann,ou=People,dc=example,dc=com,S3cret-initial-pw\n', { mode: 0o600 })
    chmodSync(path, 0o600)
    for (const who of [vera, dora]) {
      const res = await who.call('GET', '/api/files/passwords.csv')
      const body = await res.text()
      expect(res.status).toBe(403)
      expect(body).not.toContain('S3cret')
    }
    const admin = await t.call('GET', '/api/files/passwords.csv')
    expect(admin.status).toBe(200)
    expect(await admin.text()).toContain('S3cret')
    // Uploaded files (0640) are shared as before.
    expect((await t.call('PUT', '/api/files/shared.csv', 'a,b\n1,2\n')).status).toBe(200)
    expect((await vera.call('GET', '/api/files/shared.csv')).status).toBe(200)
  })
})

describe('stored secrets cannot be sent somewhere else', () => {
  it('pointing a shared connection elsewhere (settings, driver, kind or a routing secret) needs its secrets again', async () => {
    const t = await testApp()
    const dora = await addUser(t, 'dora', 'designer')
    const created = await json<{ id: string }>(
      t.call('POST', '/api/connections', {
        name: 'ad',
        kind: 'ldap',
        settings: { url: 'ldaps://dc1.example.com', bindDN: 'cn=sync,dc=example,dc=com' },
        secrets: { bindPassword: 'the-real-bind-password' },
      }),
    )
    const put = (body: unknown) => dora.call('PUT', `/api/connections/${created.id}`, body)
    // A designer (edit) points it at their own server, or overrides the URL through a new "secret".
    for (const body of [
      { settings: { url: 'ldap://attacker.example', bindDN: 'cn=sync,dc=example,dc=com' } },
      { secrets: { url: 'ldap://attacker.example' } },
      { kind: 'sql', driver: 'postgres' },
    ]) {
      const error = await errorOf(put(body))
      expect(error, JSON.stringify(body)).toMatchObject({ status: 400, code: 'SECRETS_REQUIRED' })
      expect(error.details).toEqual({ fields: ['bindPassword'] })
    }
    expect(t.services.connections.resolve('ad')).toMatchObject({ url: 'ldaps://dc1.example.com' })
    // Whoever gives the secrets again may point it anywhere; a rename or a new password needs nothing more.
    expect((await put({ name: 'ad-main' })).status).toBe(200)
    expect((await put({ secrets: { bindPassword: 'rotated' } })).status).toBe(200)
    const moved = await put({
      settings: { url: 'ldaps://dc2.example.com', bindDN: 'cn=sync,dc=example,dc=com' },
      secrets: { bindPassword: 'rotated' },
    })
    expect(moved.status).toBe(200)
    expect(t.services.connections.resolve('ad-main')).toMatchObject({
      url: 'ldaps://dc2.example.com',
      bindPassword: 'rotated',
    })
  })
})

describe('what an approver approves is what runs', () => {
  it('a job with a pending request cannot be changed until it is decided (graph, collection, a collection’s graph)', async () => {
    const t = await testApp()
    const dora = await addUser(t, 'dora', 'designer')
    const graphId = await createGraph(dora.call, okGraph('needs approval', 5))
    const stepGraph = await createGraph(dora.call, okGraph('a step', 5))
    const collection = await json<{ id: string }>(
      dora.call('POST', '/api/collections', {
        name: 'c',
        steps: [{ graphId: stepGraph, params: {}, onFailure: 'abort' }],
      }),
    )
    for (const [kind, id] of [
      ['graph', graphId],
      ['collection', collection.id],
    ])
      expect((await t.call('PUT', `/api/approval-rules/${kind}/${id}`, {})).status).toBe(200)
    const graphRequest = await json<{ approvalId: string }>(dora.call('POST', '/api/runs', { graphId }))
    const collectionRequest = await json<{ approvalId: string }>(
      dora.call('POST', `/api/collections/${collection.id}/run`),
    )
    // Swapping in other content before an operator approves is refused.
    const edits: [string, string, unknown][] = [
      ['PUT', `/api/graphs/${graphId}`, { graph: okGraph('something else', 5), revision: 1 }],
      ['PUT', `/api/graphs/${stepGraph}`, { graph: okGraph('something else', 5), revision: 1 }],
      [
        'PUT',
        `/api/collections/${collection.id}`,
        { name: 'c', steps: [{ graphId, params: {}, onFailure: 'abort' }] },
      ],
    ]
    for (const [method, path, body] of edits)
      expect(await errorOf(dora.call(method, path, body)), path).toMatchObject({
        status: 409,
        code: 'APPROVAL_PENDING',
      })
    // Once withdrawn (or decided), the jobs can change again.
    for (const id of [graphRequest.approvalId, collectionRequest.approvalId])
      expect((await dora.call('POST', `/api/approvals/${id}/deny`, {})).status).toBe(200)
    for (const [method, path, body] of edits)
      expect((await dora.call(method, path, body)).status, path).toBe(200)
  })
})
