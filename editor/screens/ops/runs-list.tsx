import { useEffect, useMemo, useState } from 'react'
import { errorText } from '../../api/client.ts'
import { opsApi, queryString, type RunRow, type RunsFilter } from '../../api/dashboard.ts'
import type { StoredRunStatus } from '../../../engine/ws-messages.ts'
import { formatDate, formatDuration, formatNumber } from '../../lib/files.ts'
import { navigate } from '../../lib/router.ts'
import { Icon } from '../../ui/icons.tsx'
import '../../styles/dashboard.css'
import { DateTimeFilter, GraphSelect, StatusBadge, useHashQuery } from './drill.tsx'
import { ClearFiltersButton } from '../../ui/buttons.tsx'
import { LoadError, Loading } from '../../ui/status.tsx'

const STATUSES: StoredRunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']
const MODES = [
  { value: '', label: 'Any' },
  { value: 'run,apply', label: 'Runs that write (run, apply)' },
  { value: 'run', label: 'Run' },
  { value: 'plan', label: 'Plan only' },
  { value: 'apply', label: 'Apply a plan' },
]
const LIMIT = 500

function filterOf(query: URLSearchParams): RunsFilter {
  const status = query.get('status')
  return {
    graphId: query.get('graphId') || undefined,
    status: STATUSES.includes(status as StoredRunStatus) ? (status as StoredRunStatus) : undefined,
    from: query.get('from') || undefined,
    to: query.get('to') || undefined,
    mode: query.get('mode') || undefined,
  }
}

const go = (filter: RunsFilter) => navigate(`/runs${queryString({ ...filter, limit: undefined })}`)

/** The runs the dashboard drills into (`#/runs?from=…&status=…&graphId=…&mode=…`), newest first. */
export function RunsListScreen() {
  const query = useHashQuery()
  const filter = useMemo(() => filterOf(query), [query])
  const [runs, setRuns] = useState<RunRow[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const key = JSON.stringify(filter)

  useEffect(() => {
    const controller = new AbortController()
    opsApi
      .runs({ ...(JSON.parse(key) as RunsFilter), limit: LIMIT }, controller.signal)
      .then((r) => {
        setRuns(r.runs)
        setError(null)
      })
      .catch((e: unknown) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(errorText(e))
      })
    return () => controller.abort()
  }, [key])

  const set = (patch: Partial<RunsFilter>) => go({ ...filter, ...patch })
  const active = Object.values(filter).some((v) => v !== undefined)

  return (
    <main className="page page-wide" aria-labelledby="runs-title">
      <div className="page-head">
        <h1 id="runs-title">Runs</h1>
        {runs && (
          <span className="meta" data-testid="runs-total">
            {formatNumber(runs.length)}
            {runs.length === LIMIT ? '+' : ''} {runs.length === 1 ? 'run' : 'runs'}
          </span>
        )}
        <div className="grow" />
        <a className="btn" href="#/dashboard">
          <Icon name="back" /> Dashboard
        </a>
      </div>

      <div className="card filter-bar" role="group" aria-label="Filter the runs">
        <GraphSelect value={filter.graphId} onChange={(graphId) => set({ graphId })} />
        <label className="field">
          <span className="field-label">Status</span>
          <select
            aria-label="Status"
            className="select"
            value={filter.status ?? ''}
            onChange={(e) => set({ status: (e.target.value || undefined) as StoredRunStatus | undefined })}
          >
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Mode</span>
          <select
            aria-label="Mode"
            className="select"
            value={filter.mode ?? ''}
            onChange={(e) => set({ mode: e.target.value || undefined })}
          >
            {MODES.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <DateTimeFilter label="Created from" value={filter.from} onChange={(from) => set({ from })} />
        <DateTimeFilter label="Created before" value={filter.to} onChange={(to) => set({ to })} />
        <div className="grow" />
        {active && <ClearFiltersButton onClick={() => navigate('/runs')} />}
      </div>

      <LoadError what="the runs" error={error} />
      {runs === null && !error && <Loading text="Loading runs…" />}
      {runs !== null && runs.length === 0 && (
        <div className="empty card">{active ? 'No run matches these filters.' : 'No graph has run yet.'}</div>
      )}
      {runs !== null && runs.length > 0 && (
        <div className="card">
          <table className="table list-table" aria-label="Runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Graph</th>
                <th>Status</th>
                <th>Mode</th>
                <th>Created</th>
                <th className="num">Duration</th>
                <th>
                  <span className="visually-hidden">History</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} data-run={r.id}>
                  <td>
                    <a className="row-link mono" href={`#/runs/${encodeURIComponent(r.id)}`}>
                      {r.id.slice(0, 8)}
                    </a>
                  </td>
                  <td>
                    {r.graphId ? (
                      <a href={`#/graphs/${encodeURIComponent(r.graphId)}`}>{r.graphName}</a>
                    ) : (
                      <span className="muted">{r.graphName || 'unsaved graph'}</span>
                    )}
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>
                    {r.mode === 'run' ? (
                      <span className="muted">run</span>
                    ) : (
                      <span className="badge">{r.mode}</span>
                    )}
                  </td>
                  <td className="muted">{formatDate(r.createdAt)}</td>
                  <td className="num">{formatDuration(r.durationMs)}</td>
                  <td className="actions">
                    <a className="btn btn-ghost btn-sm" href={`#/history?runId=${encodeURIComponent(r.id)}`}>
                      Changes
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  )
}
