import Database from 'better-sqlite3'
import { eq } from 'drizzle-orm'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { addUser, errorOf } from '../approvals/test-helpers.ts'
import { createGraph, json, okGraph, slowGraph, waitForCollectionRun } from '../collections/test-helpers.ts'
import { collections, graphs } from '../db/schema.ts'
import { ManualClock } from '../schedules/clock.ts'
import { testApp, waitForRun, type TestApp } from '../testing/harness.ts'

/** The test catalog's generator and sink: connectors "test.generate" and "test.discard". */
const toDiscard = (name: string) => okGraph(name, 5)

/** csv.read → sql.sync into people.db (a real SQLite file in the files folder). */
const syncGraph = {
  syncgraph: 1,
  name: 'people to table',
  nodes: [
    { id: 'hr', type: 'csv.read', config: { path: 'people.csv' } },
    {
      id: 'sync',
      type: 'sql.sync',
      config: {
        connection: { driver: 'sqlite', path: 'people.db' },
        table: 'people',
        key: ['id'],
        columns: { name: 'name', title: 'title' },
      },
    },
  ],
  edges: [{ from: 'hr', to: 'sync' }],
}

function seedFiles(t: TestApp): void {
  writeFileSync(join(t.services.filesDir, 'people.csv'), 'id,name,title\n1,Ann,Boss\n2,Bob,Staff\n')
  const db = new Database(join(t.services.filesDir, 'people.db'))
  db.exec('CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT, title TEXT)')
  db.close()
}

const noDiscard = { destinations: { allow: ['csv', 'sql'] } }

async function setPolicy(t: TestApp, role: string, policy: unknown): Promise<void> {
  const res = await t.call('PUT', `/api/policies/${role}`, policy)
  expect(res.status, await res.clone().text()).toBe(200)
}

type Violations = { violations: { nodeId: string; rule: string; value: string; message: string }[] }

describe('policies API', () => {
  it('lists every role, lets admins set and remove a policy, and refuses others', async () => {
    const t = await testApp()
    const bob = await addUser(t, 'bob', 'operator')
    const list = await json<{ policies: { role: string; policy: unknown }[]; connectors: string[] }>(
      bob.call('GET', '/api/policies'),
    )
    expect(list.policies.map((p) => [p.role, p.policy])).toEqual([
      ['admin', null],
      ['designer', null],
      ['operator', null],
      ['viewer', null],
    ])
    expect(list.connectors).toEqual(
      expect.arrayContaining(['csv', 'ldap', 'sql', 'sql:postgres', 'test.discard']),
    )

    const policy = {
      sources: { allow: ['csv'] },
      writes: [{ connector: 'ldap', object: 'person', attributes: ['mail', 'title'], actions: ['update'] }],
    }
    expect(await errorOf(bob.call('PUT', '/api/policies/operator', policy))).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    })
    const put = await t.call('PUT', '/api/policies/operator', policy)
    expect(put.status).toBe(200)
    expect(await put.json()).toMatchObject({ role: 'operator', policy, updatedByName: 'admin' })
    expect(await json(bob.call('GET', '/api/policies/operator'))).toMatchObject({ role: 'operator', policy })

    expect(
      await errorOf(t.call('PUT', '/api/policies/operator', { sources: { allow: 'csv' } })),
    ).toMatchObject({ status: 400, code: 'INVALID_INPUT' })
    expect(await errorOf(t.call('PUT', '/api/policies/owner', {}))).toMatchObject({
      status: 400,
      code: 'INVALID_INPUT',
    })
    expect(await errorOf(bob.call('DELETE', '/api/policies/operator'))).toMatchObject({ status: 403 })
    expect(await json(t.call('DELETE', '/api/policies/operator'))).toEqual({ ok: true })
    expect(await errorOf(t.call('DELETE', '/api/policies/operator'))).toMatchObject({ status: 404 })
    expect(await json(t.call('GET', '/api/policies/operator'))).toMatchObject({ policy: null })

    const openapi = await json<{ paths: Record<string, Record<string, unknown>> }>(
      t.call('GET', '/api/openapi.json'),
    )
    expect(Object.keys(openapi.paths['/api/policies/{role}'] ?? {}).sort()).toEqual(['delete', 'get', 'put'])
  })
})

describe('policy enforcement on every way a run starts', () => {
  it('POST /api/runs with a graph document or a stored graph: refused for the role, allowed for others', async () => {
    const t = await testApp()
    const bob = await addUser(t, 'bob', 'operator')
    await setPolicy(t, 'operator', noDiscard)
    // Running an unsaved document that writes takes the admin's permissions; admins have policies too.
    await setPolicy(t, 'admin', noDiscard)

    const refused = await t.call('POST', '/api/runs', { graph: toDiscard('inline') })
    expect(refused.status).toBe(403)
    const body = (await refused.json()) as { error: { code: string; message: string; details: Violations } }
    expect(body.error.code).toBe('POLICY_VIOLATION')
    expect(body.error.message).toBe(
      'The graph breaks the admin policy: node "sink" writes to test.discard; the admin policy allows destinations: csv, sql',
    )
    expect(body.error.details.violations).toEqual([
      {
        nodeId: 'sink',
        rule: 'destinations',
        value: 'test.discard',
        message: 'node "sink" writes to test.discard; the admin policy allows destinations: csv, sql',
      },
    ])

    const graphId = await createGraph(t.call, toDiscard('stored'))
    expect(await errorOf(bob.call('POST', '/api/runs', { graphId }))).toMatchObject({
      status: 403,
      code: 'POLICY_VIOLATION',
    })
    // Nothing was queued for the refused requests.
    expect((await json<{ runs: unknown[] }>(t.call('GET', '/api/runs'))).runs).toEqual([])
    // Without the admin policy the same graph runs for the admin.
    await t.call('DELETE', '/api/policies/admin')
    const ok = await json<{ id: string }>(t.call('POST', '/api/runs', { graphId }))
    expect(await waitForRun(t.call, ok.id)).toMatchObject({ status: 'succeeded' })
  })

  it('plan mode and applying a plan are checked as the user who asks', async () => {
    const t = await testApp()
    seedFiles(t)
    const bob = await addUser(t, 'bob', 'operator')
    const graphId = await createGraph(t.call, syncGraph)
    const onlyName = {
      writes: [{ connector: 'sql:sqlite', object: 'people', attributes: ['name'] }],
    }
    await setPolicy(t, 'operator', onlyName)
    const refused = await errorOf(bob.call('POST', '/api/runs', { graphId, mode: 'plan' }))
    expect(refused).toMatchObject({ status: 403, code: 'POLICY_VIOLATION' })
    expect((refused.details as unknown as Violations).violations.map((v) => [v.rule, v.value])).toEqual([
      ['writes.attribute', 'title'],
      ['writes.attribute', 'id'],
    ])

    // Planned while the policy allowed it; applying is refused once it does not.
    await setPolicy(t, 'operator', {
      writes: [{ connector: 'sql', object: 'people', attributes: ['id', 'name', 'title'] }],
    })
    const plan = await json<{ id: string }>(bob.call('POST', '/api/runs', { graphId, mode: 'plan' }))
    expect(await waitForRun(bob.call, plan.id)).toMatchObject({ status: 'succeeded' })
    await setPolicy(t, 'operator', onlyName)
    expect(await errorOf(bob.call('POST', `/api/runs/${plan.id}/apply`))).toMatchObject({
      status: 403,
      code: 'POLICY_VIOLATION',
    })
    await setPolicy(t, 'operator', {})
    const applied = await json<{ id: string }>(bob.call('POST', `/api/runs/${plan.id}/apply`))
    expect(await waitForRun(bob.call, applied.id)).toMatchObject({ status: 'succeeded' })
    const db = new Database(join(t.services.filesDir, 'people.db'), { readonly: true })
    expect(db.prepare('SELECT count(*) AS n FROM people').get()).toEqual({ n: 2 })
    db.close()
  })

  it('collections: a step outside policy refuses the whole collection before its first step', async () => {
    // One run at a time, so a slow run holds the collection's first step in the queue.
    const t = await testApp({ maxRuns: 1 })
    const bob = await addUser(t, 'bob', 'operator')
    const first = await createGraph(t.call, {
      ...toDiscard('first'),
      nodes: [
        { id: 'src', type: 'test.generate', config: { count: 3 } },
        { id: 'out', type: 'csv.write', config: { path: 'first.csv' } },
      ],
      edges: [{ from: 'src', to: 'out' }],
    })
    const second = await createGraph(t.call, toDiscard('second'))
    const { id: collectionId } = await json<{ id: string }>(
      t.call('POST', '/api/collections', { name: 'c', steps: [{ graphId: first }, { graphId: second }] }),
    )
    await setPolicy(t, 'operator', noDiscard)
    const refused = await errorOf(bob.call('POST', `/api/collections/${collectionId}/run`))
    expect(refused).toMatchObject({ status: 403, code: 'POLICY_VIOLATION' })
    expect((refused.details as unknown as Violations).violations).toMatchObject([
      { nodeId: 'sink', rule: 'destinations' },
    ])
    expect((await json<{ runs: unknown[] }>(t.call('GET', '/api/runs'))).runs).toEqual([])

    // Each step is checked again when it starts: the policy changes while the first step waits.
    await setPolicy(t, 'operator', { destinations: { allow: ['csv', 'test.discard'] } })
    const blocker = await json<{ id: string }>(t.call('POST', '/api/runs', { graph: slowGraph('blocker') }))
    const { id } = await json<{ id: string }>(bob.call('POST', `/api/collections/${collectionId}/run`))
    await setPolicy(t, 'operator', { destinations: { allow: ['csv'] } })
    await t.call('POST', `/api/runs/${blocker.id}/cancel`)
    const run = await waitForCollectionRun(bob.call, id)
    expect(run.status).toBe('failed')
    expect(run.steps[0]).toMatchObject({ status: 'succeeded' })
    expect(run.steps[1]).toMatchObject({ status: 'failed', errors: [{ code: 'POLICY_VIOLATION' }] })
  })

  it('schedules run as the job owner’s role: a graph or collection owned by an operator', async () => {
    const clock = new ManualClock(new Date('2026-06-01T08:00:00Z'))
    const t = await testApp({ clock })
    const bob = await addUser(t, 'bob', 'operator')
    const graphId = await createGraph(t.call, toDiscard('nightly'))
    const { id: collectionId } = await json<{ id: string }>(
      t.call('POST', '/api/collections', { name: 'nightly set', steps: [{ graphId }] }),
    )
    const owned = await createGraph(t.call, toDiscard('owned by bob'))
    t.services.db.update(graphs).set({ createdBy: bob.id }).where(eq(graphs.id, owned)).run()
    await setPolicy(t, 'operator', noDiscard)
    const every = { repeat: { every: 30, unit: 'minutes' }, startAt: '2026-06-01T09:00:00Z' }
    for (const [kind, id] of [
      ['graph', graphId],
      ['graph', owned],
      ['collection', collectionId],
    ] as const)
      expect((await t.call('PUT', `/api/schedules/${kind}/${id}`, every)).status).toBe(200)
    // The collection belongs to bob too.
    t.services.db.update(collections).set({ createdBy: bob.id }).where(eq(collections.id, collectionId)).run()

    clock.advanceTo(new Date('2026-06-01T09:00:00Z'))
    type Event = { kind: string; runId: string | null; message: string }
    const eventsOf = async (kind: string, id: string) =>
      (await json<{ events: Event[] }>(t.call('GET', `/api/schedules/${kind}/${id}/events`))).events
    // Owned by the admin: runs.
    const [adminEvent] = await eventsOf('graph', graphId)
    expect(adminEvent).toMatchObject({ kind: 'started' })
    expect(await waitForRun(t.call, adminEvent!.runId!)).toMatchObject({ status: 'succeeded' })
    // Owned by the operator: refused with the rule it breaks.
    for (const [kind, id] of [
      ['graph', owned],
      ['collection', collectionId],
    ] as const) {
      const [event] = await eventsOf(kind, id)
      expect(event).toMatchObject({ kind: 'start-failed', runId: null })
      expect(event!.message).toContain('breaks the operator policy: node "sink" writes to test.discard')
    }
  })

  it('approvals: a request outside policy is refused; approving is checked as the requester', async () => {
    const t = await testApp()
    const bob = await addUser(t, 'bob', 'operator')
    const carol = await addUser(t, 'carol', 'operator')
    const graphId = await createGraph(t.call, toDiscard('payroll'))
    expect((await t.call('PUT', `/api/approval-rules/graph/${graphId}`, {})).status).toBe(200)

    await setPolicy(t, 'operator', noDiscard)
    expect(await errorOf(bob.call('POST', '/api/runs', { graphId }))).toMatchObject({
      status: 403,
      code: 'POLICY_VIOLATION',
    })

    await setPolicy(t, 'operator', {})
    const asked = await json<{ approvalId: string }>(bob.call('POST', '/api/runs', { graphId }))
    await setPolicy(t, 'operator', noDiscard)
    // The admin approves, but the run is bob's and bob's role may not write there.
    expect(await errorOf(t.call('POST', `/api/approvals/${asked.approvalId}/approve`, {}))).toMatchObject({
      status: 403,
      code: 'POLICY_VIOLATION',
    })
    expect(await json(t.call('GET', `/api/approvals/${asked.approvalId}`))).toMatchObject({
      status: 'pending',
    })
    await setPolicy(t, 'operator', {})
    const approved = await json<{ runId: string }>(
      carol.call('POST', `/api/approvals/${asked.approvalId}/approve`, {}),
    )
    expect(await waitForRun(t.call, approved.runId)).toMatchObject({ status: 'succeeded' })

    // A collection request is checked over its steps before it waits for an approver.
    const { id: collectionId } = await json<{ id: string }>(
      t.call('POST', '/api/collections', { name: 'payroll set', steps: [{ graphId }] }),
    )
    expect((await t.call('PUT', `/api/approval-rules/collection/${collectionId}`, {})).status).toBe(200)
    await setPolicy(t, 'operator', noDiscard)
    expect(await errorOf(bob.call('POST', `/api/collections/${collectionId}/run`))).toMatchObject({
      status: 403,
      code: 'POLICY_VIOLATION',
    })
    expect(
      (await json<{ approvals: unknown[] }>(t.call('GET', `/api/approvals?jobKind=collection`))).approvals,
    ).toEqual([])
  })

  it('approvals: a scheduled request is checked as the job owner', async () => {
    const clock = new ManualClock(new Date('2026-06-01T08:00:00Z'))
    const t = await testApp({ clock })
    const bob = await addUser(t, 'bob', 'operator')
    const graphId = await createGraph(t.call, toDiscard('owned'))
    t.services.db.update(graphs).set({ createdBy: bob.id }).where(eq(graphs.id, graphId)).run()
    expect((await t.call('PUT', `/api/approval-rules/graph/${graphId}`, {})).status).toBe(200)
    const every = { repeat: { every: 30, unit: 'minutes' }, startAt: '2026-06-01T09:00:00Z' }
    expect((await t.call('PUT', `/api/schedules/graph/${graphId}`, every)).status).toBe(200)
    await setPolicy(t, 'operator', noDiscard)
    clock.advanceTo(new Date('2026-06-01T09:00:00Z'))
    const { events } = await json<{ events: { kind: string; message: string }[] }>(
      t.call('GET', `/api/schedules/graph/${graphId}/events`),
    )
    expect(events).toMatchObject([
      { kind: 'start-failed', message: expect.stringContaining('operator policy') },
    ])
    expect((await json<{ approvals: unknown[] }>(t.call('GET', '/api/approvals'))).approvals).toEqual([])
  })

  it('POST /api/validate reports violations of the signed-in user’s policy as issues on the nodes', async () => {
    const t = await testApp()
    const bob = await addUser(t, 'bob', 'operator')
    await setPolicy(t, 'operator', noDiscard)
    const graph = toDiscard('checked')
    type Reply = { issues: { code: string; severity: string; nodeId?: string; message: string }[] }
    const asBob = await json<Reply>(bob.call('POST', '/api/validate', { graph }))
    expect(asBob.issues).toEqual([
      {
        code: 'policy-violation',
        severity: 'error',
        nodeId: 'sink',
        rule: 'destinations',
        value: 'test.discard',
        message: 'node "sink" writes to test.discard; the operator policy allows destinations: csv, sql',
      },
    ])
    expect((await json<Reply>(t.call('POST', '/api/validate', { graph }))).issues).toEqual([])
  })

  it('POST /api/preview refuses to read a source the role may not read', async () => {
    const t = await testApp()
    const bob = await addUser(t, 'bob', 'operator')
    await setPolicy(t, 'operator', { sources: { allow: ['csv'] } })
    const graph = toDiscard('preview')
    const refused = await errorOf(bob.call('POST', '/api/preview', { graph, nodeId: 'src' }))
    expect(refused).toMatchObject({
      status: 403,
      code: 'POLICY_VIOLATION',
      details: { violations: [{ nodeId: 'src', rule: 'sources', value: 'test.generate' }] },
    })
    await setPolicy(t, 'operator', { sources: { allow: ['csv', 'test.generate'] } })
    const ok = await json<{ rows: unknown[] }>(bob.call('POST', '/api/preview', { graph, nodeId: 'src' }))
    expect(ok.rows).toHaveLength(5)
  })
})
