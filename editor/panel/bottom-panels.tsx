import { memo, useCallback, useEffect, useState } from 'react'
import { api, errorText } from '../api/client.ts'
import type { NodeStats, PreviewResult, Row, RunDetail, RunListItem, SerializedError } from '../api/types.ts'
import { formatDate, formatDuration, formatNumber } from '../lib/files.ts'
import { previewBlocker, previewDocument, useEditor } from '../store/editor-store.ts'
import { useRun } from '../store/run-store.ts'
import { Icon } from '../ui/icons.tsx'
import { DataTable, inferColumns } from './data-table.tsx'

export function StatusBadge({ status }: { status: string | null }) {
  if (!status) return null
  const tone =
    status === 'succeeded'
      ? 'success'
      : status === 'failed' || status === 'interrupted'
        ? 'danger'
        : status === 'cancelled'
          ? 'warning'
          : 'accent'
  return (
    <span className={`badge badge-${tone}`} data-testid="run-status">
      {(status === 'running' || status === 'queued') && <span className="spinner" aria-hidden="true" />}
      {status}
    </span>
  )
}

/** Output of one node, first 100 rows, with column types. */
export function PreviewPanel({ nodeId }: { nodeId: string }) {
  const version = useEditor((s) => s.version)
  const [result, setResult] = useState<PreviewResult | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)
  const [port, setPort] = useState('out')
  const node = useEditor((s) => s.nodes.find((n) => n.id === nodeId))
  const info = useEditor((s) => (node ? s.catalog[node.data.type] : undefined))
  const ports = Object.keys(info?.outputs ?? { out: 1 })
  const [stamp, setStamp] = useState(0)
  const blocker = useEditor((s) => previewBlocker(s, nodeId))

  useEffect(() => {
    if (!node || blocker) return
    const controller = new AbortController()
    setLoading(true)
    setError(null)
    const timer = setTimeout(() => {
      api
        .preview({ graph: previewDocument(nodeId), nodeId, port, limit: 100 }, controller.signal)
        .then((r) => {
          setResult(r)
          setLoading(false)
        })
        .catch((e) => {
          if (controller.signal.aborted) return
          setError(errorText(e))
          setResult(null)
          setLoading(false)
        })
    }, 250)
    return () => {
      clearTimeout(timer)
      controller.abort()
    }
    // Re-run when the graph changes (version), the node or the port.
  }, [nodeId, port, version, stamp, node !== undefined, blocker])

  if (!node) return <div className="empty">The node {nodeId} is no longer in the graph.</div>
  return (
    <div className="panel-body" data-testid="preview-panel">
      <div className="panel-toolbar">
        <strong>{nodeId}</strong>
        {ports.length > 1 && (
          <select
            className="select select-sm"
            aria-label="Output port"
            value={port}
            onChange={(e) => setPort(e.target.value)}
          >
            {ports.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        )}
        {loading && <span className="spinner" aria-label="Loading preview" />}
        {result && (
          <span className="muted">
            {result.rows.length} row{result.rows.length === 1 ? '' : 's'} · {result.columns.length} columns
          </span>
        )}
        <div className="grow" />
        <button className="btn btn-sm" onClick={() => setStamp(stamp + 1)}>
          Refresh
        </button>
      </div>
      {blocker && blocker !== 'checking' && <div className="notice notice-warning">{blocker}</div>}
      {error && !blocker && (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      )}
      {result?.error && !blocker && (
        <div className="notice notice-error" role="alert">
          Stopped after {result.rows.length} row{result.rows.length === 1 ? '' : 's'}: {result.error.message}
        </div>
      )}
      {result && !blocker && (
        <DataTable
          label={`Preview of ${nodeId}`}
          columns={result.columns.length ? result.columns : inferColumns(result.rows)}
          rows={result.rows}
          truncated={result.truncated}
        />
      )}
    </div>
  )
}

function focusNode(nodeId: string | undefined, onFocus: (id: string) => void) {
  if (nodeId) onFocus(nodeId)
}

function ErrorList({
  errors,
  onFocusNode,
}: {
  errors: SerializedError[]
  onFocusNode: (id: string) => void
}) {
  if (errors.length === 0) return null
  return (
    <ul className="error-list" aria-label="Run errors">
      {errors.map((e, i) => (
        <li key={i}>
          <Icon name="error" size={14} />
          <span className="mono faint">{e.code}</span>
          {e.nodeId ? (
            <button className="link-button" onClick={() => focusNode(e.nodeId, onFocusNode)}>
              {e.nodeId}
            </button>
          ) : null}
          {e.row !== undefined && <span className="faint">row {e.row}</span>}
          <span>{e.message}</span>
        </li>
      ))}
    </ul>
  )
}

/** The header row of a "Rows per node" table. */
export function StatsHead() {
  return (
    <thead>
      <tr>
        <th>Node</th>
        <th>Type</th>
        <th>Status</th>
        <th className="num">Rows in</th>
        <th className="num">Rows out</th>
        <th className="num">Rejected</th>
        <th className="num">Errors</th>
        <th className="num">Rows/s</th>
        <th className="num">Busy</th>
      </tr>
    </thead>
  )
}

/** A node's counters after its id cell; the rejected count opens the rejected rows when `onRejected` is given. */
export function StatsCells({
  id,
  stats: s,
  onRejected,
}: {
  id: string
  stats: NodeStats
  onRejected: ((nodeId: string) => void) | undefined
}) {
  return (
    <>
      <td className="faint">{s.type}</td>
      <td>
        <StatusBadge status={s.status} />
      </td>
      <td className="num">{formatNumber(s.rowsIn)}</td>
      <td className="num">{formatNumber(s.rowsOut)}</td>
      <td className="num">
        {s.rowsRejected > 0 && onRejected ? (
          <button
            className="link-button"
            onClick={() => onRejected(id)}
            aria-label={`View rejected rows of ${id}`}
          >
            {formatNumber(s.rowsRejected)}
          </button>
        ) : (
          formatNumber(s.rowsRejected)
        )}
      </td>
      <td className="num">{formatNumber(s.errors)}</td>
      <td className="num">{formatNumber(Math.round(s.rowsPerSec))}</td>
      <td className="num">{formatDuration(s.busyMs)}</td>
    </>
  )
}

/** Rows drawn before "Show all": a table of hundreds of nodes re-rendered on every progress update blocks the page. */
const STATS_ROWS = 50

function StatsTable({
  nodes,
  onFocusNode,
  onRejected,
}: {
  nodes: Record<string, NodeStats>
  onFocusNode: (id: string) => void
  onRejected?: (nodeId: string) => void
}) {
  const [all, setAll] = useState(false)
  const entries = Object.entries(nodes)
  const shown = all ? entries : entries.slice(0, STATS_ROWS)
  return (
    <>
      <table className="table" aria-label="Rows per node">
        <StatsHead />
        <tbody>
          {shown.map(([id, s]) => (
            <StatsRow key={id} id={id} stats={s} onFocusNode={onFocusNode} onRejected={onRejected} />
          ))}
        </tbody>
      </table>
      {shown.length < entries.length && (
        <button className="btn btn-sm" onClick={() => setAll(true)}>
          Show all {entries.length} nodes
        </button>
      )}
    </>
  )
}

/** One node's row; the run store keeps a node's stats object while it is unchanged, so the row skips rendering. */
const StatsRow = memo(function StatsRow({
  id,
  stats: s,
  onFocusNode,
  onRejected,
}: {
  id: string
  stats: NodeStats
  onFocusNode: (id: string) => void
  onRejected: ((nodeId: string) => void) | undefined
}) {
  return (
    <tr data-testid={`run-row-${id}`}>
      <td>
        <button className="link-button mono" onClick={() => onFocusNode(id)}>
          {id}
        </button>
      </td>
      <StatsCells id={id} stats={s} onRejected={onRejected} />
    </tr>
  )
})

/** The current run: status, live per-node counters, errors linked to their node, and the log. */
export function RunPanel({
  onFocusNode,
  onRejected,
}: {
  onFocusNode: (id: string) => void
  onRejected: (runId: string, nodeId: string) => void
}) {
  const run = useRun()
  const runId = run.runId
  const rejectedOfRun = useCallback(
    (nodeId: string) => runId && onRejected(runId, nodeId),
    [runId, onRejected],
  )
  if (!run.runId) return <div className="empty">No run yet. Press Run (or Ctrl+Enter) to run the graph.</div>
  return (
    <div className="panel-body">
      <div className="panel-toolbar">
        <span>
          Run <span className="mono">{run.runId.slice(0, 8)}</span>
        </span>
        <StatusBadge status={run.status} />
        <span className="muted">{formatDuration(run.elapsedMs)}</span>
      </div>
      <ErrorList errors={run.errors} onFocusNode={onFocusNode} />
      <StatsTable nodes={run.nodes} onFocusNode={onFocusNode} onRejected={rejectedOfRun} />
      {run.logs.length > 0 && (
        <details className="log">
          <summary>Log ({run.logs.length})</summary>
          <ol>
            {run.logs.map((l, i) => (
              <li key={i} className={`log-${l.level}`}>
                <span className="faint mono">{l.time.slice(11, 19)}</span>{' '}
                {l.nodeId && <span className="mono">[{l.nodeId}]</span>} {l.message}
              </li>
            ))}
          </ol>
        </details>
      )}
    </div>
  )
}

/** Rows a node routed to `rejected` in a run. */
export function RejectedPanel({ runId, nodeId }: { runId: string; nodeId: string }) {
  const [rows, setRows] = useState<Row[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    api
      .rejectedRows(runId, nodeId)
      .then((r) => setRows(r.rows))
      .catch((e) => setError(errorText(e)))
  }, [runId, nodeId])
  return (
    <div className="panel-body">
      <div className="panel-toolbar">
        Rejected rows of <strong className="mono">{nodeId}</strong> in run{' '}
        <span className="mono">{runId.slice(0, 8)}</span>
      </div>
      {error && <div className="notice notice-error">{error}</div>}
      {rows && <DataTable label={`Rejected rows of ${nodeId}`} columns={inferColumns(rows)} rows={rows} />}
    </div>
  )
}

/** Past runs of the graph, each with its per-node stats and errors. */
export function HistoryPanel({
  graphId,
  refreshKey,
  onFocusNode,
  onRejected,
  onShowOnCanvas,
}: {
  graphId: string
  refreshKey: number
  onFocusNode: (id: string) => void
  onRejected: (runId: string, nodeId: string) => void
  onShowOnCanvas: (run: RunDetail) => void
}) {
  const [runs, setRuns] = useState<RunListItem[] | null>(null)
  const [selected, setSelected] = useState<RunDetail | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    api
      .listRuns(graphId)
      .then((r) => setRuns(r.runs))
      .catch((e) => setError(errorText(e)))
  }, [graphId, refreshKey])
  const open = (id: string) =>
    api
      .getRun(id)
      .then(setSelected)
      .catch((e) => setError(errorText(e)))
  return (
    <div className="panel-split">
      <div className="panel-list">
        {error && <div className="notice notice-error">{error}</div>}
        {runs?.length === 0 && <div className="empty">No runs of this graph yet.</div>}
        <ul aria-label="Run history">
          {runs?.map((r) => (
            <li key={r.id}>
              <button
                className={`history-item${selected?.id === r.id ? ' active' : ''}`}
                onClick={() => void open(r.id)}
                aria-current={selected?.id === r.id}
              >
                <StatusBadge status={r.status} />
                <span className="grow">{formatDate(r.startedAt ?? r.createdAt)}</span>
                <span className="faint">{formatDuration(r.durationMs)}</span>
              </button>
              <a
                className="btn btn-ghost btn-icon btn-sm"
                href={`#/runs/${encodeURIComponent(r.id)}`}
                aria-label={`Open the page of run ${r.id.slice(0, 8)}`}
                title="Open the run page"
              >
                <Icon name="link" size={12} />
              </a>
            </li>
          ))}
        </ul>
      </div>
      <div className="panel-detail">
        {selected ? (
          <>
            <div className="panel-toolbar">
              Run <span className="mono">{selected.id.slice(0, 8)}</span>{' '}
              <StatusBadge status={selected.status} />
              <span className="muted">{formatDuration(selected.durationMs)}</span>
              <div className="grow" />
              <button className="btn btn-sm" onClick={() => onShowOnCanvas(selected)}>
                Show counts on canvas
              </button>
              <a className="btn btn-sm" href={`#/runs/${encodeURIComponent(selected.id)}`}>
                Open run page
              </a>
            </div>
            <ErrorList errors={selected.errors} onFocusNode={onFocusNode} />
            <StatsTable
              nodes={selected.nodes}
              onFocusNode={onFocusNode}
              onRejected={(nodeId) => onRejected(selected.id, nodeId)}
            />
          </>
        ) : (
          <div className="empty">Select a run to see its per-node stats.</div>
        )}
      </div>
    </div>
  )
}

/** Every validation issue of the graph, each linked to its node. */
export function IssuesPanel({ onFocusNode }: { onFocusNode: (id: string) => void }) {
  const issues = useEditor((s) => s.issues)
  if (issues.length === 0)
    return (
      <div className="empty">
        <Icon name="check" /> No issues.
      </div>
    )
  return (
    <ul className="error-list issues" aria-label="Validation issues">
      {issues.map((issue, i) => (
        <li key={i} className={issue.severity}>
          <Icon name={issue.severity === 'error' ? 'error' : 'warning'} size={14} />
          {issue.nodeId && (
            <button className="link-button mono" onClick={() => onFocusNode(issue.nodeId!)}>
              {issue.nodeId}
            </button>
          )}
          <span>{issue.message}</span>
        </li>
      ))}
    </ul>
  )
}
