import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type FinalConnectionState,
  type IsValidConnection,
} from '@xyflow/react'
import { useCallback, useEffect, useState, type DragEvent } from 'react'
import { useEditor } from '../store/editor-store.ts'
import type { SgEdge, SgNode } from '../store/graph-model.ts'
import { CountEdge } from './count-edge.tsx'
import { GraphNode } from './graph-node.tsx'
import { NODE_DRAG_TYPE } from './palette.tsx'

const nodeTypes = { sg: GraphNode }
const edgeTypes = { count: CountEdge }
const defaultEdgeOptions = { type: 'count' as const }
const proOptions = { hideAttribution: true }
/** Above this many edges, running edges are drawn dashed but not animated. */
const MANY_EDGES = 40

const miniMapColor = (node: SgNode): string => {
  const info = useEditor.getState().catalog[node.data.type]
  return `var(--cat-${info?.category ?? 'other'})`
}

/** The React Flow canvas bound to the editor store. */
export function Canvas() {
  const nodes = useEditor((s) => s.nodes)
  const edges = useEditor((s) => s.edges)
  const onNodesChange = useEditor((s) => s.onNodesChange)
  const onEdgesChange = useEditor((s) => s.onEdgesChange)
  const connect = useEditor((s) => s.connect)
  const hint = useEditor((s) => s.hint)
  const clearHint = useEditor((s) => s.clearHint)
  const flow = useReactFlow<SgNode, SgEdge>()
  // Fit the view to the graph it opened with. An empty graph keeps the plain viewport: React Flow would
  // otherwise fit to the first node dropped and move it away from where it was dropped.
  const [fitOnOpen] = useState(() => useEditor.getState().nodes.length > 0)

  const isValidConnection = useCallback<IsValidConnection<SgEdge>>(
    (connection) => useEditor.getState().connectionProblem(connection) === undefined,
    [],
  )
  const onConnect = useCallback((connection: Connection) => void connect(connection), [connect])
  const onConnectEnd = useCallback((_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid !== false || !state.fromHandle || !state.toHandle) return
    const from = state.fromHandle.type === 'source' ? state.fromHandle : state.toHandle
    const to = state.fromHandle.type === 'source' ? state.toHandle : state.fromHandle
    const problem = useEditor.getState().connectionProblem({
      source: from.nodeId,
      sourceHandle: from.id ?? null,
      target: to.nodeId,
      targetHandle: to.id ?? null,
    })
    if (problem) useEditor.getState().showHint('error', problem)
  }, [])

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(NODE_DRAG_TYPE)) return
    event.preventDefault()
    event.dataTransfer.dropEffect = 'copy'
  }, [])
  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(NODE_DRAG_TYPE)
      if (!type) return
      event.preventDefault()
      const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY })
      useEditor.getState().addNode(type, { x: position.x - 90, y: position.y - 30 })
    },
    [flow],
  )

  useEffect(() => {
    if (!hint) return
    const timer = setTimeout(clearHint, hint.tone === 'error' ? 6000 : 2500)
    return () => clearTimeout(timer)
  }, [hint, clearHint])

  return (
    <div
      className={`canvas${edges.length > MANY_EDGES ? ' canvas-many' : ''}`}
      onDragOver={onDragOver}
      onDrop={onDrop}
    >
      <ReactFlow<SgNode, SgEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        defaultEdgeOptions={defaultEdgeOptions}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Control', 'Meta']}
        onlyRenderVisibleElements={nodes.length > 120}
        minZoom={0.1}
        maxZoom={2}
        fitView={fitOnOpen}
        fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
        proOptions={proOptions}
        connectionRadius={28}
        aria-label="Graph canvas"
      >
        <Background variant={BackgroundVariant.Dots} gap={16} size={1} color="#c9ced6" />
        <MiniMap<SgNode> pannable zoomable nodeColor={miniMapColor} nodeStrokeWidth={0} ariaLabel="Minimap" />
        <Controls showInteractive={false} aria-label="Zoom controls" />
      </ReactFlow>
      {hint && (
        <div
          className={`canvas-hint hint-${hint.tone}`}
          role={hint.tone === 'error' ? 'alert' : 'status'}
          data-testid="canvas-hint"
        >
          {hint.text}
          <button className="btn btn-ghost btn-icon btn-sm" aria-label="Dismiss" onClick={clearHint}>
            ×
          </button>
        </div>
      )}
      {nodes.length === 0 && (
        <div className="canvas-empty">
          <strong>An empty graph</strong>
          <span>Drag a node from the palette, or select one there and press Enter.</span>
        </div>
      )}
    </div>
  )
}
