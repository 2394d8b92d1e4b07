import { readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { generatorGraph, tempDir, testApp, waitForRun } from '../testing/harness.ts'

describe('runs', () => {
  it('runs a graph off the request path and stores status and per-node counters', async () => {
    const { call } = await testApp()
    const res = await call('POST', '/api/runs', { graph: generatorGraph(20_000, { batchSize: 1000 }) })
    expect(res.status).toBe(202)
    const { id } = (await res.json()) as { id: string }
    const run = await waitForRun(call, id)
    expect(run).toMatchObject({
      id,
      status: 'succeeded',
      graphId: null,
      nodes: {
        src: { rowsOut: 20_000, status: 'succeeded' },
        sink: { rowsIn: 20_000, rowsOut: 20_000, rowsRejected: 0, errors: 0 },
      },
      edges: [expect.objectContaining({ from: 'src', to: 'sink', rows: 20_000 })],
      errors: [],
    })
    expect(run.durationMs).toEqual(expect.any(Number))
    expect(run.startedAt).toEqual(expect.any(String))
    expect(run.finishedAt).toEqual(expect.any(String))
  })

  it('runs a stored graph with parameter values and filters the list by graph and status', async () => {
    const { call } = await testApp()
    const graph = {
      ...generatorGraph(0),
      params: { n: { type: 'number', default: 5 } },
      nodes: [
        { id: 'src', type: 'test.generate', config: { count: { $param: 'n' } } },
        { id: 'sink', type: 'test.discard', config: {} },
      ],
    }
    const { id: graphId } = (await (await call('POST', '/api/graphs', { graph })).json()) as { id: string }
    const { id } = (await (await call('POST', '/api/runs', { graphId, params: { n: '42' } })).json()) as {
      id: string
    }
    expect(await waitForRun(call, id)).toMatchObject({
      graphId,
      status: 'succeeded',
      nodes: { sink: { rowsIn: 42 } },
    })
    const bad = await call('POST', '/api/runs', { graphId, params: { n: 'many' } })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({
      error: { code: 'INVALID_GRAPH', message: expect.stringContaining('must be a number') },
    })
    await call('POST', '/api/runs', { graph: generatorGraph(1) })
    const list = (await (await call('GET', `/api/runs?graphId=${graphId}`)).json()) as {
      runs: { id: string }[]
    }
    expect(list.runs.map((r) => r.id)).toEqual([id])
    await new Promise((r) => setTimeout(r, 200))
    const succeeded = (await (await call('GET', '/api/runs?status=succeeded')).json()) as { runs: unknown[] }
    expect(succeeded.runs.length).toBe(2)
    expect((await call('GET', '/api/runs?status=bogus')).status).toBe(400)
  })

  it('refuses to run a graph with errors', async () => {
    const { call } = await testApp()
    const res = await call('POST', '/api/runs', {
      graph: { syncgraph: 1, nodes: [{ id: 'a', type: 'nope' }] },
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      error: {
        code: 'INVALID_GRAPH',
        details: { issues: [expect.objectContaining({ code: 'unknown-node-type' })] },
      },
    })
    expect((await call('POST', '/api/runs', { graphId: 'missing' })).status).toBe(404)
  })

  it('queues runs beyond the concurrency limit and cancels queued and running runs', async () => {
    const { call } = await testApp({ maxRuns: 1 })
    const slow = generatorGraph(1_000_000, { batchSize: 100, delayMs: 5 })
    const first = ((await (await call('POST', '/api/runs', { graph: slow })).json()) as { id: string }).id
    const second = ((await (await call('POST', '/api/runs', { graph: slow })).json()) as { id: string }).id
    await new Promise((r) => setTimeout(r, 100))
    expect(await (await call('GET', `/api/runs/${first}`)).json()).toMatchObject({ status: 'running' })
    expect(await (await call('GET', `/api/runs/${second}`)).json()).toMatchObject({ status: 'queued' })
    expect(await (await call('POST', `/api/runs/${second}/cancel`)).json()).toEqual({ cancelled: true })
    expect(await waitForRun(call, second)).toMatchObject({ status: 'cancelled' })
    expect(await (await call('POST', `/api/runs/${first}/cancel`)).json()).toEqual({ cancelled: true })
    const done = await waitForRun(call, first)
    expect(done.status).toBe('cancelled')
    expect((done.nodes as Record<string, { rowsOut: number }>).src!.rowsOut).toBeLessThan(1_000_000)
    expect(await (await call('POST', `/api/runs/${first}/cancel`)).json()).toEqual({ cancelled: false })
    expect((await call('POST', '/api/runs/nope/cancel')).status).toBe(404)
  })

  it('persists live counters while a run goes', async () => {
    const { call, services } = await testApp()
    const { id } = (await (
      await call('POST', '/api/runs', { graph: generatorGraph(1_000_000, { batchSize: 100, delayMs: 5 }) })
    ).json()) as { id: string }
    await new Promise((r) => setTimeout(r, 600))
    const stored = services.sqlite.prepare('select status, nodes from runs where id = ?').get(id) as {
      status: string
      nodes: string
    }
    expect(stored.status).toBe('running')
    expect((JSON.parse(stored.nodes) as Record<string, { rowsOut: number }>).src!.rowsOut).toBeGreaterThan(0)
    await call('POST', `/api/runs/${id}/cancel`)
    await waitForRun(call, id)
  })

  it('keeps rejected rows, capped per node', async () => {
    const { call } = await testApp()
    const rows = Array.from({ length: 1500 }, (_, i) => ({ i, bad: i % 2 === 0 }))
    const graph = {
      syncgraph: 1,
      settings: { onRowError: 'route', workers: 0, batchSize: 100 },
      nodes: [
        { id: 'src', type: 'test.values', config: { rows } },
        { id: 'check', type: 'test.fail', config: {} },
        { id: 'ok', type: 'test.discard', config: {} },
        { id: 'bad', type: 'test.discard', config: {} },
      ],
      edges: [
        { from: 'src', to: 'check' },
        { from: 'check', to: 'ok' },
        { from: 'check', fromPort: 'rejected', to: 'bad' },
      ],
    }
    const { id } = (await (await call('POST', '/api/runs', { graph })).json()) as { id: string }
    expect(await waitForRun(call, id)).toMatchObject({
      status: 'succeeded',
      nodes: { check: { rowsRejected: 750 }, bad: { rowsIn: 750 } },
    })
    const { rows: rejected } = (await (
      await call('GET', `/api/runs/${id}/rejected?nodeId=check`)
    ).json()) as { rows: Record<string, unknown>[] }
    expect(rejected.length).toBe(750)
    expect(rejected[0]).toEqual({ i: 0, bad: true, _error: { code: 'BAD_ROW', message: 'row 0 is bad' } })
    expect(
      ((await (await call('GET', `/api/runs/${id}/rejected?nodeId=ok`)).json()) as { rows: unknown[] }).rows,
    ).toEqual([])

    const many = {
      ...graph,
      nodes: [
        { id: 'src', type: 'test.values', config: { rows: rows.map((r) => ({ ...r, bad: true })) } },
        ...graph.nodes.slice(1),
      ],
    }
    const second = ((await (await call('POST', '/api/runs', { graph: many })).json()) as { id: string }).id
    await waitForRun(call, second)
    const all = (await (await call('GET', `/api/runs/${second}/rejected`)).json()) as { rows: unknown[] }
    expect(all.rows.length).toBe(1000)
    const first = (await (await call('GET', `/api/runs/${second}/rejected?limit=3`)).json()) as {
      rows: { i: number; _error: unknown }[]
    }
    expect(first.rows.map((r) => r.i)).toEqual([0, 1, 2])
    expect(first.rows[0]!._error).toEqual({ code: 'BAD_ROW', message: 'row 0 is bad' })
    expect((await call('GET', `/api/runs/${second}/rejected?limit=0`)).status).toBe(400)
  })

  it('resolves node file paths inside FILES_DIR only', async () => {
    const outside = await tempDir('syncgraph-outside-')
    await writeFile(join(outside, 'secret.txt'), 'do not read\n')
    const { call, services } = await testApp()
    await writeFile(join(services.filesDir, 'in.txt'), 'a\nb\n')
    await symlink(outside, join(services.filesDir, 'escape'))
    const read = (path: string) => ({
      syncgraph: 1,
      nodes: [
        { id: 'read', type: 'test.read-lines', config: { path } },
        { id: 'sink', type: 'test.discard', config: {} },
      ],
      edges: [{ from: 'read', to: 'sink' }],
    })
    const runOf = async (path: string) =>
      waitForRun(
        call,
        ((await (await call('POST', '/api/runs', { graph: read(path) })).json()) as { id: string }).id,
      )
    expect(await runOf('in.txt')).toMatchObject({ status: 'succeeded', nodes: { sink: { rowsIn: 2 } } })
    expect(await runOf(join(services.filesDir, 'in.txt'))).toMatchObject({ status: 'succeeded' })
    for (const path of ['../secret.txt', join(outside, 'secret.txt'), 'escape/secret.txt']) {
      const run = await runOf(path)
      expect(run.status, path).toBe('failed')
      expect(run.errors, path).toEqual([
        expect.objectContaining({
          code: 'PATH_OUTSIDE_FILES',
          nodeId: 'read',
          message: expect.stringContaining('outside the files folder'),
        }),
      ])
    }
  })

  it('the shipped csv nodes read and write inside FILES_DIR only, through ../, absolute paths and symlinks', async () => {
    const outside = await tempDir('syncgraph-outside-')
    await writeFile(join(outside, 'people.csv'), 'id,name\n1,ada\n')
    const { call, services } = await testApp()
    await writeFile(join(services.filesDir, 'people.csv'), 'id,name\n1,ada\n2,bob\n')
    await symlink(outside, join(services.filesDir, 'escape'))
    const copy = (from: string, to: string) => ({
      syncgraph: 1,
      settings: { workers: 0 },
      nodes: [
        { id: 'read', type: 'csv.read', config: { path: from } },
        { id: 'write', type: 'csv.write', config: { path: to } },
      ],
      edges: [{ from: 'read', to: 'write' }],
    })
    const runOf = async (from: string, to: string) =>
      waitForRun(
        call,
        ((await (await call('POST', '/api/runs', { graph: copy(from, to) })).json()) as { id: string }).id,
      )
    const ok = await runOf('people.csv', 'copy.csv')
    expect(ok, JSON.stringify(ok.errors)).toMatchObject({
      status: 'succeeded',
      nodes: { write: { rowsIn: 2 } },
    })
    expect(await readFile(join(services.filesDir, 'copy.csv'), 'utf8')).toContain('bob')
    const refused = [
      ['../people.csv', 'a.csv', 'read'],
      [join(outside, 'people.csv'), 'b.csv', 'read'],
      ['escape/people.csv', 'c.csv', 'read'],
      ['people.csv', '../planted.csv', 'write'],
      ['people.csv', join(outside, 'planted.csv'), 'write'],
      ['people.csv', 'escape/planted.csv', 'write'],
    ] as const
    for (const [from, to, nodeId] of refused) {
      const run = await runOf(from, to)
      expect(run.status, `${from} -> ${to}`).toBe('failed')
      expect(run.errors, `${from} -> ${to}`).toEqual(
        expect.arrayContaining([expect.objectContaining({ code: 'PATH_OUTSIDE_FILES', nodeId })]),
      )
    }
    expect((await readdir(outside)).sort()).toEqual(['people.csv'])
    expect(await readdir(join(services.filesDir, '..'))).not.toContain('planted.csv')
  })
})

describe('run state', () => {
  it("keeps a stored graph's SQL read watermark between successful runs", async () => {
    const { call, services } = await testApp()
    const Database = (await import('better-sqlite3')).default
    const db = new Database(join(services.filesDir, 'people.db'))
    db.exec('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)')
    db.exec("INSERT INTO people VALUES (1, 'Ann'), (2, 'Bob')")
    const graph = {
      syncgraph: 1,
      nodes: [
        {
          id: 'read',
          type: 'sql.read',
          config: { connection: { driver: 'sqlite', path: 'people.db' }, table: 'people', watermark: 'id' },
        },
        { id: 'sink', type: 'test.discard', config: {} },
      ],
      edges: [{ from: 'read', to: 'sink' }],
    }
    const { id: graphId } = (await (await call('POST', '/api/graphs', { graph })).json()) as { id: string }
    const runOnce = async () => {
      const { id } = (await (await call('POST', '/api/runs', { graphId })).json()) as { id: string }
      return waitForRun(call, id)
    }
    expect(await runOnce()).toMatchObject({ status: 'succeeded', nodes: { sink: { rowsIn: 2 } } })
    db.exec("INSERT INTO people VALUES (3, 'Cid')")
    db.close()
    // Only the row past the watermark the first run kept.
    expect(await runOnce()).toMatchObject({ status: 'succeeded', nodes: { sink: { rowsIn: 1 } } })
    expect(await runOnce()).toMatchObject({ status: 'succeeded', nodes: { sink: { rowsIn: 0 } } })
  })
})
