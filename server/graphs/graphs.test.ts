import { describe, expect, it } from 'vitest'
import { testApp } from '../testing/harness.ts'

const graph = (name = 'HR feed') => ({
  syncgraph: 1,
  name,
  description: 'people',
  nodes: [
    { id: 'src', type: 'test.values', config: { rows: [{ a: 1 }] } },
    { id: 'out', type: 'test.collect', config: {} },
  ],
  edges: [{ from: 'src', to: 'out' }],
})

describe('graphs', () => {
  it('creates, lists, searches, gets, updates with revisions and deletes', async () => {
    const { call } = await testApp()
    const created = await call('POST', '/api/graphs', { graph: graph() })
    expect(created.status).toBe(201)
    const {
      id,
      revision,
      graph: stored,
    } = (await created.json()) as { id: string; revision: number; graph: Record<string, unknown> }
    expect(revision).toBe(1)
    expect(stored).toMatchObject({ name: 'HR feed', settings: { batchSize: 5000 } })
    await call('POST', '/api/graphs', { graph: graph('Other') })

    const all = (await (await call('GET', '/api/graphs')).json()) as { graphs: { name: string }[] }
    expect(all.graphs.map((g) => g.name).sort()).toEqual(['HR feed', 'Other'])
    const found = (await (await call('GET', '/api/graphs?q=HR')).json()) as {
      graphs: { id: string; revision: number }[]
    }
    expect(found.graphs).toEqual([
      expect.objectContaining({ id, revision: 1, name: 'HR feed', description: 'people' }),
    ])

    const saved = await call('PUT', `/api/graphs/${id}`, { graph: graph('HR feed v2'), revision: 1 })
    expect(saved.status).toBe(200)
    expect(await saved.json()).toMatchObject({ id, revision: 2, graph: { name: 'HR feed v2' } })
    expect(await (await call('GET', `/api/graphs/${id}`)).json()).toMatchObject({
      revision: 2,
      graph: { name: 'HR feed v2' },
    })

    const revisions = (await (await call('GET', `/api/graphs/${id}/revisions`)).json()) as {
      revisions: { revision: number }[]
    }
    expect(revisions.revisions.map((r) => r.revision)).toEqual([2, 1])
    expect(await (await call('GET', `/api/graphs/${id}/revisions/1`)).json()).toMatchObject({
      revision: 1,
      graph: { name: 'HR feed' },
    })

    expect((await call('DELETE', `/api/graphs/${id}`)).status).toBe(200)
    expect((await call('GET', `/api/graphs/${id}`)).status).toBe(404)
  })

  it('answers 409 when the revision is not the latest', async () => {
    const { call } = await testApp()
    const { id } = (await (await call('POST', '/api/graphs', { graph: graph() })).json()) as { id: string }
    expect((await call('PUT', `/api/graphs/${id}`, { graph: graph('A'), revision: 1 })).status).toBe(200)
    const stale = await call('PUT', `/api/graphs/${id}`, { graph: graph('B'), revision: 1 })
    expect(stale.status).toBe(409)
    expect(await stale.json()).toMatchObject({
      error: { code: 'STALE_REVISION', details: { latestRevision: 2 } },
    })
    expect(await (await call('GET', `/api/graphs/${id}`)).json()).toMatchObject({
      revision: 2,
      graph: { name: 'A' },
    })
  })

  it('refuses an invalid document with 400 and the zod issues', async () => {
    const { call } = await testApp()
    const res = await call('POST', '/api/graphs', {
      graph: { syncgraph: 1, nodes: [{ id: '1 bad', type: 'x' }] },
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string; details: unknown[] } }
    expect(body.error.code).toBe('INVALID_INPUT')
    expect(body.error.message).toContain('$.nodes[0].id')
    expect(body.error.details.length).toBeGreaterThan(0)
    expect((await call('POST', '/api/graphs', { nope: 1 })).status).toBe(400)
    const malformed = await call('POST', '/api/graphs', undefined, { 'content-type': 'application/json' })
    expect(malformed.status).toBe(400)
  })

  it('duplicates a graph under a new name', async () => {
    const { call } = await testApp()
    const { id } = (await (await call('POST', '/api/graphs', { graph: graph() })).json()) as { id: string }
    const copy = await call('POST', `/api/graphs/${id}/duplicate`, {})
    expect(copy.status).toBe(201)
    const body = (await copy.json()) as { id: string; graph: { name: string } }
    expect(body.id).not.toBe(id)
    expect(body.graph.name).toBe('HR feed (copy)')
    const named = (await (await call('POST', `/api/graphs/${id}/duplicate`, { name: 'Mine' })).json()) as {
      graph: { name: string }
    }
    expect(named.graph.name).toBe('Mine')
  })

  it('answers 404 with the error shape for unknown ids and routes', async () => {
    const { call } = await testApp()
    const res = await call('GET', '/api/graphs/nope')
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No graph with id "nope"' } })
    expect((await call('GET', '/api/nothing-here')).status).toBe(404)
  })
})
