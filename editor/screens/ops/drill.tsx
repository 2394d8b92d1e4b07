import { useEffect, useMemo, useState } from 'react'
import { api } from '../../api/client.ts'
import type { DrillLink } from '../../api/dashboard.ts'
import type { GraphSummary } from '../../api/types.ts'

const hashSearch = () => window.location.hash.split('?')[1] ?? ''

/**
 * The query of the current hash route (`#/history?action=create` → `action=create`), following every
 * hash change. Its own listener: the shell's router updates only the first `useRoute` per change.
 */
export function useHashQuery(): URLSearchParams {
  const [search, setSearch] = useState(hashSearch)
  useEffect(() => {
    const onChange = () => setSearch(hashSearch())
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return useMemo(() => new URLSearchParams(search), [search])
}

/**
 * The editor screen behind an API drill-down link of the dashboard: `/api/runs?…` → `#/runs?…`,
 * `/api/runs/<id>` → `#/runs/<id>`, `/api/history?…` → `#/history?…`, approvals, schedules, collections.
 */
export function editorHref(link: DrillLink | string): string {
  const href = typeof link === 'string' ? link : link.href
  const [path = '', search = ''] = href.split('?')
  const query = search ? `?${search}` : ''
  const parts = path.replace(/^\/api\//, '').split('/')
  const [first, second] = parts
  switch (first) {
    case 'runs':
      return second ? `#/runs/${second}` : `#/runs${query}`
    case 'history':
      return `#/history${query}`
    case 'approvals':
      return '#/approvals'
    case 'schedules':
      return '#/schedules'
    case 'collections':
      return second ? `#/collections/${second}` : '#/collections'
    default:
      return `#/${first ?? ''}`
  }
}

const STATUS_TONE: Record<string, string> = {
  succeeded: 'badge-success',
  failed: 'badge-danger',
  cancelled: 'badge-warning',
  interrupted: 'badge-warning',
  running: 'badge-running',
  queued: '',
}

/** The badge class of a run status. */
export const statusTone = (status: string): string => STATUS_TONE[status] ?? ''

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge ${STATUS_TONE[status] ?? ''}`} data-status={status}>
      <span className="status-dot" aria-hidden="true" />
      {status}
    </span>
  )
}

export function ActionBadge({ action }: { action: string }) {
  return <span className={`badge action-${action}`}>{action}</span>
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

/** "in 3 hours", "5 minutes ago": the nearest whole unit. */
export function relativeTime(iso: string | null, now = Date.now()): string {
  if (!iso) return '—'
  const diff = Date.parse(iso) - now
  if (Number.isNaN(diff)) return iso
  const abs = Math.abs(diff)
  if (abs < 60_000) return rtf.format(Math.round(diff / 1000), 'second')
  if (abs < 3_600_000) return rtf.format(Math.round(diff / 60_000), 'minute')
  if (abs < 86_400_000) return rtf.format(Math.round(diff / 3_600_000), 'hour')
  return rtf.format(Math.round(diff / 86_400_000), 'day')
}

/** An ISO instant as the value of an `<input type="datetime-local">` (local time, minutes). */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** The value of an `<input type="datetime-local">` as an ISO instant; undefined when empty or invalid. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString()
}

/** A labelled `<input type="datetime-local">` of a filter bar, bound to an ISO instant. */
export function DateTimeFilter(props: {
  label: string
  value: string | undefined
  onChange: (iso: string | undefined) => void
}) {
  return (
    <label className="field">
      <span className="field-label">{props.label}</span>
      <input
        aria-label={props.label}
        className="input"
        type="datetime-local"
        value={toLocalInput(props.value)}
        onChange={(e) => props.onChange(fromLocalInput(e.target.value))}
      />
    </label>
  )
}

/** A select of the stored graphs (plus the selected id when it is no longer stored); "" is every graph. */
export function GraphSelect(props: {
  value: string | undefined
  onChange: (graphId: string | undefined) => void
}) {
  const [graphs, setGraphs] = useState<GraphSummary[]>([])
  useEffect(() => {
    const controller = new AbortController()
    api
      .listGraphs()
      .then((r) => {
        if (!controller.signal.aborted) setGraphs(r.graphs)
      })
      .catch(() => undefined)
    return () => controller.abort()
  }, [])
  const known = props.value === undefined || graphs.some((g) => g.id === props.value)
  return (
    <label className="field">
      <span className="field-label">Graph</span>
      <select
        className="select"
        aria-label="Graph"
        value={props.value ?? ''}
        onChange={(e) => props.onChange(e.target.value || undefined)}
      >
        <option value="">Every graph</option>
        {graphs.map((g) => (
          <option key={g.id} value={g.id}>
            {g.name}
          </option>
        ))}
        {!known && <option value={props.value}>{props.value!.slice(0, 8)} (deleted)</option>}
      </select>
    </label>
  )
}
