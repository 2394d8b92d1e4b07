import { describe, expect, it } from 'vitest'
import { addUser } from '../approvals/test-helpers.ts'
import {
  createGraph,
  failingGraph,
  json,
  okGraph,
  slowGraph,
  waitForCollectionRun,
} from '../collections/test-helpers.ts'
import { testApp, waitForRun } from '../testing/harness.ts'
import { SQLITE_SYNC_TOTALS, sqliteSyncGraph, writeSqliteSyncFiles } from '../testing/sqlite-sync-fixture.ts'
import type { DashboardView } from './dashboard.ts'

describe('GET /api/dashboard', () => {
  it('shows runs today, failing jobs, next runs, pending approvals and running runs, each drilling into what is behind it', async () => {
    const t = await testApp()
    const bob = await addUser(t, 'bob')
    const run = async (graphId: string) => {
      const { id } = await json<{ id: string }>(t.call('POST', '/api/runs', { graphId }))
      return waitForRun(t.call, id)
    }
    const ok = await createGraph(t.call, okGraph('nightly', 20))
    const broken = await createGraph(t.call, failingGraph('broken'))
    const flaky = await createGraph(t.call, failingGraph('flaky'))
    const guarded = await createGraph(t.call, okGraph('guarded', 1))
    const slow = await createGraph(t.call, slowGraph('slow'))

    expect(await run(ok)).toMatchObject({ status: 'succeeded' })
    const failed = await run(broken)
    expect(failed).toMatchObject({ status: 'failed' })
    expect(await run(flaky)).toMatchObject({ status: 'failed' })
    // flaky is fixed and its last run succeeds: no longer a failing job.
    const stored = await json<{ revision: number }>(t.call('GET', `/api/graphs/${flaky}`))
    const fixed = await t.call('PUT', `/api/graphs/${flaky}`, {
      graph: okGraph('flaky', 2),
      revision: stored.revision,
    })
    expect(fixed.status).toBe(200)
    expect(await run(flaky)).toMatchObject({ status: 'succeeded' })
    const { id: collectionId } = await json<{ id: string }>(
      t.call('POST', '/api/collections', { name: 'weekly', steps: [{ graphId: broken }] }),
    )
    const { id: collectionRunId } = await json<{ id: string }>(
      t.call('POST', `/api/collections/${collectionId}/run`),
    )
    expect(await waitForCollectionRun(t.call, collectionRunId)).toMatchObject({ status: 'failed' })

    await t.call('PUT', `/api/schedules/graph/${ok}`, { cron: '0 3 * * *' })
    await t.call('PUT', `/api/approval-rules/graph/${guarded}`, {})
    const { approvalId } = await json<{ approvalId: string }>(
      bob.call('POST', '/api/runs', { graphId: guarded }),
    )

    const { id: slowRunId } = await json<{ id: string }>(t.call('POST', '/api/runs', { graphId: slow }))
    for (let i = 0; i < 500; i++) {
      const live = await json<{ nodes: Record<string, { rowsOut: number }> }>(
        t.call('GET', `/api/runs/${slowRunId}`),
      )
      if ((live.nodes.src?.rowsOut ?? 0) > 0) break
      await new Promise((r) => setTimeout(r, 20))
    }

    const res = await t.call('GET', '/api/dashboard')
    expect(res.status).toBe(200)
    const d = (await res.json()) as DashboardView

    // Runs today: 5 graph runs ended or going (the collection's step is a run too), plus the slow one.
    expect(d.runsToday.byStatus).toEqual({ succeeded: 2, failed: 3, running: 1 })
    expect(d.runsToday.total).toBe(6)
    expect(d.runsToday.successRate).toBeCloseTo(2 / 5)
    const today = await json<{ runs: { status: string }[] }>(t.call('GET', d.runsToday.link.href))
    expect(today.runs).toHaveLength(6)
    const failedToday = await json<{ runs: { status: string }[] }>(t.call('GET', d.runsToday.failedLink.href))
    expect(failedToday.runs.map((r) => r.status)).toEqual(['failed', 'failed', 'failed'])

    expect(d.failingJobs.map((j) => [j.kind, j.name]).sort()).toEqual([
      ['collection', 'weekly'],
      ['graph', 'broken'],
    ])
    const brokenJob = d.failingJobs.find((j) => j.kind === 'graph')!
    expect(brokenJob.error).toMatch(/.+/)
    expect(await json(t.call('GET', brokenJob.link.href))).toMatchObject({
      graphId: broken,
      status: 'failed',
    })
    const brokenRuns = await json<{ runs: { graphId: string }[] }>(t.call('GET', brokenJob.runsLink.href))
    expect(brokenRuns.runs.every((r) => r.graphId === broken)).toBe(true)
    const weekly = d.failingJobs.find((j) => j.kind === 'collection')!
    expect(await json(t.call('GET', weekly.link.href))).toMatchObject({
      id: collectionRunId,
      status: 'failed',
    })

    expect(d.nextRuns).toEqual([
      expect.objectContaining({ kind: 'graph', id: ok, name: 'nightly', needsApproval: false }),
    ])
    expect(Date.parse(d.nextRuns[0]!.nextRunAt)).toBeGreaterThan(Date.now())
    expect(await json(t.call('GET', d.nextRuns[0]!.link.href))).toMatchObject({
      jobId: ok,
      cron: '0 3 * * *',
    })

    expect(d.pendingApprovals).toMatchObject({
      total: 1,
      items: [{ id: approvalId, jobName: 'guarded', requestedByName: 'bob', trigger: 'manual' }],
    })
    const pending = await json<{ approvals: { id: string }[] }>(t.call('GET', d.pendingApprovals.link.href))
    expect(pending.approvals.map((a) => a.id)).toEqual([approvalId])

    const running = d.runningNow.find((r) => r.id === slowRunId)!
    expect(running).toMatchObject({
      kind: 'graph',
      jobId: slow,
      name: 'slow',
      status: 'running',
      live: slowRunId,
    })
    expect(running.rows.out).toBeGreaterThan(0)
    expect(running.nodes.src!.rowsOut).toBeGreaterThan(0)
    expect(await json(t.call('GET', running.link.href))).toMatchObject({ id: slowRunId, status: 'running' })
    await t.call('POST', `/api/runs/${slowRunId}/cancel`)
    await waitForRun(t.call, slowRunId)

    // With no history yet, the chart has one zero point per day.
    expect(d.changes.perDay).toHaveLength(14)
    expect(d.changes.totals).toEqual({ created: 0, updated: 0, disabled: 0, deleted: 0 })
    expect((await t.call('GET', '/api/dashboard?days=0')).status).toBe(400)
  })
})

describe('GET /api/dashboard with real sync history (SQLite)', () => {
  it('counts changes per series, leaves plan-only runs out of runs today and out of the list behind it', async () => {
    const t = await testApp()
    writeSqliteSyncFiles(t.services.filesDir)
    const hr = await createGraph(t.call, sqliteSyncGraph('HR feed', 'hr'))
    const itFeed = await createGraph(t.call, sqliteSyncGraph('IT feed', 'it'))
    const start = async (body: unknown) => {
      const res = await t.call('POST', '/api/runs', body)
      expect(res.status, await res.clone().text()).toBe(202)
      return waitForRun(t.call, ((await res.json()) as { id: string }).id)
    }
    // A plan-only run writes nothing and is not a run of the day.
    expect(await start({ graphId: hr, mode: 'plan' })).toMatchObject({ status: 'succeeded' })
    expect(await start({ graphId: hr })).toMatchObject({ status: 'succeeded' })
    expect(await start({ graphId: itFeed })).toMatchObject({ status: 'succeeded' })

    const d = await json<DashboardView>(t.call('GET', '/api/dashboard?days=2'))
    expect(d.runsToday).toMatchObject({ total: 2, byStatus: { succeeded: 2 }, successRate: 1 })
    const listed = await json<{ runs: { mode: string }[] }>(t.call('GET', d.runsToday.link.href))
    expect(listed.runs.map((r) => r.mode)).toEqual(['run', 'run'])
    const all = await json<{ runs: unknown[] }>(
      t.call('GET', `/api/runs?from=${encodeURIComponent(d.runsToday.since)}`),
    )
    expect(all.runs).toHaveLength(3)
    expect((await t.call('GET', '/api/runs?mode=plan,sideways')).status).toBe(400)

    expect(d.changes.totals).toEqual(SQLITE_SYNC_TOTALS)
    const today = d.changes.perDay.at(-1)!
    for (const series of ['created', 'updated', 'disabled', 'deleted'] as const) {
      const behind = await json<{ total: number }>(t.call('GET', today.links[series]!.href))
      expect(behind.total, series).toBe(SQLITE_SYNC_TOTALS[series])
    }
  })
})
