import { Handle, Position, useStore, type NodeProps, type ReactFlowState } from '@xyflow/react'
import { memo } from 'react'
import type { PortSpec } from '../../engine/ports.ts'
import { formatCount } from '../lib/files.ts'
import { nodeOutputs, type SgNode } from '../store/graph-model.ts'
import { useEditor } from '../store/editor-store.ts'
import { useRun } from '../store/run-store.ts'
import { categoryIcon, Icon } from '../ui/icons.tsx'

const Port = memo(function Port({ id, spec, kind }: { id: string; spec: PortSpec; kind: 'in' | 'out' }) {
  const label = spec.title ?? id
  return (
    <div className={`sg-port sg-port-${kind}`} data-port={id}>
      <Handle
        type={kind === 'in' ? 'target' : 'source'}
        position={kind === 'in' ? Position.Left : Position.Right}
        id={id}
        className={`sg-handle sg-handle-${spec.type}`}
        aria-label={`${kind === 'in' ? 'Input' : 'Output'} ${label}`}
        title={`${label} (${spec.type}${spec.optional ? ', optional' : ''}${spec.multiple ? ', several edges' : ''})`}
      />
      <span className="sg-port-label">{label}</span>
    </div>
  )
})

/**
 * Below this zoom the counters' text is a few pixels high and cannot be read: nodes and edges show
 * the run's state as colour only, and progress messages redraw nothing but status changes.
 */
export const FAR_ZOOM = 0.45
/** React Flow store selector: is the canvas zoomed out below FAR_ZOOM? */
export const isFar = (s: ReactFlowState): boolean => s.transform[2] < FAR_ZOOM

/**
 * The live counters under a node. It subscribes to its own node's counters, so a progress message
 * re-renders only the counters that changed, never the node around them (header, ports, handles).
 */
const NodeStatsLine = memo(function NodeStatsLine({ id }: { id: string }) {
  const far = useStore(isFar)
  return far ? <NodeStatusStrip id={id} /> : <NodeCounters id={id} />
})

/** Zoomed out: a coloured strip for the node's run status, redrawn only when the status changes. */
const NodeStatusStrip = memo(function NodeStatusStrip({ id }: { id: string }) {
  const status = useRun((s) => s.nodes[id]?.status)
  if (!status) return null
  return <div className={`sg-node-strip strip-${status}`} title={`Run: ${status}`} aria-hidden="true" />
})

const NodeCounters = memo(function NodeCounters({ id }: { id: string }) {
  const stats = useRun((s) => s.nodes[id])
  if (!stats) return null
  return (
    <div className="sg-node-stats" data-testid={`stats-${id}`} aria-label={`Rows of ${id}`}>
      <span title="Rows in">
        <span className="k">in</span> <span data-stat="in">{formatCount(stats.rowsIn)}</span>
      </span>
      <span title="Rows out">
        <span className="k">out</span> <span data-stat="out">{formatCount(stats.rowsOut)}</span>
      </span>
      {stats.rowsRejected > 0 && (
        <span title="Rows rejected" className="rej">
          <span className="k">rej</span> <span data-stat="rejected">{formatCount(stats.rowsRejected)}</span>
        </span>
      )}
      <span title="Rows per second" className="rate">
        {stats.status === 'running'
          ? `${formatCount(Math.round(stats.rowsPerSec))}/s`
          : stats.status === 'succeeded'
            ? '✓'
            : stats.status}
      </span>
    </div>
  )
})

/** The one canvas node component: header from the declaration, handles from its ports, live counters and issues. */
export const GraphNode = memo(function GraphNode({ id, data, selected }: NodeProps<SgNode>) {
  const info = useEditor((s) => s.catalog[data.type])
  const policy = useEditor((s) => data.onRowError ?? s.meta.settings.onRowError ?? 'fail')
  const issues = useEditor((s) => s.issuesByNode[id])
  // Only the status: the counters themselves are drawn by NodeStatsLine.
  const status = useRun((s) => s.nodes[id]?.status)

  const inputs = Object.entries(info?.inputs ?? {})
  const outputs = Object.entries(nodeOutputs(info, policy))
  const errors = issues?.filter((i) => i.severity === 'error') ?? []
  const warnings = issues?.filter((i) => i.severity === 'warning') ?? []
  const category = info?.category ?? 'other'

  return (
    <div
      className={`sg-node cat-${category}${selected ? ' selected' : ''}${errors.length ? ' has-errors' : ''}${status ? ' has-stats' : ''}${status ? ` run-${status}` : ''}`}
      data-testid={`node-${id}`}
      aria-label={`${info?.title ?? data.type} node ${id}`}
    >
      <div className="sg-node-head">
        <span className="sg-node-icon" aria-hidden="true">
          <Icon name={categoryIcon[category] ?? 'graph'} size={14} />
        </span>
        <div className="sg-node-titles">
          <div className="sg-node-title">{data.label || info?.title || data.type}</div>
          <div className="sg-node-id">{id}</div>
        </div>
        {errors.length > 0 && (
          <span
            className="sg-node-issue error"
            title={errors.map((i) => i.message).join('\n')}
            aria-label={`${errors.length} error(s)`}
          >
            <Icon name="error" size={14} />
            {errors.length}
          </span>
        )}
        {errors.length === 0 && warnings.length > 0 && (
          <span
            className="sg-node-issue warning"
            title={warnings.map((i) => i.message).join('\n')}
            aria-label={`${warnings.length} warning(s)`}
          >
            <Icon name="warning" size={14} />
            {warnings.length}
          </span>
        )}
      </div>
      {!info && <div className="sg-node-unknown">Unknown node type “{data.type}”</div>}
      {(inputs.length > 0 || outputs.length > 0) && (
        <div className="sg-node-ports">
          <div className="sg-ports-in">
            {inputs.map(([port, spec]) => (
              <Port key={port} id={port} spec={spec} kind="in" />
            ))}
          </div>
          <div className="sg-ports-out">
            {outputs.map(([port, spec]) => (
              <Port key={port} id={port} spec={spec} kind="out" />
            ))}
          </div>
        </div>
      )}
      <NodeStatsLine id={id} />
    </div>
  )
})
