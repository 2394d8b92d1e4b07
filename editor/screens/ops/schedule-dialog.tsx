import { useEffect, useMemo, useState } from 'react'
import { api, errorText } from '../../api/client.ts'
import {
  jobsApi,
  type JobKind,
  type RepeatSpec,
  type ScheduleSpec,
  type ScheduleView,
} from '../../api/jobs.ts'
import {
  describeCadence,
  isoToLocalInput,
  localInputToIso,
  timeZones,
  WEEKDAY_NAMES,
} from '../../lib/cadence.ts'
import { Dialog } from '../../ui/dialog.tsx'
import { notify } from '../../ui/toasts.tsx'
import type { ParamSpec } from '../../api/types.ts'
import { ParamInput } from '../templates.tsx'
import '../../styles/jobs.css'
import { ErrorNotice } from '../../ui/status.tsx'

/** A job a schedule can be set on. */
export interface JobOption {
  kind: JobKind
  id: string
  name: string
}

/** The settings part of a schedule view: what `PUT /api/schedules/:kind/:jobId` takes back. */
export function specOf(view: ScheduleView): ScheduleSpec {
  const { id: _id, jobKind: _k, jobId: _j, nextRunAt: _n, lastRunAt: _l, updatedAt: _u, ...spec } = view
  return spec
}

type Unit = RepeatSpec['unit']
const GRACE_CHOICES = [15, 60, 360, 1440]

/**
 * Create or edit the schedule of a graph or collection: a simple repeat (every N minutes / hours / days,
 * on chosen weekdays) or cron, in a time zone, within optional start and end dates, with a maximum run
 * time and what happens to runs missed while the server was down.
 */
export function ScheduleDialog(props: {
  /** The job, or the jobs to choose from when creating a schedule from the schedules screen. */
  job: JobOption | JobOption[]
  existing: ScheduleView | null
  onClose: () => void
  onSaved: (view: ScheduleView) => void
}) {
  const choices = Array.isArray(props.job) ? props.job : [props.job]
  const initial = props.existing
  const [jobKey, setJobKey] = useState(() => {
    if (!Array.isArray(props.job)) return `${props.job.kind}:${props.job.id}`
    return choices[0] ? `${choices[0].kind}:${choices[0].id}` : ''
  })
  const [mode, setMode] = useState<'repeat' | 'cron'>(initial?.cron !== undefined ? 'cron' : 'repeat')
  const [every, setEvery] = useState(String(initial?.repeat?.every ?? 1))
  const [unit, setUnit] = useState<Unit>(initial?.repeat?.unit ?? 'hours')
  const [at, setAt] = useState(initial?.repeat?.at ?? '')
  const [weekdays, setWeekdays] = useState<number[]>(initial?.repeat?.weekdays ?? [0, 1, 2, 3, 4, 5, 6])
  const [cron, setCron] = useState(initial?.cron ?? '0 2 * * *')
  const [timezone, setTimezone] = useState(
    initial?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC',
  )
  const [startAt, setStartAt] = useState(isoToLocalInput(initial?.startAt))
  const [endAt, setEndAt] = useState(isoToLocalInput(initial?.endAt))
  const [maxMinutes, setMaxMinutes] = useState(
    initial?.maxRunSeconds === undefined ? '' : String(Math.round(initial.maxRunSeconds / 60)),
  )
  const grace = initial?.missedRunGraceMinutes ?? 60
  const [missed, setMissed] = useState<'skip' | 'catch-up'>(grace === 0 ? 'skip' : 'catch-up')
  const [graceMinutes, setGraceMinutes] = useState(String(grace === 0 ? 60 : grace))
  const [enabled, setEnabled] = useState(initial?.enabled ?? true)
  const [params, setParams] = useState<Record<string, unknown>>(initial?.params ?? {})
  const [paramSpecs, setParamSpecs] = useState<Record<string, ParamSpec>>({})
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const zones = useMemo(() => {
    const all = timeZones()
    return all.includes(timezone) ? all : [timezone, ...all]
  }, [timezone])

  const job = choices.find((j) => `${j.kind}:${j.id}` === jobKey)

  // A scheduled graph run takes parameter values; the graph's parameters drive the form.
  const graphId = job?.kind === 'graph' ? job.id : undefined
  useEffect(() => {
    setParamSpecs({})
    if (graphId === undefined) return
    let live = true
    api
      .getGraph(graphId)
      .then((stored) => {
        if (live) setParamSpecs(stored.graph.params ?? {})
      })
      .catch(() => undefined)
    return () => {
      live = false
    }
  }, [graphId])

  const spec = (): ScheduleSpec => {
    const repeat: RepeatSpec = { every: Number(every), unit }
    if (weekdays.length > 0 && weekdays.length < 7) repeat.weekdays = [...weekdays].sort((a, b) => a - b)
    if (unit === 'days' && at !== '') repeat.at = at
    const start = localInputToIso(startAt)
    const end = localInputToIso(endAt)
    return {
      ...(mode === 'cron' ? { cron: cron.trim() } : { repeat }),
      timezone,
      ...(start === undefined ? {} : { startAt: start }),
      ...(end === undefined ? {} : { endAt: end }),
      ...(maxMinutes.trim() === '' ? {} : { maxRunSeconds: Number(maxMinutes) * 60 }),
      missedRunGraceMinutes: missed === 'skip' ? 0 : Number(graceMinutes),
      params:
        graphId === undefined
          ? {}
          : Object.fromEntries(Object.entries(params).filter(([k, v]) => v !== undefined && k in paramSpecs)),
      enabled,
    }
  }

  const submit = async () => {
    if (!job) return
    setBusy(true)
    setError(null)
    try {
      const view = await jobsApi.setSchedule(job.kind, job.id, spec())
      notify.success(`Schedule of “${job.name}” saved`)
      props.onSaved(view)
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(false)
    }
  }

  const toggleDay = (day: number) =>
    setWeekdays(weekdays.includes(day) ? weekdays.filter((d) => d !== day) : [...weekdays, day])
  const preview = mode === 'cron' ? describeCadence({ cron }) : describeCadence({ repeat: spec().repeat })

  return (
    <Dialog
      title={initial ? 'Edit schedule' : 'New schedule'}
      open
      wide
      onClose={props.onClose}
      onSubmit={submit}
      submitLabel="Save schedule"
      busy={busy}
      submitDisabled={!job || (mode === 'repeat' && (!(Number(every) >= 1) || weekdays.length === 0))}
    >
      {Array.isArray(props.job) ? (
        <label className="field">
          <span className="field-label">Job</span>
          <select className="select" value={jobKey} onChange={(e) => setJobKey(e.target.value)}>
            {choices.map((j) => (
              <option key={`${j.kind}:${j.id}`} value={`${j.kind}:${j.id}`}>
                {j.kind === 'graph' ? 'Graph' : 'Collection'}: {j.name}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <p className="muted">
          {props.job.kind === 'graph' ? 'Graph' : 'Collection'} <strong>{props.job.name}</strong>
        </p>
      )}

      <fieldset className="sg-fieldset">
        <legend className="field-label">Cadence</legend>
        <div className="row">
          <label className="row">
            <input type="radio" name="mode" checked={mode === 'repeat'} onChange={() => setMode('repeat')} />
            Simple repeat
          </label>
          <label className="row">
            <input type="radio" name="mode" checked={mode === 'cron'} onChange={() => setMode('cron')} />
            Cron expression
          </label>
        </div>
        {mode === 'repeat' ? (
          <>
            <div className="row">
              <span>Every</span>
              <input
                className="input"
                style={{ width: 90 }}
                type="number"
                min={1}
                aria-label="Repeat every"
                value={every}
                onChange={(e) => setEvery(e.target.value)}
              />
              <select
                className="select"
                style={{ width: 120 }}
                aria-label="Repeat unit"
                value={unit}
                onChange={(e) => setUnit(e.target.value as Unit)}
              >
                <option value="minutes">minutes</option>
                <option value="hours">hours</option>
                <option value="days">days</option>
              </select>
              {unit === 'days' && (
                <>
                  <span>at</span>
                  <input
                    className="input"
                    style={{ width: 120 }}
                    type="time"
                    aria-label="Time of day"
                    value={at}
                    onChange={(e) => setAt(e.target.value)}
                  />
                </>
              )}
            </div>
            <div className="row" role="group" aria-label="Weekdays">
              {WEEKDAY_NAMES.map((name, day) => (
                <label key={name} className="sg-chip">
                  <input type="checkbox" checked={weekdays.includes(day)} onChange={() => toggleDay(day)} />
                  {name}
                </label>
              ))}
            </div>
          </>
        ) : (
          <label className="field">
            <span className="field-label">Cron (minute hour day-of-month month day-of-week)</span>
            <input className="input mono" value={cron} onChange={(e) => setCron(e.target.value)} />
          </label>
        )}
        <div className="field-help" data-testid="cadence-preview">
          {preview}
        </div>
      </fieldset>

      <div className="sg-form-grid">
        <label className="field">
          <span className="field-label">Time zone</span>
          <select className="select" value={timezone} onChange={(e) => setTimezone(e.target.value)}>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Maximum run time (minutes)</span>
          <input
            className="input"
            type="number"
            min={1}
            placeholder="no limit"
            value={maxMinutes}
            onChange={(e) => setMaxMinutes(e.target.value)}
          />
          <span className="field-help">A scheduled run still going after this is cancelled.</span>
        </label>
        <label className="field">
          <span className="field-label">Start (your local time)</span>
          <input
            className="input"
            type="datetime-local"
            value={startAt}
            onChange={(e) => setStartAt(e.target.value)}
          />
        </label>
        <label className="field">
          <span className="field-label">End (your local time)</span>
          <input
            className="input"
            type="datetime-local"
            value={endAt}
            onChange={(e) => setEndAt(e.target.value)}
          />
        </label>
      </div>

      <label className="field">
        <span className="field-label">Runs missed while the server was down</span>
        <div className="row">
          <select
            className="select"
            style={{ width: 'auto' }}
            aria-label="Missed-run policy"
            value={missed}
            onChange={(e) => setMissed(e.target.value as 'skip' | 'catch-up')}
          >
            <option value="catch-up">Run once at start when missed by at most</option>
            <option value="skip">Skip them</option>
          </select>
          {missed === 'catch-up' && (
            <select
              className="select"
              style={{ width: 'auto' }}
              aria-label="Missed-run grace"
              value={graceMinutes}
              onChange={(e) => setGraceMinutes(e.target.value)}
            >
              {[...new Set([...GRACE_CHOICES, Number(graceMinutes)])]
                .sort((a, b) => a - b)
                .map((m) => (
                  <option key={m} value={String(m)}>
                    {m === 60 ? '1 hour' : m > 60 && m % 60 === 0 ? `${m / 60} hours` : `${m} minutes`}
                  </option>
                ))}
            </select>
          )}
        </div>
        <span className="field-help">
          Never two runs of the same job at once: an overlapping occurrence is skipped.
        </span>
      </label>

      {Object.keys(paramSpecs).length > 0 && (
        <fieldset className="sg-fieldset">
          <legend className="field-label">Parameter values of the scheduled runs</legend>
          <div className="sg-form-grid">
            {Object.entries(paramSpecs).map(([key, p]) => {
              const id = `schedule-param-${key}`
              return (
                <div className="field" key={key}>
                  <label className="field-label" htmlFor={id}>
                    {p.title ?? key} <span className="faint mono">{p.type}</span>
                  </label>
                  <ParamInput
                    id={id}
                    name={key}
                    param={p}
                    value={params[key] ?? p.default}
                    onChange={(v) => setParams({ ...params, [key]: v })}
                  />
                </div>
              )
            })}
          </div>
        </fieldset>
      )}

      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={enabled}
          onChange={(e) => setEnabled(e.target.checked)}
        />
        Enabled
      </label>

      <ErrorNotice error={error} />
    </Dialog>
  )
}
