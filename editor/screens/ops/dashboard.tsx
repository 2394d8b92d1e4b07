import { lazy, Suspense, useCallback, useEffect, useRef, useState, type ReactNode } from 'react'
import { errorText } from '../../api/client.ts'
import {
  CHANGE_SERIES,
  opsApi,
  type ChangeSeries,
  type DashboardView,
  type RunningItem,
} from '../../api/dashboard.ts'
import { runSocket } from '../../api/ws.ts'
import { formatCount, formatDate } from '../../lib/files.ts'
import { navigate } from '../../lib/router.ts'
import { Icon } from '../../ui/icons.tsx'
import '../../styles/dashboard.css'
import { editorHref, relativeTime, StatusBadge, statusTone } from './drill.tsx'
import { Loading } from '../../ui/status.tsx'

const ChangeChart = lazy(() => import('./change-chart.tsx'))

/** The chart's series colours, repeated here so the legend does not wait for the chart's chunk. */
const SERIES_COLOR: Record<ChangeSeries, string> = {
  created: '#23804f',
  updated: '#2f6fde',
  disabled: '#a8660b',
  deleted: '#c2352f',
}
/** The history actions behind each chart series (server/dashboard SERIES). */
const SERIES_ACTIONS: Record<ChangeSeries, string> = {
  created: 'create',
  updated: 'update,rename,move',
  disabled: 'disable',
  deleted: 'delete',
}
const DAY_CHOICES = [7, 14, 30, 90]
const REFRESH_MS = 30_000
const ENDED = ['succeeded', 'failed', 'cancelled', 'interrupted']

type Rows = RunningItem['rows']

/** Live row counts of the running runs: one WebSocket subscription per run, summed over its nodes. */
function useLiveRows(items: RunningItem[], onFinished: () => void): Record<string, Rows> {
  const [live, setLive] = useState<Record<string, Rows>>({})
  const finished = useRef(onFinished)
  finished.current = onFinished
  const ids = items
    .map((i) => i.live)
    .filter((id): id is string => id !== undefined)
    .sort()
    .join(' ')
  useEffect(() => {
    if (ids === '') return
    const sum = (
      nodes: Record<string, { rowsIn: number; rowsOut: number; rowsRejected: number; errors: number }>,
    ) => {
      const stats = Object.values(nodes)
      return {
        in: stats.reduce((n, s) => n + s.rowsIn, 0),
        out: stats.reduce((n, s) => n + s.rowsOut, 0),
        rejected: stats.reduce((n, s) => n + s.rowsRejected, 0),
        errors: stats.reduce((n, s) => n + s.errors, 0),
      }
    }
    const offs = ids.split(' ').map((runId) =>
      runSocket.subscribe(runId, (message) => {
        if (message.type === 'snapshot') setLive((l) => ({ ...l, [runId]: sum(message.run.nodes) }))
        else if (message.type === 'progress') setLive((l) => ({ ...l, [runId]: sum(message.snapshot.nodes) }))
        else if (message.type === 'finished') {
          setLive((l) => ({ ...l, [runId]: sum(message.summary.nodes) }))
          finished.current()
        }
      }),
    )
    return () => offs.forEach((off) => off())
  }, [ids])
  return live
}

function Tile(props: {
  label: string
  value: ReactNode
  href?: string
  tone?: 'danger' | 'success'
  foot?: ReactNode
  testId: string
}) {
  const body = (
    <>
      <span className="stat-label">{props.label}</span>
      <span
        className={`stat-value${props.tone ? ` tone-${props.tone}` : ''}`}
        data-testid={`${props.testId}-value`}
      >
        {props.value}
      </span>
      <span className="stat-foot">{props.foot}</span>
    </>
  )
  return props.href ? (
    <a className="stat-tile" href={props.href} data-testid={props.testId}>
      {body}
    </a>
  ) : (
    <div className="stat-tile" data-testid={props.testId}>
      {body}
    </div>
  )
}

function Panel(props: {
  title: string
  count?: number
  link?: { href: string; label: string }
  children: ReactNode
  testId: string
}) {
  const id = `panel-${props.testId}`
  return (
    <section className="card ops-panel" aria-labelledby={id} data-testid={props.testId}>
      <div className="ops-panel-head">
        <h2 id={id}>{props.title}</h2>
        {props.count !== undefined && <span className="badge count">{props.count}</span>}
        <div className="grow" />
        {props.link && (
          <a href={props.link.href}>
            {props.link.label} <Icon name="chevron" size={11} />
          </a>
        )}
      </div>
      <div className="ops-panel-body">{props.children}</div>
    </section>
  )
}

const percent = (rate: number | null) => (rate === null ? '—' : `${Math.round(rate * 1000) / 10}%`)

/** The operations overview (issue 8): every number and row links to the runs or history behind it. */
export function DashboardScreen() {
  const [days, setDays] = useState(14)
  const [view, setView] = useState<DashboardView | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)

  const load = useCallback(
    (signal?: AbortSignal) => {
      setLoading(true)
      opsApi
        .dashboard(days, signal)
        .then((v) => {
          setView(v)
          setError(null)
        })
        .catch((e: unknown) => {
          if (!(e instanceof DOMException && e.name === 'AbortError')) setError(errorText(e))
        })
        .finally(() => setLoading(false))
    },
    [days],
  )

  useEffect(() => {
    const controller = new AbortController()
    load(controller.signal)
    const timer = setInterval(() => load(), REFRESH_MS)
    return () => {
      controller.abort()
      clearInterval(timer)
    }
  }, [load])

  const live = useLiveRows(view?.runningNow ?? [], () => load())

  const head = (
    <div className="page-head">
      <h1 id="dashboard-title">Dashboard</h1>
      {view && <span className="meta">Updated {formatDate(view.generatedAt)}</span>}
      <div className="grow" />
      <button className="btn" onClick={() => load()} disabled={loading} aria-label="Refresh the dashboard">
        {loading ? <span className="spinner" /> : <Icon name="undo" />} Refresh
      </button>
    </div>
  )

  if (view === null) {
    return (
      <main className="page page-wide" aria-labelledby="dashboard-title">
        {head}
        {error ? (
          <div className="notice notice-error" role="alert">
            <Icon name="error" /> Could not load the dashboard: {error}
          </div>
        ) : (
          <Loading text="Loading the dashboard…" />
        )}
      </main>
    )
  }

  const { runsToday, changes } = view
  const ended = ENDED.reduce((n, s) => n + (runsToday.byStatus[s] ?? 0), 0)
  const failedToday = runsToday.byStatus.failed ?? 0
  const range = {
    from: changes.perDay[0] ? `${changes.perDay[0].day}T00:00:00.000Z` : undefined,
    to: changes.perDay.at(-1)?.link.filter.to,
  }
  const historyHref = (series?: ChangeSeries) => {
    const params = new URLSearchParams({ outcome: 'applied' })
    if (range.from) params.set('from', range.from)
    if (range.to) params.set('to', range.to)
    if (series) params.set('action', SERIES_ACTIONS[series])
    return `#/history?${params.toString()}`
  }
  const totalChanges = CHANGE_SERIES.reduce((n, s) => n + changes.totals[s], 0)
  const running = view.runningNow.filter((r) => r.status === 'running').length

  return (
    <main className="page page-wide" aria-labelledby="dashboard-title">
      {head}
      {error && (
        <div className="notice notice-error" role="alert" style={{ marginBottom: 12 }}>
          <Icon name="error" /> Could not refresh: {error}. Showing the data of {formatDate(view.generatedAt)}
          .
        </div>
      )}

      <div className="stat-grid">
        <Tile
          testId="runs-today"
          label="Runs today"
          value={formatCount(runsToday.total)}
          href={editorHref(runsToday.link)}
          foot={Object.entries(runsToday.byStatus).map(([status, n]) => (
            <span key={status} className={`badge ${statusTone(status)}`} data-status={status}>
              {n} {status}
            </span>
          ))}
        />
        <Tile
          testId="success-rate"
          label="Success rate today"
          value={percent(runsToday.successRate)}
          tone={runsToday.successRate === null ? undefined : runsToday.successRate < 1 ? 'danger' : 'success'}
          href={editorHref(runsToday.failedLink)}
          foot={
            ended === 0 ? (
              'No run has ended today'
            ) : (
              <>
                {runsToday.byStatus.succeeded ?? 0} of {ended} ended runs succeeded
                {failedToday > 0 && <span className="badge badge-danger">{failedToday} failed</span>}
              </>
            )
          }
        />
        <Tile
          testId="objects-changed"
          label={`Objects changed, ${changes.days} days`}
          value={formatCount(totalChanges)}
          href={historyHref()}
          foot={CHANGE_SERIES.filter((s) => changes.totals[s] > 0).map((s) => (
            <span key={s}>
              {changes.totals[s]} {s}
            </span>
          ))}
        />
        <Tile
          testId="pending-approvals"
          label="Pending approvals"
          value={formatCount(view.pendingApprovals.total)}
          href="#/approvals"
          tone={view.pendingApprovals.total > 0 ? 'danger' : undefined}
          foot={view.pendingApprovals.total > 0 ? 'Waiting for an approver' : 'Nothing waiting'}
        />
        <Tile
          testId="running-now"
          label="Running now"
          value={formatCount(running)}
          href="#/runs?status=running"
          foot={`${view.runningNow.length - running} queued`}
        />
      </div>

      <section className="card chart-card" aria-labelledby="changes-title" data-testid="changes">
        <div className="ops-panel-head">
          <h2 id="changes-title">Objects changed per day</h2>
          <span className="meta faint">UTC days, applied changes</span>
          <div className="grow" />
          <div className="btn-group" role="group" aria-label="Days shown">
            {DAY_CHOICES.map((d) => (
              <button
                key={d}
                className={`btn btn-sm${d === days ? ' btn-primary' : ''}`}
                aria-pressed={d === days}
                onClick={() => setDays(d)}
              >
                {d} days
              </button>
            ))}
          </div>
        </div>
        <div className="chart-legend" aria-label="Totals per action">
          {CHANGE_SERIES.map((s) => (
            <a key={s} href={historyHref(s)} data-testid={`total-${s}`}>
              <span className="swatch" style={{ background: SERIES_COLOR[s] }} />
              {s} <strong>{changes.totals[s]}</strong>
            </a>
          ))}
        </div>
        {totalChanges === 0 ? (
          <div className="empty">No sync has changed an object in the last {changes.days} days.</div>
        ) : (
          <Suspense
            fallback={
              <div className="chart-area empty" aria-busy="true">
                <span className="spinner" /> Loading the chart…
              </div>
            }
          >
            <ChangeChart
              perDay={changes.perDay}
              onSelect={(day, series) => navigate(editorHref(day.links[series] ?? day.link).slice(1))}
            />
          </Suspense>
        )}
        <table className="visually-hidden" aria-label="Objects changed per day">
          <thead>
            <tr>
              <th>Day</th>
              {CHANGE_SERIES.map((s) => (
                <th key={s}>{s}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {changes.perDay
              .filter((d) => CHANGE_SERIES.some((s) => d[s] > 0))
              .map((d) => (
                <tr key={d.day}>
                  <td>{d.day}</td>
                  {CHANGE_SERIES.map((s) => (
                    <td key={s}>
                      <a href={editorHref(d.links[s] ?? d.link)}>{d[s]}</a>
                    </td>
                  ))}
                </tr>
              ))}
          </tbody>
        </table>
      </section>

      <div className="panel-grid">
        <Panel
          testId="running"
          title="Running now"
          count={view.runningNow.length}
          link={{ href: '#/runs?status=running', label: 'All running runs' }}
        >
          {view.runningNow.length === 0 ? (
            <div className="empty">Nothing is running.</div>
          ) : (
            <table className="table" aria-label="Running now">
              <thead>
                <tr>
                  <th>Job</th>
                  <th>Status</th>
                  <th>Started</th>
                  <th className="num">Rows in</th>
                  <th className="num">Rows out</th>
                  <th className="num">Rejected</th>
                </tr>
              </thead>
              <tbody>
                {view.runningNow.map((r) => {
                  const rows = (r.live !== undefined ? live[r.live] : undefined) ?? r.rows
                  return (
                    <tr key={r.id} data-run={r.id}>
                      <td>
                        <a
                          className="row-link"
                          href={
                            r.kind === 'graph' ? `#/runs/${r.id}` : editorHref(`/api/collections/${r.jobId}`)
                          }
                        >
                          {r.name || r.id}
                        </a>{' '}
                        {r.kind === 'collection' && <span className="badge">collection</span>}
                        {r.mode && r.mode !== 'run' && <span className="badge">{r.mode}</span>}
                      </td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                      <td className="muted">{relativeTime(r.startedAt)}</td>
                      <td className="num" data-testid="live-in">
                        {formatCount(rows.in)}
                      </td>
                      <td className="num">{formatCount(rows.out)}</td>
                      <td className="num">{formatCount(rows.rejected)}</td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          )}
        </Panel>

        <Panel
          testId="failing"
          title="Failing jobs"
          count={view.failingJobs.length}
          link={{ href: editorHref(runsToday.failedLink), label: 'Failed runs today' }}
        >
          {view.failingJobs.length === 0 ? (
            <div className="empty">
              <Icon name="check" /> Every job’s last run succeeded.
            </div>
          ) : (
            <table className="table" aria-label="Failing jobs">
              <thead>
                <tr>
                  <th>Job</th>
                  <th>Failed</th>
                  <th>Error</th>
                  <th>
                    <span className="visually-hidden">Links</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {view.failingJobs.map((j) => (
                  <tr key={`${j.kind}:${j.id}`}>
                    <td>
                      <a
                        className="row-link"
                        href={j.kind === 'graph' ? `#/runs/${j.lastRunId}` : `#/collections/${j.id}`}
                        title="The failed run"
                      >
                        {j.name}
                      </a>{' '}
                      {j.kind === 'collection' && <span className="badge">collection</span>}
                    </td>
                    <td className="muted" title={formatDate(j.failedAt)}>
                      {relativeTime(j.failedAt)}
                    </td>
                    <td className="cell-error" title={j.error ?? undefined}>
                      {j.error ?? '—'}
                    </td>
                    <td>
                      <a href={editorHref(j.runsLink)} aria-label={`Runs of ${j.name}`}>
                        Runs
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>

        <Panel
          testId="next-runs"
          title="Next scheduled runs"
          count={view.nextRuns.length}
          link={{ href: '#/schedules', label: 'Schedules' }}
        >
          {view.nextRuns.length === 0 ? (
            <div className="empty">No job is scheduled.</div>
          ) : (
            <table className="table" aria-label="Next scheduled runs">
              <thead>
                <tr>
                  <th>Job</th>
                  <th>Next run</th>
                  <th>When</th>
                </tr>
              </thead>
              <tbody>
                {view.nextRuns.map((n) => (
                  <tr key={`${n.kind}:${n.id}`}>
                    <td>
                      <a className="row-link" href={editorHref(n.link)}>
                        {n.name || n.id}
                      </a>{' '}
                      {n.kind === 'collection' && <span className="badge">collection</span>}
                      {n.needsApproval && <span className="badge badge-warning">needs approval</span>}
                    </td>
                    <td>{formatDate(n.nextRunAt)}</td>
                    <td className="muted">{relativeTime(n.nextRunAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>

        <Panel
          testId="approvals"
          title="Pending approvals"
          count={view.pendingApprovals.total}
          link={{ href: '#/approvals', label: 'Approvals' }}
        >
          {view.pendingApprovals.items.length === 0 ? (
            <div className="empty">No run is waiting for approval.</div>
          ) : (
            <table className="table" aria-label="Pending approvals">
              <thead>
                <tr>
                  <th>Job</th>
                  <th>Requested by</th>
                  <th>Requested</th>
                  <th>Expires</th>
                </tr>
              </thead>
              <tbody>
                {view.pendingApprovals.items.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <a className="row-link" href="#/approvals">
                        {a.jobName}
                      </a>{' '}
                      {a.planRunId && <span className="badge badge-accent">plan to review</span>}
                    </td>
                    <td>
                      {a.trigger === 'schedule' ? <span className="badge">schedule</span> : a.requestedByName}
                    </td>
                    <td className="muted">{relativeTime(a.requestedAt)}</td>
                    <td className="muted">{relativeTime(a.expiresAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
      </div>
    </main>
  )
}
