import { describe, expect, it } from 'vitest'
import { createGraph, json, okGraph, paramGraph, waitForCollectionRun } from '../collections/test-helpers.ts'
import { ManualClock } from '../schedules/clock.ts'
import { testApp, waitForRun } from '../testing/harness.ts'
import { addUser, errorOf } from './test-helpers.ts'

type Approval = {
  id: string
  status: string
  trigger: string
  requestedBy: string | null
  requestedByName: string | null
  decidedByName: string | null
  runId: string | null
  planRunId: string | null
  expiresAt: string
  params: Record<string, unknown>
}

const T0 = new Date('2026-06-01T08:00:00Z')

describe('approvals', () => {
  it('a run request of a graph that needs approval waits; one pending per job; nobody approves their own', async () => {
    const t = await testApp()
    const bob = await addUser(t, 'bob', 'operator')
    const graphId = await createGraph(t.call, paramGraph('payroll export'))
    const rule = await t.call('PUT', `/api/approval-rules/graph/${graphId}`, {})
    expect(await rule.json()).toEqual({
      jobKind: 'graph',
      jobId: graphId,
      expiresAfterMinutes: 1440,
      reviewPlan: false,
    })

    const asked = await bob.call('POST', '/api/runs', { graphId, params: { n: 7 } })
    expect(asked.status).toBe(202)
    const { approvalId, status } = (await asked.json()) as { approvalId: string; status: string }
    expect(status).toBe('pending-approval')
    // Nothing ran.
    expect((await json<{ runs: unknown[] }>(t.call('GET', `/api/runs?graphId=${graphId}`))).runs).toEqual([])
    expect(await json(t.call('GET', `/api/approvals/${approvalId}`))).toMatchObject({
      jobKind: 'graph',
      jobId: graphId,
      jobName: 'payroll export',
      status: 'pending',
      trigger: 'manual',
      requestedBy: bob.id,
      requestedByName: 'bob',
      params: { n: 7 },
      planRunId: null,
      runId: null,
    })

    // A second request, by anyone, while one is pending: 409 naming the pending one.
    for (const call of [bob.call, t.call])
      expect(await errorOf(call('POST', '/api/runs', { graphId }))).toEqual({
        status: 409,
        code: 'APPROVAL_PENDING',
        details: { approvalId },
      })

    expect(await errorOf(bob.call('POST', `/api/approvals/${approvalId}/approve`, {}))).toMatchObject({
      status: 403,
      code: 'SELF_APPROVAL',
    })
    const viewer = await addUser(t, 'vera', 'viewer')
    expect(await errorOf(viewer.call('POST', `/api/approvals/${approvalId}/approve`, {}))).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    })

    const approved = await t.call('POST', `/api/approvals/${approvalId}/approve`, { comment: 'ok for today' })
    expect(approved.status).toBe(200)
    const decision = (await approved.json()) as Approval
    expect(decision).toMatchObject({ status: 'approved', decidedByName: 'admin', comment: 'ok for today' })
    // The run is the requester's, with the parameters asked for.
    expect(await waitForRun(t.call, decision.runId!)).toMatchObject({
      graphId,
      status: 'succeeded',
      nodes: { sink: { rowsIn: 7 } },
    })
    expect(await errorOf(t.call('POST', `/api/approvals/${approvalId}/approve`, {}))).toMatchObject({
      status: 409,
      code: 'APPROVAL_DECIDED',
    })

    // Decided, so a new request may be made; the list filters by status.
    const next = await json<{ approvalId: string }>(bob.call('POST', '/api/runs', { graphId }))
    const pending = await json<{ approvals: Approval[] }>(t.call('GET', '/api/approvals?status=pending'))
    expect(pending.approvals.map((a) => a.id)).toEqual([next.approvalId])

    // Inline documents and graphs without a rule run at once.
    const free = await createGraph(t.call, okGraph('free', 3))
    const ran = await json<{ id: string }>(bob.call('POST', '/api/runs', { graphId: free }))
    expect(await waitForRun(t.call, ran.id)).toMatchObject({ status: 'succeeded' })
    expect((await t.call('DELETE', `/api/approval-rules/graph/${graphId}`)).status).toBe(200)
    expect((await t.call('GET', `/api/approval-rules/graph/${graphId}`)).status).toBe(404)
    expect((await t.call('PUT', '/api/approval-rules/graph/nope', {})).status).toBe(404)
  })

  it('denial cancels; a request not decided in time expires; the requester may withdraw', async () => {
    const clock = new ManualClock(T0)
    const t = await testApp({ clock })
    const bob = await addUser(t, 'bob')
    const graphId = await createGraph(t.call, okGraph('nightly', 5))
    await t.call('PUT', `/api/approval-rules/graph/${graphId}`, { expiresAfterMinutes: 60 })

    const first = await json<{ approvalId: string }>(bob.call('POST', '/api/runs', { graphId }))
    const denied = await json<Approval>(
      t.call('POST', `/api/approvals/${first.approvalId}/deny`, { comment: 'not during month end' }),
    )
    expect(denied).toMatchObject({ status: 'denied', runId: null, comment: 'not during month end' })
    expect(await errorOf(t.call('POST', `/api/approvals/${first.approvalId}/approve`, {}))).toMatchObject({
      status: 409,
      code: 'APPROVAL_DECIDED',
    })

    const second = await json<{ approvalId: string }>(bob.call('POST', '/api/runs', { graphId }))
    expect(await json(t.call('GET', `/api/approvals/${second.approvalId}`))).toMatchObject({
      expiresAt: '2026-06-01T09:00:00.000Z',
    })
    clock.advanceTo(new Date('2026-06-01T08:59:59Z'))
    expect(await json(t.call('GET', `/api/approvals/${second.approvalId}`))).toMatchObject({
      status: 'pending',
    })
    clock.advanceTo(new Date('2026-06-01T09:00:00Z'))
    expect(await json(t.call('GET', `/api/approvals/${second.approvalId}`))).toMatchObject({
      status: 'expired',
      comment: 'not decided in time',
    })
    expect(await errorOf(t.call('POST', `/api/approvals/${second.approvalId}/approve`, {}))).toMatchObject({
      status: 409,
      code: 'APPROVAL_DECIDED',
    })

    const third = await json<{ approvalId: string }>(bob.call('POST', '/api/runs', { graphId }))
    expect(await json(bob.call('POST', `/api/approvals/${third.approvalId}/deny`, {}))).toMatchObject({
      status: 'denied',
      decidedByName: 'bob',
    })
    expect((await json<{ runs: unknown[] }>(t.call('GET', `/api/runs?graphId=${graphId}`))).runs).toEqual([])
  })

  it('a collection needs approval when it or one of its graphs does; approving runs it', async () => {
    const t = await testApp()
    const bob = await addUser(t, 'bob')
    const a = await createGraph(t.call, okGraph('a', 4))
    const b = await createGraph(t.call, okGraph('b', 6))
    const { id } = await json<{ id: string }>(
      t.call('POST', '/api/collections', { name: 'hr sync', steps: [{ graphId: a }, { graphId: b }] }),
    )
    const free = await json<{ id: string }>(bob.call('POST', `/api/collections/${id}/run`))
    expect((await waitForCollectionRun(t.call, free.id)).status).toBe('succeeded')

    await t.call('PUT', `/api/approval-rules/graph/${b}`, {})
    const asked = await bob.call('POST', `/api/collections/${id}/run`)
    expect(asked.status).toBe(202)
    const { approvalId } = (await asked.json()) as { approvalId: string }
    expect(await errorOf(bob.call('POST', `/api/collections/${id}/run`))).toMatchObject({
      status: 409,
      code: 'APPROVAL_PENDING',
    })
    expect((await json<{ runs: unknown[] }>(t.call('GET', `/api/collections/${id}/runs`))).runs).toHaveLength(
      1,
    )
    const approved = await json<Approval>(t.call('POST', `/api/approvals/${approvalId}/approve`, {}))
    expect(approved).toMatchObject({ status: 'approved' })
    const run = await waitForCollectionRun(t.call, approved.runId!)
    expect(run).toMatchObject({
      collectionId: id,
      status: 'succeeded',
      steps: [{ nodes: { sink: { rowsIn: 4 } } }, { nodes: { sink: { rowsIn: 6 } } }],
    })
  })

  it('a scheduled run of a job that needs approval becomes a request; later occurrences skip while it waits', async () => {
    const clock = new ManualClock(T0)
    const t = await testApp({ clock })
    const bob = await addUser(t, 'bob')
    const graphId = await createGraph(t.call, paramGraph('scheduled'))
    await t.call('PUT', `/api/approval-rules/graph/${graphId}`, { expiresAfterMinutes: 600 })
    await t.call('PUT', `/api/schedules/graph/${graphId}`, { cron: '0 * * * *', params: { n: 3 } })
    clock.advanceTo(new Date('2026-06-01T09:00:00Z'))
    clock.advanceTo(new Date('2026-06-01T10:00:00Z'))
    const events = (
      await json<{ events: { kind: string; message: string; runId: string | null }[] }>(
        t.call('GET', `/api/schedules/graph/${graphId}/events`),
      )
    ).events.reverse()
    expect(events.map((e) => [e.kind, e.runId])).toEqual([
      ['approval-requested', null],
      ['skipped-overlap', null],
    ])
    const [request] = (
      await json<{ approvals: Approval[] }>(t.call('GET', `/api/approvals?jobId=${graphId}`))
    ).approvals
    expect(request).toMatchObject({
      status: 'pending',
      trigger: 'schedule',
      requestedBy: null,
      params: { n: 3 },
    })
    expect(events[0]!.message).toContain(request!.id)
    // Anyone but a viewer may approve a scheduled request.
    const approved = await json<Approval>(bob.call('POST', `/api/approvals/${request!.id}/approve`, {}))
    expect(await waitForRun(t.call, approved.runId!)).toMatchObject({
      status: 'succeeded',
      nodes: { sink: { rowsIn: 3 } },
    })
  })
})
