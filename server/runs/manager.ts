import { and, desc, eq, inArray, type SQL } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import {
  analyzeGraph,
  bindParams,
  GraphError,
  hasErrors,
  runGraph,
  serializeError,
  type Graph,
  type RunSnapshot,
  type RunSummary,
} from '../../engine/index.ts'
import type { RunRecord, StoredRunStatus } from '../../engine/ws-messages.ts'
import type { Db } from '../db/client.ts'
import { runRejected, runs, type RunRow } from '../db/schema.ts'
import { notFound } from '../http/errors.ts'
import type { Logger } from '../logger.ts'
import type { RunEnvironment } from '../run-environment.ts'

/** What a run tells its listeners (the WebSocket hub). */
export type RunNotice =
  | { type: 'progress'; runId: string; snapshot: RunSnapshot }
  | {
      type: 'log'
      runId: string
      level: 'debug' | 'info' | 'warn' | 'error'
      nodeId?: string
      message: string
      time: string
    }
  | { type: 'finished'; runId: string; status: StoredRunStatus; summary: RunSummary }

export interface RunManagerOptions {
  db: Db
  env: RunEnvironment
  log: Logger
  /** Runs executing at once; more wait in the queue. */
  maxRuns: number
  /** How often the engine emits progress (ms). */
  progressIntervalMs?: number
  /** How often live counters are written to the database (ms). */
  persistIntervalMs?: number
  /** Rejected rows kept per node of a run. */
  rejectedPerNode?: number
}

interface Active {
  id: string
  graph: Graph
  params: Record<string, unknown>
  controller: AbortController
  snapshot: RunSnapshot | undefined
  rejected: Map<string, string[]>
  lastPersist: number
  status: 'queued' | 'running'
  done: Promise<void>
  resolveDone: () => void
  interrupted: boolean
}

/**
 * Runs graphs off the request path: at most `maxRuns` at once, the rest queued in order. Status and
 * counters are persisted while a run goes (every `persistIntervalMs`) and when it ends.
 */
export class RunManager {
  private readonly active = new Map<string, Active>()
  private readonly queue: string[] = []
  private readonly listeners = new Set<(notice: RunNotice) => void>()
  private running = 0
  private closed = false

  constructor(private readonly options: RunManagerOptions) {}

  /** Runs a previous process left queued or running are marked interrupted; returns how many. */
  markInterrupted(): number {
    const now = new Date()
    return this.options.db
      .update(runs)
      .set({ status: 'interrupted', finishedAt: now })
      .where(inArray(runs.status, ['queued', 'running']))
      .run().changes
  }

  listen(listener: (notice: RunNotice) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Check the graph and its parameters, store the run as queued and start it when a slot is free. */
  submit(input: {
    graph: Graph
    params?: Record<string, unknown>
    graphId?: string | null
    userId?: string
  }): string {
    const params = input.params ?? {}
    const analysis = analyzeGraph(input.graph, this.options.env.catalog, { params })
    if (hasErrors(analysis.issues)) {
      const issues = analysis.issues.filter((i) => i.severity === 'error')
      throw new GraphError(
        'INVALID_GRAPH',
        `The graph has ${issues.length} error(s): ${issues.map((i) => i.message).join('; ')}`,
        { issues },
      )
    }
    bindParams(input.graph, params)
    const id = randomUUID()
    this.options.db
      .insert(runs)
      .values({
        id,
        graphId: input.graphId ?? null,
        graphName: input.graph.name,
        status: 'queued',
        document: JSON.stringify(input.graph),
        params: JSON.stringify(params),
        createdBy: input.userId,
      })
      .run()
    let resolveDone!: () => void
    const done = new Promise<void>((resolve) => (resolveDone = resolve))
    this.active.set(id, {
      id,
      graph: input.graph,
      params,
      controller: new AbortController(),
      snapshot: undefined,
      rejected: new Map(),
      lastPersist: 0,
      status: 'queued',
      done,
      resolveDone,
      interrupted: false,
    })
    this.queue.push(id)
    this.pump()
    return id
  }

  /** Cancel a queued or running run; false when it already ended. */
  cancel(id: string): boolean {
    const run = this.active.get(id)
    if (run === undefined) {
      this.row(id)
      return false
    }
    if (run.status === 'queued') {
      this.queue.splice(this.queue.indexOf(id), 1)
      this.finish(run, undefined, 'cancelled')
      return true
    }
    run.controller.abort()
    return true
  }

  get(id: string): RunRecord {
    return this.record(this.row(id))
  }

  list(filter: { graphId?: string | undefined; status?: StoredRunStatus | undefined; limit?: number }) {
    const where: SQL[] = []
    if (filter.graphId !== undefined) where.push(eq(runs.graphId, filter.graphId))
    if (filter.status !== undefined) where.push(eq(runs.status, filter.status))
    return this.options.db
      .select({
        id: runs.id,
        graphId: runs.graphId,
        graphName: runs.graphName,
        status: runs.status,
        createdAt: runs.createdAt,
        startedAt: runs.startedAt,
        finishedAt: runs.finishedAt,
        durationMs: runs.durationMs,
      })
      .from(runs)
      .where(and(...where))
      .orderBy(desc(runs.createdAt))
      .limit(filter.limit ?? 200)
      .all()
      .map((r) => ({
        ...r,
        status: this.active.get(r.id)?.status ?? r.status,
        createdAt: r.createdAt.toISOString(),
        startedAt: r.startedAt?.toISOString() ?? null,
        finishedAt: r.finishedAt?.toISOString() ?? null,
      }))
  }

  rejected(id: string, nodeId: string | undefined): unknown[] {
    this.row(id)
    const live = this.active.get(id)
    if (live !== undefined) {
      const lists = nodeId === undefined ? [...live.rejected.values()] : [live.rejected.get(nodeId) ?? []]
      return lists.flat().map((text) => JSON.parse(text) as unknown)
    }
    return this.options.db
      .select({ row: runRejected.row })
      .from(runRejected)
      .where(
        nodeId === undefined
          ? eq(runRejected.runId, id)
          : and(eq(runRejected.runId, id), eq(runRejected.nodeId, nodeId)),
      )
      .orderBy(runRejected.id)
      .all()
      .map((r) => JSON.parse(r.row) as unknown)
  }

  /** The stored summary of a run that ended, as the `finished` message carries it. */
  summaryOf(record: RunRecord): RunSummary {
    return {
      runId: record.id,
      status:
        record.status === 'interrupted' || record.status === 'queued' || record.status === 'running'
          ? 'cancelled'
          : record.status,
      elapsedMs: record.durationMs ?? 0,
      nodes: record.nodes,
      edges: record.edges,
      startedAt: record.startedAt ?? record.createdAt,
      finishedAt: record.finishedAt ?? record.createdAt,
      durationMs: record.durationMs ?? 0,
      errors: record.errors,
    }
  }

  /** Resolves when every run now queued or running has ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.active.values()].map((r) => r.done))
  }

  /** Stop taking runs; runs in flight are stopped and stored as interrupted. */
  async close(): Promise<void> {
    this.closed = true
    for (const run of this.active.values()) {
      run.interrupted = true
      if (run.status === 'queued') this.finish(run, undefined, 'interrupted')
      else run.controller.abort()
    }
    this.queue.length = 0
    await this.idle()
  }

  private pump(): void {
    while (!this.closed && this.running < this.options.maxRuns && this.queue.length > 0) {
      const run = this.active.get(this.queue.shift()!)!
      this.running += 1
      void this.execute(run).finally(() => {
        this.running -= 1
        this.pump()
      })
    }
  }

  private async execute(run: Active): Promise<void> {
    const { db, env } = this.options
    run.status = 'running'
    db.update(runs).set({ status: 'running', startedAt: new Date() }).where(eq(runs.id, run.id)).run()
    const cap = this.options.rejectedPerNode ?? 1000
    let summary: RunSummary | undefined
    try {
      summary = await runGraph(run.graph, {
        catalog: env.catalog,
        params: run.params,
        runId: run.id,
        signal: run.controller.signal,
        files: env.files,
        connections: env.connections,
        pool: env.poolFor(run.graph),
        progressIntervalMs: this.options.progressIntervalMs ?? 200,
        onBatch: (nodeId, port, batch) => {
          if (port !== 'rejected') return
          let kept = run.rejected.get(nodeId)
          if (kept === undefined) run.rejected.set(nodeId, (kept = []))
          for (let i = 0; i < batch.length && kept.length < cap; i++) kept.push(JSON.stringify(batch[i]))
        },
        onEvent: (event) => {
          if (event.type === 'progress') {
            run.snapshot = event.snapshot
            this.notify({ type: 'progress', runId: run.id, snapshot: event.snapshot })
            const now = Date.now()
            if (now - run.lastPersist >= (this.options.persistIntervalMs ?? 1000)) {
              run.lastPersist = now
              this.persistCounters(run.id, event.snapshot)
            }
          } else if (event.type === 'log') {
            this.notify({ ...event, runId: run.id })
          }
        },
      })
    } catch (error) {
      const serialized = serializeError(error)
      this.options.log.warn(`run ${run.id} could not start: ${serialized.message}`)
      summary = {
        ...(run.snapshot ?? { runId: run.id, status: 'failed', elapsedMs: 0, nodes: {}, edges: [] }),
        status: 'failed',
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        durationMs: 0,
        errors: [serialized],
      }
    }
    this.finish(
      run,
      summary,
      run.interrupted
        ? 'interrupted'
        : summary.status === 'running' || summary.status === 'queued'
          ? 'failed'
          : summary.status,
    )
  }

  private persistCounters(id: string, snapshot: RunSnapshot): void {
    try {
      this.options.db
        .update(runs)
        .set({ nodes: JSON.stringify(snapshot.nodes), edges: JSON.stringify(snapshot.edges) })
        .where(eq(runs.id, id))
        .run()
    } catch (error) {
      this.options.log.warn(`could not store the counters of run ${id}: ${(error as Error).message}`)
    }
  }

  private finish(run: Active, summary: RunSummary | undefined, status: StoredRunStatus): void {
    const { db } = this.options
    const finishedAt = new Date()
    db.transaction((tx) => {
      tx.update(runs)
        .set({
          status,
          finishedAt,
          durationMs: summary?.durationMs ?? null,
          ...(summary === undefined
            ? {}
            : {
                nodes: JSON.stringify(summary.nodes),
                edges: JSON.stringify(summary.edges),
                errors: JSON.stringify(summary.errors),
              }),
        })
        .where(eq(runs.id, run.id))
        .run()
      for (const [nodeId, rows] of run.rejected) {
        for (let i = 0; i < rows.length; i += 500) {
          tx.insert(runRejected)
            .values(rows.slice(i, i + 500).map((row) => ({ runId: run.id, nodeId, row })))
            .run()
        }
      }
    })
    this.active.delete(run.id)
    const record = this.get(run.id)
    this.notify({ type: 'finished', runId: run.id, status, summary: summary ?? this.summaryOf(record) })
    run.resolveDone()
  }

  private notify(notice: RunNotice): void {
    for (const listener of this.listeners) {
      try {
        listener(notice)
      } catch (error) {
        this.options.log.warn(`a run listener failed: ${(error as Error).message}`)
      }
    }
  }

  private row(id: string): RunRow {
    const row = this.options.db.select().from(runs).where(eq(runs.id, id)).get()
    if (row === undefined) throw notFound('run', id)
    return row
  }

  private record(row: RunRow): RunRecord {
    const live = this.active.get(row.id)
    return {
      id: row.id,
      graphId: row.graphId,
      graphName: row.graphName,
      status: live?.status ?? row.status,
      createdAt: row.createdAt.toISOString(),
      startedAt: row.startedAt?.toISOString() ?? null,
      finishedAt: row.finishedAt?.toISOString() ?? null,
      durationMs: row.durationMs ?? live?.snapshot?.elapsedMs ?? null,
      nodes: live?.snapshot?.nodes ?? (JSON.parse(row.nodes) as RunRecord['nodes']),
      edges: live?.snapshot?.edges ?? (JSON.parse(row.edges) as RunRecord['edges']),
      errors: JSON.parse(row.errors) as RunRecord['errors'],
    }
  }
}
