import { describe, expect, it } from 'vitest'
import {
  appOn,
  createGraph,
  json,
  okGraph,
  paramGraph,
  slowGraph,
  waitForCollectionRun,
} from '../collections/test-helpers.ts'
import { tempDir, testApp, waitForRun, type TestApp } from '../testing/harness.ts'
import { ManualClock } from './clock.ts'

const T0 = new Date('2026-06-01T08:00:00Z')
const minutes = (n: number) => n * 60_000

type Event = { kind: string; runId: string | null; scheduledFor: string; message: string }
const eventsOf = async (call: TestApp['call'], kind: string, id: string) =>
  (await json<{ events: Event[] }>(call('GET', `/api/schedules/${kind}/${id}/events`))).events.reverse()

const startOn = (dataDir: string, clock: ManualClock) => appOn(dataDir, { clock })

describe('schedules', () => {
  it('fires real runs at the scheduled times with the schedule’s parameters; next run shows on graphs', async () => {
    const clock = new ManualClock(T0)
    const { call } = await testApp({ clock })
    const graphId = await createGraph(call, paramGraph('hourly'))
    const set = await call('PUT', `/api/schedules/graph/${graphId}`, {
      repeat: { every: 30, unit: 'minutes' },
      startAt: '2026-06-01T09:00:00Z',
      params: { n: 11 },
    })
    expect(set.status).toBe(200)
    expect(await set.json()).toMatchObject({
      jobKind: 'graph',
      jobId: graphId,
      timezone: 'UTC',
      nextRunAt: '2026-06-01T09:00:00.000Z',
      lastRunAt: null,
    })
    expect(await json(call('GET', `/api/graphs/${graphId}`))).toMatchObject({
      id: graphId,
      nextRunAt: '2026-06-01T09:00:00.000Z',
    })
    const other = await createGraph(call, okGraph('unscheduled'))
    const list = await json<{ graphs: { id: string; nextRunAt: string | null }[] }>(
      call('GET', '/api/graphs'),
    )
    expect(Object.fromEntries(list.graphs.map((g) => [g.id, g.nextRunAt]))).toEqual({
      [graphId]: '2026-06-01T09:00:00.000Z',
      [other]: null,
    })

    clock.advanceTo(new Date('2026-06-01T08:59:59Z'))
    expect(await eventsOf(call, 'graph', graphId)).toEqual([])
    clock.advanceTo(new Date('2026-06-01T09:00:00Z'))
    const [started] = await eventsOf(call, 'graph', graphId)
    expect(started).toMatchObject({ kind: 'started', scheduledFor: '2026-06-01T09:00:00.000Z' })
    expect(await waitForRun(call, started!.runId!)).toMatchObject({
      graphId,
      status: 'succeeded',
      nodes: { sink: { rowsIn: 11 } },
    })
    expect(await json(call('GET', `/api/schedules/graph/${graphId}`))).toMatchObject({
      nextRunAt: '2026-06-01T09:30:00.000Z',
      lastRunAt: '2026-06-01T09:00:00.000Z',
    })
    clock.advanceTo(new Date('2026-06-01T09:30:00Z'))
    await waitForRun(call, (await eventsOf(call, 'graph', graphId))[1]!.runId!)
    clock.advanceTo(new Date('2026-06-01T10:00:00Z'))
    const events = await eventsOf(call, 'graph', graphId)
    expect(events.map((e) => [e.kind, e.scheduledFor])).toEqual([
      ['started', '2026-06-01T09:00:00.000Z'],
      ['started', '2026-06-01T09:30:00.000Z'],
      ['started', '2026-06-01T10:00:00.000Z'],
    ])
    for (const e of events) await waitForRun(call, e.runId!)
    const runs = await json<{ runs: unknown[] }>(call('GET', `/api/runs?graphId=${graphId}`))
    expect(runs.runs.length).toBe(3)

    expect((await call('DELETE', `/api/schedules/graph/${graphId}`)).status).toBe(200)
    expect(await json(call('GET', `/api/graphs/${graphId}`))).toMatchObject({ nextRunAt: null })
    expect((await call('GET', `/api/schedules/graph/${graphId}`)).status).toBe(404)
  })

  it('never starts a second run while one is going, and records the skip', async () => {
    const clock = new ManualClock(T0)
    const { call } = await testApp({ clock })
    const graphId = await createGraph(call, slowGraph('slow'))
    await call('PUT', `/api/schedules/graph/${graphId}`, { cron: '* * * * *' })
    clock.advanceBy(minutes(1))
    clock.advanceBy(minutes(1))
    const events = await eventsOf(call, 'graph', graphId)
    expect(events.map((e) => e.kind)).toEqual(['started', 'skipped-overlap'])
    expect(events[1]!.message).toMatch(/still going/)
    const runs = await json<{ runs: unknown[] }>(call('GET', `/api/runs?graphId=${graphId}`))
    expect(runs.runs.length).toBe(1)
    await call('POST', `/api/runs/${events[0]!.runId}/cancel`)
    await waitForRun(call, events[0]!.runId!)
    clock.advanceBy(minutes(1))
    expect((await eventsOf(call, 'graph', graphId)).map((e) => e.kind)).toEqual([
      'started',
      'skipped-overlap',
      'started',
    ])
    const last = (await eventsOf(call, 'graph', graphId))[2]!
    await call('POST', `/api/runs/${last.runId}/cancel`)
    await waitForRun(call, last.runId!)
  })

  it('cancels a scheduled run that goes past its maximum run time', async () => {
    const clock = new ManualClock(T0)
    const { call } = await testApp({ clock })
    const graphId = await createGraph(call, slowGraph('slow'))
    await call('PUT', `/api/schedules/graph/${graphId}`, { cron: '0 9 * * *', maxRunSeconds: 600 })
    clock.advanceTo(new Date('2026-06-01T09:00:00Z'))
    const [started] = await eventsOf(call, 'graph', graphId)
    await new Promise((r) => setTimeout(r, 100))
    expect(await json(call('GET', `/api/runs/${started!.runId}`))).toMatchObject({ status: 'running' })
    clock.advanceTo(new Date('2026-06-01T09:09:59Z'))
    expect(await json(call('GET', `/api/runs/${started!.runId}`))).toMatchObject({ status: 'running' })
    clock.advanceTo(new Date('2026-06-01T09:10:00Z'))
    const run = await waitForRun(call, started!.runId!)
    expect(run.status).toBe('cancelled')
    expect((run.nodes as Record<string, { rowsOut: number }>).src!.rowsOut).toBeLessThan(1_000_000)
    expect((await eventsOf(call, 'graph', graphId)).map((e) => [e.kind, e.runId])).toEqual([
      ['started', started!.runId],
      ['timed-out', started!.runId],
    ])
  })

  it('schedules collections, and shows the next run on them', async () => {
    const clock = new ManualClock(T0)
    const { call } = await testApp({ clock })
    const g = await createGraph(call, okGraph('g', 10))
    const { id } = await json<{ id: string }>(
      call('POST', '/api/collections', { name: 'c', steps: [{ graphId: g }, { graphId: g }] }),
    )
    await call('PUT', `/api/schedules/collection/${id}`, {
      repeat: { every: 1, unit: 'days', at: '07:00' },
      timezone: 'Asia/Tokyo',
      endAt: '2026-06-03T00:00:00Z',
    })
    // 07:00 in Tokyo is 22:00 UTC the day before.
    expect(await json(call('GET', `/api/collections/${id}`))).toMatchObject({
      nextRunAt: '2026-06-01T22:00:00.000Z',
      schedule: { timezone: 'Asia/Tokyo' },
    })
    clock.advanceTo(new Date('2026-06-01T22:00:00Z'))
    const [started] = await eventsOf(call, 'collection', id)
    expect(await waitForCollectionRun(call, started!.runId!)).toMatchObject({
      trigger: 'schedule',
      status: 'succeeded',
      steps: [{ status: 'succeeded' }, { status: 'succeeded' }],
    })
    expect(await json(call('GET', '/api/collections'))).toMatchObject({
      collections: [{ id, nextRunAt: '2026-06-02T22:00:00.000Z' }],
    })
    clock.advanceTo(new Date('2026-06-02T22:00:00Z'))
    await waitForCollectionRun(call, (await eventsOf(call, 'collection', id))[1]!.runId!)
    // Past endAt: nothing more.
    expect(await json(call('GET', `/api/collections/${id}`))).toMatchObject({ nextRunAt: null })
    expect(await json<{ schedules: unknown[] }>(call('GET', '/api/schedules'))).toMatchObject({
      schedules: [{ jobKind: 'collection', jobId: id, nextRunAt: null }],
    })
  })

  it('survives restarts: re-armed from the database; a missed run within the grace window runs once, older ones are skipped', async () => {
    const dataDir = await tempDir()
    const clock = new ManualClock(T0)
    let server = await startOn(dataDir, clock)
    const graphId = await createGraph(server.call, okGraph('every 10 min', 5))
    await server.call('PUT', `/api/schedules/graph/${graphId}`, {
      cron: '*/10 * * * *',
      missedRunGraceMinutes: 5,
    })
    await server.services.close()

    // Down from 08:00 to 08:34: 08:10, 08:20 and 08:30 were missed; the latest is 4 minutes old.
    const later = new ManualClock(new Date('2026-06-01T08:34:00Z'))
    server = await startOn(dataDir, later)
    let events = await eventsOf(server.call, 'graph', graphId)
    expect(events.map((e) => [e.kind, e.scheduledFor])).toEqual([
      ['missed-run', '2026-06-01T08:30:00.000Z'],
      ['started', '2026-06-01T08:30:00.000Z'],
    ])
    expect(events[0]!.message).toMatch(/^3 occurrence\(s\) missed/)
    expect(await waitForRun(server.call, events[1]!.runId!)).toMatchObject({ graphId, status: 'succeeded' })
    expect(await json(server.call('GET', `/api/graphs/${graphId}`))).toMatchObject({
      nextRunAt: '2026-06-01T08:40:00.000Z',
    })
    await server.services.close()

    // Down from 08:34 to 12:07: the latest missed occurrence (12:00) is 7 minutes old, past the grace window.
    const muchLater = new ManualClock(new Date('2026-06-01T12:07:00Z'))
    server = await startOn(dataDir, muchLater)
    events = await eventsOf(server.call, 'graph', graphId)
    expect(events.slice(2).map((e) => [e.kind, e.scheduledFor])).toEqual([
      ['missed-skipped', '2026-06-01T12:00:00.000Z'],
    ])
    expect(events[2]!.message).toMatch(
      /^21 occurrence\(s\) missed .* older than the 5 min grace window, skipped/,
    )
    const runs = await json<{ runs: unknown[] }>(server.call('GET', `/api/runs?graphId=${graphId}`))
    expect(runs.runs.length).toBe(1)
    // Still armed after the restart.
    expect(await json(server.call('GET', `/api/schedules/graph/${graphId}`))).toMatchObject({
      nextRunAt: '2026-06-01T12:10:00.000Z',
    })
    muchLater.advanceTo(new Date('2026-06-01T12:10:00Z'))
    const last = (await eventsOf(server.call, 'graph', graphId))[3]!
    expect(last.kind).toBe('started')
    await waitForRun(server.call, last.runId!)
    await server.services.close()
  })

  it('disables the schedule of a graph that was deleted, and says so', async () => {
    const clock = new ManualClock(T0)
    const { call } = await testApp({ clock })
    const graphId = await createGraph(call, okGraph('short-lived'))
    await call('PUT', `/api/schedules/graph/${graphId}`, { cron: '*/5 * * * *' })
    expect((await call('DELETE', `/api/graphs/${graphId}`)).status).toBe(200)
    clock.advanceBy(minutes(5))
    expect(await eventsOf(call, 'graph', graphId)).toEqual([
      expect.objectContaining({
        kind: 'start-failed',
        message: 'the graph no longer exists; schedule disabled',
      }),
    ])
    expect(await json(call('GET', `/api/schedules/graph/${graphId}`))).toMatchObject({
      enabled: false,
      nextRunAt: null,
    })
    expect(clock.nextTimer()).toBeUndefined()
  })

  it('refuses bad schedules and unknown jobs', async () => {
    const { call } = await testApp()
    const graphId = await createGraph(call, okGraph('g'))
    const bad = await call('PUT', `/api/schedules/graph/${graphId}`, { cron: 'soon' })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({
      error: { code: 'INVALID_INPUT', message: expect.stringContaining('cron') },
    })
    expect(
      (await call('PUT', `/api/schedules/graph/${graphId}`, { cron: '* * * * *', timezone: 'Nowhere/Land' }))
        .status,
    ).toBe(400)
    expect((await call('PUT', '/api/schedules/graph/nope', { cron: '* * * * *' })).status).toBe(404)
    expect((await call('PUT', `/api/schedules/report/${graphId}`, { cron: '* * * * *' })).status).toBe(400)
    expect((await call('GET', `/api/schedules/graph/${graphId}/events`)).status).toBe(404)
  })
})
