import type { ELK } from 'elkjs/lib/elk-api.js'
import type { SgEdge, SgNode } from '../store/graph-model.ts'

type ElkConstructor = new () => ELK

let elk: ELK | undefined

/** elkjs is large: load it on the first layout. It is CommonJS, so its constructor is the default export or the module. */
async function loadElk(): Promise<ELK> {
  const mod = (await import('elkjs/lib/elk.bundled.js')) as unknown as {
    default?: ElkConstructor | { default?: ElkConstructor }
  }
  const candidate = mod.default
  const Ctor = (typeof candidate === 'function' ? candidate : candidate?.default) as ElkConstructor
  return new Ctor()
}

/** Left-to-right layered layout of the graph with elkjs; returns new top-left positions by node id. */
export async function layoutGraph(
  nodes: readonly SgNode[],
  edges: readonly SgEdge[],
): Promise<Record<string, { x: number; y: number }>> {
  elk ??= await loadElk()
  const result = await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '80',
      'elk.spacing.nodeNode': '36',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.crossingMinimization.strategy': 'LAYER_SWEEP',
    },
    children: nodes.map((n) => ({
      id: n.id,
      width: n.measured?.width ?? 200,
      height: n.measured?.height ?? 90,
    })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  })
  const out: Record<string, { x: number; y: number }> = {}
  for (const child of result.children ?? [])
    out[child.id] = { x: Math.round(child.x ?? 0), y: Math.round(child.y ?? 0) }
  return out
}
