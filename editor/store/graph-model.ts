import type { Edge, Node } from '@xyflow/react'
import { edgeKey } from '../../engine/progress.ts'
import type { GraphDoc, NodeTypeInfo } from '../api/types.ts'
import type { PortSpec } from '../../engine/ports.ts'

export type OnRowError = 'fail' | 'skip' | 'route'

/** What a canvas node carries: the graph document's node, minus id and position. */
export interface SgNodeData extends Record<string, unknown> {
  type: string
  version?: number
  label?: string
  config: Record<string, unknown>
  onRowError?: OnRowError
}

export type SgNode = Node<SgNodeData, 'sg'>
export type SgEdge = Edge<Record<string, never>, 'count'>

export interface GraphMeta {
  name: string
  description?: string
  params: NonNullable<GraphDoc['params']>
  settings: NonNullable<GraphDoc['settings']>
}

export function toFlowNode(node: GraphDoc['nodes'][number], index: number): SgNode {
  const data: SgNodeData = { type: node.type, config: (node.config ?? {}) as Record<string, unknown> }
  if (node.version !== undefined) data.version = node.version
  if (node.label !== undefined) data.label = node.label
  if (node.onRowError !== undefined) data.onRowError = node.onRowError
  return {
    id: node.id,
    type: 'sg',
    position: node.position ?? { x: (index % 6) * 260, y: Math.floor(index / 6) * 160 },
    data,
  }
}

export function toFlowEdge(edge: GraphDoc['edges'] extends (infer E)[] | undefined ? E : never): SgEdge {
  const e = { from: edge.from, fromPort: edge.fromPort ?? 'out', to: edge.to, toPort: edge.toPort ?? 'in' }
  return {
    id: edgeKey(e),
    type: 'count',
    source: e.from,
    sourceHandle: e.fromPort,
    target: e.to,
    targetHandle: e.toPort,
  }
}

/** The graph document of what is on the canvas. */
export function toDocument(meta: GraphMeta, nodes: readonly SgNode[], edges: readonly SgEdge[]): GraphDoc {
  return {
    syncgraph: 1,
    name: meta.name,
    ...(meta.description ? { description: meta.description } : {}),
    params: meta.params,
    settings: meta.settings,
    nodes: nodes.map((n) => ({
      id: n.id,
      type: n.data.type,
      ...(n.data.version === undefined ? {} : { version: n.data.version }),
      ...(n.data.label ? { label: n.data.label } : {}),
      config: n.data.config,
      ...(n.data.onRowError === undefined ? {} : { onRowError: n.data.onRowError }),
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    })),
    edges: edges.map((e) => ({
      from: e.source,
      fromPort: e.sourceHandle ?? 'out',
      to: e.target,
      toPort: e.targetHandle ?? 'in',
    })),
  }
}

/** The output ports a node has as configured: `rejected` appears when its rows are routed. */
export function nodeOutputs(info: NodeTypeInfo | undefined, policy: OnRowError): Record<string, PortSpec> {
  if (info === undefined) return {}
  if (info.rowErrors && policy === 'route' && !('rejected' in info.outputs)) {
    return { ...info.outputs, rejected: { type: 'rejected', title: 'Rejected rows' } }
  }
  return info.outputs
}

/** A fresh node id in the document's id syntax, derived from the type (`csv.read` → `csv_read_2`). */
export function freshId(type: string, taken: ReadonlySet<string>): string {
  const base = (type.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^[^A-Za-z_]/, '_') || 'node').slice(0, 48)
  if (!taken.has(base)) return base
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`
}

/** Default config of a node type: each property's `default`, so the form starts filled. */
export function defaultConfig(info: NodeTypeInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, prop] of Object.entries(info.configSchema.properties ?? {})) {
    if (prop.default !== undefined) out[key] = structuredClone(prop.default)
  }
  return out
}

/** Whether `from` is reachable from `to` along edges, i.e. an edge from → to would close a cycle. */
export function wouldCycle(edges: readonly SgEdge[], from: string, to: string): boolean {
  if (from === to) return true
  const out = new Map<string, string[]>()
  for (const e of edges) out.set(e.source, [...(out.get(e.source) ?? []), e.target])
  const seen = new Set<string>()
  const stack = [to]
  while (stack.length > 0) {
    const id = stack.pop()!
    if (id === from) return true
    if (seen.has(id)) continue
    seen.add(id)
    stack.push(...(out.get(id) ?? []))
  }
  return false
}
