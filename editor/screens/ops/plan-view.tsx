import { useEffect, useState, type ReactNode } from 'react'
import { errorText } from '../../api/client.ts'
import {
  plansApi,
  type PlanEntry,
  type PlanNode,
  type PlanQuery,
  type PlanSource,
  type PlanView,
  type SyncAction,
} from '../../api/plans.ts'
import { formatNumber } from '../../lib/files.ts'
import { Icon } from '../../ui/icons.tsx'
import '../../styles/plan.css'
import { ErrorNotice } from '../../ui/status.tsx'

/** Entries per page of the plan table. */
export const PLAN_PAGE = 50

/** Actions in reading order, with the words a reviewer reads. */
export const ACTION_LABELS: Record<SyncAction, string> = {
  create: 'create',
  update: 'update',
  rename: 'rename',
  move: 'move',
  disable: 'disable',
  delete: 'delete',
  none: 'unchanged',
  ambiguous: 'ambiguous',
  error: 'error',
}
const ORDER = Object.keys(ACTION_LABELS) as SyncAction[]
const CHANGES = ORDER.filter((a) => a !== 'none')
/** Chips shown even at zero; the rarer actions get one only when the plan has them. */
const ALWAYS_SHOWN = new Set<SyncAction>(['create', 'update', 'disable', 'delete', 'none'])

/** "create 2, update 1, delete 1": the actions a plan would take (unchanged left out). */
export function describeCounts(nodes: PlanNode[]): string {
  const sum: Partial<Record<SyncAction, number>> = {}
  for (const node of nodes) for (const a of ORDER) sum[a] = (sum[a] ?? 0) + (node.counts[a] ?? 0)
  const parts = CHANGES.filter((a) => (sum[a] ?? 0) > 0).map(
    (a) => `${ACTION_LABELS[a]} ${formatNumber(sum[a]!)}`,
  )
  return parts.length > 0 ? parts.join(', ') : 'no changes'
}

/** The number of objects a plan changes (every action but unchanged). */
export function changeCount(nodes: PlanNode[]): number {
  let n = 0
  for (const node of nodes) for (const a of CHANGES) n += node.counts[a] ?? 0
  return n
}

export function ActionBadge({ action }: { action: SyncAction }) {
  return (
    <span className={`badge action action-${action}`} data-action={action}>
      {ACTION_LABELS[action]}
    </span>
  )
}

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v))
const list = (values: readonly unknown[] | undefined): string =>
  values === undefined || values.length === 0 ? '' : values.map(text).join(', ')

/** What changes on one object, attribute by attribute: before → after, or the values added and removed. */
export function EntryDiff({ entry }: { entry: PlanEntry }) {
  if (entry.action === 'create') {
    const after = Object.entries(entry.after ?? {})
    if (after.length === 0) return <span className="faint">—</span>
    return (
      <dl className="diff">
        {after.map(([attribute, values]) => (
          <div key={attribute} className="diff-line">
            <dt>{attribute}</dt>
            <dd>
              <ins>{list(values)}</ins>
            </dd>
          </div>
        ))}
      </dl>
    )
  }
  if (entry.changes.length === 0) {
    if (entry.reason) return <span className="muted">{entry.reason}</span>
    if (entry.action === 'delete') return <span className="muted">the object is deleted</span>
    return <span className="faint">—</span>
  }
  const attributes = [...new Set(entry.changes.map((c) => c.attribute))]
  return (
    <dl className="diff">
      {attributes.map((attribute) => {
        const ops = entry.changes.filter((c) => c.attribute === attribute)
        const before = entry.before?.[attribute]
        const incremental = ops.every((c) => c.op !== 'replace') && (before?.length ?? 0) > 3
        return (
          <div key={attribute} className="diff-line">
            <dt>{attribute}</dt>
            <dd>
              {incremental ? (
                // A large multi-valued attribute: show the values added and removed, not every value.
                ops.map((c, i) => (
                  <span key={i} className="diff-op">
                    {c.op === 'add' ? <ins>+ {list(c.values)}</ins> : <del>− {list(c.values) || 'all'}</del>}
                  </span>
                ))
              ) : (
                <>
                  {before && before.length > 0 ? (
                    <del>{list(before)}</del>
                  ) : (
                    <span className="faint">empty</span>
                  )}
                  <span className="diff-arrow" aria-label="becomes">
                    →
                  </span>
                  {entry.after?.[attribute]?.length ? (
                    <ins>{list(entry.after[attribute])}</ins>
                  ) : (
                    <span className="faint">empty</span>
                  )}
                </>
              )}
            </dd>
          </div>
        )
      })}
    </dl>
  )
}

function keyText(key: Record<string, unknown>): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}=${text(v)}`)
    .join(', ')
}

/**
 * A plan: counts per action as filter chips, a searchable, paged table of objects with before/after
 * per changed attribute, and the CSV export of what the filters select. Used by the run page and the
 * approvals screen; `onLoaded` hands the unfiltered summary to the page (for Apply and its dialog).
 */
export function PlanPanel({
  source,
  onLoaded,
  actions,
}: {
  source: PlanSource
  onLoaded?: (view: PlanView) => void
  actions?: ReactNode
}) {
  const [nodeId, setNodeId] = useState<string | undefined>(undefined)
  const [filter, setFilter] = useState<SyncAction[]>([])
  const [search, setSearch] = useState('')
  const [q, setQ] = useState('')
  const [offset, setOffset] = useState(0)
  const [view, setView] = useState<PlanView | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)
  const sourceKey = source.kind === 'run' ? source.runId : source.approvalId

  useEffect(() => {
    const timer = setTimeout(() => setQ(search.trim()), 250)
    return () => clearTimeout(timer)
  }, [search])
  useEffect(() => setOffset(0), [q, filter, nodeId])

  const query: PlanQuery = { nodeId, actions: filter, q, offset, limit: PLAN_PAGE }
  const queryKey = JSON.stringify(query)
  useEffect(() => {
    const controller = new AbortController()
    setLoading(true)
    plansApi
      .plan(source, query, controller.signal)
      .then((v) => {
        setView(v)
        setError(null)
        setLoading(false)
        onLoaded?.(v)
      })
      .catch((e) => {
        if (controller.signal.aborted) return
        setError(errorText(e))
        setLoading(false)
      })
    return () => controller.abort()
    // The query is compared by value; onLoaded is a callback the page keeps stable enough.
  }, [sourceKey, queryKey])

  if (error && !view)
    return (
      <div className="notice notice-error" role="alert">
        Cannot show the plan: {error}
      </div>
    )
  if (!view) return <div className="empty">Loading the plan…</div>

  const shown = view.nodes.filter((n) => nodeId === undefined || n.nodeId === nodeId)
  const sum = (a: SyncAction) => shown.reduce((s, n) => s + (n.counts[a] ?? 0), 0)
  const all = shown.reduce((s, n) => s + ORDER.reduce((t, a) => t + (n.counts[a] ?? 0), 0), 0)
  const total = shown.reduce((s, n) => s + n.total, 0)
  const rows = shown.flatMap((n) => n.entries.map((e, i) => ({ node: n, entry: e, i })))
  const several = view.nodes.length > 1
  const isApply = view.mode === 'apply'
  const outcomes: Record<string, number> = {}
  for (const n of shown)
    for (const [k, v] of Object.entries(n.outcomes ?? {})) outcomes[k] = (outcomes[k] ?? 0) + v
  const toggle = (a: SyncAction) => setFilter((f) => (f.length === 1 && f[0] === a ? [] : [a]))

  return (
    <section className="plan" aria-label="Plan" data-testid="plan">
      {view.nodes
        .filter((n) => n.thresholds.exceeded)
        .map((n) => (
          <div key={n.nodeId} className="notice notice-error" role="alert">
            <strong>{n.nodeId}</strong> is over a threshold: {n.thresholds.message ?? 'too many removals'}.
            Nothing can be applied.
          </div>
        ))}
      <div className="plan-head">
        {several && (
          <select
            className="select select-sm"
            aria-label="Sync node"
            value={nodeId ?? ''}
            onChange={(e) => setNodeId(e.target.value || undefined)}
          >
            <option value="">All sync nodes</option>
            {view.nodes.map((n) => (
              <option key={n.nodeId} value={n.nodeId}>
                {n.nodeId} ({n.type})
              </option>
            ))}
          </select>
        )}
        {!several && view.nodes[0] && (
          <span className="muted">
            <span className="mono">{view.nodes[0].nodeId}</span> · {view.nodes[0].type} ·{' '}
            {targetText(view.nodes[0].target)}
          </span>
        )}
        <div className="grow" />
        {actions}
      </div>
      <div className="plan-chips" role="group" aria-label="Filter by action">
        <button
          className="plan-chip"
          aria-pressed={filter.length === 0}
          onClick={() => setFilter([])}
          data-testid="chip-all"
        >
          all <strong>{formatNumber(all)}</strong>
        </button>
        {ORDER.filter((a) => sum(a) > 0 || ALWAYS_SHOWN.has(a)).map((a) => (
          <button
            key={a}
            className={`plan-chip action-${a}`}
            aria-pressed={filter.includes(a)}
            onClick={() => toggle(a)}
            data-testid={`chip-${a}`}
            data-count={sum(a)}
          >
            {ACTION_LABELS[a]} <strong>{formatNumber(sum(a))}</strong>
          </button>
        ))}
        {isApply && Object.keys(outcomes).length > 0 && (
          <span className="muted plan-outcomes" data-testid="outcomes">
            Outcomes:{' '}
            {Object.entries(outcomes)
              .map(([k, v]) => `${k} ${formatNumber(v)}`)
              .join(', ')}
          </span>
        )}
      </div>
      {all > 0 && changeCount(shown) === 0 && (
        <div className="notice notice-success" data-testid="no-changes">
          <Icon name="check" size={14} /> No changes: the target already matches the source.
        </div>
      )}
      <div className="plan-tools">
        <div className="searchbox">
          <Icon name="search" />
          <input
            className="input"
            type="search"
            placeholder="Search key or DN"
            aria-label="Search key or DN"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        {loading && <span className="spinner" aria-label="Loading" />}
        <span className="muted" data-testid="plan-range">
          {total === 0
            ? 'No matching objects'
            : `${formatNumber(offset + 1)}–${formatNumber(Math.min(offset + PLAN_PAGE, total))} of ${formatNumber(total)}`}
        </span>
        <button
          className="btn btn-sm"
          disabled={offset === 0}
          onClick={() => setOffset(Math.max(0, offset - PLAN_PAGE))}
          aria-label="Previous page"
        >
          Previous
        </button>
        <button
          className="btn btn-sm"
          disabled={offset + PLAN_PAGE >= total || several}
          onClick={() => setOffset(offset + PLAN_PAGE)}
          aria-label="Next page"
          title={several ? 'Choose one sync node to page through its plan' : undefined}
        >
          Next
        </button>
        <div className="grow" />
        <a
          className="btn btn-sm"
          href={plansApi.csvUrl(source, { nodeId, actions: filter, q })}
          download={`plan-${view.runId}.csv`}
        >
          <Icon name="download" size={14} /> Export CSV
        </a>
      </div>
      <ErrorNotice error={error} />
      <div className="card plan-table-wrap">
        <table className="table plan-table" aria-label="Plan entries">
          <thead>
            <tr>
              {several && <th>Node</th>}
              <th>Action</th>
              <th>Key</th>
              <th>DN / id</th>
              <th>Changes (before → after)</th>
              {isApply && <th>Outcome</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map(({ node, entry, i }) => (
              <tr key={`${node.nodeId}-${i}`} data-testid="plan-row">
                {several && <td className="mono">{node.nodeId}</td>}
                <td>
                  <ActionBadge action={entry.action} />
                </td>
                <td className="mono wrap">{keyText(entry.key)}</td>
                <td className="mono wrap">
                  {entry.dn || <span className="faint">(new)</span>}
                  {entry.newDn && (
                    <>
                      {' '}
                      → <span>{entry.newDn}</span>
                    </>
                  )}
                  {entry.matches && entry.matches.length > 0 && (
                    <div className="faint">matches: {entry.matches.join('; ')}</div>
                  )}
                </td>
                <td className="wrap">
                  <EntryDiff entry={entry} />
                </td>
                {isApply && (
                  <td>
                    {entry.outcome ?? '—'}
                    {entry.error && <div className="field-error">{entry.error.message}</div>}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {rows.length === 0 && <div className="empty">No object matches these filters.</div>}
      </div>
    </section>
  )
}

function targetText(target: Record<string, unknown>): string {
  return Object.entries(target)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}: ${text(v)}`)
    .join(' · ')
}
