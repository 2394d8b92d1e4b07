import Database from 'better-sqlite3'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { addUser, errorOf } from '../approvals/test-helpers.ts'
import { createGraph, json, okGraph, waitForCollectionRun } from '../collections/test-helpers.ts'
import { ManualClock } from '../schedules/clock.ts'
import { testApp, waitForRun, type TestApp } from '../testing/harness.ts'

/** Approval required by a role's policy (issue 8 points 3 and 6): a copy of a graph cannot dodge it. */

type Pending = { approvalId: string; status: string; id?: string }
type Approval = {
  id: string
  jobId: string
  status: string
  trigger: string
  requestedBy: string | null
  requestedAt: string
  expiresAt: string
  planRunId: string | null
  runId: string | null
}

/** test.generate → test.discard: a graph that writes (its sink is a destination). */
const writing = (name: string) => okGraph(name, 4)
/** A graph with a source only: it writes nothing. */
const readOnly = (name: string) => ({
  syncgraph: 1,
  name,
  nodes: [{ id: 'src', type: 'test.generate', config: { count: 2 } }],
  edges: [],
})

async function setPolicy(t: TestApp, role: string, policy: unknown): Promise<void> {
  const res = await t.call('PUT', `/api/policies/${role}`, policy)
  expect(res.status, await res.clone().text()).toBe(200)
}

async function pending(res: Response | Promise<Response>): Promise<Pending> {
  const r = await res
  const body = (await r.json()) as Pending
  expect(r.status, JSON.stringify(body)).toBe(202)
  expect(body).toMatchObject({ status: 'pending-approval' })
  return body
}

describe('approval required by a role policy', () => {
  it('a designer’s runs wait for an approver, and so do the runs of a copy of the graph', async () => {
    const t = await testApp()
    const dee = await addUser(t, 'dee', 'designer')
    const olga = await addUser(t, 'olga', 'operator')
    await setPolicy(t, 'designer', { approval: { for: 'writes', expiresHours: 2 } })
    expect(await json(t.call('GET', '/api/policies/designer'))).toMatchObject({
      policy: { approval: { for: 'writes', expiresHours: 2 } },
    })
    expect(
      await errorOf(t.call('PUT', '/api/policies/designer', { approval: { for: 'some' } })),
    ).toMatchObject({ status: 400, code: 'INVALID_INPUT' })

    const graphId = await createGraph(dee.call, writing('payroll'))
    const first = await pending(dee.call('POST', '/api/runs', { graphId }))
    const request = await json<Approval>(t.call('GET', `/api/approvals/${first.approvalId}`))
    expect(request).toMatchObject({
      jobId: graphId,
      status: 'pending',
      trigger: 'manual',
      requestedBy: dee.id,
    })
    expect(Date.parse(request.expiresAt) - Date.parse(request.requestedAt)).toBe(2 * 3600_000)
    // At most one pending request per job.
    expect(await errorOf(dee.call('POST', '/api/runs', { graphId }))).toMatchObject({
      status: 409,
      code: 'APPROVAL_PENDING',
    })

    // The copy has no approval rule of its own; the role's policy governs it all the same.
    const copy = await json<{ id: string }>(dee.call('POST', `/api/graphs/${graphId}/duplicate`, {}))
    expect(await errorOf(t.call('GET', `/api/approval-rules/graph/${copy.id}`))).toMatchObject({
      status: 404,
    })
    const second = await pending(dee.call('POST', '/api/runs', { graphId: copy.id }))
    // So does a fresh graph saved from the same document.
    const other = await createGraph(dee.call, writing('payroll again'))
    await pending(dee.call('POST', '/api/runs', { graphId: other }))
    // Nothing ran.
    expect((await json<{ runs: unknown[] }>(t.call('GET', '/api/runs'))).runs).toEqual([])

    // A graph that writes nothing runs directly under `for: writes`.
    const reader = await createGraph(dee.call, readOnly('reader'))
    const direct = await json<{ id: string }>(dee.call('POST', '/api/runs', { graphId: reader }))
    expect(await waitForRun(t.call, direct.id)).toMatchObject({ status: 'succeeded' })

    // An operator approves; the run is the designer's.
    const approved = await json<Approval>(
      olga.call('POST', `/api/approvals/${second.approvalId}/approve`, {}),
    )
    expect(approved.status).toBe('approved')
    expect(await waitForRun(t.call, approved.runId!)).toMatchObject({
      graphId: copy.id,
      status: 'succeeded',
      nodes: { sink: { rowsIn: 4 } },
    })

    // Without the setting the designer's runs start directly again.
    await setPolicy(t, 'designer', {})
    await json(olga.call('POST', `/api/approvals/${first.approvalId}/deny`, {}))
    const free = await json<{ id: string }>(dee.call('POST', '/api/runs', { graphId }))
    expect(await waitForRun(t.call, free.id)).toMatchObject({ status: 'succeeded' })
  })

  it('a role without the setting runs directly; `for: all` gates every run; nobody approves their own', async () => {
    const t = await testApp()
    const dee = await addUser(t, 'dee', 'designer')
    const olga = await addUser(t, 'olga', 'operator')
    const otto = await addUser(t, 'otto', 'operator')
    await setPolicy(t, 'designer', { approval: { for: 'writes' } })
    const deesGraph = await createGraph(dee.call, writing('dee’s'))
    // The operator role has no setting: an operator runs even the designer's graph directly.
    const byOperator = await json<{ id: string }>(olga.call('POST', '/api/runs', { graphId: deesGraph }))
    expect(await waitForRun(t.call, byOperator.id)).toMatchObject({ status: 'succeeded' })

    await setPolicy(t, 'operator', { approval: { for: 'all' } })
    const reader = await createGraph(t.call, readOnly('reader'))
    const asked = await pending(olga.call('POST', '/api/runs', { graphId: reader }))
    expect(await errorOf(olga.call('POST', `/api/approvals/${asked.approvalId}/approve`, {}))).toMatchObject({
      status: 403,
      code: 'SELF_APPROVAL',
    })
    const approved = await json<Approval>(otto.call('POST', `/api/approvals/${asked.approvalId}/approve`, {}))
    expect(await waitForRun(t.call, approved.runId!)).toMatchObject({ status: 'succeeded' })
    // The default expiry is 24 hours.
    expect(Date.parse(approved.expiresAt) - Date.parse(approved.requestedAt)).toBe(24 * 3600_000)

    // Unsaved documents that write run directly only with `approve` (admins); not when the role's runs
    // need approval: such a run could not wait for an approver. Plan mode is still allowed.
    await setPolicy(t, 'admin', { approval: { for: 'writes' } })
    expect(await errorOf(t.call('POST', '/api/runs', { graph: writing('inline') }))).toMatchObject({
      status: 403,
      code: 'APPROVAL_REQUIRED',
      details: { role: 'admin' },
    })
    const inlineReader = await json<{ id: string }>(t.call('POST', '/api/runs', { graph: readOnly('r') }))
    expect(await waitForRun(t.call, inlineReader.id)).toMatchObject({ status: 'succeeded' })
    await setPolicy(t, 'admin', {})
    const inline = await json<{ id: string }>(t.call('POST', '/api/runs', { graph: writing('inline') }))
    expect(await waitForRun(t.call, inline.id)).toMatchObject({ status: 'succeeded' })
  })

  it('collections: a run by a role that needs approval waits, and approving runs every step', async () => {
    const t = await testApp()
    const dee = await addUser(t, 'dee', 'designer')
    const olga = await addUser(t, 'olga', 'operator')
    await setPolicy(t, 'designer', { approval: { for: 'writes' } })
    const a = await createGraph(dee.call, readOnly('read'))
    const b = await createGraph(dee.call, writing('write'))
    const readOnlyCollection = await json<{ id: string }>(
      dee.call('POST', '/api/collections', { name: 'reads', steps: [{ graphId: a }] }),
    )
    const direct = await json<{ id: string }>(
      dee.call('POST', `/api/collections/${readOnlyCollection.id}/run`),
    )
    expect((await waitForCollectionRun(t.call, direct.id)).status).toBe('succeeded')

    const { id } = await json<{ id: string }>(
      dee.call('POST', '/api/collections', { name: 'both', steps: [{ graphId: a }, { graphId: b }] }),
    )
    const asked = await pending(dee.call('POST', `/api/collections/${id}/run`))
    const approved = await json<Approval>(olga.call('POST', `/api/approvals/${asked.approvalId}/approve`, {}))
    expect(await waitForCollectionRun(t.call, approved.runId!)).toMatchObject({
      status: 'succeeded',
      steps: [{ status: 'succeeded' }, { status: 'succeeded', nodes: { sink: { rowsIn: 4 } } }],
    })
  })

  it('a scheduled run of a graph owned by such a role waits too; its owner may not approve it', async () => {
    const clock = new ManualClock(new Date('2026-06-01T08:00:00Z'))
    const t = await testApp({ clock })
    const dee = await addUser(t, 'dee', 'designer')
    const olga = await addUser(t, 'olga', 'operator')
    const otto = await addUser(t, 'otto', 'operator')
    await setPolicy(t, 'designer', { approval: { for: 'writes' } })
    const deesGraph = await createGraph(dee.call, writing('nightly'))
    const adminsGraph = await createGraph(t.call, writing('admin nightly'))
    for (const graphId of [deesGraph, adminsGraph])
      expect((await t.call('PUT', `/api/schedules/graph/${graphId}`, { cron: '0 * * * *' })).status).toBe(200)
    clock.advanceTo(new Date('2026-06-01T09:00:00Z'))

    const [request] = (
      await json<{ approvals: Approval[] }>(t.call('GET', `/api/approvals?jobId=${deesGraph}`))
    ).approvals
    expect(request).toMatchObject({ status: 'pending', trigger: 'schedule', requestedBy: null })
    // The admin's graph: no setting for admins, so the schedule ran it.
    expect(
      (await json<{ approvals: Approval[] }>(t.call('GET', `/api/approvals?jobId=${adminsGraph}`))).approvals,
    ).toEqual([])
    const runs = await json<{ runs: { id: string }[] }>(t.call('GET', `/api/runs?graphId=${adminsGraph}`))
    expect(runs.runs).toHaveLength(1)
    expect(await waitForRun(t.call, runs.runs[0]!.id)).toMatchObject({ status: 'succeeded' })

    const approved = await json<Approval>(olga.call('POST', `/api/approvals/${request!.id}/approve`, {}))
    expect(await waitForRun(t.call, approved.runId!)).toMatchObject({
      graphId: deesGraph,
      status: 'succeeded',
    })

    // An approver whose own role needs approval may not approve the scheduled request of their own job.
    await setPolicy(t, 'admin', { approval: { for: 'writes' } })
    clock.advanceTo(new Date('2026-06-01T10:00:00Z'))
    const [own] = (
      await json<{ approvals: Approval[] }>(
        t.call('GET', `/api/approvals?jobId=${adminsGraph}&status=pending`),
      )
    ).approvals
    expect(own).toMatchObject({ trigger: 'schedule', requestedBy: null })
    expect(await errorOf(t.call('POST', `/api/approvals/${own!.id}/approve`, {}))).toMatchObject({
      status: 403,
      code: 'SELF_APPROVAL',
    })
    const byOtto = await json<Approval>(otto.call('POST', `/api/approvals/${own!.id}/approve`, {}))
    expect(await waitForRun(t.call, byOtto.runId!)).toMatchObject({ status: 'succeeded' })
  })

  it('with a sync node the request is a plan; approving applies exactly that plan', async () => {
    const t = await testApp()
    writeFileSync(join(t.services.filesDir, 'people.csv'), 'id,name\n1,Ann\n2,Bob\n')
    const table = new Database(join(t.services.filesDir, 'people.db'))
    table.exec('CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT)')
    table.close()
    const dee = await addUser(t, 'dee', 'designer')
    const olga = await addUser(t, 'olga', 'operator')
    await setPolicy(t, 'designer', { approval: { for: 'writes' } })
    const graphId = await createGraph(dee.call, {
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
            columns: { name: 'name' },
          },
        },
      ],
      edges: [{ from: 'hr', to: 'sync' }],
    })
    const asked = await pending(dee.call('POST', '/api/runs', { graphId }))
    expect(asked.id).toBeDefined()
    expect(await waitForRun(t.call, asked.id!)).toMatchObject({ status: 'succeeded', mode: 'plan' })
    const plan = await json<{ nodes: { counts: Record<string, number> }[] }>(
      olga.call('GET', `/api/approvals/${asked.approvalId}/plan`),
    )
    expect(plan.nodes[0]!.counts).toMatchObject({ create: 2 })
    const count = () => {
      const db = new Database(join(t.services.filesDir, 'people.db'), { readonly: true })
      const row = db.prepare('SELECT count(*) AS n FROM people').get()
      db.close()
      return row
    }
    expect(count()).toEqual({ n: 0 })

    // Applying the plan directly is an approval request too.
    expect(await errorOf(dee.call('POST', `/api/runs/${asked.id!}/apply`))).toMatchObject({
      status: 409,
      code: 'APPROVAL_PENDING',
    })
    const approved = await json<Approval>(olga.call('POST', `/api/approvals/${asked.approvalId}/approve`, {}))
    expect(await waitForRun(t.call, approved.runId!)).toMatchObject({ status: 'succeeded', mode: 'apply' })
    expect(count()).toEqual({ n: 2 })
  })
})
