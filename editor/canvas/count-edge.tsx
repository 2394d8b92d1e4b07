import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from '@xyflow/react'
import { memo } from 'react'
import { formatCount } from '../lib/files.ts'
import type { SgEdge } from '../store/graph-model.ts'
import { useRun } from '../store/run-store.ts'

/** An edge that shows the rows it carried in the current run. */
export const CountEdge = memo(function CountEdge(props: EdgeProps<SgEdge>) {
  const stats = useRun((s) => s.edges[props.id])
  const running = useRun((s) => s.status === 'running')
  const [path, labelX, labelY] = getBezierPath(props)
  const rejected = props.sourceHandleId === 'rejected'
  return (
    <>
      <BaseEdge
        id={props.id}
        path={path}
        className={`sg-edge${rejected ? ' sg-edge-rejected' : ''}${running && stats ? ' sg-edge-live' : ''}`}
        interactionWidth={16}
        {...(props.markerEnd ? { markerEnd: props.markerEnd } : {})}
      />
      {stats && (
        <EdgeLabelRenderer>
          <div
            className="sg-edge-label"
            data-testid={`edge-count-${props.source}-${props.target}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            title={`${stats.rows} rows, ${stats.queueDepth} batch(es) queued`}
          >
            {formatCount(stats.rows)}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  )
})
