import { useCallback, useEffect, useState } from 'react'
import { api, errorText } from '../../api/client.ts'
import { jobsApi, type ScheduleEvent, type ScheduleView } from '../../api/jobs.ts'
import { describeCadence } from '../../lib/cadence.ts'
import { formatDate } from '../../lib/files.ts'
import { useCan } from '../../lib/permissions.ts'
import { NewButton, RowAction } from '../../ui/buttons.tsx'
import { CloseFooter, Dialog } from '../../ui/dialog.tsx'
import { notify } from '../../ui/toasts.tsx'
import { NextRun } from './job-parts.tsx'
import { ScheduleDialog, specOf, type JobOption } from './schedule-dialog.tsx'
import { ErrorNotice } from '../../ui/status.tsx'
import { ActionsHeader } from '../../ui/table.tsx'

type Pending = { kind: 'new' } | { kind: 'edit' | 'delete' | 'events'; schedule: ScheduleView } | null

const jobHref = (s: { jobKind: string; jobId: string }) =>
  `#/${s.jobKind === 'graph' ? 'graphs' : 'collections'}/${encodeURIComponent(s.jobId)}`

/** Every schedule, soonest first: its job, cadence in words, next run; create, edit, enable, delete. */
export function SchedulesScreen() {
  const [schedules, setSchedules] = useState<ScheduleView[] | null>(null)
  const [jobs, setJobs] = useState<JobOption[]>([])
  const [error, setError] = useState<string | null>(null)
  const [pending, setPending] = useState<Pending>(null)
  const [busy, setBusy] = useState(false)
  const canRun = useCan('run')

  const load = useCallback(() => {
    Promise.all([jobsApi.listSchedules(), api.listGraphs(), jobsApi.listCollections()])
      .then(([s, g, c]) => {
        setSchedules(s.schedules)
        setJobs([
          ...g.graphs.map((x) => ({ kind: 'graph' as const, id: x.id, name: x.name })),
          ...c.collections.map((x) => ({ kind: 'collection' as const, id: x.id, name: x.name })),
        ])
        setError(null)
      })
      .catch((e) => setError(errorText(e)))
  }, [])
  useEffect(load, [load])

  const jobOf = (s: ScheduleView): JobOption => ({
    kind: s.jobKind,
    id: s.jobId,
    name: jobs.find((j) => j.kind === s.jobKind && j.id === s.jobId)?.name ?? s.jobId,
  })

  const setEnabled = async (s: ScheduleView, enabled: boolean) => {
    setSchedules((all) => all?.map((x) => (x.id === s.id ? { ...x, enabled } : x)) ?? null)
    try {
      await jobsApi.setSchedule(s.jobKind, s.jobId, { ...specOf(s), enabled })
      notify.success(`Schedule of “${jobOf(s).name}” ${enabled ? 'enabled' : 'disabled'}`)
      load()
    } catch (e) {
      notify.error(e)
      load()
    }
  }

  const remove = async () => {
    if (pending?.kind !== 'delete') return
    setBusy(true)
    try {
      await jobsApi.deleteSchedule(pending.schedule.jobKind, pending.schedule.jobId)
      notify.success(`Schedule of “${jobOf(pending.schedule).name}” removed`)
      setPending(null)
      load()
    } catch (e) {
      notify.error(e)
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="page" aria-labelledby="schedules-title">
      <div className="page-head">
        <h1 id="schedules-title">Schedules</h1>
        <span className="muted">Soonest next run first.</span>
        <div className="grow" />
        {canRun && (
          <NewButton
            label="New schedule"
            onClick={() => setPending({ kind: 'new' })}
            disabled={jobs.length === 0}
          />
        )}
      </div>
      <ErrorNotice error={error} />
      {schedules === null && !error && <div className="empty">Loading…</div>}
      {schedules !== null && schedules.length === 0 && (
        <div className="empty card">
          <div className="stack" style={{ alignItems: 'center' }}>
            <strong>Nothing is scheduled</strong>
            <span>
              Run a graph or a collection every few minutes, hours or days, or on a cron expression.
            </span>
          </div>
        </div>
      )}
      {schedules !== null && schedules.length > 0 && (
        <div className="card">
          <table className="table list-table" aria-label="Schedules">
            <thead>
              <tr>
                <th>Job</th>
                <th>Cadence</th>
                <th>Next run</th>
                <th>Last run</th>
                <th>Limits</th>
                <th>Enabled</th>
                <ActionsHeader />
              </tr>
            </thead>
            <tbody>
              {schedules.map((s) => {
                const job = jobOf(s)
                return (
                  <tr key={s.id} data-testid={`schedule-${s.jobId}`}>
                    <td>
                      <span className="badge">{s.jobKind}</span>{' '}
                      <a className="row-link" href={jobHref(s)}>
                        {job.name}
                      </a>
                    </td>
                    <td className="sg-wrap">
                      {describeCadence(s)} <span className="faint">({s.timezone})</span>
                    </td>
                    <td className="sg-wrap">
                      {s.enabled ? <NextRun at={s.nextRunAt} /> : <span className="faint">disabled</span>}
                    </td>
                    <td className="muted">{formatDate(s.lastRunAt)}</td>
                    <td className="muted sg-wrap">
                      {[
                        s.startAt ? `from ${formatDate(s.startAt)}` : '',
                        s.endAt ? `until ${formatDate(s.endAt)}` : '',
                        s.maxRunSeconds ? `max ${Math.round(s.maxRunSeconds / 60)} min` : '',
                        s.missedRunGraceMinutes === 0 ? 'skips missed runs' : '',
                      ]
                        .filter(Boolean)
                        .join(' · ') || '—'}
                    </td>
                    <td>
                      <label className="switch">
                        <input
                          type="checkbox"
                          role="switch"
                          aria-label={`Schedule of ${job.name} enabled`}
                          checked={s.enabled}
                          disabled={!canRun}
                          onChange={(e) => void setEnabled(s, e.target.checked)}
                        />
                      </label>
                    </td>
                    <td className="actions">
                      <RowAction
                        label={`What the scheduler did for ${job.name}`}
                        icon="history"
                        text="Events"
                        onClick={() => setPending({ kind: 'events', schedule: s })}
                      />
                      {canRun && (
                        <RowAction
                          label={`Edit the schedule of ${job.name}`}
                          icon="edit"
                          text="Edit"
                          onClick={() => setPending({ kind: 'edit', schedule: s })}
                        />
                      )}
                      {canRun && (
                        <RowAction
                          label={`Delete the schedule of ${job.name}`}
                          icon="trash"
                          danger
                          onClick={() => setPending({ kind: 'delete', schedule: s })}
                        />
                      )}
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}

      {pending?.kind === 'new' && (
        <ScheduleDialog
          job={jobs}
          existing={null}
          onClose={() => setPending(null)}
          onSaved={() => {
            setPending(null)
            load()
          }}
        />
      )}
      {pending?.kind === 'edit' && (
        <ScheduleDialog
          job={jobOf(pending.schedule)}
          existing={pending.schedule}
          onClose={() => setPending(null)}
          onSaved={() => {
            setPending(null)
            load()
          }}
        />
      )}
      {pending?.kind === 'events' && (
        <ScheduleEventsDialog
          schedule={pending.schedule}
          name={jobOf(pending.schedule).name}
          onClose={() => setPending(null)}
        />
      )}
      <Dialog
        title="Delete schedule"
        open={pending?.kind === 'delete'}
        onClose={() => setPending(null)}
        onSubmit={remove}
        busy={busy}
        danger
        submitLabel="Delete"
      >
        {pending?.kind === 'delete' && (
          <p>
            Stop running <strong>{jobOf(pending.schedule).name}</strong> on a schedule? The job itself is
            kept.
          </p>
        )}
      </Dialog>
    </main>
  )
}

const EVENT_TEXT: Record<string, string> = {
  started: 'Started',
  'skipped-overlap': 'Skipped: the previous run was still going',
  'missed-run': 'Missed while the server was down; run at start',
  'missed-skipped': 'Missed while the server was down; skipped (past the grace window)',
  'timed-out': 'Cancelled: ran past the maximum run time',
  'start-failed': 'Could not start',
  'approval-requested': 'Waiting for approval',
}

/** What the scheduler decided for one job, newest first: started, skipped, missed, timed out. */
function ScheduleEventsDialog(props: { schedule: ScheduleView; name: string; onClose: () => void }) {
  const [events, setEvents] = useState<ScheduleEvent[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const { jobKind, jobId } = props.schedule
  useEffect(() => {
    jobsApi
      .scheduleEvents(jobKind, jobId, 50)
      .then(({ events }) => setEvents(events))
      .catch((e) => setError(errorText(e)))
  }, [jobKind, jobId])
  const runHref = (runId: string) =>
    jobKind === 'graph' ? `#/runs/${encodeURIComponent(runId)}` : `#/collections/${encodeURIComponent(jobId)}`
  return (
    <Dialog
      title={`Scheduler events of “${props.name}”`}
      open
      wide
      onClose={props.onClose}
      footer={<CloseFooter onClose={props.onClose} />}
    >
      <ErrorNotice error={error} />
      {events !== null && events.length === 0 && <p className="muted">The schedule has not fired yet.</p>}
      {events !== null && events.length > 0 && (
        <table className="table" aria-label="Scheduler events">
          <thead>
            <tr>
              <th>Due</th>
              <th>Decided</th>
              <th>What happened</th>
              <th>Run</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e, i) => (
              <tr key={i}>
                <td>{formatDate(e.scheduledFor)}</td>
                <td className="muted">{formatDate(e.at)}</td>
                <td>
                  {EVENT_TEXT[e.kind] ?? e.kind}
                  {e.message && <div className="muted">{e.message}</div>}
                </td>
                <td>{e.runId ? <a href={runHref(e.runId)}>open</a> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Dialog>
  )
}
