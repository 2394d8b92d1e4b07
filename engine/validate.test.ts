import { describe, expect, it } from 'vitest'
import { catalog } from './testing/catalog.ts'
import { analyzeGraph, validateGraph, type Issue } from './validate.ts'

const graph = (nodes: unknown[], edges: unknown[] = [], extra: Record<string, unknown> = {}) => ({
  syncgraph: 1,
  nodes,
  edges,
  ...extra,
})
const src = { id: 'src', type: 'test.values', config: { rows: [{ a: 1, b: 2 }] } }
const sink = (id = 'sink') => ({ id, type: 'test.collect', config: {} })
const evalNode = (expression: string, id = 'e') => ({
  id,
  type: 'test.eval',
  version: 2,
  config: { expression },
})
const brief = (issues: Issue[]) =>
  issues.map((i) => `${i.severity} ${i.code} ${i.nodeId ?? '-'} ${i.path ?? '-'}: ${i.message}`)

describe('validateGraph', () => {
  it('accepts a valid graph', () => {
    const issues = validateGraph(
      graph(
        [src, evalNode('a + b'), sink()],
        [
          { from: 'src', to: 'e' },
          { from: 'e', to: 'sink' },
        ],
      ),
      catalog,
    )
    expect(issues).toEqual([])
  })

  it('refuses a "__proto__" key by path instead of dropping it', () => {
    const doc = JSON.parse(
      '{"syncgraph":1,"nodes":[{"id":"src","type":"test.values","config":{"rows":[{"__proto__":1,"a":2}]}}]}',
    ) as unknown
    expect(brief(validateGraph(doc, catalog))).toEqual([
      'error invalid-document - $.nodes[0].config.rows[0].__proto__: the key "__proto__" is not allowed in a graph document (it cannot be kept); rename it',
    ])
  })

  it('never throws, whatever the input', () => {
    for (const input of [undefined, null, 42, 'x', [], { syncgraph: 2 }, { syncgraph: 1, nodes: 'no' }]) {
      expect(() => validateGraph(input, catalog)).not.toThrow()
      expect(validateGraph(input, catalog)[0]?.code).toBe('invalid-document')
    }
  })

  it('invalid-document: names the JSON path', () => {
    expect(brief(validateGraph({ syncgraph: 1, nodes: [{ id: '9x', type: 'filter' }] }, catalog)))
      .toMatchInlineSnapshot(`
      [
        "error invalid-document - $.nodes[0].id: a node id starts with a letter or _ and has letters, digits, _ . - only",
      ]
    `)
  })

  it('duplicate-node-id', () => {
    expect(brief(validateGraph(graph([src, { ...src }]), catalog))).toMatchInlineSnapshot(`
      [
        "error duplicate-node-id src $.nodes[1].id: Two nodes have the id "src"",
      ]
    `)
  })

  it('unknown-node-type', () => {
    expect(brief(validateGraph(graph([{ id: 'x', type: 'csv.reed', config: {} }]), catalog)))
      .toMatchInlineSnapshot(`
      [
        "error unknown-node-type x $.nodes[0].type: Node "x" has unknown type "csv.reed"",
      ]
    `)
  })

  it('invalid-config: with the JSON path of the field', () => {
    const issues = validateGraph(graph([{ id: 'src', type: 'test.values', config: { rows: [1] } }]), catalog)
    expect(brief(issues)).toMatchInlineSnapshot(`
      [
        "error invalid-config src $.rows[0]: Node "src" config rows[0]: Invalid input: expected record, received number",
      ]
    `)
  })

  it('missing-input', () => {
    expect(brief(validateGraph(graph([src, evalNode('a')]), catalog))).toMatchInlineSnapshot(`
      [
        "error missing-input e -: Node "e" (test.eval) needs an edge into its "in" input",
      ]
    `)
  })

  it('dangling-edge: to a missing node, and to a missing port', () => {
    const issues = validateGraph(
      graph(
        [src, sink()],
        [
          { from: 'src', to: 'nowhere' },
          { from: 'src', fromPort: 'unmatched', to: 'sink' },
        ],
      ),
      catalog,
    )
    expect(brief(issues)).toMatchInlineSnapshot(`
      [
        "error dangling-edge - $.edges[0].to: Edge src → nowhere refers to a node "nowhere" that does not exist",
        "error dangling-edge src $.edges[1].fromPort: Node "src" (test.values) has no output "unmatched"; its outputs are: out",
      ]
    `)
  })

  it('dangling-edge: the rejected port exists only when rows are routed', () => {
    const nodes = [src, evalNode('a'), sink(), sink('bad')]
    const edges = [
      { from: 'src', to: 'e' },
      { from: 'e', to: 'sink' },
      { from: 'e', fromPort: 'rejected', to: 'bad' },
    ]
    expect(brief(validateGraph(graph(nodes, edges), catalog))).toMatchInlineSnapshot(`
      [
        "error dangling-edge e $.edges[2].fromPort: Node "e" (test.eval) has no output "rejected" (it sends rejected rows only when onRowError is "route")",
      ]
    `)
    expect(validateGraph(graph(nodes, edges, { settings: { onRowError: 'route' } }), catalog)).toEqual([])
  })

  it('rejected-unconnected: routed rows that go nowhere are a warning', () => {
    const issues = validateGraph(
      graph(
        [src, evalNode('a'), sink()],
        [
          { from: 'src', to: 'e' },
          { from: 'e', to: 'sink' },
        ],
        { settings: { onRowError: 'route' } },
      ),
      catalog,
    )
    expect(brief(issues)).toMatchInlineSnapshot(`
      [
        "warning rejected-unconnected e -: Node "e" routes rejected rows, but its "rejected" output is not connected: they are counted and dropped",
      ]
    `)
  })

  it('cycle', () => {
    const issues = validateGraph(
      graph(
        [src, evalNode('a', 'x'), evalNode('a', 'y'), { id: 'u', type: 'test.collect', config: {} }],
        [
          { from: 'x', to: 'y' },
          { from: 'y', to: 'x' },
          { from: 'src', to: 'u' },
        ],
      ),
      catalog,
    )
    expect(brief(issues)).toMatchInlineSnapshot(`
      [
        "error cycle x -: Node "x" is on a cycle (x → y): a graph must flow one way",
        "error cycle y -: Node "y" is on a cycle (x → y): a graph must flow one way",
      ]
    `)
  })

  it('expression-syntax: with the position', () => {
    const issues = validateGraph(
      graph(
        [src, evalNode('a + (b'), sink()],
        [
          { from: 'src', to: 'e' },
          { from: 'e', to: 'sink' },
        ],
      ),
      catalog,
    )
    expect(brief(issues)).toMatchInlineSnapshot(`
      [
        "error expression-syntax e $.expression: Node "e" expression: Expected ")" before end of expression (S0203 at position 6)",
      ]
    `)
    expect(issues[0]?.position).toBe(6)
  })

  it('incompatible-ports', () => {
    const issues = validateGraph(
      graph([src, { id: 'r', type: 'test.results-sink', config: {} }], [{ from: 'src', to: 'r' }]),
      catalog,
    )
    expect(brief(issues)).toMatchInlineSnapshot(`
      [
        "error incompatible-ports r $.edges[0]: Edge src.out → r.in: a rows output cannot feed a results input",
      ]
    `)
  })

  it('too-many-edges: a single input fed twice', () => {
    const issues = validateGraph(
      graph(
        [src, { ...src, id: 'src2' }, evalNode('a'), sink()],
        [
          { from: 'src', to: 'e' },
          { from: 'src2', to: 'e' },
          { from: 'e', to: 'sink' },
        ],
      ),
      catalog,
    )
    expect(brief(issues)).toMatchInlineSnapshot(`
      [
        "error too-many-edges e -: Node "e" input "in" takes one edge but has 2; use a union node to combine streams",
      ]
    `)
  })

  it('duplicate-edge', () => {
    const issues = validateGraph(
      graph(
        [src, sink()],
        [
          { from: 'src', to: 'sink' },
          { from: 'src', to: 'sink' },
        ],
      ),
      catalog,
    )
    expect(brief(issues)).toMatchInlineSnapshot(`
      [
        "error duplicate-edge - $.edges[1]: Edge src.out → sink.in is drawn twice",
      ]
    `)
  })

  it('unknown-column: a column that cannot exist is a warning; unknown stays unknown', () => {
    const known = validateGraph(
      graph(
        [src, evalNode('a + zz'), sink()],
        [
          { from: 'src', to: 'e' },
          { from: 'e', to: 'sink' },
        ],
      ),
      catalog,
    )
    expect(brief(known)).toMatchInlineSnapshot(`
      [
        "warning unknown-column e $.expression: Column "zz" does not reach the "in" input; known columns: a, b",
      ]
    `)
    const unknownSource = { id: 'src', type: 'test.values', config: { count: 3 } }
    const unknown = validateGraph(
      graph(
        [unknownSource, evalNode('zz'), sink()],
        [
          { from: 'src', to: 'e' },
          { from: 'e', to: 'sink' },
        ],
      ),
      catalog,
    )
    expect(unknown).toEqual([])
  })

  it('carries known columns along the graph', () => {
    const analysis = analyzeGraph(
      graph(
        [src, evalNode('a'), sink()],
        [
          { from: 'src', to: 'e' },
          { from: 'e', to: 'sink' },
        ],
      ),
      catalog,
    )
    expect(analysis.columns.e).toEqual({ out: ['a', 'b', 'value'] })
    expect(analysis.expressions).toEqual([{ nodeId: 'e', path: '$.expression', compiled: true }])
    expect(analysis.order).toEqual(['src', 'e', 'sink'])
  })

  it('unsupported-version, and migration of an older config', () => {
    const newer = validateGraph(
      graph(
        [{ id: 'e', type: 'test.eval', version: 3, config: { expression: 'a' } }, src],
        [{ from: 'src', to: 'e' }],
      ),
      catalog,
    )
    expect(brief(newer)).toMatchInlineSnapshot(`
      [
        "error unsupported-version e -: Node "e" was written for test.eval version 3; this Syncgraph knows version 2",
      ]
    `)
    const older = analyzeGraph(
      graph(
        [src, { id: 'e', type: 'test.eval', version: 1, config: { expression: 'a' } }],
        [{ from: 'src', to: 'e' }],
      ),
      catalog,
    )
    expect(older.issues).toEqual([])
    expect(older.columns.e?.out).toContain('value')
  })

  it('parameters: bound from values or defaults; unknown, mistyped and unbound ones reported', () => {
    const params = { expr: { type: 'string' }, n: { type: 'number', default: 3 } }
    const doc = graph(
      [
        { id: 'src', type: 'test.values', config: { count: { $param: 'n' } } },
        { id: 'e', type: 'test.eval', version: 2, config: { expression: { $param: 'expr' } } },
      ],
      [{ from: 'src', to: 'e' }],
      { params },
    )
    expect(brief(validateGraph(doc, catalog))).toMatchInlineSnapshot(`
      [
        "warning unbound-param e -: Node "e": Parameter "expr" has no value and no default; its config is checked once the parameter has a value",
      ]
    `)
    expect(validateGraph(doc, catalog, { params: { expr: 'i * 2' } })).toEqual([])
    expect(brief(validateGraph(doc, catalog, { params: { expr: 'i', n: 'many', zz: 1 } })))
      .toMatchInlineSnapshot(`
      [
        "error invalid-param - $.params.n: Parameter "n" must be a number, got "many"",
        "error unknown-param - $.params: Unknown parameter "zz"; the graph declares: expr, n",
      ]
    `)
    expect(brief(validateGraph(doc, catalog, { params: { expr: 'i +' } }))).toMatchInlineSnapshot(`
      [
        "error expression-syntax e $.expression: Node "e" expression: Unexpected end of expression (S0207 at position 3)",
      ]
    `)
  })
})
