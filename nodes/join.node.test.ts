import { describe, expect, it } from 'vitest'
import { analyzeGraph } from '../engine/index.ts'
import { tempDir } from '../test/helpers.ts'
import { fileIn, firstError, runTest, testCatalog } from './test-kit.ts'

type Row = Record<string, unknown>

const people: Row[] = [
  { id: 1, name: 'Ann', cc: 'A' },
  { id: 2, name: 'Bob', cc: 'B' },
  { id: 3, name: 'Cid', cc: 'Z' },
  { id: 4, name: 'Dee', cc: null },
]
const centers: Row[] = [
  { cc: 'A', title: 'Sales' },
  { cc: 'B', title: 'Ops' },
  { cc: 'C', title: 'Lab' },
  { cc: null, title: 'Nowhere' },
]

async function runJoin(
  left: Row[],
  right: Row[],
  config: Record<string, unknown>,
  settings: Record<string, unknown> = {},
) {
  const dir = await tempDir()
  const { summary, rows } = await runTest(
    {
      nodes: [
        { id: 'l', type: 'test.values', config: { rows: left } },
        { id: 'r', type: 'test.values', config: { rows: right } },
        { id: 'j', type: 'join', config },
        { id: 'sink', type: 'test.collect' },
      ],
      edges: [
        { from: 'l', to: 'j', toPort: 'left' },
        { from: 'r', to: 'j', toPort: 'right' },
        { from: 'j', to: 'sink' },
      ],
      settings,
    },
    dir,
  )
  return { summary, rows: rows('sink'), error: firstError(summary) }
}

describe('join', () => {
  const on = [{ left: 'cc', right: 'cc' }]

  it('inner: matched pairs only; null keys never match', async () => {
    const { summary, rows } = await runJoin(people, centers, { on })
    expect(summary.status).toBe('succeeded')
    expect(rows).toEqual([
      { id: 1, name: 'Ann', cc: 'A', title: 'Sales' },
      { id: 2, name: 'Bob', cc: 'B', title: 'Ops' },
    ])
  })

  it('left: also unmatched left rows, with the right fields as null', async () => {
    const { rows } = await runJoin(people, centers, { type: 'left', on })
    expect(rows).toEqual([
      { id: 1, name: 'Ann', cc: 'A', title: 'Sales' },
      { id: 2, name: 'Bob', cc: 'B', title: 'Ops' },
      { id: 3, name: 'Cid', cc: 'Z', title: null },
      { id: 4, name: 'Dee', cc: null, title: null },
    ])
  })

  it('right: matched pairs, then unmatched right rows with the left fields as null', async () => {
    const { rows } = await runJoin(people, centers, { type: 'right', on })
    expect(rows).toEqual([
      { id: 1, name: 'Ann', cc: 'A', title: 'Sales' },
      { id: 2, name: 'Bob', cc: 'B', title: 'Ops' },
      { id: null, name: null, cc: 'C', title: 'Lab' },
      { id: null, name: null, cc: null, title: 'Nowhere' },
    ])
  })

  it('full: matched pairs, unmatched left rows, then unmatched right rows', async () => {
    const { rows } = await runJoin(people, centers, { type: 'full', on })
    expect(rows).toEqual([
      { id: 1, name: 'Ann', cc: 'A', title: 'Sales' },
      { id: 2, name: 'Bob', cc: 'B', title: 'Ops' },
      { id: 3, name: 'Cid', cc: 'Z', title: null },
      { id: 4, name: 'Dee', cc: null, title: null },
      { id: null, name: null, cc: 'C', title: 'Lab' },
      { id: null, name: null, cc: null, title: 'Nowhere' },
    ])
  })

  it('anti: left rows without a match, unchanged (a null key has no match)', async () => {
    const { rows } = await runJoin(people, centers, { type: 'anti', on })
    expect(rows).toEqual([
      { id: 3, name: 'Cid', cc: 'Z' },
      { id: 4, name: 'Dee', cc: null },
    ])
  })

  it('gives one row per match for duplicate right keys', async () => {
    const right = [
      { cc: 'A', title: 'Sales' },
      { cc: 'A', title: 'Sales EMEA' },
      { cc: 'A', title: 'Sales APAC' },
    ]
    const { rows } = await runJoin(people, right, { on })
    expect(rows.map((r) => `${String(r.name)}/${String(r.title)}`)).toEqual([
      'Ann/Sales',
      'Ann/Sales EMEA',
      'Ann/Sales APAC',
    ])
  })

  it('keeps all duplicate right rows that no left row matched (right join)', async () => {
    const right = [
      { cc: 'Q', title: 'one' },
      { cc: 'Q', title: 'two' },
    ]
    const { rows } = await runJoin([{ cc: 'A' }], right, { type: 'right', on })
    expect(rows).toEqual([
      { cc: 'Q', title: 'one' },
      { cc: 'Q', title: 'two' },
    ])
  })

  it('matches composite keys on every pair', async () => {
    const left = [
      { first: 'Ann', last: 'Lee', n: 1 },
      { first: 'Ann', last: 'Kim', n: 2 },
      { first: 'Ann:Lee', last: '', n: 3 },
    ]
    const right = [
      { fn: 'Ann', ln: 'Lee', mail: 'ann.lee@x' },
      { fn: 'Ann', ln: 'Kim', mail: 'ann.kim@x' },
      { fn: 'Ann', ln: 'Lee:', mail: 'no' },
    ]
    const { rows } = await runJoin(left, right, {
      on: [
        { left: 'first', right: 'fn' },
        { left: 'last', right: 'ln' },
      ],
    })
    expect(rows.map((r) => [r.n, r.mail])).toEqual([
      [1, 'ann.lee@x'],
      [2, 'ann.kim@x'],
    ])
  })

  it('compares keys as text: "5" matches 5 and true matches "true"; "" matches "" but never null', async () => {
    const left = [{ k: '5' }, { k: true }, { k: '' }, { k: null }, { k: 2.5 }]
    const right = [
      { key: 5, v: 'five' },
      { key: 'true', v: 'yes' },
      { key: '', v: 'empty' },
      { key: undefined, v: 'missing' },
      { key: '2.5', v: 'two and a half' },
    ]
    const { rows } = await runJoin(left, right, { on: [{ left: 'k', right: 'key' }] })
    expect(rows.map((r) => r.v)).toEqual(['five', 'yes', 'empty', 'two and a half'])
  })

  it('keeps the left value on a name clash', async () => {
    const { rows } = await runJoin([{ id: 1, name: 'left' }], [{ id: 1, name: 'right', extra: 'x' }], {
      on: [{ left: 'id', right: 'id' }],
    })
    expect(rows).toEqual([{ id: 1, name: 'left', extra: 'x' }])
  })

  it('keeps fields named like Object.prototype members (constructor, toString)', async () => {
    const right = [{ id: 1, constructor: 'c', toString: 't' }] as Row[]
    const { rows } = await runJoin([{ id: 1 }, { id: 2 }], right, {
      on: [{ left: 'id', right: 'id' }],
      type: 'left',
    })
    expect(rows.map((r) => JSON.stringify(r))).toEqual([
      '{"id":1,"constructor":"c","toString":"t"}',
      '{"id":2,"constructor":null,"toString":null}',
    ])
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype)
  })

  it('prefixes every right field with rightPrefix, so nothing is lost', async () => {
    const { rows } = await runJoin([{ id: 1, name: 'left' }], [{ id: 1, name: 'right' }], {
      on: [{ left: 'id', right: 'id' }],
      rightPrefix: 'r_',
    })
    expect(rows).toEqual([{ id: 1, name: 'left', r_id: 1, r_name: 'right' }])
  })

  it('prefixes the right fields of unmatched rows too', async () => {
    const { rows } = await runJoin([{ id: 1 }], [{ id: 2, name: 'x' }], {
      type: 'full',
      on: [{ left: 'id', right: 'id' }],
      rightPrefix: 'r_',
    })
    expect(rows).toEqual([
      { id: 1, r_id: null, r_name: null },
      { id: null, r_id: 2, r_name: 'x' },
    ])
  })

  it('works across many batches on both sides', async () => {
    const left = Array.from({ length: 1000 }, (_, i) => ({ i, k: i % 100 }))
    const right = Array.from({ length: 100 }, (_, k) => ({ k: String(k), label: `k${k}` }))
    const { rows } = await runJoin(left, right, { on: [{ left: 'k', right: 'k' }] }, { batchSize: 64 })
    expect(rows).toHaveLength(1000)
    expect(rows.every((r) => r.label === `k${String(r.k)}`)).toBe(true)
  })

  it('emits unmatched right rows in batches of batchSize', async () => {
    const right = Array.from({ length: 25 }, (_, k) => ({ k }))
    const { summary, rows } = await runJoin(
      [],
      right,
      { type: 'right', on: [{ left: 'k', right: 'k' }] },
      { batchSize: 10 },
    )
    expect(rows).toHaveLength(25)
    expect(summary.edges.find((e) => e.from === 'j')!.batches).toBe(3)
  })

  it('fails when a key column is missing from the rows, naming node, side and column', async () => {
    const left = await runJoin([{ id: 1, name: 'x' }], centers, {
      on: [{ left: 'cost_center', right: 'cc' }],
    })
    expect(left.summary.status).toBe('failed')
    expect(left.summary.errors[0]).toMatchObject({
      code: 'JOIN_KEY_MISSING',
      nodeId: 'j',
      field: 'on[0].left',
    })
    expect(left.error).toMatchInlineSnapshot(
      `"Node "j" (join) on[0].left: column "cost_center" is missing from the rows on the left input; they have: id, name"`,
    )
    const right = await runJoin(people, centers, { on: [{ left: 'cc', right: 'code' }] })
    expect(right.error).toMatchInlineSnapshot(
      `"Node "j" (join) on[0].right: column "code" is missing from the rows on the right input; they have: cc, title"`,
    )
  })

  it('completes a self-join where one source feeds both sides', async () => {
    const dir = await tempDir()
    const lines = Array.from({ length: 3000 }, (_, i) => `${i},${i % 10 === 0 ? '' : i - 1}`).join('\n')
    const path = await fileIn(dir, 'emp.csv', `id,manager\n${lines}\n`)
    const { summary, rows } = await runTest(
      {
        nodes: [
          { id: 'emp', type: 'csv.read', config: { path } },
          {
            id: 'j',
            type: 'join',
            config: { type: 'left', on: [{ left: 'manager', right: 'id' }], rightPrefix: 'm_' },
          },
          { id: 'sink', type: 'test.collect' },
        ],
        edges: [
          { from: 'emp', to: 'j', toPort: 'left' },
          { from: 'emp', to: 'j', toPort: 'right' },
          { from: 'j', to: 'sink' },
        ],
        settings: { batchSize: 100, queueDepth: 1 },
      },
      dir,
    )
    expect(summary.status).toBe('succeeded')
    expect(rows('sink')).toHaveLength(3000)
    expect(rows('sink')[1]).toEqual({ id: '1', manager: '0', m_id: '0', m_manager: '' })
    expect(rows('sink')[10]).toEqual({ id: '10', manager: '', m_id: null, m_manager: null })
  })

  it('infers the output columns and warns about key columns that cannot exist', () => {
    const graph = (config: Record<string, unknown>) => ({
      syncgraph: 1,
      nodes: [
        { id: 'l', type: 'test.values', config: { rows: [{ id: 1, cc: 'A' }] } },
        { id: 'r', type: 'test.values', config: { rows: [{ cc: 'A', title: 'x' }] } },
        { id: 'j', type: 'join', config },
      ],
      edges: [
        { from: 'l', to: 'j', toPort: 'left' },
        { from: 'r', to: 'j', toPort: 'right' },
      ],
    })
    const plain = analyzeGraph(graph({ on: [{ left: 'cc', right: 'cc' }] }), testCatalog)
    expect(plain.issues).toEqual([])
    expect(plain.columns.j!.out).toEqual(['id', 'cc', 'title'])
    const prefixed = analyzeGraph(
      graph({ on: [{ left: 'cc', right: 'cc' }], rightPrefix: 'r_' }),
      testCatalog,
    )
    expect(prefixed.columns.j!.out).toEqual(['id', 'cc', 'r_cc', 'r_title'])
    const anti = analyzeGraph(graph({ type: 'anti', on: [{ left: 'cc', right: 'cc' }] }), testCatalog)
    expect(anti.columns.j!.out).toEqual(['id', 'cc'])
    const wrong = analyzeGraph(graph({ on: [{ left: 'cost_center', right: 'code' }] }), testCatalog)
    expect(wrong.issues).toMatchInlineSnapshot(`
      [
        {
          "code": "unknown-column",
          "message": "Column "cost_center" does not reach the "left" input; known columns: id, cc",
          "nodeId": "j",
          "path": "$.on[0].left",
          "severity": "warning",
        },
        {
          "code": "unknown-column",
          "message": "Column "code" does not reach the "right" input; known columns: cc, title",
          "nodeId": "j",
          "path": "$.on[0].right",
          "severity": "warning",
        },
      ]
    `)
  })

  it('leaves the output columns unknown when one side is unknown', () => {
    const analysis = analyzeGraph(
      {
        syncgraph: 1,
        nodes: [
          { id: 'l', type: 'test.values', config: { rows: [{ id: 1 }] } },
          { id: 'r', type: 'test.values', config: { rows: [] } },
          { id: 'j', type: 'join', config: { on: [{ left: 'id', right: 'anything' }] } },
        ],
        edges: [
          { from: 'l', to: 'j', toPort: 'left' },
          { from: 'r', to: 'j', toPort: 'right' },
        ],
      },
      testCatalog,
    )
    expect(analysis.issues).toEqual([])
    expect(analysis.columns.j!.out).toBeUndefined()
  })

  it('refuses a config without key pairs', () => {
    const analysis = analyzeGraph(
      {
        syncgraph: 1,
        nodes: [
          { id: 'l', type: 'test.values' },
          { id: 'j', type: 'join', config: { on: [] } },
        ],
        edges: [
          { from: 'l', to: 'j', toPort: 'left' },
          { from: 'l', to: 'j', toPort: 'right' },
        ],
      },
      testCatalog,
    )
    expect(analysis.issues.map((i) => i.message)).toMatchInlineSnapshot(`
      [
        "Node "j" config on: Too small: expected array to have >=1 items",
      ]
    `)
  })
})
