import Database from 'better-sqlite3'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { addUser } from '../approvals/test-helpers.ts'
import { approvalRules } from '../db/schema.ts'
import { createGraph, json, okGraph } from '../collections/test-helpers.ts'
import type { Role } from '../http/env.ts'
import { ROLES } from '../http/env.ts'
import { generatorGraph, testApp, waitForRun, type TestApp } from '../testing/harness.ts'
import { routeGuards } from './guards.ts'
import { PERMISSIONS, ROLE_PERMISSIONS } from './permissions.ts'

type Call = TestApp['call']
/** `ok`: a 2xx answer; 403: the role lacks the permission; 404: the user may not even see the object. */
type Outcome = 'ok' | 403 | 404

interface World {
  t: TestApp
  as: Record<Role, { id: string; call: Call }>
  /** An object the admin created and one the designer created. */
  adminGraph: string
  designerGraph: string
  adminRun: string
  adminCollection: string
  adminCollectionRun: string
  adminTemplate: string
}

/** A graph that writes nothing: a source alone. */
const readOnlyGraph = (name: string) => ({
  syncgraph: 1,
  name,
  settings: { workers: 0 },
  nodes: [{ id: 'src', type: 'test.generate', config: { count: 3 } }],
  edges: [],
})

/** test.values → sql.sync into people.db, a real SQLite file in the files folder. */
const syncGraph = {
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
}

interface Case {
  group: string
  action: string
  /** Builds the request for `role`, creating whatever fresh objects it needs. */
  request: (w: World, role: Role) => Promise<[string, string, unknown?]> | [string, string, unknown?]
  expect: Record<Role, Outcome>
}

const all = (o: Outcome): Record<Role, Outcome> => ({ admin: o, designer: o, operator: o, viewer: o })
const by = (admin: Outcome, designer: Outcome, operator: Outcome, viewer: Outcome) => ({
  admin,
  designer,
  operator,
  viewer,
})
const fresh = (w: World) => createGraph(w.t.call, okGraph(`fresh ${Math.random()}`))
const freshOwn = async (w: World, role: Role) => {
  const res = await w.as[role].call('POST', '/api/graphs', { graph: okGraph(`own ${Math.random()}`) })
  return ((await res.json()) as { id: string }).id
}

const cases: Case[] = [
  // Graphs and revisions.
  { group: 'graphs', action: 'list', request: () => ['GET', '/api/graphs'], expect: all('ok') },
  {
    group: 'graphs',
    action: 'create',
    request: () => ['POST', '/api/graphs', { graph: okGraph('new') }],
    expect: by('ok', 'ok', 403, 403),
  },
  {
    group: 'graphs',
    action: 'view another’s',
    request: (w) => ['GET', `/api/graphs/${w.adminGraph}`],
    expect: by('ok', 404, 'ok', 'ok'),
  },
  {
    group: 'graphs',
    action: 'view a designer’s',
    request: (w) => ['GET', `/api/graphs/${w.designerGraph}`],
    expect: all('ok'),
  },
  {
    group: 'graphs',
    action: 'edit another’s',
    request: async (w) => ['PUT', `/api/graphs/${await fresh(w)}`, { graph: okGraph('x'), revision: 1 }],
    expect: by('ok', 404, 403, 403),
  },
  {
    group: 'graphs',
    action: 'edit own',
    request: async (w, role) => [
      'PUT',
      `/api/graphs/${role === 'designer' ? await freshOwn(w, role) : await fresh(w)}`,
      { graph: okGraph('x'), revision: 1 },
    ],
    expect: by('ok', 'ok', 403, 403),
  },
  {
    group: 'graphs',
    action: 'delete another’s',
    request: async (w) => ['DELETE', `/api/graphs/${await fresh(w)}`],
    expect: by('ok', 404, 403, 403),
  },
  {
    group: 'graphs',
    action: 'delete own',
    request: async (w, role) => [
      'DELETE',
      `/api/graphs/${role === 'designer' ? await freshOwn(w, role) : await fresh(w)}`,
    ],
    expect: by('ok', 'ok', 403, 403),
  },
  {
    group: 'graphs',
    action: 'duplicate another’s',
    request: (w) => ['POST', `/api/graphs/${w.adminGraph}/duplicate`, {}],
    expect: by('ok', 404, 403, 403),
  },
  {
    group: 'revisions',
    action: 'list another’s',
    request: (w) => ['GET', `/api/graphs/${w.adminGraph}/revisions`],
    expect: by('ok', 404, 'ok', 'ok'),
  },
  {
    group: 'revisions',
    action: 'get another’s',
    request: (w) => ['GET', `/api/graphs/${w.adminGraph}/revisions/1`],
    expect: by('ok', 404, 'ok', 'ok'),
  },
  // Validate and preview.
  {
    group: 'validate',
    action: 'validate',
    request: () => ['POST', '/api/validate', { graph: okGraph('v') }],
    expect: all('ok'),
  },
  {
    group: 'preview',
    action: 'preview',
    request: () => ['POST', '/api/preview', { graph: readOnlyGraph('p'), nodeId: 'src' }],
    expect: by('ok', 'ok', 'ok', 403),
  },
  // Runs.
  {
    group: 'runs',
    action: 'run another’s graph',
    request: (w) => ['POST', '/api/runs', { graphId: w.adminGraph }],
    expect: by('ok', 404, 'ok', 403),
  },
  {
    group: 'runs',
    action: 'run own graph',
    request: (w) => ['POST', '/api/runs', { graphId: w.designerGraph }],
    expect: by('ok', 'ok', 'ok', 403),
  },
  {
    group: 'runs',
    action: 'run an unsaved graph that writes nothing',
    request: () => ['POST', '/api/runs', { graph: readOnlyGraph('inline') }],
    expect: by('ok', 'ok', 403, 403),
  },
  {
    group: 'runs',
    action: 'run an unsaved graph that writes',
    request: () => ['POST', '/api/runs', { graph: generatorGraph(5) }],
    expect: by('ok', 403, 403, 403),
  },
  {
    group: 'runs',
    action: 'plan an unsaved graph that writes',
    request: () => ['POST', '/api/runs', { graph: syncGraph, mode: 'plan' }],
    expect: by('ok', 'ok', 403, 403),
  },
  { group: 'runs', action: 'list', request: () => ['GET', '/api/runs'], expect: all('ok') },
  {
    group: 'runs',
    action: 'view another’s',
    request: (w) => ['GET', `/api/runs/${w.adminRun}`],
    expect: by('ok', 404, 'ok', 'ok'),
  },
  {
    group: 'rejected',
    action: 'view another’s',
    request: (w) => ['GET', `/api/runs/${w.adminRun}/rejected`],
    expect: by('ok', 404, 'ok', 'ok'),
  },
  {
    group: 'runs',
    action: 'cancel another’s',
    request: (w) => ['POST', `/api/runs/${w.adminRun}/cancel`],
    expect: by('ok', 404, 'ok', 403),
  },
  // Templates: a shared gallery.
  { group: 'templates', action: 'list', request: () => ['GET', '/api/templates'], expect: all('ok') },
  {
    group: 'templates',
    action: 'view',
    request: (w) => ['GET', `/api/templates/${w.adminTemplate}`],
    expect: all('ok'),
  },
  {
    group: 'templates',
    action: 'create',
    request: () => ['POST', '/api/templates', { name: 't', graph: okGraph('t'), params: {} }],
    expect: by('ok', 'ok', 403, 403),
  },
  {
    group: 'templates',
    action: 'instantiate',
    request: (w) => ['POST', `/api/templates/${w.adminTemplate}/instantiate`, { name: 'from t' }],
    expect: by('ok', 'ok', 403, 403),
  },
  {
    group: 'templates',
    action: 'delete another’s',
    request: async (w) => {
      const res = await w.t.call('POST', '/api/templates', { name: 'd', graph: okGraph('d'), params: {} })
      return ['DELETE', `/api/templates/${((await res.json()) as { id: string }).id}`]
    },
    expect: by('ok', 403, 403, 403),
  },
  // Connections.
  { group: 'connections', action: 'list', request: () => ['GET', '/api/connections'], expect: all('ok') },
  {
    group: 'connections',
    action: 'create',
    request: () => [
      'POST',
      '/api/connections',
      { name: `c${Math.random()}`.replace('.', ''), kind: 'sql', driver: 'sqlite', settings: {} },
    ],
    expect: by('ok', 'ok', 403, 403),
  },
  {
    group: 'connections',
    action: 'edit',
    request: async (w) => {
      const res = await w.t.call('POST', '/api/connections', {
        name: `e${Math.random()}`.replace('.', ''),
        kind: 'sql',
        driver: 'sqlite',
      })
      return ['PUT', `/api/connections/${((await res.json()) as { id: string }).id}`, { settings: {} }]
    },
    expect: by('ok', 'ok', 403, 403),
  },
  {
    group: 'connections',
    action: 'delete',
    request: async (w) => {
      const res = await w.t.call('POST', '/api/connections', {
        name: `d${Math.random()}`.replace('.', ''),
        kind: 'sql',
        driver: 'sqlite',
      })
      return ['DELETE', `/api/connections/${((await res.json()) as { id: string }).id}`]
    },
    expect: by('ok', 'ok', 403, 403),
  },
  // Files.
  { group: 'files', action: 'list', request: () => ['GET', '/api/files'], expect: all('ok') },
  {
    group: 'files',
    action: 'upload',
    request: () => ['PUT', `/api/files/up-${Math.random()}.csv`, 'a,b'],
    expect: by('ok', 'ok', 403, 403),
  },
  {
    group: 'files',
    action: 'delete',
    request: async (w) => {
      const name = `del-${Math.random()}.csv`
      await w.t.call('PUT', `/api/files/${name}`, 'a,b')
      return ['DELETE', `/api/files/${name}`]
    },
    expect: by('ok', 'ok', 403, 403),
  },
  // Collections, collection runs and collection templates.
  { group: 'collections', action: 'list', request: () => ['GET', '/api/collections'], expect: all('ok') },
  {
    group: 'collections',
    action: 'create with another’s graph',
    request: (w) => ['POST', '/api/collections', { name: 'c', steps: [{ graphId: w.adminGraph }] }],
    expect: by('ok', 404, 403, 403),
  },
  {
    group: 'collections',
    action: 'create with own graph',
    request: (w) => ['POST', '/api/collections', { name: 'c', steps: [{ graphId: w.designerGraph }] }],
    expect: by('ok', 'ok', 403, 403),
  },
  {
    group: 'collections',
    action: 'view another’s',
    request: (w) => ['GET', `/api/collections/${w.adminCollection}`],
    expect: by('ok', 404, 'ok', 'ok'),
  },
  {
    group: 'collections',
    action: 'run another’s',
    request: (w) => ['POST', `/api/collections/${w.adminCollection}/run`],
    expect: by('ok', 404, 'ok', 403),
  },
  {
    group: 'collections',
    action: 'delete another’s',
    request: async (w) => {
      const c = await json<{ id: string }>(
        w.t.call('POST', '/api/collections', { name: 'del', steps: [{ graphId: w.adminGraph }] }),
      )
      return ['DELETE', `/api/collections/${c.id}`]
    },
    expect: by('ok', 404, 403, 403),
  },
  {
    group: 'collection runs',
    action: 'view another’s',
    request: (w) => ['GET', `/api/collection-runs/${w.adminCollectionRun}`],
    expect: by('ok', 404, 'ok', 'ok'),
  },
  {
    group: 'collection templates',
    action: 'list',
    request: () => ['GET', '/api/collection-templates'],
    expect: all('ok'),
  },
  {
    group: 'collection templates',
    action: 'create',
    request: (w) => [
      'POST',
      '/api/collection-templates',
      { name: 'ct', steps: [{ graphId: w.designerGraph }] },
    ],
    expect: by('ok', 'ok', 403, 403),
  },
  // Schedules, notifications.
  { group: 'schedules', action: 'list', request: () => ['GET', '/api/schedules'], expect: all('ok') },
  {
    group: 'schedules',
    action: 'schedule another’s graph',
    request: (w) => ['PUT', `/api/schedules/graph/${w.adminGraph}`, { cron: '0 3 * * *' }],
    expect: by('ok', 404, 'ok', 403),
  },
  {
    group: 'schedules',
    action: 'schedule own graph',
    request: (w) => ['PUT', `/api/schedules/graph/${w.designerGraph}`, { cron: '0 4 * * *' }],
    expect: by('ok', 'ok', 'ok', 403),
  },
  {
    group: 'notifications',
    action: 'list rules',
    request: () => ['GET', '/api/notifications/rules'],
    expect: all('ok'),
  },
  {
    group: 'notifications',
    action: 'add a rule to another’s graph',
    request: (w) => [
      'POST',
      '/api/notifications/rules',
      {
        jobKind: 'graph',
        jobId: w.adminGraph,
        channel: 'email',
        to: ['ops@example.com'],
        on: ['failure'],
      },
    ],
    expect: by('ok', 404, 'ok', 403),
  },
  {
    group: 'notifications',
    action: 'change the SMTP settings',
    request: () => ['PUT', '/api/notifications/settings', { linkBaseUrl: 'https://sync.example.com' }],
    expect: by('ok', 403, 403, 403),
  },
  // Approval rules and approvals.
  {
    group: 'approval rules',
    action: 'list',
    request: () => ['GET', '/api/approval-rules'],
    expect: all('ok'),
  },
  {
    group: 'approval rules',
    action: 'require approval',
    request: async (w) => ['PUT', `/api/approval-rules/graph/${await fresh(w)}`, {}],
    expect: by('ok', 403, 403, 403),
  },
  { group: 'approvals', action: 'list', request: () => ['GET', '/api/approvals'], expect: all('ok') },
  {
    group: 'approvals',
    action: 'approve another’s request',
    request: async (w) => {
      // A designer's own graph with an approval rule, run by the designer: a pending request.
      const graphId = await freshOwn(w, 'designer')
      await w.t.call('PUT', `/api/approval-rules/graph/${graphId}`, {})
      const asked = await json<{ approvalId: string }>(w.as.designer.call('POST', '/api/runs', { graphId }))
      return ['POST', `/api/approvals/${asked.approvalId}/approve`, {}]
    },
    // The designer is the requester and holds no `approve` anyway.
    expect: by('ok', 403, 'ok', 403),
  },
  // Installation-wide views.
  {
    group: 'history',
    action: 'view',
    request: () => ['GET', '/api/history'],
    expect: by('ok', 403, 'ok', 'ok'),
  },
  {
    group: 'dashboard',
    action: 'view',
    request: () => ['GET', '/api/dashboard'],
    expect: by('ok', 403, 'ok', 'ok'),
  },
  // Users.
  { group: 'users', action: 'list', request: () => ['GET', '/api/users'], expect: by('ok', 403, 403, 403) },
  {
    group: 'users',
    action: 'create',
    request: () => [
      'POST',
      '/api/users',
      { username: `u${Math.random()}`.replace('.', ''), password: 'a long enough password', role: 'viewer' },
    ],
    expect: by('ok', 403, 403, 403),
  },
]

async function world(): Promise<World> {
  const t = await testApp()
  const db = new Database(join(t.services.filesDir, 'people.db'))
  db.exec('CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT)')
  db.close()
  const as = { admin: { id: '', call: t.call } } as World['as']
  for (const role of ROLES) if (role !== 'admin') as[role] = await addUser(t, role, role)
  const adminGraph = await createGraph(t.call, okGraph('admin graph'))
  const designerGraph = (
    await json<{ id: string }>(as.designer.call('POST', '/api/graphs', { graph: okGraph('designer graph') }))
  ).id
  const adminRun = (await json<{ id: string }>(t.call('POST', '/api/runs', { graphId: adminGraph }))).id
  await waitForRun(t.call, adminRun)
  const adminCollection = (
    await json<{ id: string }>(
      t.call('POST', '/api/collections', { name: 'set', steps: [{ graphId: adminGraph }] }),
    )
  ).id
  const adminCollectionRun = (
    await json<{ id: string }>(t.call('POST', `/api/collections/${adminCollection}/run`))
  ).id
  const adminTemplate = (
    await json<{ id: string }>(
      t.call('POST', '/api/templates', { name: 'tpl', graph: okGraph('tpl'), params: {} }),
    )
  ).id
  return { t, as, adminGraph, designerGraph, adminRun, adminCollection, adminCollectionRun, adminTemplate }
}

describe('roles × actions', () => {
  it('every role gets what the matrix allows on every route group (403 without the permission, 404 for what it may not see)', async () => {
    const w = await world()
    const got: string[] = []
    const wanted: string[] = []
    for (const c of cases) {
      for (const role of ROLES) {
        const [method, path, body] = await c.request(w, role)
        const res = await w.as[role].call(method, path, body)
        const outcome: Outcome | number = res.status < 300 ? 'ok' : res.status
        if (res.status === 403) {
          const error = ((await res.clone().json()) as { error: { code: string; message: string } }).error
          expect(error.code).toBe('FORBIDDEN')
          // The message names the permission the role lacks.
          expect(error.message).toMatch(/"(create|edit|delete|run|view-any|approve|manage-users)"/)
        }
        // An unexpected answer carries its body, so a failure says why.
        const why = outcome === c.expect[role] ? '' : ` ${await res.text()}`
        got.push(`${c.group} · ${c.action} · ${role}: ${outcome}${why}`)
        wanted.push(`${c.group} · ${c.action} · ${role}: ${c.expect[role]}`)
      }
    }
    expect(got).toEqual(wanted)
  }, 120_000)

  it('lists hold only what the user may see: a designer sees their own graphs, runs and collections', async () => {
    const w = await world()
    const own = await json<{ id: string }>(
      w.as.designer.call('POST', '/api/runs', { graphId: w.designerGraph }),
    )
    await waitForRun(w.as.designer.call, own.id)
    const ids = (list: { id: string }[]) => list.map((x) => x.id).sort()
    const graphs = await json<{ graphs: { id: string }[] }>(w.as.designer.call('GET', '/api/graphs'))
    expect(ids(graphs.graphs)).toEqual([w.designerGraph])
    // A run of the designer's graph that someone else (or the scheduler) started is theirs to see too.
    const other = await json<{ id: string }>(w.t.call('POST', '/api/runs', { graphId: w.designerGraph }))
    await waitForRun(w.t.call, other.id)
    expect((await w.as.designer.call('GET', `/api/runs/${other.id}`)).status).toBe(200)
    const runs = await json<{ runs: { id: string }[] }>(w.as.designer.call('GET', '/api/runs'))
    expect(ids(runs.runs)).toEqual([own.id, other.id].sort())
    const collections = await json<{ collections: unknown[] }>(w.as.designer.call('GET', '/api/collections'))
    expect(collections.collections).toEqual([])
    // Approval requests: their own, and scheduled ones (no requester) about their jobs.
    const ask = (jobId: string) => {
      w.t.services.db.insert(approvalRules).values({ jobKind: 'graph', jobId }).run()
      return w.t.services.approvals.request({ kind: 'graph', jobId, userId: null, trigger: 'schedule' })
        .approvalId
    }
    const mine = ask(w.designerGraph)
    const theirs = ask(w.adminGraph)
    const approvals = await json<{ approvals: { id: string }[] }>(w.as.designer.call('GET', '/api/approvals'))
    expect(approvals.approvals.map((a) => a.id)).toEqual([mine])
    expect((await w.as.designer.call('GET', `/api/approvals/${mine}`)).status).toBe(200)
    expect((await w.as.designer.call('GET', `/api/approvals/${theirs}`)).status).toBe(404)
    expect(
      (await json<{ approvals: unknown[] }>(w.as.viewer.call('GET', '/api/approvals'))).approvals,
    ).toHaveLength(2)
    // Schedules (and other per-job lists) hold only the jobs the user may see.
    for (const [call, graphId] of [
      [w.t.call, w.adminGraph],
      [w.as.designer.call, w.designerGraph],
    ] as const)
      expect((await call('PUT', `/api/schedules/graph/${graphId}`, { cron: '0 3 * * *' })).status).toBe(200)
    const schedules = await json<{ schedules: { jobId: string }[] }>(
      w.as.designer.call('GET', '/api/schedules'),
    )
    expect(schedules.schedules.map((x) => x.jobId)).toEqual([w.designerGraph])
    expect(
      (await json<{ schedules: unknown[] }>(w.as.viewer.call('GET', '/api/schedules'))).schedules,
    ).toHaveLength(2)
    // Roles with view-any see everyone's.
    const all = await json<{ graphs: { id: string }[] }>(w.as.operator.call('GET', '/api/graphs'))
    expect(ids(all.graphs)).toEqual([w.adminGraph, w.designerGraph].sort())
    const allRuns = await json<{ runs: { id: string }[] }>(w.as.viewer.call('GET', '/api/runs'))
    expect(allRuns.runs.map((r) => r.id)).toContain(w.adminRun)
  }, 60_000)

  it('GET /api/auth/me carries the permissions of the role', async () => {
    const w = await world()
    for (const role of ROLES) {
      const me = await json<{ user: { role: string; permissions: string[] } }>(
        w.as[role].call('GET', '/api/auth/me'),
      )
      expect(me.user).toMatchObject({ role, permissions: [...ROLE_PERMISSIONS[role]] })
    }
    expect(ROLE_PERMISSIONS.admin).toEqual(PERMISSIONS)
  })

  it('an inline plan of a writing graph cannot be applied without approve; the admin may', async () => {
    const w = await world()
    const plan = await json<{ id: string }>(
      w.as.designer.call('POST', '/api/runs', { graph: syncGraph, mode: 'plan' }),
    )
    await waitForRun(w.as.designer.call, plan.id)
    const refused = await w.as.designer.call('POST', `/api/runs/${plan.id}/apply`)
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('"approve"')
    // The admin may apply it (the designer's plan run is visible to the admin).
    expect((await w.t.call('POST', `/api/runs/${plan.id}/apply`)).status).toBe(202)
  })

  it('every documented route has a guard entry', async () => {
    const t = await testApp()
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(
      t.call('GET', '/api/openapi.json'),
    )
    const guarded = new Set(routeGuards.map((g) => `${g.method} ${g.path.replace(/\{[^}]*\}/g, '')}`))
    const missing: string[] = []
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (path === '/api/health' || path === '/api/auth/login') continue
      for (const method of Object.keys(methods)) {
        const key = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`
        if (!guarded.has(key)) missing.push(key)
      }
    }
    expect(missing).toEqual([])
  })
})
