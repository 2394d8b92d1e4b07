import { and, desc, eq, gte, inArray, lt, or, type SQL } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import {
  analyzeGraph,
  bindParams,
  GraphError,
  hasErrors,
  runGraph,
  serializeError,
  type Graph,
  type NodeStats,
  type RunEvent,
  type RunSnapshot,
  type RunStateStore,
  type RunSummary,
  type SerializedError,
} from '../../engine/index.ts'
import {
  applyPlanDocument,
  graphHash,
  planGraph,
  type Plan,
  type PlanDocument,
  type PlanItem,
  type ResultRow,
  type SyncDriver,
} from '../../engine/sync/index.ts'
import type { RunRecord, StoredRunStatus } from '../../engine/ws-messages.ts'
import type { Db } from '../db/client.ts'
import { graphs, runPlans, runRejected, runs, type RunRow } from '../db/schema.ts'
import { ApiError, notFound } from '../http/errors.ts'
import type { Logger } from '../logger.ts'
import type { RunEnvironment } from '../run-environment.ts'
import {
  planDocumentOf,
  planNodes,
  syncNodesOf,
  type PlanQuery,
  type PlanView,
  type RunMode,
  type StoredPlan,
} from './plans.ts'

/** A run as the API returns it: the shared record plus how it used its graph. */
export type ServerRunRecord = RunRecord & { mode: RunMode; planRunId: string | null }

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
  /** Plan/apply drivers of the sync node types, for plan mode. */
  drivers?: readonly SyncDriver[]
  /** The stored graph as it is now (to refuse applying a plan of an older version), or undefined when deleted. */
  currentGraph?: (graphId: string) => Graph | undefined
  /** What nodes keep between successful runs of a stored graph (a SQL read's watermark). */
  stateFor?: (graphId: string) => RunStateStore
  /** Called for every run before it is queued (run, plan and apply); throws to refuse it (role policies). */
  authorize?: (run: RunAuthorization) => void
  /**
   * Sees every `results` batch a node emits (run mode) and the results of each plan an apply run
   * applied, with the plan's items in the same order (the change history records them).
   */
  onResults?: (
    runId: string,
    nodeId: string,
    rows: readonly Record<string, unknown>[],
    items?: readonly PlanItem[],
  ) => void
}

/** What `authorize` sees of a run about to be queued. */
export interface RunAuthorization {
  graph: Graph
  params: Record<string, unknown>
  graphId: string | null
  mode: RunMode
  /** The user who started it; undefined for a scheduled run. */
  userId?: string | undefined
  /** The owner of the job it belongs to, when no user started it (a scheduled collection's creator). */
  ownerId?: string | undefined
}

interface Active {
  id: string
  graphId: string | null
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
  mode: RunMode
  /** Plan runs: graphHash() of what was planned. Apply runs: the plan's. */
  graphHash: string | null
  /** Apply runs: the plan run and the document being applied. */
  planRunId: string | null
  planDocument: PlanDocument | undefined
  /** What a plan or apply run stores per sync node when it ends. */
  plans: StoredPlan[]
  /** Who the run is checked as; checked again when it leaves the queue. */
  userId: string | undefined
  ownerId: string | undefined
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

  /**
   * Check the graph and its parameters, store the run as queued and start it when a slot is free. In
   * `plan` mode the run computes its sync nodes' plans and writes nothing to them.
   */
  submit(input: {
    graph: Graph
    params?: Record<string, unknown>
    graphId?: string | null
    userId?: string
    /** For runs no user started: the job's owner, whose role's policy applies. */
    ownerId?: string
    mode?: 'run' | 'plan'
  }): string {
    const params = input.params ?? {}
    const mode = input.mode ?? 'run'
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
    if (mode === 'plan' && syncNodesOf(input.graph, this.drivers).length === 0) {
      throw new GraphError(
        'NO_SYNC_NODES',
        `Plan mode needs a sync node (${this.drivers.map((d) => d.type).join(', ') || 'none is installed'})`,
      )
    }
    this.authorize({
      graph: input.graph,
      params,
      graphId: input.graphId ?? null,
      mode,
      userId: input.userId,
      ownerId: input.ownerId,
    })
    return this.enqueue({
      graph: input.graph,
      params,
      graphId: input.graphId ?? null,
      userId: input.userId,
      ownerId: input.ownerId,
      mode,
      graphHash: null,
      planRunId: null,
      planDocument: undefined,
    })
  }

  /**
   * Start applying exactly the plans a plan run stored. Refused (409) unless the plan run succeeded,
   * the stored graph is unchanged since, no threshold is exceeded, and the plan was not applied already.
   */
  submitApply(planRunId: string, userId?: string): string {
    const row = this.row(planRunId)
    if (row.mode !== 'plan')
      throw new ApiError(
        409,
        'NOT_A_PLAN',
        `Run "${planRunId}" is not a plan run; start one with mode "plan"`,
      )
    const status = this.active.get(planRunId)?.status ?? row.status
    if (status !== 'succeeded') {
      throw new ApiError(
        409,
        'PLAN_NOT_READY',
        `The plan run is ${status}; only a plan run that succeeded can be applied`,
      )
    }
    const stored = this.storedPlans(planRunId)
    const params = JSON.parse(row.params) as Record<string, unknown>
    const graph = this.graphForApply(row)
    if (graph === undefined || graphHash(graph, params) !== row.graphHash) {
      throw new ApiError(
        409,
        'PLAN_STALE',
        graph === undefined
          ? 'The graph this plan was made from was deleted'
          : 'The graph changed since this plan was made; make a new plan',
        { graphId: row.graphId },
      )
    }
    const over = stored.filter((s) => s.plan.thresholds.exceeded)
    if (over.length > 0) {
      throw new ApiError(
        409,
        'THRESHOLD_EXCEEDED',
        over
          .map((s) => `node "${s.plan.nodeId}": ${s.plan.thresholds.message ?? 'over a threshold'}`)
          .join('; '),
        { thresholds: Object.fromEntries(over.map((s) => [s.plan.nodeId, s.plan.thresholds])) },
      )
    }
    const applied = this.options.db
      .select({ id: runs.id, status: runs.status })
      .from(runs)
      .where(and(eq(runs.planRunId, planRunId), inArray(runs.status, ['queued', 'running', 'succeeded'])))
      .get()
    if (applied !== undefined) {
      throw new ApiError(409, 'PLAN_ALREADY_APPLIED', `This plan was applied already (run "${applied.id}")`, {
        runId: applied.id,
      })
    }
    this.authorize({ graph, params, graphId: row.graphId, mode: 'apply', userId })
    return this.enqueue({
      graph,
      params,
      graphId: row.graphId,
      userId,
      ownerId: undefined,
      mode: 'apply',
      graphHash: row.graphHash,
      planRunId,
      planDocument: planDocumentOf({
        graphName: row.graphName,
        graphHash: row.graphHash!,
        params,
        createdAt: (row.finishedAt ?? row.createdAt).toISOString(),
        plans: stored.map((s) => s.plan),
      }),
    })
  }

  /** Throws when the run may not start (the `authorize` option: role policies); callers may check ahead. */
  authorize(run: RunAuthorization): void {
    this.options.authorize?.(run)
  }

  /** The plans of a plan run (or, for an apply run, the plans applied with each object's outcome). */
  plan(id: string, query: PlanQuery): PlanView {
    const row = this.row(id)
    if (row.mode === 'run')
      throw new ApiError(404, 'NO_PLAN', `Run "${id}" is not a plan or apply run, so it has no plan`)
    const status = this.active.get(id)?.status ?? row.status
    if (status === 'queued' || status === 'running')
      throw new ApiError(409, 'PLAN_NOT_READY', `The run is ${status}; its plan is stored when it ends`)
    const stored = this.storedPlans(id)
    if (stored.length === 0 || row.graphHash === null) {
      throw new ApiError(404, 'NO_PLAN', `The run ${status} without a plan`, {
        errors: JSON.parse(row.errors) as unknown,
      })
    }
    const params = JSON.parse(row.params) as Record<string, unknown>
    let stale = false
    if (row.mode === 'plan') {
      const graph = this.graphForApply(row)
      stale = graph === undefined || graphHash(graph, params) !== row.graphHash
    }
    const appliedBy =
      row.mode === 'plan'
        ? this.options.db
            .select({ id: runs.id, status: runs.status })
            .from(runs)
            .where(eq(runs.planRunId, id))
            .orderBy(desc(runs.createdAt))
            .all()
            .map((r) => ({ id: r.id, status: this.active.get(r.id)?.status ?? r.status }))
        : []
    return {
      runId: id,
      mode: row.mode,
      status,
      graphId: row.graphId,
      graphName: row.graphName,
      graphHash: row.graphHash,
      params,
      createdAt: (row.finishedAt ?? row.createdAt).toISOString(),
      planRunId: row.planRunId,
      stale,
      appliedBy,
      nodes: planNodes(stored, query),
    }
  }

  private get drivers(): readonly SyncDriver[] {
    return this.options.drivers ?? []
  }

  /** The graph a plan applies to: the stored graph as it is now, or the document of an inline run. */
  private graphForApply(row: RunRow): Graph | undefined {
    if (row.graphId === null) return JSON.parse(row.document) as Graph
    return this.options.currentGraph?.(row.graphId)
  }

  private storedPlans(runId: string): StoredPlan[] {
    return this.options.db
      .select()
      .from(runPlans)
      .where(eq(runPlans.runId, runId))
      .orderBy(runPlans.position)
      .all()
      .map((r) => ({
        plan: JSON.parse(r.plan) as Plan,
        results: r.results === null ? null : (JSON.parse(r.results) as ResultRow[]),
      }))
  }

  private enqueue(input: {
    graph: Graph
    params: Record<string, unknown>
    graphId: string | null
    userId: string | undefined
    ownerId: string | undefined
    mode: RunMode
    graphHash: string | null
    planRunId: string | null
    planDocument: PlanDocument | undefined
  }): string {
    const id = randomUUID()
    this.options.db
      .insert(runs)
      .values({
        id,
        graphId: input.graphId,
        graphName: input.graph.name,
        status: 'queued',
        document: JSON.stringify(input.graph),
        params: JSON.stringify(input.params),
        createdBy: input.userId,
        mode: input.mode,
        planRunId: input.planRunId,
        graphHash: input.graphHash,
      })
      .run()
    let resolveDone!: () => void
    const done = new Promise<void>((resolve) => (resolveDone = resolve))
    this.active.set(id, {
      id,
      graphId: input.graphId,
      graph: input.graph,
      params: input.params,
      controller: new AbortController(),
      snapshot: undefined,
      rejected: new Map(),
      lastPersist: 0,
      status: 'queued',
      done,
      resolveDone,
      interrupted: false,
      mode: input.mode,
      graphHash: input.graphHash,
      planRunId: input.planRunId,
      planDocument: input.planDocument,
      plans: [],
      userId: input.userId,
      ownerId: input.ownerId,
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

  get(id: string): ServerRunRecord {
    return this.record(this.row(id))
  }

  list(filter: {
    graphId?: string | undefined
    status?: StoredRunStatus | undefined
    from?: string | undefined
    to?: string | undefined
    /** Comma-separated run modes (run, plan, apply). */
    mode?: string | undefined
    limit?: number | undefined
    /** Only runs this user started or that ran their graphs (owner-only access without view-any). */
    ownerId?: string | undefined
  }) {
    const where: SQL[] = []
    if (filter.graphId !== undefined) where.push(eq(runs.graphId, filter.graphId))
    if (filter.ownerId !== undefined) {
      const own = this.options.db
        .select({ id: graphs.id })
        .from(graphs)
        .where(eq(graphs.createdBy, filter.ownerId))
      where.push(or(eq(runs.createdBy, filter.ownerId), inArray(runs.graphId, own))!)
    }
    if (filter.status !== undefined) where.push(eq(runs.status, filter.status))
    if (filter.from !== undefined) where.push(gte(runs.createdAt, new Date(filter.from)))
    if (filter.to !== undefined) where.push(lt(runs.createdAt, new Date(filter.to)))
    if (filter.mode !== undefined) where.push(inArray(runs.mode, filter.mode.split(',') as RunMode[]))
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
        mode: runs.mode,
        planRunId: runs.planRunId,
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

  /** The first rows each node rejected (with `_error`), at most `limit` per node, live while the run goes. */
  rejected(id: string, nodeId: string | undefined, limit = Infinity): unknown[] {
    this.row(id)
    const live = this.active.get(id)
    if (live !== undefined) {
      const lists = nodeId === undefined ? [...live.rejected.values()] : [live.rejected.get(nodeId) ?? []]
      return lists.flatMap((rows) => rows.slice(0, limit)).map((text) => JSON.parse(text) as unknown)
    }
    const perNode = new Map<string, number>()
    return this.options.db
      .select({ nodeId: runRejected.nodeId, row: runRejected.row })
      .from(runRejected)
      .where(
        nodeId === undefined
          ? eq(runRejected.runId, id)
          : and(eq(runRejected.runId, id), eq(runRejected.nodeId, nodeId)),
      )
      .orderBy(runRejected.id)
      .all()
      .filter((r) => {
        const seen = perNode.get(r.nodeId) ?? 0
        perNode.set(r.nodeId, seen + 1)
        return seen < limit
      })
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
      // Checked again as it starts: the policy or a stored connection may have changed while it waited.
      this.authorize({
        graph: run.graph,
        params: run.params,
        graphId: run.graphId,
        mode: run.mode,
        userId: run.userId,
        ownerId: run.ownerId,
      })
      if (run.mode !== 'run') {
        summary = run.mode === 'plan' ? await this.executePlan(run) : await this.executeApply(run)
      } else
        summary = await runGraph(run.graph, {
          catalog: env.catalog,
          params: run.params,
          runId: run.id,
          signal: run.controller.signal,
          files: env.files,
          connections: env.connections,
          pool: env.poolFor(run.graph),
          ...(run.graphId !== null && this.options.stateFor !== undefined
            ? { state: this.options.stateFor(run.graphId) }
            : {}),
          progressIntervalMs: this.options.progressIntervalMs ?? 200,
          onBatch: (nodeId, port, batch) => {
            if (port === 'results') this.options.onResults?.(run.id, nodeId, batch)
            if (port !== 'rejected') return
            let kept = run.rejected.get(nodeId)
            if (kept === undefined) run.rejected.set(nodeId, (kept = []))
            for (let i = 0; i < batch.length && kept.length < cap; i++) kept.push(JSON.stringify(batch[i]))
          },
          onEvent: (event) => this.onEvent(run, event),
        })
    } catch (error) {
      const serialized = serializeError(error)
      const cancelled = run.controller.signal.aborted
      if (!cancelled) this.options.log.warn(`run ${run.id} failed: ${serialized.message}`)
      summary = {
        ...(run.snapshot ?? { runId: run.id, status: 'failed', elapsedMs: 0, nodes: {}, edges: [] }),
        status: cancelled ? 'cancelled' : 'failed',
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

  private onEvent(run: Active, event: RunEvent): void {
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
  }

  /** Plan mode: run what feeds the sync nodes, then compute each one's plan; nothing is written to them. */
  private async executePlan(run: Active): Promise<RunSummary> {
    const { env } = this.options
    const started = new Date()
    const t0 = performance.now()
    const document = await planGraph(run.graph, {
      catalog: env.catalog,
      drivers: this.drivers,
      params: run.params,
      files: env.files,
      connections: env.connections,
      signal: run.controller.signal,
      onEvent: (event) => this.onEvent(run, event),
    })
    run.graphHash = document.graphHash
    run.plans = document.plans.map((plan) => ({ plan, results: null }))
    const ms = performance.now() - t0
    return this.syncSummary(run, started, ms, (nodeId) => {
      const plan = document.plans.find((p) => p.nodeId === nodeId)!
      return {
        rowsIn: plan.items.filter((i) => i.row !== undefined).length,
        rowsOut: plan.items.length,
        errors: 0,
      }
    })
  }

  /** Apply mode: apply exactly the stored plans (the engine refuses a changed graph or a threshold). */
  private async executeApply(run: Active): Promise<RunSummary> {
    const { env } = this.options
    const document = run.planDocument!
    const started = new Date()
    const t0 = performance.now()
    if (run.graphId !== null) {
      // The graph may have changed while this run waited in the queue.
      const current = this.options.currentGraph?.(run.graphId)
      if (current === undefined)
        throw new GraphError('PLAN_STALE', 'the graph this plan was made from was deleted')
      run.graph = current
    }
    const applied = await applyPlanDocument(document, run.graph, {
      catalog: env.catalog,
      drivers: this.drivers,
      params: run.params,
      files: env.files,
      connections: env.connections,
      signal: run.controller.signal,
      onEvent: (event) => this.onEvent(run, event),
    })
    run.plans = document.plans.map((plan) => ({ plan, results: applied.results[plan.nodeId] ?? [] }))
    for (const plan of document.plans)
      this.options.onResults?.(run.id, plan.nodeId, applied.results[plan.nodeId] ?? [], plan.items)
    this.options.log.info(
      `run ${run.id} applied plan ${run.planRunId}: ${applied.writes} write(s), ${applied.failed} failed`,
    )
    // Like a run under onRowError "fail": the first failed write fails the apply run.
    const failedNode =
      applied.status === 'failed'
        ? Object.entries(applied.results).find(([, rows]) => rows.some((r) => r.outcome === 'failed'))
        : undefined
    const first = failedNode?.[1].find((r) => r.outcome === 'failed')
    const failure =
      failedNode === undefined || first === undefined
        ? undefined
        : {
            code: first.error?.code ?? 'WRITE_FAILED',
            nodeId: failedNode[0],
            message: `Node "${failedNode[0]}": ${first.action} ${first.newDn ?? (first.dn || JSON.stringify(first.key))}: ${first.error?.message ?? 'the write failed'} (${applied.failed} write(s) failed; no write started after the first failure)`,
          }
    return this.syncSummary(
      run,
      started,
      performance.now() - t0,
      (nodeId) => {
        const results = applied.results[nodeId] ?? []
        const plan = document.plans.find((p) => p.nodeId === nodeId)!
        const outcomes = applied.outcomes[nodeId] ?? {}
        return {
          rowsIn: plan.items.length,
          rowsOut: results.length,
          errors: outcomes.failed ?? 0,
          outcomes,
        }
      },
      failure,
    )
  }

  /** A run summary for plan and apply runs: upstream nodes from the last snapshot, sync nodes from their plans. */
  private syncSummary(
    run: Active,
    started: Date,
    ms: number,
    counts: (nodeId: string) => {
      rowsIn: number
      rowsOut: number
      errors: number
      outcomes?: NodeStats['outcomes']
    },
    failure?: SerializedError & { nodeId: string },
  ): RunSummary {
    const nodes: RunSummary['nodes'] = { ...run.snapshot?.nodes }
    for (const { plan } of run.plans) {
      const c = counts(plan.nodeId)
      nodes[plan.nodeId] = {
        type: plan.type,
        status: failure?.nodeId === plan.nodeId ? 'failed' : 'succeeded',
        ...c,
        rowsRejected: c.errors,
        batches: 0,
        busyMs: Math.round(ms),
        rowsPerSec: ms > 0 ? Math.round((c.rowsOut / ms) * 1000) : 0,
      }
    }
    const summary: RunSummary = {
      runId: run.id,
      status: failure === undefined ? 'succeeded' : 'failed',
      elapsedMs: Math.round(ms),
      nodes,
      edges: run.snapshot?.edges ?? [],
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Math.round(ms),
      errors: failure === undefined ? [] : [failure],
    }
    const { startedAt: _s, finishedAt: _f, durationMs: _d, errors: _e, ...snapshot } = summary
    this.notify({ type: 'progress', runId: run.id, snapshot })
    return summary
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
          graphHash: run.graphHash,
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
      run.plans.forEach((stored, position) => {
        tx.insert(runPlans)
          .values({
            runId: run.id,
            nodeId: stored.plan.nodeId,
            position,
            plan: JSON.stringify(stored.plan),
            results: stored.results === null ? null : JSON.stringify(stored.results),
          })
          .run()
      })
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

  private record(row: RunRow): ServerRunRecord {
    const live = this.active.get(row.id)
    return {
      id: row.id,
      mode: row.mode,
      planRunId: row.planRunId,
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
