import { and, asc, desc, eq } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import type { Db } from '../db/client.ts'
import { scheduleEvents, schedules, type JobKind, type ScheduleRow } from '../db/schema.ts'
import { ApiError, notFound } from '../http/errors.ts'
import type { Logger } from '../logger.ts'
import type { Clock } from './clock.ts'
import type { JobLauncher } from './jobs.ts'
import { nextOccurrence, scheduleSpec, type ScheduleSpec } from './spec.ts'

export type ScheduleEventKind = (typeof scheduleEvents.$inferSelect)['kind']

export type ScheduleView = ScheduleSpec & {
  id: string
  jobKind: JobKind
  jobId: string
  nextRunAt: string | null
  lastRunAt: string | null
  updatedAt: string
}

export interface ScheduleEvent {
  kind: ScheduleEventKind
  scheduledFor: string
  at: string
  runId: string | null
  message: string
}

/**
 * Fires graph and collection runs on their schedules. Occurrences are computed with croner (cron) or
 * from the repeat settings; the armed occurrence is stored as `nextRunAt`, so a restart can tell which
 * were missed. Every decision (started, skipped because the last run still goes, missed, timed out)
 * is recorded as a schedule event.
 *
 * Missed-run policy: at start, a schedule whose stored next occurrence has passed missed one or more
 * runs while the server was down. When the latest missed occurrence is at most
 * `missedRunGraceMinutes` old the job runs once, now; otherwise nothing runs. Either way one event
 * records the decision and how many occurrences were missed; a run is never started per missed
 * occurrence.
 */
export class Scheduler {
  private readonly timers = new Map<string, () => void>()
  private readonly deadlines = new Set<() => void>()
  private stopped = false

  constructor(private readonly deps: { db: Db; clock: Clock; launcher: JobLauncher; log: Logger }) {}

  /** Re-arm every stored schedule, applying the missed-run policy. */
  start(): void {
    const now = this.deps.clock.now()
    for (const row of this.deps.db.select().from(schedules).orderBy(asc(schedules.createdAt)).all()) {
      if (!row.enabled) continue
      const spec = this.spec(row)
      if (row.nextRunAt === null || row.nextRunAt.getTime() >= now.getTime()) {
        this.arm(row, new Date(now.getTime() - 1))
        continue
      }
      let latest = row.nextRunAt
      let missed = 1
      for (let t = nextOccurrence(spec, latest, row.createdAt); t !== null && t <= now && missed < 100_000;) {
        latest = t
        missed += 1
        t = nextOccurrence(spec, latest, row.createdAt)
      }
      const ageMs = now.getTime() - latest.getTime()
      const graceMs = spec.missedRunGraceMinutes * 60_000
      const what = `${missed} occurrence(s) missed while the server was down, the latest at ${latest.toISOString()}`
      if (ageMs <= graceMs) {
        this.record(
          row.id,
          'missed-run',
          latest,
          null,
          `${what}: within the ${spec.missedRunGraceMinutes} min grace window, running once now`,
        )
        this.fire(row.id, latest)
      } else {
        this.record(
          row.id,
          'missed-skipped',
          latest,
          null,
          `${what}: older than the ${spec.missedRunGraceMinutes} min grace window, skipped`,
        )
        this.arm(row, now)
      }
    }
  }

  /** Create or replace the schedule of a job and arm it. */
  set(kind: JobKind, jobId: string, spec: ScheduleSpec): ScheduleView {
    if (!this.deps.launcher.exists(kind, jobId)) throw notFound(kind, jobId)
    const existing = this.find(kind, jobId)
    const now = this.deps.clock.now()
    if (existing === undefined) {
      this.deps.db
        .insert(schedules)
        .values({
          id: randomUUID(),
          jobKind: kind,
          jobId,
          enabled: spec.enabled,
          spec: JSON.stringify(spec),
          createdAt: new Date(Math.floor(now.getTime() / 60_000) * 60_000),
          updatedAt: now,
        })
        .run()
    } else {
      this.disarm(existing.id)
      this.deps.db
        .update(schedules)
        .set({ enabled: spec.enabled, spec: JSON.stringify(spec), updatedAt: now })
        .where(eq(schedules.id, existing.id))
        .run()
    }
    const row = this.find(kind, jobId)!
    if (row.enabled) this.arm(row, now)
    else this.deps.db.update(schedules).set({ nextRunAt: null }).where(eq(schedules.id, row.id)).run()
    return this.view(this.find(kind, jobId)!)
  }

  get(kind: JobKind, jobId: string): ScheduleView | null {
    const row = this.find(kind, jobId)
    return row === undefined ? null : this.view(row)
  }

  nextRunAt(kind: JobKind, jobId: string): string | null {
    return this.get(kind, jobId)?.nextRunAt ?? null
  }

  list(): ScheduleView[] {
    return this.deps.db
      .select()
      .from(schedules)
      .all()
      .map((r) => this.view(r))
      .sort((a, b) => (a.nextRunAt ?? '~').localeCompare(b.nextRunAt ?? '~'))
  }

  remove(kind: JobKind, jobId: string): void {
    const row = this.find(kind, jobId)
    if (row === undefined) throw new ApiError(404, 'NOT_FOUND', `The ${kind} "${jobId}" has no schedule`)
    this.disarm(row.id)
    this.deps.db.delete(schedules).where(eq(schedules.id, row.id)).run()
  }

  events(kind: JobKind, jobId: string, limit = 100): ScheduleEvent[] {
    const row = this.find(kind, jobId)
    if (row === undefined) throw new ApiError(404, 'NOT_FOUND', `The ${kind} "${jobId}" has no schedule`)
    return this.deps.db
      .select()
      .from(scheduleEvents)
      .where(eq(scheduleEvents.scheduleId, row.id))
      .orderBy(desc(scheduleEvents.id))
      .limit(limit)
      .all()
      .map((e) => ({
        kind: e.kind,
        scheduledFor: e.scheduledFor.toISOString(),
        at: e.at.toISOString(),
        runId: e.runId,
        message: e.message,
      }))
  }

  /** Disarm every timer; runs already started go on (the run manager decides their fate). */
  stop(): void {
    this.stopped = true
    for (const disarm of this.timers.values()) disarm()
    for (const disarm of this.deadlines) disarm()
    this.timers.clear()
    this.deadlines.clear()
  }

  private fire(id: string, scheduledFor: Date): void {
    this.timers.delete(id)
    if (this.stopped) return
    const row = this.deps.db.select().from(schedules).where(eq(schedules.id, id)).get()
    if (row === undefined || !row.enabled) return
    const spec = this.spec(row)
    const { launcher, clock } = this.deps
    const now = clock.now()
    try {
      if (!launcher.exists(row.jobKind, row.jobId)) {
        this.record(
          id,
          'start-failed',
          scheduledFor,
          null,
          `the ${row.jobKind} no longer exists; schedule disabled`,
        )
        this.deps.db
          .update(schedules)
          .set({ enabled: false, nextRunAt: null })
          .where(eq(schedules.id, id))
          .run()
        return
      } else if (launcher.busy(row.jobKind, row.jobId)) {
        this.record(
          id,
          'skipped-overlap',
          scheduledFor,
          null,
          `a run of this ${row.jobKind} is still going or waits for approval; this occurrence is skipped`,
        )
      } else {
        const run = launcher.launch(row.jobKind, row.jobId, spec.params)
        if ('approvalId' in run) {
          // The run starts when approved (server/approvals); maxRunSeconds does not apply to it.
          const message = `approval request ${run.approvalId} waits for an approver`
          this.record(id, 'approval-requested', scheduledFor, null, message)
        } else {
          this.record(id, 'started', scheduledFor, run.runId, '')
          if (spec.maxRunSeconds !== undefined) this.deadline(id, run, scheduledFor, now, spec.maxRunSeconds)
        }
        this.deps.db.update(schedules).set({ lastRunAt: now }).where(eq(schedules.id, id)).run()
      }
    } catch (error) {
      this.record(id, 'start-failed', scheduledFor, null, (error as Error).message)
    }
    this.arm(row, new Date(Math.max(now.getTime(), scheduledFor.getTime())))
  }

  private deadline(
    id: string,
    run: { runId: string; ended: Promise<unknown>; cancel(): void },
    scheduledFor: Date,
    startedAt: Date,
    seconds: number,
  ): void {
    let ended = false
    const disarm = this.deps.clock.setTimer(new Date(startedAt.getTime() + seconds * 1000), () => {
      this.deadlines.delete(disarm)
      if (ended) return
      this.record(
        id,
        'timed-out',
        scheduledFor,
        run.runId,
        `still going after ${seconds} s (maxRunSeconds): cancelled`,
      )
      run.cancel()
    })
    this.deadlines.add(disarm)
    void run.ended.then(() => {
      ended = true
      disarm()
      this.deadlines.delete(disarm)
    })
  }

  private arm(row: ScheduleRow, after: Date): void {
    this.disarm(row.id)
    const next = nextOccurrence(this.spec(row), after, row.createdAt)
    this.deps.db.update(schedules).set({ nextRunAt: next }).where(eq(schedules.id, row.id)).run()
    if (next === null || this.stopped) return
    this.timers.set(
      row.id,
      this.deps.clock.setTimer(next, () => this.fire(row.id, next)),
    )
  }

  private disarm(id: string): void {
    this.timers.get(id)?.()
    this.timers.delete(id)
  }

  private record(
    id: string,
    kind: ScheduleEventKind,
    scheduledFor: Date,
    runId: string | null,
    message: string,
  ): void {
    this.deps.db
      .insert(scheduleEvents)
      .values({ scheduleId: id, kind, scheduledFor, at: this.deps.clock.now(), runId, message })
      .run()
    if (kind !== 'started')
      this.deps.log.info(`schedule ${id}: ${kind}${message === '' ? '' : `: ${message}`}`)
  }

  private find(kind: JobKind, jobId: string): ScheduleRow | undefined {
    return this.deps.db
      .select()
      .from(schedules)
      .where(and(eq(schedules.jobKind, kind), eq(schedules.jobId, jobId)))
      .get()
  }

  private spec(row: ScheduleRow): ScheduleSpec {
    return scheduleSpec.parse(JSON.parse(row.spec))
  }

  private view(row: ScheduleRow): ScheduleView {
    return {
      id: row.id,
      jobKind: row.jobKind,
      jobId: row.jobId,
      ...this.spec(row),
      enabled: row.enabled,
      nextRunAt: row.nextRunAt?.toISOString() ?? null,
      lastRunAt: row.lastRunAt?.toISOString() ?? null,
      updatedAt: row.updatedAt.toISOString(),
    }
  }
}
