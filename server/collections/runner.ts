import { desc, eq, inArray } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import { serializeError, type NodeStats, type SerializedError } from '../../engine/index.ts'
import type { Db } from '../db/client.ts'
import {
  collectionRuns,
  type CollectionRow,
  type collectionRunStatuses,
  type CollectionRunRow,
} from '../db/schema.ts'
import type { GraphStore } from '../graphs/store.ts'
import { ApiError, notFound } from '../http/errors.ts'
import type { Logger } from '../logger.ts'
import type { RunManager } from '../runs/manager.ts'
import { runEnded } from './run-waiter.ts'
import type { CollectionStore } from './store.ts'

export type CollectionRunStatus = (typeof collectionRunStatuses)[number]
export const stepStatuses = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
  'skipped',
] as const
export type StepStatus = (typeof stepStatuses)[number]

/** One step of a collection run: its graph, outcome, per-node stats and the run it started. */
export interface StepRecord {
  index: number
  graphId: string
  graphName: string
  onFailure: 'abort' | 'continue'
  status: StepStatus
  runId: string | null
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
  nodes: Record<string, NodeStats>
  errors: SerializedError[]
}

export interface CollectionRunRecord {
  id: string
  collectionId: string | null
  collectionName: string
  status: CollectionRunStatus
  trigger: 'manual' | 'schedule'
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
  steps: StepRecord[]
}

interface Active {
  collectionId: string
  steps: StepRecord[]
  cancelled: boolean
  interrupted: boolean
  currentRunId: string | undefined
  done: Promise<void>
}

const ENDED = new Set<CollectionRunStatus>(['succeeded', 'failed', 'cancelled', 'interrupted'])

/**
 * Runs a collection's steps one after another through the run manager (so they share its
 * concurrency limit). A failed step stops the collection when its onFailure is "abort"; the
 * collection succeeds only when every step did.
 */
export class CollectionRunner {
  private readonly active = new Map<string, Active>()
  private readonly listeners = new Set<(run: CollectionRunRecord) => void>()
  private closed = false

  constructor(
    private readonly deps: {
      db: Db
      store: CollectionStore
      graphs: GraphStore
      runs: RunManager
      log: Logger
    },
  ) {}

  /** Collection runs a previous process left running are marked interrupted; returns how many. */
  markInterrupted(): number {
    const { db } = this.deps
    const stale = db
      .select()
      .from(collectionRuns)
      .where(inArray(collectionRuns.status, ['queued', 'running']))
      .all()
    for (const row of stale) {
      const steps = (JSON.parse(row.steps) as StepRecord[]).map((step) => ({
        ...step,
        status:
          step.status === 'running' ? 'interrupted' : step.status === 'pending' ? 'skipped' : step.status,
      }))
      db.update(collectionRuns)
        .set({ status: 'interrupted', finishedAt: new Date(), steps: JSON.stringify(steps) })
        .where(eq(collectionRuns.id, row.id))
        .run()
    }
    return stale.length
  }

  /** Called with the stored record each time a collection run ends. */
  listen(listener: (run: CollectionRunRecord) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  start(input: { collectionId: string; userId?: string; trigger?: 'manual' | 'schedule' }): string {
    const row = this.deps.store.row(input.collectionId)
    // Runs no user started (schedules) are checked against the collection owner's role policy.
    const ownerId = input.userId === undefined ? (row.createdBy ?? undefined) : undefined
    this.authorizeSteps(row, input.userId, ownerId)
    const steps: StepRecord[] = this.deps.store.steps(row).map((step, index) => ({
      index,
      graphId: step.graphId,
      graphName: '',
      onFailure: step.onFailure,
      status: 'pending',
      runId: null,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      nodes: {},
      errors: [],
    }))
    const id = randomUUID()
    const now = new Date()
    this.deps.db
      .insert(collectionRuns)
      .values({
        id,
        collectionId: row.id,
        collectionName: row.name,
        status: 'running',
        trigger: input.trigger ?? 'manual',
        steps: JSON.stringify(steps),
        createdBy: input.userId,
        startedAt: now,
      })
      .run()
    const active: Active = {
      collectionId: row.id,
      steps,
      cancelled: false,
      interrupted: false,
      currentRunId: undefined,
      done: Promise.resolve(),
    }
    this.active.set(id, active)
    active.done = this.execute(id, active, this.deps.store.steps(row), input.userId, ownerId)
    return id
  }

  /** Throws (403 POLICY_VIOLATION) when a step's graph is outside the policy of the user, else the collection's owner. */
  authorize(collectionId: string, userId: string | undefined): void {
    const row = this.deps.store.row(collectionId)
    this.authorizeSteps(row, userId, userId === undefined ? (row.createdBy ?? undefined) : undefined)
  }

  /** Refuse the whole collection before its first step when any step's graph is outside policy. */
  private authorizeSteps(row: CollectionRow, userId: string | undefined, ownerId: string | undefined): void {
    for (const step of this.deps.store.steps(row)) {
      let graph
      try {
        graph = this.deps.graphs.get(step.graphId).graph
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) continue // the step fails when it comes
        throw error
      }
      this.deps.runs.authorize({
        graph,
        params: step.params,
        graphId: step.graphId,
        mode: 'run',
        userId,
        ownerId,
      })
    }
  }

  /** Cancel a running collection run (its current step is cancelled, the rest skipped); false when it ended. */
  cancel(id: string): boolean {
    const run = this.active.get(id)
    if (run === undefined) {
      this.row(id)
      return false
    }
    run.cancelled = true
    if (run.currentRunId !== undefined) this.deps.runs.cancel(run.currentRunId)
    return true
  }

  /** Whether a run of this collection is going now. */
  isActive(collectionId: string): boolean {
    return [...this.active.values()].some((r) => r.collectionId === collectionId)
  }

  get(id: string): CollectionRunRecord {
    return this.record(this.row(id))
  }

  list(filter: { collectionId?: string | undefined; limit?: number | undefined }): CollectionRunRecord[] {
    return this.deps.db
      .select()
      .from(collectionRuns)
      .where(
        filter.collectionId === undefined ? undefined : eq(collectionRuns.collectionId, filter.collectionId),
      )
      .orderBy(desc(collectionRuns.createdAt))
      .limit(filter.limit ?? 200)
      .all()
      .map((r) => this.record(r))
  }

  /** Resolves with the stored record once the collection run has ended. */
  ended(id: string): Promise<CollectionRunRecord> {
    return new Promise((resolve) => {
      const stop = this.listen((run) => {
        if (run.id === id) {
          stop()
          resolve(run)
        }
      })
      const now = this.get(id)
      if (ENDED.has(now.status)) {
        stop()
        resolve(now)
      }
    })
  }

  async idle(): Promise<void> {
    await Promise.all([...this.active.values()].map((r) => r.done))
  }

  /** Stop: collection runs in flight are stopped and stored as interrupted. */
  async close(): Promise<void> {
    this.closed = true
    for (const run of this.active.values()) {
      run.interrupted = true
      if (run.currentRunId !== undefined) this.deps.runs.cancel(run.currentRunId)
    }
    await this.idle()
  }

  private async execute(
    id: string,
    run: Active,
    steps: { graphId: string; params: Record<string, unknown> }[],
    userId: string | undefined,
    ownerId: string | undefined,
  ): Promise<void> {
    let failed = false
    let stopped = false
    for (const [index, step] of steps.entries()) {
      const record = run.steps[index]!
      if (stopped || run.cancelled || run.interrupted || this.closed) {
        record.status = 'skipped'
        continue
      }
      record.startedAt = new Date().toISOString()
      record.status = 'running'
      try {
        const stored = this.deps.graphs.get(step.graphId)
        record.graphName = stored.graph.name
        const runId = this.deps.runs.submit({
          graph: stored.graph,
          graphId: step.graphId,
          params: step.params,
          ...(userId === undefined ? {} : { userId }),
          ...(ownerId === undefined ? {} : { ownerId }),
        })
        record.runId = runId
        run.currentRunId = runId
        this.persist(id, run.steps)
        if (run.cancelled || run.interrupted) this.deps.runs.cancel(runId)
        const ended = await runEnded(this.deps.runs, runId)
        run.currentRunId = undefined
        record.status =
          run.interrupted && ended.status === 'cancelled'
            ? 'interrupted'
            : ended.status === 'queued' || ended.status === 'running'
              ? 'failed'
              : ended.status
        record.finishedAt = ended.finishedAt
        record.durationMs = ended.durationMs
        record.nodes = ended.nodes
        record.errors = ended.errors.slice(0, 5)
      } catch (error) {
        record.status = 'failed'
        record.finishedAt = new Date().toISOString()
        record.errors = [serializeError(error)]
      }
      if (record.status !== 'succeeded') {
        failed = true
        if (record.status !== 'failed' || record.onFailure === 'abort') stopped = true
      }
      this.persist(id, run.steps)
    }
    const status: CollectionRunStatus = run.interrupted
      ? 'interrupted'
      : run.cancelled
        ? 'cancelled'
        : failed
          ? 'failed'
          : 'succeeded'
    this.deps.db
      .update(collectionRuns)
      .set({ status, steps: JSON.stringify(run.steps), finishedAt: new Date() })
      .where(eq(collectionRuns.id, id))
      .run()
    this.active.delete(id)
    const record = this.get(id)
    for (const listener of this.listeners) {
      try {
        listener(record)
      } catch (error) {
        this.deps.log.warn(`a collection run listener failed: ${(error as Error).message}`)
      }
    }
  }

  private persist(id: string, steps: StepRecord[]): void {
    this.deps.db
      .update(collectionRuns)
      .set({ steps: JSON.stringify(steps) })
      .where(eq(collectionRuns.id, id))
      .run()
  }

  private row(id: string): CollectionRunRow {
    const row = this.deps.db.select().from(collectionRuns).where(eq(collectionRuns.id, id)).get()
    if (row === undefined) throw notFound('collection run', id)
    return row
  }

  private record(row: CollectionRunRow): CollectionRunRecord {
    const live = this.active.get(row.id)
    return {
      id: row.id,
      collectionId: row.collectionId,
      collectionName: row.collectionName,
      status: row.status,
      trigger: row.trigger,
      createdAt: row.createdAt.toISOString(),
      startedAt: row.startedAt?.toISOString() ?? null,
      finishedAt: row.finishedAt?.toISOString() ?? null,
      durationMs:
        row.finishedAt === null || row.startedAt === null
          ? null
          : row.finishedAt.getTime() - row.startedAt.getTime(),
      steps: live?.steps ?? (JSON.parse(row.steps) as StepRecord[]),
    }
  }
}
