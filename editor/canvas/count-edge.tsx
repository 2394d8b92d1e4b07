import { BaseEdge, EdgeLabelRenderer, getBezierPath, useStore, type EdgeProps } from '@xyflow/react'
import { memo } from 'react'
import { formatCount } from '../lib/files.ts'
import type { SgEdge } from '../store/graph-model.ts'
import { useRun } from '../store/run-store.ts'
import { isFar } from './graph-node.tsx'

/**
 * The row count on an edge. It subscribes to its own edge's counters, so a progress message
 * re-renders only the labels whose numbers changed, not the edge paths. Zoomed out below FAR_ZOOM
 * (unreadable), it shows nothing and subscribes to nothing.
 */
const EdgeCount = memo(function EdgeCount({
  id,
  source,
  target,
  x,
  y,
}: {
  id: string
  source: string
  target: string
  x: number
  y: number
}) {
  const far = useStore(isFar)
  const stats = useRun((s) => (far ? undefined : s.edges[id]))
  if (!stats) return null
  return (
    <EdgeLabelRenderer>
      <div
        className="sg-edge-label"
        data-testid={`edge-count-${source}-${target}`}
        style={{ transform: `translate(-50%, -50%) translate(${x}px, ${y}px)` }}
        title={`${stats.rows} rows, ${stats.queueDepth} batch(es) queued`}
      >
        {formatCount(stats.rows)}
      </div>
    </EdgeLabelRenderer>
  )
})

/** An edge that shows the rows it carried in the current run. */
export const CountEdge = memo(function CountEdge(props: EdgeProps<SgEdge>) {
  const live = useRun((s) => s.status === 'running' && s.edges[props.id] !== undefined)
  const [path, labelX, labelY] = getBezierPath(props)
  const rejected = props.sourceHandleId === 'rejected'
  return (
    <>
      <BaseEdge
        id={props.id}
        path={path}
        className={`sg-edge${rejected ? ' sg-edge-rejected' : ''}${live ? ' sg-edge-live' : ''}`}
        interactionWidth={16}
        {...(props.markerEnd ? { markerEnd: props.markerEnd } : {})}
      />
      <EdgeCount id={props.id} source={props.source} target={props.target} x={labelX} y={labelY} />
    </>
  )
})
