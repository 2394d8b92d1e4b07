import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createCatalog, defineNode, rows, type Row } from './index.ts'
import type { RunEvent } from './progress.ts'
import { runGraph } from './runtime.ts'
import { catalog } from './testing/catalog.ts'
import { collect, collected, evaluate, failing, values } from './testing/test-nodes.ts'

const run = (graph: unknown, options: Partial<Parameters<typeof runGraph>[1]> = {}) =>
  runGraph(graph, { catalog, progressIntervalMs: 20, ...options })

const numbers = (count: number, extra: (i: number) => Row = () => ({})) =>
  Array.from({ length: count }, (_, i) => ({ i, ...extra(i) }))

describe('runGraph', () => {
  it('streams batches through the graph and counts rows per node and per edge', async () => {
    const summary = await run({
      syncgraph: 1,
      settings: { batchSize: 10, workers: 0 },
      nodes: [
        { id: 'src', type: 'test.values', config: { count: 95 } },
        { id: 'e', type: 'test.eval', version: 2, config: { expression: 'i * 2' } },
        { id: 'out', type: 'test.collect', config: {} },
      ],
      edges: [
        { from: 'src', to: 'e' },
        { from: 'e', to: 'out' },
      ],
    })
    expect(summary.status).toBe('succeeded')
    expect(collected.get('out')?.map((r) => r.value)).toEqual(numbers(95).map((r) => r.i * 2))
    expect(summary.nodes.src).toMatchObject({ status: 'succeeded', rowsIn: 0, rowsOut: 95, batches: 10 })
    expect(summary.nodes.e).toMatchObject({
      rowsIn: 95,
      rowsOut: 95,
      rowsRejected: 0,
      errors: 0,
      batches: 10,
    })
    expect(summary.nodes.out).toMatchObject({ rowsIn: 95, rowsOut: 95 })
    expect(summary.edges.map((e) => [e.from, e.to, e.rows, e.batches, e.queueDepth])).toEqual([
      ['src', 'e', 95, 10, 0],
      ['e', 'out', 95, 10, 0],
    ])
    for (const stats of Object.values(summary.nodes)) {
      expect(stats.busyMs).toBeGreaterThanOrEqual(0)
      expect(stats.rowsPerSec).toBeGreaterThanOrEqual(0)
    }
  })

  it('fans one output out to every connected input', async () => {
    const summary = await run({
      syncgraph: 1,
      settings: { batchSize: 7 },
      nodes: [
        { id: 'src', type: 'test.values', config: { count: 50 } },
        { id: 'a', type: 'test.collect', config: {} },
        { id: 'b', type: 'test.collect', config: { delayMs: 1 } },
      ],
      edges: [
        { from: 'src', to: 'a' },
        { from: 'src', to: 'b' },
      ],
    })
    expect(summary.status).toBe('succeeded')
    expect(collected.get('a')).toEqual(numbers(50))
    expect(collected.get('b')).toEqual(numbers(50))
  })

  it('applies back-pressure: a slow destination holds its source to the queue depth', async () => {
    let produced = 0
    let consumed = 0
    let maxAhead = 0
    const source = defineNode({
      type: 'bp.source',
      version: 1,
      title: 'Counting source',
      category: 'source',
      description: 'Yields 40 one-row batches, counting them.',
      inputs: {},
      outputs: { out: rows() },
      config: z.object({}),
      async *run() {
        for (let b = 0; b < 40; b++) {
          produced += 1
          maxAhead = Math.max(maxAhead, produced - consumed)
          yield { out: [{ b }] }
        }
      },
    })
    const slow = defineNode({
      ...collect,
      type: 'bp.slow',
      config: z.object({}),
      async *run({ inputs }) {
        for await (const _batch of inputs.in!) {
          await new Promise((r) => setTimeout(r, 2))
          consumed += 1
        }
      },
    })
    const summary = await runGraph(
      {
        syncgraph: 1,
        settings: { queueDepth: 2 },
        nodes: [
          { id: 's', type: 'bp.source' },
          { id: 'd', type: 'bp.slow' },
        ],
        edges: [{ from: 's', to: 'd' }],
      },
      { catalog: createCatalog([source, slow]) },
    )
    expect(summary.status).toBe('succeeded')
    expect(consumed).toBe(40)
    // queue depth 2, one batch in the consumer's hands, one being produced
    expect(maxAhead).toBeLessThanOrEqual(4)
  })

  describe('onRowError', () => {
    const graphWith = (onRowError: string, extraEdges: unknown[] = [], extraNodes: unknown[] = []) => ({
      syncgraph: 1,
      settings: { batchSize: 4, onRowError, workers: 0 },
      nodes: [
        {
          id: 'src',
          type: 'test.values',
          config: { rows: numbers(10, (i) => ({ bad: i === 3 || i === 8 })) },
        },
        { id: 'f', type: 'test.fail', config: {} },
        { id: 'out', type: 'test.collect', config: {} },
        ...extraNodes,
      ],
      edges: [{ from: 'src', to: 'f' }, { from: 'f', to: 'out' }, ...extraEdges],
    })

    it('fail: the run fails with the node, row and code', async () => {
      const summary = await run(graphWith('fail'))
      expect(summary.status).toBe('failed')
      expect(summary.errors[0]).toMatchInlineSnapshot(`
        {
          "code": "BAD_ROW",
          "message": "Node "f" (test.fail) row 4: row 3 is bad",
          "nodeId": "f",
          "row": 4,
        }
      `)
      expect(summary.nodes.f?.status).toBe('failed')
    })

    it('skip: failed rows are counted, the others go on', async () => {
      const summary = await run(graphWith('skip'))
      expect(summary.status).toBe('succeeded')
      expect(collected.get('out')?.map((r) => r.i)).toEqual([0, 1, 2, 4, 5, 6, 7, 9])
      expect(summary.nodes.f).toMatchObject({ rowsIn: 10, rowsOut: 8, rowsRejected: 2, errors: 2 })
      expect(summary.errors.map((e) => e.row)).toEqual([4, 9])
    })

    it('route: failed rows go to the rejected port with _error', async () => {
      const summary = await run(
        graphWith(
          'route',
          [{ from: 'f', fromPort: 'rejected', to: 'bad' }],
          [{ id: 'bad', type: 'test.collect', config: {} }],
        ),
      )
      expect(summary.status).toBe('succeeded')
      expect(collected.get('bad')).toEqual([
        { i: 3, bad: true, _error: { code: 'BAD_ROW', message: 'row 3 is bad' } },
        { i: 8, bad: true, _error: { code: 'BAD_ROW', message: 'row 8 is bad' } },
      ])
      expect(summary.nodes.f).toMatchObject({ rowsOut: 8, rowsRejected: 2 })
      expect(summary.nodes.bad).toMatchObject({ rowsIn: 2 })
    })

    it('a node may override the graph policy', async () => {
      const graph = graphWith('fail')
      ;(graph.nodes[1] as Record<string, unknown>).onRowError = 'skip'
      expect((await run(graph)).status).toBe('succeeded')
    })
  })

  it('gives the same rows and errors on the worker pool as on one thread', async () => {
    const graph = (workers: number, sink: string) => ({
      syncgraph: 1,
      settings: { batchSize: 100, workers, onRowError: 'route' },
      nodes: [
        {
          id: 'src',
          type: 'test.values',
          config: { rows: numbers(1000, (i) => ({ s: i % 97 === 0 ? 'x' : String(i) })) },
        },
        { id: 'e', type: 'test.eval', version: 2, config: { expression: '$number(s) * 2' } },
        { id: sink, type: 'test.collect', config: {} },
        { id: `${sink}-bad`, type: 'test.collect', config: {} },
      ],
      edges: [
        { from: 'src', to: 'e' },
        { from: 'e', to: sink },
        { from: 'e', fromPort: 'rejected', to: `${sink}-bad` },
      ],
    })
    const local = await run(graph(0, 'local'))
    const pooled = await run(graph(2, 'pooled'))
    expect(pooled.status).toBe('succeeded')
    expect(collected.get('pooled')).toEqual(collected.get('local'))
    expect(collected.get('pooled-bad')).toEqual(collected.get('local-bad'))
    expect(collected.get('pooled-bad')?.[0]?._error).toMatchInlineSnapshot(`
      {
        "code": "D3030",
        "message": "Unable to cast value to a number: "x"",
      }
    `)
    expect(pooled.nodes.e).toMatchObject({ rowsIn: 1000, rowsOut: 989, rowsRejected: 11 })
    expect(pooled.errors.map((e) => e.row)).toEqual(local.errors.map((e) => e.row))
  })

  it('cancels through the AbortSignal, reaching worker tasks', async () => {
    const controller = new AbortController()
    const started = performance.now()
    setTimeout(() => controller.abort(), 300)
    const summary = await run(
      {
        syncgraph: 1,
        settings: { batchSize: 50, workers: 2 },
        nodes: [
          { id: 'src', type: 'test.values', config: { count: 100_000 } },
          {
            id: 'e',
            type: 'test.eval',
            version: 2,
            config: { expression: '$sum($map([1..2000], function($v) { $v }))' },
          },
          { id: 'out', type: 'test.collect', config: {} },
        ],
        edges: [
          { from: 'src', to: 'e' },
          { from: 'e', to: 'out' },
        ],
      },
      { signal: controller.signal },
    )
    expect(summary.status).toBe('cancelled')
    expect(summary.nodes.e?.rowsOut).toBeLessThan(100_000)
    // Far less than the ~minutes the whole run would take.
    expect(performance.now() - started).toBeLessThan(20_000)
  })

  it('releases what setup opened when a node fails', async () => {
    const released: string[] = []
    const opener = defineNode({
      ...collect,
      type: 'cleanup.sink',
      config: z.object({}),
      setup: ({ onCleanup }) => onCleanup(() => void released.push('sink')),
      async *run({ inputs }) {
        for await (const _batch of inputs.in!) throw new Error('disk full')
      },
    })
    const summary = await runGraph(
      {
        syncgraph: 1,
        nodes: [
          { id: 'src', type: 'test.values', config: { count: 5 } },
          { id: 'd', type: 'cleanup.sink' },
        ],
        edges: [{ from: 'src', to: 'd' }],
      },
      { catalog: createCatalog([values, opener]) },
    )
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]).toMatchInlineSnapshot(`
      {
        "code": "NODE_FAILED",
        "message": "Node "d" (cleanup.sink): disk full",
        "nodeId": "d",
      }
    `)
    expect(released).toEqual(['sink'])
  })

  it('coalesces progress events: a few per interval, never one per batch, ending on the final counts', async () => {
    const events: RunEvent[] = []
    const summary = await run(
      {
        syncgraph: 1,
        settings: { batchSize: 10, workers: 0 },
        nodes: [
          { id: 'src', type: 'test.values', config: { count: 20_000 } },
          { id: 'out', type: 'test.collect', config: { delayMs: 0 } },
        ],
        edges: [{ from: 'src', to: 'out' }],
      },
      { onEvent: (e) => events.push(e), progressIntervalMs: 100 },
    )
    const progress = events.filter((e) => e.type === 'progress')
    // 2,000 batches; at most one event per interval, plus the first and the last.
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(summary.durationMs / 100) + 3)
    const last = progress.at(-1)
    expect(last?.type === 'progress' && last.snapshot.nodes.out?.rowsIn).toBe(20_000)
    expect(events.at(-1)).toMatchObject({
      type: 'finished',
      summary: { status: 'succeeded', runId: summary.runId },
    })
  })

  it('lets the event loop turn while a source that never waits on I/O streams', async () => {
    // test.values and test.collect never touch I/O: without the engine yielding, no timer would fire
    // until the run ended (no progress, no HTTP or WebSocket work on the server, no Ctrl-C).
    let ticks = 0
    const timer = setInterval(() => (ticks += 1), 10)
    const events: RunEvent[] = []
    const summary = await run(
      {
        syncgraph: 1,
        settings: { batchSize: 10, workers: 0 },
        nodes: [
          { id: 'src', type: 'test.values', config: { count: 1_000_000 } },
          { id: 'out', type: 'test.collect', config: {} },
        ],
        edges: [{ from: 'src', to: 'out' }],
      },
      { onEvent: (e) => events.push(e), progressIntervalMs: 50 },
    )
    clearInterval(timer)
    expect(summary.status).toBe('succeeded')
    // Loose bounds (a loaded machine delays timers), but a held loop gives 0 ticks and 2 events.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(summary.durationMs / 100))
    const progress = events.filter((e) => e.type === 'progress').length
    expect(progress).toBeGreaterThanOrEqual(Math.floor(summary.durationMs / 200) + 2)
    expect(summary.durationMs, 'the run must last long enough to mean something').toBeGreaterThan(200)
  })

  it('stops a runaway expression with an error naming the node: time and depth limits', async () => {
    const graph = (expression: string) => ({
      syncgraph: 1,
      settings: { expressionTimeoutMs: 50, expressionDepth: 200, workers: 0 },
      nodes: [
        { id: 'src', type: 'test.values', config: { count: 1 } },
        { id: 'spin', type: 'test.eval', version: 2, config: { expression } },
        { id: 'out', type: 'test.collect', config: {} },
      ],
      edges: [
        { from: 'src', to: 'spin' },
        { from: 'spin', to: 'out' },
      ],
    })
    const loop = await run(graph('($f := function($n) { $f($n + 1) }; $f(0))'))
    expect(loop.status).toBe('failed')
    expect(loop.errors[0]).toMatchObject({ code: 'D1012', nodeId: 'spin', row: 1 })
    expect(loop.errors[0]?.message).toMatch(/^Node "spin" \(test\.eval\) row 1: /)
    const deep = await run(graph('($f := function($n) { 1 + $f($n + 1) }; $f(0))'))
    expect(deep.errors[0]).toMatchObject({ code: 'D1011', nodeId: 'spin' })
  })

  it('refuses an invalid graph before running anything', async () => {
    await expect(run({ syncgraph: 1, nodes: [{ id: 'x', type: 'nope' }] })).rejects.toMatchObject({
      code: 'INVALID_GRAPH',
      issues: [{ code: 'unknown-node-type', nodeId: 'x' }],
    })
  })

  it('runs only what feeds the targets', async () => {
    const summary = await run(
      {
        syncgraph: 1,
        nodes: [
          { id: 'src', type: 'test.values', config: { count: 3 } },
          { id: 'a', type: 'test.collect', config: {} },
          { id: 'other', type: 'test.values', config: { count: 3 } },
        ],
        edges: [{ from: 'src', to: 'a' }],
      },
      { targets: ['src'] },
    )
    expect(Object.keys(summary.nodes)).toEqual(['src'])
  })
})

export { evaluate, failing }
