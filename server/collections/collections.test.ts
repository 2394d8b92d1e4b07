import { describe, expect, it } from 'vitest'
import { tempDir, testApp, waitForRun } from '../testing/harness.ts'
import {
  appOn,
  createGraph,
  failingGraph,
  json,
  okGraph,
  paramGraph,
  slowGraph,
  waitForCollectionRun,
} from './test-helpers.ts'

describe('collections', () => {
  it('runs its graphs in order with their parameters; a failed "continue" step lets the next run', async () => {
    const { call } = await testApp()
    const first = await createGraph(call, paramGraph('first'))
    const broken = await createGraph(call, failingGraph('broken'))
    const last = await createGraph(call, okGraph('last', 30))
    const created = await call('POST', '/api/collections', {
      name: 'nightly',
      steps: [
        { graphId: first, params: { n: 42 } },
        { graphId: broken, onFailure: 'continue' },
        { graphId: last },
      ],
    })
    expect(created.status).toBe(201)
    const collection = (await created.json()) as { id: string; steps: unknown[] }
    expect(collection).toMatchObject({
      name: 'nightly',
      schedule: null,
      nextRunAt: null,
      steps: [
        { graphId: first, graphName: 'first', params: { n: 42 }, onFailure: 'abort' },
        { graphId: broken, onFailure: 'continue' },
        { graphId: last, onFailure: 'abort' },
      ],
    })

    const started = await call('POST', `/api/collections/${collection.id}/run`)
    expect(started.status).toBe(202)
    const { id } = (await started.json()) as { id: string }
    const run = await waitForCollectionRun(call, id)
    expect(run).toMatchObject({
      collectionId: collection.id,
      collectionName: 'nightly',
      status: 'failed',
      trigger: 'manual',
      steps: [
        { index: 0, graphName: 'first', status: 'succeeded', nodes: { sink: { rowsIn: 42 } } },
        {
          index: 1,
          graphName: 'broken',
          status: 'failed',
          errors: [expect.objectContaining({ code: 'BAD_ROW', nodeId: 'check' })],
        },
        { index: 2, graphName: 'last', status: 'succeeded', nodes: { sink: { rowsIn: 30 } } },
      ],
    })
    // Each step links to its graph run, which ran in order.
    const graphRuns = await Promise.all(run.steps.map((s) => waitForRun(call, s.runId as string)))
    expect(graphRuns.map((r) => [r.graphId, r.status])).toEqual([
      [first, 'succeeded'],
      [broken, 'failed'],
      [last, 'succeeded'],
    ])
    const times = graphRuns.map((r) => [
      Date.parse(r.startedAt as string),
      Date.parse(r.finishedAt as string),
    ])
    expect(times[1]![0]).toBeGreaterThanOrEqual(times[0]![1]!)
    expect(times[2]![0]).toBeGreaterThanOrEqual(times[1]![1]!)

    const runs = await json<{ runs: { id: string }[] }>(call('GET', `/api/collections/${collection.id}/runs`))
    expect(runs.runs.map((r) => r.id)).toEqual([id])
  })

  it('stops at a failed "abort" step and skips the rest', async () => {
    const { call } = await testApp()
    const broken = await createGraph(call, failingGraph('broken'))
    const ok = await createGraph(call, okGraph('ok'))
    const { id: collectionId } = await json<{ id: string }>(
      call('POST', '/api/collections', { name: 'c', steps: [{ graphId: broken }, { graphId: ok }] }),
    )
    const { id } = await json<{ id: string }>(call('POST', `/api/collections/${collectionId}/run`))
    expect(await waitForCollectionRun(call, id)).toMatchObject({
      status: 'failed',
      steps: [
        { status: 'failed', runId: expect.any(String) },
        { status: 'skipped', runId: null },
      ],
    })
  })

  it('cancels a collection run: the running step is cancelled, the rest skipped', async () => {
    const { call } = await testApp()
    const slow = await createGraph(call, slowGraph('slow'))
    const ok = await createGraph(call, okGraph('ok'))
    const { id: collectionId } = await json<{ id: string }>(
      call('POST', '/api/collections', { name: 'c', steps: [{ graphId: slow }, { graphId: ok }] }),
    )
    const { id } = await json<{ id: string }>(call('POST', `/api/collections/${collectionId}/run`))
    await new Promise((r) => setTimeout(r, 150))
    expect(await json(call('POST', `/api/collection-runs/${id}/cancel`))).toEqual({ cancelled: true })
    const run = await waitForCollectionRun(call, id)
    expect(run).toMatchObject({
      status: 'cancelled',
      steps: [{ status: 'cancelled' }, { status: 'skipped' }],
    })
    expect(await waitForRun(call, run.steps[0]!.runId as string)).toMatchObject({ status: 'cancelled' })
    expect(await json(call('POST', `/api/collection-runs/${id}/cancel`))).toEqual({ cancelled: false })
  })

  it('refuses unknown graphs, updates, deletes, and answers 404 for what does not exist', async () => {
    const { call } = await testApp()
    const bad = await call('POST', '/api/collections', { name: 'c', steps: [{ graphId: 'nope' }] })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({
      error: { code: 'UNKNOWN_GRAPH', details: { graphIds: ['nope'] } },
    })
    expect((await call('POST', '/api/collections', { name: 'c', steps: [] })).status).toBe(400)
    const g = await createGraph(call, okGraph('g'))
    const { id } = await json<{ id: string }>(
      call('POST', '/api/collections', { name: 'c', steps: [{ graphId: g }] }),
    )
    const updated = await json(
      call('PUT', `/api/collections/${id}`, {
        name: 'd',
        steps: [{ graphId: g, onFailure: 'continue' }, { graphId: g }],
      }),
    )
    expect(updated).toMatchObject({ name: 'd', steps: [{ onFailure: 'continue' }, { onFailure: 'abort' }] })
    expect(await json<{ collections: unknown[] }>(call('GET', '/api/collections'))).toMatchObject({
      collections: [{ id, name: 'd' }],
    })
    expect((await call('DELETE', `/api/collections/${id}`)).status).toBe(200)
    for (const [method, path] of [
      ['GET', `/api/collections/${id}`],
      ['POST', `/api/collections/${id}/run`],
      ['GET', `/api/collections/${id}/runs`],
      ['GET', '/api/collection-runs/nope'],
      ['GET', '/api/collection-templates/nope'],
    ] as const)
      expect((await call(method, path)).status, path).toBe(404)
  })

  it('saves a collection as a template keeping order, parameters, failure actions and schedule', async () => {
    const { call } = await testApp()
    const a = await createGraph(call, paramGraph('a'))
    const b = await createGraph(call, okGraph('b'))
    const steps = [
      { graphId: b, params: {}, onFailure: 'continue' },
      { graphId: a, params: { n: 7 }, onFailure: 'abort' },
    ]
    const { id } = await json<{ id: string }>(call('POST', '/api/collections', { name: 'source', steps }))
    const schedule = { cron: '15 2 * * 1-5', timezone: 'Europe/Paris', maxRunSeconds: 3600 }
    expect((await call('PUT', `/api/schedules/collection/${id}`, schedule)).status).toBe(200)
    const saved = await call('POST', `/api/collections/${id}/template`, { name: 'weekday sync' })
    expect(saved.status).toBe(201)
    const { id: templateId } = (await saved.json()) as { id: string }
    expect(await json(call('GET', `/api/collection-templates/${templateId}`))).toMatchObject({
      name: 'weekday sync',
      steps,
      schedule: { ...schedule, missedRunGraceMinutes: 60, enabled: true },
    })
    const made = await call('POST', `/api/collection-templates/${templateId}/instantiate`, { name: 'copy' })
    expect(made.status).toBe(201)
    const copy = (await made.json()) as { id: string; nextRunAt: string }
    expect(copy).toMatchObject({
      name: 'copy',
      steps,
      schedule: { cron: '15 2 * * 1-5', timezone: 'Europe/Paris', jobKind: 'collection', jobId: copy.id },
      nextRunAt: expect.any(String),
    })
    // 02:15 in Paris on a weekday.
    const next = new Date(copy.nextRunAt)
    expect(
      new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', timeStyle: 'short' }).format(next),
    ).toBe('02:15')
    expect([1, 2, 3, 4, 5]).toContain(next.getUTCDay() === 0 ? 7 : next.getUTCDay())

    const direct = await call('POST', '/api/collection-templates', { name: 'plain', steps: [{ graphId: a }] })
    expect(direct.status).toBe(201)
    const list = await json<{ templates: { name: string; schedule: unknown }[] }>(
      call('GET', '/api/collection-templates'),
    )
    expect(list.templates.map((t) => [t.name, t.schedule === null]).sort()).toEqual([
      ['plain', true],
      ['weekday sync', false],
    ])
    expect((await call('DELETE', `/api/collection-templates/${templateId}`)).status).toBe(200)
  })

  it('marks a collection run cut off by a server stop as interrupted', async () => {
    const dataDir = await tempDir()
    let server = await appOn(dataDir)
    const slow = await createGraph(server.call, slowGraph('slow'))
    const { id: collectionId } = await json<{ id: string }>(
      server.call('POST', '/api/collections', { name: 'c', steps: [{ graphId: slow }, { graphId: slow }] }),
    )
    const { id } = await json<{ id: string }>(server.call('POST', `/api/collections/${collectionId}/run`))
    await new Promise((r) => setTimeout(r, 100))
    await server.services.close()
    server = await appOn(dataDir)
    const run = await json(server.call('GET', `/api/collection-runs/${id}`))
    expect(run).toMatchObject({
      status: 'interrupted',
      steps: [{ status: 'interrupted' }, { status: 'skipped' }],
    })
    await server.services.close()
  })
})
