import { useCallback, useEffect, useState } from 'react'
import { errorText } from '../../api/client.ts'
import {
  jobsApi,
  type ApprovalRule,
  type Collection,
  type CollectionRun,
  type StepRecord,
} from '../../api/jobs.ts'
import { describeCadence } from '../../lib/cadence.ts'
import { formatCount, formatDate, formatDuration } from '../../lib/files.ts'
import { useCan } from '../../lib/permissions.ts'
import { navigate } from '../../lib/router.ts'
import { stepRows } from '../../lib/step-rows.ts'
import { Dialog } from '../../ui/dialog.tsx'
import { Icon } from '../../ui/icons.tsx'
import { notify } from '../../ui/toasts.tsx'
import { CollectionEditorDialog } from './collection-editor.tsx'
import { announceRun, NextRun, StatusBadge } from './job-parts.tsx'
import { NotificationRules } from './notification-rules.tsx'
import { ScheduleDialog } from './schedule-dialog.tsx'

const ACTIVE = new Set(['queued', 'running', 'pending'])

type Pending = 'edit' | 'delete' | 'template' | 'schedule' | 'remove-schedule' | null

/** One collection: its steps, runs (each step's stats and a link to its run), schedule, notifications, approval. */
export function CollectionDetail({ id }: { id: string }) {
  const [collection, setCollection] = useState<Collection | null>(null)
  const [runs, setRuns] = useState<CollectionRun[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [pending, setPending] = useState<Pending>(null)
  const [templateName, setTemplateName] = useState('')
  const [busy, setBusy] = useState(false)
  const canRun = useCan('run')
  const canEdit = useCan('edit')
  const canCreate = useCan('create')
  const canDelete = useCan('delete')

  const load = useCallback(() => {
    jobsApi
      .getCollection(id)
      .then((c) => {
        setCollection(c)
        setError(null)
      })
      .catch((e) => setError(errorText(e)))
  }, [id])
  const loadRuns = useCallback(() => {
    jobsApi
      .collectionRuns(id, 10)
      .then(({ runs }) => setRuns(runs))
      .catch(() => undefined)
  }, [id])
  useEffect(() => {
    load()
    loadRuns()
  }, [load, loadRuns])

  // While a run is queued or running, follow it.
  const active = runs?.some((r) => ACTIVE.has(r.status)) ?? false
  useEffect(() => {
    if (!active) return
    const timer = setInterval(loadRuns, 1000)
    return () => clearInterval(timer)
  }, [active, loadRuns])
  // When the last active run ends, its schedule's next run may have moved.
  useEffect(() => {
    if (!active) load()
  }, [active, load])

  if (error && collection === null)
    return (
      <main className="page">
        <a href="#/collections">
          <Icon name="back" size={14} /> Collections
        </a>
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      </main>
    )
  if (collection === null) return <div className="empty">Loading…</div>

  const run = async () => {
    try {
      announceRun(collection.name, await jobsApi.runCollection(collection.id))
      loadRuns()
    } catch (e) {
      notify.error(e)
    }
  }

  const cancel = async (runId: string) => {
    try {
      await jobsApi.cancelCollectionRun(runId)
      loadRuns()
    } catch (e) {
      notify.error(e)
    }
  }

  const act = async () => {
    setBusy(true)
    try {
      if (pending === 'delete') {
        await jobsApi.deleteCollection(collection.id)
        notify.success(`Deleted “${collection.name}”`)
        navigate('/collections')
      } else if (pending === 'template') {
        await jobsApi.saveAsTemplate(collection.id, { name: templateName.trim() })
        notify.success(`Saved the template “${templateName.trim()}”`)
      } else if (pending === 'remove-schedule') {
        await jobsApi.deleteSchedule('collection', collection.id)
        notify.success('Schedule removed')
        load()
      }
      setPending(null)
    } catch (e) {
      notify.error(e)
    } finally {
      setBusy(false)
    }
  }

  const schedule = collection.schedule
  return (
    <main className="page" aria-labelledby="collection-title">
      <a href="#/collections" className="sg-back">
        <Icon name="back" size={14} /> Collections
      </a>
      <div className="page-head">
        <h1 id="collection-title">{collection.name}</h1>
        <span className="muted ellipsis">{collection.description}</span>
        <div className="grow" />
        {canRun && (
          <button className="btn btn-primary" onClick={() => void run()}>
            <Icon name="play" /> Run now
          </button>
        )}
        {canEdit && (
          <button className="btn" onClick={() => setPending('edit')}>
            <Icon name="edit" /> Edit
          </button>
        )}
        {canCreate && (
          <button
            className="btn"
            onClick={() => {
              setTemplateName(collection.name)
              setPending('template')
            }}
          >
            <Icon name="template" /> Save as template
          </button>
        )}
        {canDelete && (
          <button
            className="btn btn-danger"
            aria-label="Delete collection"
            onClick={() => setPending('delete')}
          >
            <Icon name="trash" />
          </button>
        )}
      </div>

      <div className="sg-detail-grid">
        <section className="card sg-card" aria-labelledby="steps-title">
          <h2 id="steps-title">Steps</h2>
          <ol className="sg-steps">
            {collection.steps.map((s, i) => (
              <li key={i} className="sg-step">
                <div className="row">
                  <span className="sg-step-index">{i + 1}</span>
                  {s.graphName === null ? (
                    <span className="badge badge-danger">graph {s.graphId} was deleted</span>
                  ) : (
                    <a href={`#/graphs/${encodeURIComponent(s.graphId)}`}>{s.graphName}</a>
                  )}
                  <div className="grow" />
                  <span className="badge">
                    {s.onFailure === 'abort' ? 'stops on failure' : 'continues on failure'}
                  </span>
                </div>
                {Object.keys(s.params).length > 0 && (
                  <div className="muted mono sg-step-params">
                    {Object.entries(s.params)
                      .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
                      .join(' · ')}
                  </div>
                )}
              </li>
            ))}
          </ol>
        </section>

        <section className="card sg-card" aria-labelledby="schedule-title">
          <div className="row">
            <h2 id="schedule-title" className="grow">
              Schedule
            </h2>
            {canRun && (
              <button className="btn btn-sm" onClick={() => setPending('schedule')}>
                {schedule ? (
                  <>
                    <Icon name="edit" size={14} /> Edit schedule
                  </>
                ) : (
                  <>
                    <Icon name="plus" size={14} /> Add schedule
                  </>
                )}
              </button>
            )}
            {schedule && canRun && (
              <button
                className="btn btn-sm btn-ghost btn-danger"
                aria-label="Remove schedule"
                onClick={() => setPending('remove-schedule')}
              >
                <Icon name="trash" size={14} />
              </button>
            )}
          </div>
          {schedule ? (
            <dl className="sg-facts">
              <dt>Cadence</dt>
              <dd>
                {describeCadence(schedule)} <span className="faint">({schedule.timezone})</span>
                {!schedule.enabled && <span className="badge">disabled</span>}
              </dd>
              <dt>Next run</dt>
              <dd>
                <NextRun at={collection.nextRunAt} />
              </dd>
              <dt>Last run</dt>
              <dd>{formatDate(schedule.lastRunAt)}</dd>
            </dl>
          ) : (
            <p className="muted">Not scheduled: it runs when someone starts it.</p>
          )}
        </section>
      </div>

      <section className="card sg-card" aria-labelledby="runs-title">
        <div className="row">
          <h2 id="runs-title" className="grow">
            Runs
          </h2>
          <button className="btn btn-sm btn-ghost" onClick={loadRuns}>
            Refresh
          </button>
        </div>
        {runs !== null && runs.length === 0 && <p className="muted">No runs yet.</p>}
        {runs?.map((r) => (
          <CollectionRunCard key={r.id} run={r} onCancel={() => void cancel(r.id)} />
        ))}
      </section>

      <div className="sg-detail-grid">
        <section className="card sg-card" aria-labelledby="notifications-title">
          <h2 id="notifications-title">Notifications</h2>
          <NotificationRules
            kind="collection"
            jobId={collection.id}
            refreshKey={runs?.find((r) => !ACTIVE.has(r.status))?.id}
          />
        </section>
        <section className="card sg-card" aria-labelledby="approval-title">
          <h2 id="approval-title">Approval</h2>
          <ApprovalSetting collectionId={collection.id} />
        </section>
      </div>

      {pending === 'edit' && (
        <CollectionEditorDialog
          existing={collection}
          onClose={() => setPending(null)}
          onSaved={(c) => {
            setPending(null)
            setCollection({ ...collection, ...c })
          }}
        />
      )}
      {pending === 'schedule' && (
        <ScheduleDialog
          job={{ kind: 'collection', id: collection.id, name: collection.name }}
          existing={schedule}
          onClose={() => setPending(null)}
          onSaved={() => {
            setPending(null)
            load()
          }}
        />
      )}
      <Dialog
        title={
          pending === 'template'
            ? 'Save as template'
            : pending === 'remove-schedule'
              ? 'Remove schedule'
              : 'Delete collection'
        }
        open={pending === 'delete' || pending === 'template' || pending === 'remove-schedule'}
        onClose={() => setPending(null)}
        onSubmit={act}
        busy={busy}
        danger={pending !== 'template'}
        submitLabel={pending === 'template' ? 'Save template' : pending === 'delete' ? 'Delete' : 'Remove'}
        submitDisabled={pending === 'template' && templateName.trim() === ''}
      >
        {pending === 'template' ? (
          <label className="field">
            <span className="field-label">Template name</span>
            <input
              className="input"
              value={templateName}
              onChange={(e) => setTemplateName(e.target.value)}
              autoFocus
              required
            />
            <span className="field-help">
              The template keeps the steps, their order, failure actions and the schedule.
            </span>
          </label>
        ) : pending === 'remove-schedule' ? (
          <p>Stop running “{collection.name}” on a schedule?</p>
        ) : (
          <p>
            Delete <strong>{collection.name}</strong> and its schedule? Its past runs stay in the history.
            This cannot be undone.
          </p>
        )}
      </Dialog>
    </main>
  )
}

function StepLine({ step }: { step: StepRecord }) {
  const rows = stepRows(step.nodes)
  const ran = step.status !== 'pending' && step.status !== 'skipped'
  return (
    <tr data-testid={`step-${step.index}`}>
      <td className="num">{step.index + 1}</td>
      <td>{step.graphName}</td>
      <td>
        <StatusBadge status={step.status} />
      </td>
      <td className="num" data-testid="rows-read">
        {ran ? formatCount(rows.read) : '—'}
      </td>
      <td className="num" data-testid="rows-written">
        {ran ? formatCount(rows.written) : '—'}
      </td>
      <td className="num">{formatDuration(step.durationMs)}</td>
      <td>
        {step.runId ? (
          <a href={`#/runs/${encodeURIComponent(step.runId)}`} aria-label={`Run of step ${step.index + 1}`}>
            <Icon name="link" size={12} /> run
          </a>
        ) : null}
      </td>
      <td className="sg-error-cell">{step.errors[0]?.message ?? ''}</td>
    </tr>
  )
}

function CollectionRunCard({ run, onCancel }: { run: CollectionRun; onCancel: () => void }) {
  const canCancel = useCan('run')
  return (
    <div className="sg-run" data-testid="collection-run" data-status={run.status}>
      <div className="row">
        <StatusBadge status={run.status} />
        <span>{formatDate(run.startedAt ?? run.createdAt)}</span>
        <span className="faint">{run.trigger === 'schedule' ? 'scheduled' : 'manual'}</span>
        <span className="faint">{formatDuration(run.durationMs)}</span>
        <div className="grow" />
        {ACTIVE.has(run.status) && canCancel && (
          <button className="btn btn-sm" onClick={onCancel}>
            <Icon name="stop" size={12} /> Cancel
          </button>
        )}
      </div>
      <table className="table" aria-label="Steps of the run">
        <thead>
          <tr>
            <th className="num">#</th>
            <th>Graph</th>
            <th>Status</th>
            <th className="num">Rows read</th>
            <th className="num">Rows written</th>
            <th className="num">Duration</th>
            <th>Run</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {run.steps.map((s) => (
            <StepLine key={s.index} step={s} />
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** Whether every run request of the collection waits for an approver, and how long a request waits. */
function ApprovalSetting({ collectionId }: { collectionId: string }) {
  const [rule, setRule] = useState<ApprovalRule | null | undefined>(undefined)
  const [hours, setHours] = useState('24')
  const [busy, setBusy] = useState(false)
  /** The switch's state while the change is being saved. */
  const [wanted, setWanted] = useState<boolean | null>(null)
  const canApprove = useCan('approve')
  const canEdit = useCan('edit')
  const allowed = canApprove && canEdit

  useEffect(() => {
    jobsApi
      .approvalRules()
      .then(({ rules }) => {
        const found = rules.find((r) => r.jobKind === 'collection' && r.jobId === collectionId) ?? null
        setRule(found)
        if (found) setHours(String(Math.max(1, Math.round(found.expiresAfterMinutes / 60))))
      })
      .catch(() => setRule(null))
  }, [collectionId])

  const save = async (on: boolean) => {
    setBusy(true)
    try {
      if (on) {
        const minutes = Math.max(1, Math.round(Number(hours) * 60))
        setRule(
          await jobsApi.setApprovalRule('collection', collectionId, {
            expiresAfterMinutes: minutes,
            reviewPlan: false,
          }),
        )
        notify.success('Runs of this collection now need approval')
      } else {
        await jobsApi.deleteApprovalRule('collection', collectionId)
        setRule(null)
        notify.success('Runs of this collection no longer need approval')
      }
    } catch (e) {
      notify.error(e)
    } finally {
      setBusy(false)
      setWanted(null)
    }
  }

  if (rule === undefined) return <p className="muted">Loading…</p>
  return (
    <div className="stack">
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={wanted ?? rule !== null}
          disabled={busy || !allowed}
          title={allowed ? undefined : 'Needs the “approve” and “edit” permissions'}
          onChange={(e) => {
            setWanted(e.target.checked)
            void save(e.target.checked)
          }}
        />
        Every run — manual or scheduled — waits for an approver
      </label>
      <div className="row">
        <label className="row">
          A request expires after
          <input
            className="input"
            style={{ width: 80 }}
            type="number"
            min={1}
            aria-label="Expiry in hours"
            value={hours}
            onChange={(e) => setHours(e.target.value)}
          />
          hours
        </label>
        {rule !== null && allowed && (
          <button className="btn btn-sm" disabled={busy} onClick={() => void save(true)}>
            Save
          </button>
        )}
      </div>
      <p className="field-help">Nobody approves their own request; denial or expiry cancels the run.</p>
    </div>
  )
}
