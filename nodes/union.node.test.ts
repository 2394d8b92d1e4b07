import { describe, expect, it } from 'vitest'
import { analyzeGraph } from '../engine/index.ts'
import { tempDir } from '../test/helpers.ts'
import { runTest, testCatalog } from './test-kit.ts'

const three = (rows: [unknown[], unknown[], unknown[]]) => ({
  syncgraph: 1 as const,
  nodes: [
    { id: 'a', type: 'test.values', config: { rows: rows[0] } },
    { id: 'b', type: 'test.values', config: { rows: rows[1] } },
    { id: 'c', type: 'test.values', config: { rows: rows[2] } },
    { id: 'u', type: 'union' },
    { id: 'sink', type: 'test.collect' },
  ],
  edges: [
    { from: 'a', to: 'u' },
    { from: 'b', to: 'u' },
    { from: 'c', to: 'u' },
    { from: 'u', to: 'sink' },
  ],
})

describe('union', () => {
  it('passes on every row of three inputs', async () => {
    const rowsOf = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}` }))
    const graph = three([rowsOf('a', 25), rowsOf('b', 7), rowsOf('c', 12)])
    const { summary, rows } = await runTest({ ...graph, settings: { batchSize: 5 } }, await tempDir())
    expect(summary.status).toBe('succeeded')
    expect(summary.nodes.u).toMatchObject({ rowsIn: 44, rowsOut: 44 })
    const ids = rows('sink').map((r) => String(r.id))
    expect(ids.sort()).toEqual(
      [...rowsOf('a', 25), ...rowsOf('b', 7), ...rowsOf('c', 12)].map((r) => r.id).sort(),
    )
    // Each input keeps its own order.
    const fromA = rows('sink').filter((r) => String(r.id).startsWith('a'))
    expect(fromA).toEqual(rowsOf('a', 25))
  })

  it('keeps rows of different shapes as they are', async () => {
    const { rows } = await runTest(three([[{ x: 1 }], [{ y: 2 }], []]), await tempDir())
    expect(rows('sink')).toHaveLength(2)
    expect(rows('sink')).toContainEqual({ x: 1 })
    expect(rows('sink')).toContainEqual({ y: 2 })
  })

  it('infers the union of known columns, and unknown when one input is unknown', () => {
    const known = analyzeGraph(three([[{ id: 1, a: 1 }], [{ id: 2, b: 2 }], [{ c: 3 }]]), testCatalog)
    expect(known.columns.u!.out).toEqual(['id', 'a', 'b', 'c'])
    const unknown = analyzeGraph(three([[{ id: 1 }], [], [{ c: 3 }]]), testCatalog)
    expect(unknown.columns.u!.out).toBeUndefined()
  })
})
