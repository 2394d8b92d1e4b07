import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { testApp } from '../testing/harness.ts'
import { inferColumns } from './columns.ts'

const pipeline = {
  syncgraph: 1,
  settings: { batchSize: 10, workers: 0 },
  nodes: [
    { id: 'src', type: 'test.generate', config: { count: 1000 } },
    { id: 'even', type: 'filter', config: { expression: 'id % 2 = 0' } },
    { id: 'out', type: 'test.discard', config: {} },
  ],
  edges: [
    { from: 'src', to: 'even' },
    { from: 'even', to: 'out' },
  ],
}

describe('validate', () => {
  it('returns issues and the columns known on each port', async () => {
    const { call } = await testApp()
    const ok = (await (await call('POST', '/api/validate', { graph: pipeline })).json()) as Record<
      string,
      unknown
    >
    expect(ok).toEqual({
      issues: [],
      columns: expect.objectContaining({
        src: { out: ['id', 'name', 'group'] },
        even: expect.objectContaining({ out: ['id', 'name', 'group'] }),
      }),
      expressions: [{ nodeId: 'even', path: '$.expression', compiled: true }],
    })
    const bad = { ...pipeline, nodes: [...pipeline.nodes.slice(0, 2), { id: 'x', type: 'nope', config: {} }] }
    const res = (await (await call('POST', '/api/validate', { graph: bad })).json()) as {
      issues: { code: string; nodeId?: string }[]
    }
    expect(res.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'unknown-node-type', nodeId: 'x' })]),
    )
  })

  it('reports a broken document as issues, not as a failed request', async () => {
    const { call } = await testApp()
    const res = await call('POST', '/api/validate', { graph: { syncgraph: 1 } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { issues: { code: string }[] }).issues[0]!.code).toBe('invalid-document')
  })
})

describe('preview', () => {
  it('returns the first rows of a node with inferred column types, and says when there are more', async () => {
    const { call } = await testApp()
    const res = await call('POST', '/api/preview', { graph: pipeline, nodeId: 'even', limit: 5 })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      columns: [
        { name: 'id', type: 'number' },
        { name: 'name', type: 'string' },
        { name: 'group', type: 'number' },
      ],
      rows: [0, 2, 4, 6, 8].map((id) => ({ id, name: `user${id}`, group: id % 7 })),
      truncated: true,
    })
  })

  it('is not truncated when the node has fewer rows than the limit', async () => {
    const { call } = await testApp()
    const graph = {
      ...pipeline,
      nodes: [{ ...pipeline.nodes[0]!, config: { count: 3 } }, ...pipeline.nodes.slice(1)],
    }
    const body = (await (
      await call('POST', '/api/preview', { graph, nodeId: 'src', limit: 100 })
    ).json()) as { rows: unknown[]; truncated: boolean }
    expect(body.rows.length).toBe(3)
    expect(body.truncated).toBe(false)
  })

  it('never runs a destination, refuses unknown nodes and ports and invalid graphs', async () => {
    const { call } = await testApp()
    expect(
      await (await call('POST', '/api/preview', { graph: pipeline, nodeId: 'out', port: 'out' })).json(),
    ).toMatchObject({
      error: { code: 'PREVIEW_HAS_SIDE_EFFECTS' },
    })
    expect((await call('POST', '/api/preview', { graph: pipeline, nodeId: 'zzz' })).status).toBe(404)
    expect(
      await (await call('POST', '/api/preview', { graph: pipeline, nodeId: 'even', port: 'nope' })).json(),
    ).toMatchObject({
      error: { code: 'UNKNOWN_PORT' },
    })
    expect(
      await (await call('POST', '/api/preview', { graph: { syncgraph: 1, nodes: 3 }, nodeId: 'x' })).json(),
    ).toMatchObject({
      error: {
        code: 'INVALID_GRAPH',
        details: { issues: [expect.objectContaining({ code: 'invalid-document' })] },
      },
    })
  })

  it('reports a failing node as 422 with its error', async () => {
    const { call } = await testApp()
    const graph = {
      syncgraph: 1,
      settings: { workers: 0 },
      nodes: [
        { id: 'src', type: 'test.values', config: { rows: [{ i: 1, bad: true }] } },
        { id: 'f', type: 'test.fail', config: {} },
      ],
      edges: [{ from: 'src', to: 'f' }],
    }
    const res = await call('POST', '/api/preview', { graph, nodeId: 'f' })
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({
      error: { code: 'PREVIEW_FAILED', message: expect.stringContaining('row 1 is bad') },
    })
  })
})

describe('preview of a source that fails part way', () => {
  it('shows the rows before a malformed CSV line, and why it stopped, with the path relative to the files folder', async () => {
    const { call, services } = await testApp()
    await writeFile(
      join(services.filesDir, 'hr.csv'),
      'id,name\n1,Ann\n2,Bob\n3,"Carl\n4,Dan\n5,"Eve"x\n6,Fay\n',
    )
    const graph = {
      syncgraph: 1,
      settings: { workers: 0 },
      nodes: [{ id: 'hr', type: 'csv.read', config: { path: 'hr.csv' } }],
      edges: [],
    }
    const res = await call('POST', '/api/preview', { graph, nodeId: 'hr' })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { rows: unknown[]; error: { message: string } }
    expect(body.rows).toEqual([
      { id: '1', name: 'Ann' },
      { id: '2', name: 'Bob' },
    ])
    expect(body.error).toEqual({
      code: 'CSV_MALFORMED',
      nodeId: 'hr',
      row: 4,
      message:
        'Node "hr" (csv.read): line 4 of hr.csv: a quoted field opened on this line is not closed properly: the next quote, on line 6, is followed by text',
    })
    expect(JSON.stringify(body)).not.toContain(services.filesDir)
  })
})

describe('inferColumns', () => {
  it('types columns by their non-null values', () => {
    expect(
      inferColumns([
        { a: 1, b: null, c: 'x' },
        { a: 'y', b: [1], d: true },
      ]),
    ).toEqual([
      { name: 'a', type: 'mixed' },
      { name: 'b', type: 'array' },
      { name: 'c', type: 'string' },
      { name: 'd', type: 'boolean' },
    ])
  })
})
