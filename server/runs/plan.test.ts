import type { Client } from 'ldapts'
import { beforeAll, expect, it } from 'vitest'
import { describeWithSlapd } from '../../test/ldap/slapd.ts'
import { testApp, waitForRun, type TestApp } from '../testing/harness.ts'
import { peopleFixture } from '../testing/directory-fixture.ts'
import type { PlanView } from './plans.ts'

const { PEOPLE, person, syncGraph } = peopleFixture('Plan', 'p', 'plan')

describeWithSlapd('plan mode on the server (POST /api/runs mode "plan", GET plan, POST apply)', (server) => {
  let client: Client
  let t: TestApp
  let graphId: string
  let revision: number

  const graph = (rows: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
    syncGraph('HR to directory', rows, extra)

  /** uid → title of every entry in scope. */
  const directory = async (): Promise<Record<string, string>> => {
    const { searchEntries } = await client.search(PEOPLE, {
      scope: 'one',
      filter: '(objectClass=inetOrgPerson)',
      attributes: ['uid', 'title'],
    })
    return Object.fromEntries(searchEntries.map((e) => [String(e.uid), String(e.title)]))
  }

  const save = async (doc: unknown) => {
    const res = await t.call('PUT', `/api/graphs/${graphId}`, { graph: doc, revision })
    expect(res.status).toBe(200)
    revision = ((await res.json()) as { revision: number }).revision
  }

  const start = async (body: unknown): Promise<string> => {
    const res = await t.call('POST', '/api/runs', body)
    expect(res.status, await res.clone().text()).toBe(202)
    return ((await res.json()) as { id: string }).id
  }

  const planOf = async (id: string, query = ''): Promise<PlanView> => {
    const res = await t.call('GET', `/api/runs/${id}/plan${query}`)
    expect(res.status, await res.clone().text()).toBe(200)
    return (await res.json()) as PlanView
  }

  const errorOf = async (res: Response) => ({
    status: res.status,
    code: ((await res.json()) as { error: { code: string } }).error.code,
  })

  beforeAll(async () => {
    client = await server().client()
    await client.add(PEOPLE, { objectClass: ['organizationalUnit'], ou: 'PlanPeople' })
    return () => client.unbind()
  })

  /** A fresh server with the directory connection and the graph stored; the scope holds p1, p2 and p9. */
  async function fresh(): Promise<void> {
    const { searchEntries } = await client.search(PEOPLE, { scope: 'one', attributes: ['dn'] })
    for (const e of searchEntries) await client.del(e.dn)
    for (const [n, title] of [
      [1, 'Staff'],
      [2, 'Staff'],
      [9, 'Leaver'],
    ] as const) {
      const p = person(n, title)
      await client.add(`uid=${p.uid},${PEOPLE}`, { objectClass: ['inetOrgPerson'], ...p })
    }
    t = await testApp()
    const conn = await t.call('POST', '/api/connections', {
      name: 'directory',
      kind: 'ldap',
      settings: { url: server().url, bindDN: server().rootDn },
      secrets: { password: server().rootPw },
    })
    expect(conn.status).toBe(201)
    // p1 changes title, p2 stays, p3 and p4 are new, p9 has left.
    const created = await t.call('POST', '/api/graphs', {
      graph: graph([person(1, 'Manager'), person(2), person(3), person(4)]),
    })
    const body = (await created.json()) as { id: string; revision: number }
    graphId = body.id
    revision = body.revision
  }

  it('stores the plan without writing, shows it with counts, before/after, filters and CSV', async () => {
    await fresh()
    const id = await start({ graphId, mode: 'plan' })
    const run = await waitForRun(t.call, id)
    expect(run, JSON.stringify(run.errors)).toMatchObject({
      status: 'succeeded',
      mode: 'plan',
      planRunId: null,
      nodes: { hr: { rowsOut: 4 }, dir: { type: 'ldap.sync', rowsIn: 4, rowsOut: 5 } },
    })
    expect(await directory()).toEqual({ plan1: 'Staff', plan2: 'Staff', plan9: 'Leaver' })

    const view = await planOf(id)
    expect(view).toMatchObject({ runId: id, mode: 'plan', status: 'succeeded', graphId, stale: false })
    expect(view.appliedBy).toEqual([])
    const [dir] = view.nodes
    expect(dir).toMatchObject({
      nodeId: 'dir',
      type: 'ldap.sync',
      target: { url: server().url, base: PEOPLE },
      counts: { create: 2, update: 1, delete: 1, none: 1 },
      thresholds: { exceeded: false, removals: 1, scopeSize: 3 },
      total: 5,
    })
    expect(JSON.stringify(view)).not.toContain(server().rootPw)
    const update = dir!.entries.find((e) => e.action === 'update')!
    expect(update).toMatchObject({
      dn: `uid=plan1,${PEOPLE}`,
      before: { title: ['Staff'] },
      after: { title: ['Manager'] },
      changes: [{ attribute: 'title', op: 'replace', values: ['Manager'] }],
    })
    expect(dir!.entries.find((e) => e.action === 'delete')).toMatchObject({
      dn: `uid=plan9,${PEOPLE}`,
      after: null,
    })

    const filtered = await planOf(id, '?action=create,delete&limit=2&offset=1')
    expect(filtered.nodes[0]).toMatchObject({ total: 3 })
    expect(filtered.nodes[0]!.entries.map((e) => e.action)).toHaveLength(2)
    expect((await planOf(id, '?q=PLAN4')).nodes[0]!.entries.map((e) => e.dn)).toEqual([`uid=plan4,${PEOPLE}`])
    expect((await t.call('GET', `/api/runs/${id}/plan?action=explode`)).status).toBe(400)

    const csv = await t.call('GET', `/api/runs/${id}/plan?format=csv`)
    expect(csv.headers.get('content-type')).toContain('text/csv')
    expect(csv.headers.get('content-disposition')).toContain(`plan-${id}.csv`)
    const lines = (await csv.text()).trim().split('\n')
    expect(lines[0]).toBe('node,action,dn,newDn,key,changed,before,after,reason,outcome,error')
    expect(lines).toHaveLength(6)
    expect(lines.find((l) => l.startsWith('dir,update,'))).toContain('"{""title"":[""Manager""]}"')
  })

  it('refuses to apply a plan of a graph that changed since (409), and plans need a sync node', async () => {
    await fresh()
    const id = await start({ graphId, mode: 'plan' })
    await waitForRun(t.call, id)
    const before = await graphOfStore()
    await save({ ...before, description: 'edited after planning', settings: { workers: 0, batchSize: 10 } })
    expect((await planOf(id)).stale).toBe(true)
    expect(await errorOf(await t.call('POST', `/api/runs/${id}/apply`))).toEqual({
      status: 409,
      code: 'PLAN_STALE',
    })
    expect(await directory()).toEqual({ plan1: 'Staff', plan2: 'Staff', plan9: 'Leaver' })

    const plain = {
      syncgraph: 1,
      nodes: [
        { id: 'a', type: 'test.values', config: { rows: [] } },
        { id: 'b', type: 'test.discard', config: {} },
      ],
      edges: [{ from: 'a', to: 'b' }],
    }
    expect(await errorOf(await t.call('POST', '/api/runs', { graph: plain, mode: 'plan' }))).toEqual({
      status: 400,
      code: 'NO_SYNC_NODES',
    })
    const ran = await start({ graph: plain })
    await waitForRun(t.call, ran)
    expect(await errorOf(await t.call('GET', `/api/runs/${ran}/plan`))).toEqual({
      status: 404,
      code: 'NO_PLAN',
    })
    expect(await errorOf(await t.call('POST', `/api/runs/${ran}/apply`))).toEqual({
      status: 409,
      code: 'NOT_A_PLAN',
    })
    expect((await t.call('POST', '/api/runs/nope/apply')).status).toBe(404)
  })

  it('applies exactly the stored plan, records each outcome, and only once', async () => {
    await fresh()
    const id = await start({ graphId, mode: 'plan' })
    await waitForRun(t.call, id)
    // A change in the directory after planning: applying the plan must not pick it up.
    const late = person(7, 'Contractor')
    await client.add(`uid=${late.uid},${PEOPLE}`, { objectClass: ['inetOrgPerson'], ...late })

    const res = await t.call('POST', `/api/runs/${id}/apply`)
    expect(res.status).toBe(202)
    const applyId = ((await res.json()) as { id: string }).id
    const run = await waitForRun(t.call, applyId)
    expect(run, JSON.stringify(run.errors)).toMatchObject({
      status: 'succeeded',
      mode: 'apply',
      planRunId: id,
      nodes: {
        dir: {
          rowsIn: 5,
          rowsOut: 5,
          errors: 0,
          outcomes: { created: 2, updated: 1, deleted: 1, unchanged: 1 },
        },
      },
    })
    expect(await directory()).toEqual({
      plan1: 'Manager',
      plan2: 'Staff',
      plan3: 'Staff',
      plan4: 'Staff',
      plan7: 'Contractor',
    })

    const applied = await planOf(applyId)
    expect(applied).toMatchObject({ mode: 'apply', planRunId: id })
    expect(applied.nodes[0]!.outcomes).toEqual({ applied: 4, unchanged: 1 })
    expect(applied.nodes[0]!.entries.find((e) => e.action === 'delete')).toMatchObject({
      dn: `uid=plan9,${PEOPLE}`,
      outcome: 'applied',
      error: null,
    })
    const csv = await (await t.call('GET', `/api/runs/${applyId}/plan?format=csv`)).text()
    expect(csv.split('\n').filter((l) => l.includes(',applied,'))).toHaveLength(4)

    expect((await planOf(id)).appliedBy).toEqual([{ id: applyId, status: 'succeeded' }])
    expect(await errorOf(await t.call('POST', `/api/runs/${id}/apply`))).toEqual({
      status: 409,
      code: 'PLAN_ALREADY_APPLIED',
    })
  })

  it('an apply run whose writes fail follows onRowError: fail fails it, skip counts (issue 12)', async () => {
    await fresh()
    const id = await start({ graphId, mode: 'plan' })
    await waitForRun(t.call, id)
    // After planning, someone else creates plan3: the planned create meets "already exists".
    const squatter = person(3, 'Squatter')
    await client.add(`uid=${squatter.uid},${PEOPLE}`, {
      objectClass: ['inetOrgPerson'],
      ...squatter,
      employeeNumber: 'other',
    })
    const res = await t.call('POST', `/api/runs/${id}/apply`)
    expect(res.status).toBe(202)
    const run = await waitForRun(t.call, ((await res.json()) as { id: string }).id)
    expect(run).toMatchObject({
      status: 'failed',
      mode: 'apply',
      nodes: { dir: { status: 'failed', errors: 1, outcomes: { failed: 1 } } },
      errors: [{ code: 'LDAP_ALREADY_EXISTS', nodeId: 'dir' }],
    })
    expect((run.errors as { message: string }[])[0]!.message).toContain(`create uid=plan3,${PEOPLE}`)

    // onRowError skip: the same apply succeeds, the failed write counted and never hidden.
    await fresh()
    await save({ ...(await graphOfStore()), settings: { workers: 0, onRowError: 'skip' } })
    const skipPlan = await start({ graphId, mode: 'plan' })
    await waitForRun(t.call, skipPlan)
    await client.add(`uid=${squatter.uid},${PEOPLE}`, {
      objectClass: ['inetOrgPerson'],
      ...squatter,
      employeeNumber: 'other',
    })
    const skipRes = await t.call('POST', `/api/runs/${skipPlan}/apply`)
    const skipped = await waitForRun(t.call, ((await skipRes.json()) as { id: string }).id)
    expect(skipped).toMatchObject({
      status: 'succeeded',
      nodes: {
        dir: { errors: 1, outcomes: { created: 1, updated: 1, deleted: 1, unchanged: 1, failed: 1 } },
      },
    })

    // A plain run of the graph records the outcomes in the stored run too.
    const ran = await waitForRun(t.call, await start({ graphId }))
    expect(ran).toMatchObject({ status: 'succeeded', nodes: { dir: { outcomes: expect.any(Object) } } })
  })

  it('refuses a plan over a threshold with the numbers, writing nothing', async () => {
    await fresh()
    // Nobody in the source any more: every entry would go, against maxDeletes 1.
    await save(graph([], { maxDeletes: 1 }))
    const id = await start({ graphId, mode: 'plan' })
    expect(await waitForRun(t.call, id)).toMatchObject({ status: 'succeeded' })
    const view = await planOf(id)
    expect(view.nodes[0]!.thresholds).toMatchObject({ exceeded: true, maxDeletes: 1, removals: 3 })
    const before = await directory()
    const res = await t.call('POST', `/api/runs/${id}/apply`)
    expect(res.status).toBe(409)
    const body = (await res.json()) as { error: { code: string; message: string; details: unknown } }
    expect(body.error).toMatchObject({
      code: 'THRESHOLD_EXCEEDED',
      message: expect.stringContaining('node "dir"'),
      details: { thresholds: { dir: { removals: 3, maxDeletes: 1 } } },
    })
    expect(await directory()).toEqual(before)
  })

  async function graphOfStore(): Promise<Record<string, unknown>> {
    return (
      (await (await t.call('GET', `/api/graphs/${graphId}`)).json()) as { graph: Record<string, unknown> }
    ).graph
  }
})
