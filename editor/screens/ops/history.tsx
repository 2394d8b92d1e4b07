import { Fragment, useEffect, useMemo, useState } from 'react'
import { errorText } from '../../api/client.ts'
import {
  HISTORY_FILTER_KEYS,
  historyCsvUrl,
  opsApi,
  queryString,
  SYNC_ACTIONS,
  type HistoryEntry,
  type HistoryFilter,
  type HistoryValues,
} from '../../api/dashboard.ts'
import { formatDate, formatNumber } from '../../lib/files.ts'
import { navigate } from '../../lib/router.ts'
import { Icon } from '../../ui/icons.tsx'
import '../../styles/dashboard.css'
import { ActionBadge, DateTimeFilter, GraphSelect, useHashQuery } from './drill.tsx'
import { ClearFiltersButton } from '../../ui/buttons.tsx'
import { LoadError, Loading } from '../../ui/status.tsx'

const PAGE_SIZE = 50

/** The filter in a `#/history?…` link; `run` is accepted for `runId` so other screens can deep-link briefly. */
function filterOf(query: URLSearchParams): HistoryFilter {
  const filter: Record<string, string> = {}
  for (const key of HISTORY_FILTER_KEYS) {
    const value = query.get(key)
    if (value) filter[key] = value
  }
  const run = query.get('run')
  if (run && !filter.runId) filter.runId = run
  return filter as HistoryFilter
}

const pageOf = (query: URLSearchParams) => Math.max(0, Number(query.get('page') ?? '1') - 1 || 0)

function go(filter: HistoryFilter, page = 0) {
  navigate(`/history${queryString({ ...filter, page: page > 0 ? page + 1 : undefined })}`)
}

const show = (v: string | number | boolean) => (typeof v === 'string' ? v : JSON.stringify(v))

/** One attribute's values before and after, as removed / kept / added values. */
function valueDiff({
  before,
  after,
}: {
  before: HistoryValues[string] | undefined
  after: HistoryValues[string] | undefined
}) {
  const was = (before ?? []).map(show)
  const now = (after ?? []).map(show)
  const removed = was.filter((v) => !now.includes(v))
  const added = now.filter((v) => !was.includes(v))
  const kept = now.filter((v) => was.includes(v))
  return {
    before: (
      <div className="diff-values">
        {was.length === 0 && <span className="faint">empty</span>}
        {was.map((v, i) => (
          <span key={i} className={removed.includes(v) ? 'diff-del' : 'diff-same'}>
            {v}
          </span>
        ))}
      </div>
    ),
    after: (
      <div className="diff-values">
        {now.length === 0 && <span className="faint">empty</span>}
        {now.map((v, i) => (
          <span key={i} className={added.includes(v) ? 'diff-add' : 'diff-same'}>
            {v}
          </span>
        ))}
      </div>
    ),
    summary: `${removed.length} removed, ${added.length} added, ${kept.length} kept`,
  }
}

/** The before/after of every attribute an entry changed (all of them for a create or a delete). */
function EntryDiff({ entry }: { entry: HistoryEntry }) {
  const attributes = [
    ...new Set([...entry.changed, ...Object.keys(entry.before ?? {}), ...Object.keys(entry.after ?? {})]),
  ]
  return (
    <div className="stack" style={{ gap: 6 }}>
      {entry.newDn && (
        <div className="muted">
          Renamed or moved to <span className="mono">{entry.newDn}</span>
        </div>
      )}
      {entry.error && (
        <div className="notice notice-error">
          <Icon name="error" /> {entry.error.code}: {entry.error.message}
        </div>
      )}
      {attributes.length === 0 ? (
        <div className="faint">No attribute values were recorded for this change.</div>
      ) : (
        <table
          className="table diff-table"
          aria-label={`Changes of ${entry.dn || JSON.stringify(entry.key)}`}
        >
          <thead>
            <tr>
              <th>Attribute</th>
              <th>Before</th>
              <th>After</th>
            </tr>
          </thead>
          <tbody>
            {attributes.map((a) => {
              const diff = valueDiff({ before: entry.before?.[a], after: entry.after?.[a] })
              return (
                <tr key={a} data-attribute={a}>
                  <td className="mono">{a}</td>
                  <td>{diff.before}</td>
                  <td>{diff.after}</td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
      <div className="faint">
        Key <span className="mono">{JSON.stringify(entry.key)}</span> · node{' '}
        <span className="mono">{entry.nodeId}</span> ({entry.nodeType})
      </div>
    </div>
  )
}

function objectName(e: HistoryEntry): string {
  if (e.dn && !e.dn.startsWith('{')) return e.dn
  const key = Object.entries(e.key)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ')
  return key || e.dn || '—'
}

/** The change history (issue 8 point 7): search by key/DN, run, time and action; before/after per attribute; CSV export. */
export function HistoryScreen() {
  const query = useHashQuery()
  const filter = useMemo(() => filterOf(query), [query])
  const page = pageOf(query)
  const [text, setText] = useState(filter.q ?? '')
  const [runText, setRunText] = useState(filter.runId ?? '')
  const [result, setResult] = useState<{
    total: number
    retentionDays: number
    entries: HistoryEntry[]
  } | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(true)
  const [open, setOpen] = useState<Set<number>>(new Set())
  const key = JSON.stringify([filter, page])

  useEffect(() => setText(filter.q ?? ''), [filter.q])
  useEffect(() => setRunText(filter.runId ?? ''), [filter.runId])

  useEffect(() => {
    const controller = new AbortController()
    const [f, p] = JSON.parse(key) as [HistoryFilter, number]
    setLoading(true)
    opsApi
      .history(f, { offset: p * PAGE_SIZE, limit: PAGE_SIZE }, controller.signal)
      .then((r) => {
        setResult(r)
        setError(null)
        setOpen(new Set())
      })
      .catch((e: unknown) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(errorText(e))
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false)
      })
    return () => controller.abort()
  }, [key])

  // Typing searches after a pause; each search is a link (the URL holds the filter).
  useEffect(() => {
    if (text === (filter.q ?? '')) return
    const timer = setTimeout(() => go({ ...filter, q: text.trim() || undefined }), 350)
    return () => clearTimeout(timer)
  }, [text, filter])

  const actions = filter.action ? filter.action.split(',') : []
  const toggleAction = (a: string) => {
    const next = actions.includes(a) ? actions.filter((x) => x !== a) : [...actions, a]
    go({ ...filter, action: next.length ? next.join(',') : undefined })
  }
  const set = (patch: Partial<HistoryFilter>) => go({ ...filter, ...patch })
  const active = Object.keys(filter).length > 0
  const total = result?.total ?? 0
  const first = page * PAGE_SIZE

  return (
    <main className="page page-wide" aria-labelledby="history-title">
      <div className="page-head">
        <h1 id="history-title">History</h1>
        {result && (
          <span className="meta" data-testid="history-total">
            {formatNumber(total)} {total === 1 ? 'change' : 'changes'}
          </span>
        )}
        <div className="grow" />
        <a className="btn" href={historyCsvUrl(filter)} download="history.csv">
          <Icon name="download" /> Export CSV
        </a>
      </div>

      <form
        className="card filter-bar"
        aria-label="Filter the history"
        onSubmit={(e) => {
          e.preventDefault()
          go({ ...filter, q: text.trim() || undefined, runId: runText.trim() || undefined })
        }}
      >
        <label className="field">
          <span className="field-label">Key or DN contains</span>
          <input
            aria-label="Key or DN contains"
            className="input input-wide"
            type="search"
            value={text}
            placeholder="uid=jdoe, employee 1042…"
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        <label className="field">
          <span className="field-label">Run</span>
          <input
            aria-label="Run"
            className="input mono"
            value={runText}
            placeholder="Run id"
            onChange={(e) => setRunText(e.target.value)}
            onBlur={() => {
              if (runText.trim() !== (filter.runId ?? '')) set({ runId: runText.trim() || undefined })
            }}
          />
        </label>
        <GraphSelect value={filter.graphId} onChange={(graphId) => set({ graphId })} />
        <DateTimeFilter label="From" value={filter.from} onChange={(from) => set({ from })} />
        <DateTimeFilter label="To" value={filter.to} onChange={(to) => set({ to })} />
        <label className="field">
          <span className="field-label">Outcome</span>
          <select
            aria-label="Outcome"
            className="select"
            value={filter.outcome ?? ''}
            onChange={(e) => set({ outcome: (e.target.value || undefined) as HistoryFilter['outcome'] })}
          >
            <option value="">Any</option>
            <option value="applied">Applied</option>
            <option value="failed">Failed</option>
          </select>
        </label>
        <div className="field">
          <span className="field-label" id="history-actions">
            Action
          </span>
          <div className="chip-group" role="group" aria-labelledby="history-actions">
            {SYNC_ACTIONS.map((a) => (
              <button
                key={a}
                type="button"
                className="chip"
                aria-pressed={actions.includes(a)}
                onClick={() => toggleAction(a)}
              >
                {a}
              </button>
            ))}
          </div>
        </div>
        <button type="submit" className="visually-hidden" tabIndex={-1}>
          Search
        </button>
      </form>

      {active && (
        <div className="active-filters" aria-label="Active filters">
          <span className="muted">Showing</span>
          {filter.q && <span className="badge">contains “{filter.q}”</span>}
          {filter.runId && (
            <span className="badge">
              run <a href={`#/runs/${encodeURIComponent(filter.runId)}`}>{filter.runId.slice(0, 8)}</a>
            </span>
          )}
          {filter.nodeId && <span className="badge">node {filter.nodeId}</span>}
          {actions.length > 0 && <span className="badge">{actions.join(', ')}</span>}
          {filter.outcome && <span className="badge">{filter.outcome}</span>}
          {(filter.from || filter.to) && (
            <span className="badge">
              {filter.from ? formatDate(filter.from) : '…'} → {filter.to ? formatDate(filter.to) : 'now'}
            </span>
          )}
          <ClearFiltersButton onClick={() => navigate('/history')} />
        </div>
      )}

      <LoadError what="the history" error={error} />

      {result === null && !error && <Loading text="Loading the history…" />}

      {result !== null && result.entries.length === 0 && (
        <div className="empty card">
          {active ? (
            <>No change matches these filters.</>
          ) : (
            <div className="stack" style={{ alignItems: 'center' }}>
              <strong>No changes recorded yet</strong>
              <span>
                Every object a sync creates, updates, disables or deletes appears here, kept for{' '}
                {result.retentionDays} days.
              </span>
            </div>
          )}
        </div>
      )}

      {result !== null && result.entries.length > 0 && (
        <div className="card" aria-busy={loading}>
          <table className="table history-table" aria-label="History">
            <thead>
              <tr>
                <th>
                  <span className="visually-hidden">Details</span>
                </th>
                <th>Time</th>
                <th>Action</th>
                <th>Object</th>
                <th>Changed</th>
                <th>Run</th>
                <th>Started by</th>
                <th>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {result.entries.map((e) => {
                const expanded = open.has(e.id)
                const name = objectName(e)
                return (
                  <Fragment key={e.id}>
                    <tr
                      className={expanded ? 'expanded' : undefined}
                      data-entry={e.id}
                      data-action={e.action}
                    >
                      <td>
                        <button
                          className="btn btn-ghost btn-icon btn-sm expand-btn"
                          aria-expanded={expanded}
                          aria-label={`Before and after of ${name}`}
                          onClick={() =>
                            setOpen((s) => {
                              const next = new Set(s)
                              if (!next.delete(e.id)) next.add(e.id)
                              return next
                            })
                          }
                        >
                          <Icon name="chevron" size={12} />
                        </button>
                      </td>
                      <td className="muted" title={e.at}>
                        {formatDate(e.at)}
                      </td>
                      <td>
                        <ActionBadge action={e.action} />
                      </td>
                      <td className="object mono" data-testid="history-object">
                        {name}
                        {e.newDn && <div className="faint">→ {e.newDn}</div>}
                      </td>
                      <td className="muted">
                        {e.changed.length === 0 ? '—' : e.changed.slice(0, 4).join(', ')}
                        {e.changed.length > 4 && ` +${e.changed.length - 4}`}
                      </td>
                      <td>
                        <a href={`#/runs/${encodeURIComponent(e.runId)}`} title={`Run ${e.runId}`}>
                          {e.graphName || e.runId.slice(0, 8)}
                        </a>
                      </td>
                      <td>
                        {e.startedByName ??
                          (e.startedBy === null ? <span className="badge">schedule</span> : e.startedBy)}
                      </td>
                      <td>
                        {e.outcome === 'applied' ? (
                          <span className="badge badge-success">applied</span>
                        ) : (
                          <span className="badge badge-danger" title={e.error?.message}>
                            failed
                          </span>
                        )}
                      </td>
                    </tr>
                    {expanded && (
                      <tr className="diff-row">
                        <td colSpan={8}>
                          <EntryDiff entry={e} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                )
              })}
            </tbody>
          </table>
          <div className="pager">
            <span className="muted" data-testid="history-range">
              {formatNumber(first + 1)}–{formatNumber(first + result.entries.length)} of {formatNumber(total)}
            </span>
            <div className="grow" />
            {loading && <span className="spinner" aria-label="Loading" />}
            <button className="btn btn-sm" disabled={page === 0} onClick={() => go(filter, page - 1)}>
              <Icon name="back" size={12} /> Newer
            </button>
            <button
              className="btn btn-sm"
              disabled={first + result.entries.length >= total}
              onClick={() => go(filter, page + 1)}
            >
              Older <Icon name="chevron" size={12} />
            </button>
          </div>
        </div>
      )}
    </main>
  )
}
