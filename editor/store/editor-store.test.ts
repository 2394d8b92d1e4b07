import { beforeEach, describe, expect, it } from 'vitest'
import type { NodeTypeInfo } from '../api/types.ts'
import { connectionCandidates, useEditor } from './editor-store.ts'

const type = (
  name: string,
  inputs: NodeTypeInfo['inputs'],
  outputs: NodeTypeInfo['outputs'],
  rowErrors = false,
): NodeTypeInfo => ({
  type: name,
  version: 1,
  title: name,
  category: 'transform',
  description: '',
  inputs,
  outputs,
  rowErrors,
  configSchema: { type: 'object', properties: {} },
})

const catalog = [
  type('read', {}, { out: { type: 'rows' } }),
  type('step', { in: { type: 'rows' } }, { out: { type: 'rows' } }, true),
  type('only-results', { in: { type: 'results' } }, {}),
  type('merge', { in: { type: 'rows', multiple: true } }, { out: { type: 'rows' } }),
]

describe('connectionCandidates', () => {
  beforeEach(() => {
    useEditor.getState().setCatalog(catalog)
    useEditor.getState().load({
      id: 'g',
      revision: 1,
      updatedAt: '2026-11-27T00:00:00Z',
      graph: {
        syncgraph: 1,
        name: 'g',
        nodes: [
          { id: 'a', type: 'read', config: {} },
          { id: 'b', type: 'step', config: {} },
          { id: 'c', type: 'step', config: {} },
          { id: 'r', type: 'only-results', config: {} },
          { id: 'm', type: 'merge', config: {} },
        ],
        edges: [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'm' },
        ],
      },
    } as never)
  })

  const targets = (id: string, direction: 'in' | 'out') =>
    connectionCandidates(useEditor.getState(), id, direction).map(
      (c) => `${c.source}.${c.sourceHandle}->${c.target}.${c.targetHandle}`,
    )

  it('offers exactly the edges the canvas would accept', () => {
    // b.in is taken (one edge), r takes results only, m takes several edges.
    expect(targets('a', 'out')).toEqual(['a.out->c.in', 'a.out->m.in'])
    // c → b: b's single input is taken; c → m fits.
    expect(targets('c', 'out')).toEqual(['c.out->m.in'])
    // Into c: from a, b and m (m feeds nothing that reaches c, so no cycle).
    expect(targets('c', 'in')).toEqual(['a.out->c.in', 'b.out->c.in', 'm.out->c.in'])
  })

  it('refuses cycles and offers a routed node\'s "rejected" output', () => {
    useEditor.getState().connect({ source: 'm', sourceHandle: 'out', target: 'c', targetHandle: 'in' })
    // c → m would close m → c; c → b finds b's single input taken.
    expect(targets('c', 'out')).toEqual([])
    useEditor.getState().updateNode('b', { onRowError: 'route' })
    // b.out → m exists already; rejected rows may go wherever rows are taken, results inputs refuse them.
    expect(targets('b', 'out')).toEqual(['b.rejected->m.in'])
    useEditor.getState().onEdgesChange([{ type: 'remove', id: 'm.out->c.in' }])
    expect(targets('b', 'out')).toEqual(['b.out->c.in', 'b.rejected->c.in', 'b.rejected->m.in'])
  })
})
