import { and, desc, eq, inArray, lte, or, type SQL } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { analyzeGraph, GraphError, hasErrors, type Catalog } from '../../engine/index.ts'
import type { SyncDriver } from '../../engine/sync/index.ts'
import type { CollectionRunner } from '../collections/runner.ts'
import type { CollectionStore } from '../collections/store.ts'
import type { Db } from '../db/client.ts'
import {
  approvalRequests,
  approvalRules,
  approvalStatuses,
  collections,
  graphs,
  jobKinds,
  users,
  type ApprovalRequestRow,
  type JobKind,
} from '../db/schema.ts'
import { assertPermission } from '../auth/permissions.ts'
import type { GraphStore } from '../graphs/store.ts'
import type { SessionUser } from '../http/env.ts'
import { ApiError, notFound } from '../http/errors.ts'
import type { Logger } from '../logger.ts'
import type { PolicyService } from '../policies/service.ts'
import type { RunManager } from '../runs/manager.ts'
import { syncNodesOf } from '../runs/plans.ts'
import type { Clock } from '../schedules/clock.ts'

export const approvalRuleBody = z
  .object({
    expiresAfterMinutes: z
      .number()
      .int()
      .min(1)
      .max(60 * 24 * 90)
      .default(1440)
      .describe('A pending request not decided within this time expires and is cancelled (default 24 h)'),
    reviewPlan: z
      .boolean()
      .default(false)
      .describe(
        'Graphs with sync nodes: every request, also a scheduled one, first computes a plan; approving applies exactly that plan',
      ),
  })
  .strict()

export const approvalRuleView = z.object({
  jobKind: z.enum(jobKinds),
  jobId: z.string(),
  expiresAfterMinutes: z.number(),
  reviewPlan: z.boolean(),
})
export type ApprovalRuleView = z.infer<typeof approvalRuleView>

export const approvalView = z.object({
  id: z.string(),
  jobKind: z.enum(jobKinds),
  jobId: z.string(),
  jobName: z.string(),
  status: z.enum(approvalStatuses),
  trigger: z.enum(['manual', 'schedule']),
  requestedBy: z.string().nullable().describe('User id; null for a scheduled request'),
  requestedByName: z.string().nullable(),
  requestedAt: z.string(),
  expiresAt: z.string(),
  params: z.record(z.string(), z.unknown()),
  planRunId: z
    .string()
    .nullable()
    .describe('The plan run whose plan approving applies: GET /api/runs/{planRunId}/plan'),
  decidedBy: z.string().nullable(),
  decidedByName: z.string().nullable(),
  decidedAt: z.string().nullable(),
  comment: z.string(),
  runId: z
    .string()
    .nullable()
    .describe('What approving started: GET /api/runs/{runId} (graph) or /api/collection-runs/{runId}'),
})
export type ApprovalView = z.infer<typeof approvalView>

export const approvalsQuery = z.object({
  status: z.enum(approvalStatuses).optional(),
  jobKind: z.enum(jobKinds).optional(),
  jobId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
})

const DEFAULT_EXPIRY_MINUTES = 1440

/** What a gated run request answers instead of a run id. */
export interface ApprovalPending {
  approvalId: string
  status: 'pending-approval'
  /** Plan mode: the plan run the approver reviews. */
  id?: string
}

/**
 * Approval workflow: a graph or collection with an approval rule runs only once an approver other than
 * the requester approves. Each run request (manual, collection, scheduled) becomes a pending request;
 * at most one is pending per job; denial or expiry cancels it. A request tied to a plan run applies
 * exactly that plan when approved.
 *
 * Deciding takes the `approve` permission (server/auth/permissions.ts), and never on one's own request.
 */
export class ApprovalService {
  private readonly timers = new Map<string, () => void>()
  private stopped = false

  constructor(
    private readonly deps: {
      db: Db
      clock: Clock
      log: Logger
      catalog: Catalog
      drivers: readonly SyncDriver[]
      graphs: GraphStore
      collections: CollectionStore
      collectionRuns: CollectionRunner
      runs: RunManager
      /** Role policies: a role's `approval` setting governs every run its users (or, scheduled, the job's owner) start. */
      policies?: Pick<PolicyService, 'approvalFor'>
    },
  ) {}

  /** Expire what expired while the server was down; arm a timer for every pending request. */
  start(): void {
    this.expireDue()
    for (const row of this.rows({ status: 'pending' })) this.arm(row)
  }

  stop(): void {
    this.stopped = true
    for (const disarm of this.timers.values()) disarm()
    this.timers.clear()
  }

  rules(): ApprovalRuleView[] {
    return this.deps.db.select().from(approvalRules).all().map(ruleViewOf)
  }

  rule(kind: JobKind, jobId: string): ApprovalRuleView | null {
    const row = this.deps.db
      .select()
      .from(approvalRules)
      .where(and(eq(approvalRules.jobKind, kind), eq(approvalRules.jobId, jobId)))
      .get()
    return row === undefined ? null : ruleViewOf(row)
  }

  setRule(
    kind: JobKind,
    jobId: string,
    body: z.infer<typeof approvalRuleBody>,
    userId: string,
  ): ApprovalRuleView {
    this.jobName(kind, jobId)
    this.deps.db
      .insert(approvalRules)
      .values({ jobKind: kind, jobId, ...body, createdBy: userId })
      .onConflictDoUpdate({ target: [approvalRules.jobKind, approvalRules.jobId], set: body })
      .run()
    return this.rule(kind, jobId)!
  }

  removeRule(kind: JobKind, jobId: string): void {
    const gone = this.deps.db
      .delete(approvalRules)
      .where(and(eq(approvalRules.jobKind, kind), eq(approvalRules.jobId, jobId)))
      .run().changes
    if (gone === 0) throw new ApiError(404, 'NOT_FOUND', `The ${kind} "${jobId}" needs no approval`)
  }

  /**
   * A run of this job needs approval: its own rule, for a collection a rule on any of its graphs, or the
   * `approval` setting of the role policy of `userId` (undefined or null: a run nobody started, checked
   * as the job's owner, as policies are).
   */
  requires(kind: JobKind, jobId: string, userId?: string | null): boolean {
    return this.governing(kind, jobId, userId).length > 0
  }

  /**
   * 403 APPROVAL_REQUIRED when the user's role policy requires approval for an unsaved graph document
   * (`graph`), or for applying the plan of one (no `graph`: a plan writes). An approval request belongs
   * to a stored job, so such a run cannot wait for an approver: the graph must be saved and run by id.
   */
  assertInlineAllowed(userId: string, graph?: unknown): void {
    const found = this.deps.policies?.approvalFor(userId) ?? null
    if (found === null) return
    if (graph !== undefined && found.approval.for === 'writes' && !this.writesDocument(graph)) return
    throw new ApiError(
      403,
      'APPROVAL_REQUIRED',
      `Runs by the ${found.role} role need approval (its policy), and a graph that is not saved cannot wait for an approver: save it and run it by id, or run it in plan mode`,
      { role: found.role },
    )
  }

  /** The pending request of a job, if any. */
  pending(kind: JobKind, jobId: string): ApprovalView | undefined {
    this.expireDue()
    const row = this.deps.db
      .select()
      .from(approvalRequests)
      .where(
        and(
          eq(approvalRequests.jobKind, kind),
          eq(approvalRequests.jobId, jobId),
          eq(approvalRequests.status, 'pending'),
        ),
      )
      .get()
    return row === undefined ? undefined : this.view(row)
  }

  /**
   * Store a pending request instead of running. Graphs: the graph is checked first; in plan mode (or
   * with the rule's reviewPlan and sync nodes) a plan run starts now, so the approver sees its plan.
   * 409 APPROVAL_PENDING when the job already has a pending request.
   */
  request(input: {
    kind: JobKind
    jobId: string
    userId: string | null
    trigger: 'manual' | 'schedule'
    params?: Record<string, unknown>
    mode?: 'run' | 'plan'
    /** An existing plan run to apply once approved (POST /api/runs/:id/apply). */
    planRunId?: string
  }): ApprovalPending {
    const jobName = this.jobName(input.kind, input.jobId)
    const existing = this.pending(input.kind, input.jobId)
    if (existing !== undefined) throw pendingError(existing)
    const rules = this.governing(input.kind, input.jobId, input.userId)
    const params = input.params ?? {}
    let planRunId = input.planRunId ?? null
    if (input.kind === 'collection')
      this.deps.collectionRuns.authorize(input.jobId, input.userId ?? undefined)
    if (input.kind === 'graph' && planRunId === null) {
      const graph = this.deps.graphs.get(input.jobId).graph
      const analysis = analyzeGraph(graph, this.deps.catalog, { params })
      if (hasErrors(analysis.issues)) {
        const issues = analysis.issues.filter((i) => i.severity === 'error')
        throw new GraphError(
          'INVALID_GRAPH',
          `The graph has ${issues.length} error(s): ${issues.map((i) => i.message).join('; ')}`,
          { issues },
        )
      }
      // A request outside the requester's (or, scheduled, the owner's) role policy is refused now, not at approval.
      this.deps.runs.authorize({
        graph,
        params,
        graphId: input.jobId,
        mode: input.mode ?? 'run',
        userId: input.userId ?? undefined,
      })
      const reviewPlan = rules.some((r) => r.reviewPlan) && syncNodesOf(graph, this.deps.drivers).length > 0
      if (input.mode === 'plan' || reviewPlan) {
        planRunId = this.deps.runs.submit({
          graph,
          graphId: input.jobId,
          params,
          mode: 'plan',
          ...(input.userId === null ? {} : { userId: input.userId }),
        })
      }
    }
    // A collection governed by several rules (its own, its graphs') expires with the strictest.
    const minutes =
      rules.length === 0 ? DEFAULT_EXPIRY_MINUTES : Math.min(...rules.map((r) => r.expiresAfterMinutes))
    const now = this.deps.clock.now()
    const id = randomUUID()
    try {
      this.deps.db
        .insert(approvalRequests)
        .values({
          id,
          jobKind: input.kind,
          jobId: input.jobId,
          jobName,
          status: 'pending',
          trigger: input.trigger,
          requestedBy: input.userId,
          requestedAt: now,
          expiresAt: new Date(now.getTime() + minutes * 60_000),
          params: JSON.stringify(params),
          planRunId,
        })
        .run()
    } catch (error) {
      // The unique index on pending requests: another request got there first.
      const other = this.pending(input.kind, input.jobId)
      if (other !== undefined) throw pendingError(other)
      throw error
    }
    const row = this.row(id)
    this.arm(row)
    this.deps.log.info(`approval ${id}: ${input.kind} "${jobName}" waits for an approver`)
    return { approvalId: id, status: 'pending-approval', ...(planRunId === null ? {} : { id: planRunId }) }
  }

  /** `ownerId`: only requests this user made or about their jobs (owner-only access without view-any). */
  list(filter: z.infer<typeof approvalsQuery> & { ownerId?: string | undefined }): ApprovalView[] {
    this.expireDue()
    return this.rows(filter).map((r) => this.view(r))
  }

  get(id: string): ApprovalView {
    this.expireDue()
    return this.view(this.row(id))
  }

  /** Approve: start the run (or apply the reviewed plan) as the requester asked; 403 for the requester. */
  approve(id: string, user: SessionUser, comment = ''): ApprovalView {
    const row = this.decidable(id, user)
    if (row.requestedBy === user.id)
      throw new ApiError(403, 'SELF_APPROVAL', 'Nobody approves their own request; ask another approver')
    // A scheduled request that the owner's role policy made is the owner's own request.
    if (
      row.requestedBy === null &&
      this.ownerOf(row.jobKind, row.jobId) === user.id &&
      this.policyRule(row.jobKind, row.jobId, null) !== null
    )
      throw new ApiError(
        403,
        'SELF_APPROVAL',
        'Runs of your own job need approval by your role’s policy; ask another approver',
      )
    const userId = row.requestedBy ?? undefined
    const params = JSON.parse(row.params) as Record<string, unknown>
    let runId: string
    if (row.jobKind === 'collection') {
      runId = this.deps.collectionRuns.start({ collectionId: row.jobId, userId, trigger: row.trigger })
    } else if (row.planRunId !== null) {
      runId = this.deps.runs.submitApply(row.planRunId, userId)
    } else {
      runId = this.deps.runs.submit({
        graph: this.deps.graphs.get(row.jobId).graph,
        graphId: row.jobId,
        params,
        ...(userId === undefined ? {} : { userId }),
      })
    }
    this.decide(row, 'approved', user.id, comment, runId)
    return this.get(id)
  }

  /** Deny (or, by the requester, withdraw): the request is cancelled, and so is a plan run still going. */
  deny(id: string, user: SessionUser, comment = ''): ApprovalView {
    const row = this.decidable(id, user)
    this.decide(row, 'denied', user.id, comment, null)
    return this.get(id)
  }

  private decidable(id: string, user: SessionUser): ApprovalRequestRow {
    this.expireDue()
    const row = this.row(id)
    if (row.status !== 'pending')
      throw new ApiError(409, 'APPROVAL_DECIDED', `The request is ${row.status} already`, {
        status: row.status,
      })
    // The requester may withdraw (deny) their own request; deciding anyone else's takes `approve`.
    if (row.requestedBy !== user.id) assertPermission(user, 'approve', 'Deciding an approval request')
    return row
  }

  private decide(
    row: ApprovalRequestRow,
    status: 'approved' | 'denied' | 'expired',
    userId: string | null,
    comment: string,
    runId: string | null,
  ): void {
    const changed = this.deps.db
      .update(approvalRequests)
      .set({ status, decidedBy: userId, decidedAt: this.deps.clock.now(), comment, runId })
      .where(and(eq(approvalRequests.id, row.id), eq(approvalRequests.status, 'pending')))
      .run().changes
    this.timers.get(row.id)?.()
    this.timers.delete(row.id)
    if (changed === 0) return
    if (status !== 'approved' && row.planRunId !== null) this.deps.runs.cancel(row.planRunId)
    this.deps.log.info(`approval ${row.id}: ${status}`)
  }

  private expireDue(): void {
    const due = this.deps.db
      .select()
      .from(approvalRequests)
      .where(
        and(eq(approvalRequests.status, 'pending'), lte(approvalRequests.expiresAt, this.deps.clock.now())),
      )
      .all()
    for (const row of due) this.decide(row, 'expired', null, 'not decided in time', null)
  }

  private arm(row: ApprovalRequestRow): void {
    if (this.stopped) return
    this.timers.set(
      row.id,
      this.deps.clock.setTimer(row.expiresAt, () => {
        this.timers.delete(row.id)
        this.expireDue()
      }),
    )
  }

  private governing(kind: JobKind, jobId: string, userId?: string | null): ApprovalRuleView[] {
    const own = this.rule(kind, jobId)
    const rules = own === null ? [] : [own]
    const byPolicy = this.policyRule(kind, jobId, userId)
    if (byPolicy !== null) rules.push(byPolicy)
    if (kind === 'collection') {
      try {
        const steps = this.deps.collections.steps(this.deps.collections.row(jobId))
        for (const graphId of new Set(steps.map((s) => s.graphId))) {
          const rule = this.rule('graph', graphId)
          if (rule !== null) rules.push(rule)
        }
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error
      }
    }
    return rules
  }

  /**
   * The rule the role policy of the run's user (a run nobody started: the job owner's) sets for the job:
   * plan review when it has sync nodes, expiry from the policy. The job's own rules are not involved, so
   * a copy of a graph is governed exactly as the original.
   */
  private policyRule(
    kind: JobKind,
    jobId: string,
    userId: string | null | undefined,
  ): ApprovalRuleView | null {
    if (this.deps.policies === undefined) return null
    const actor = userId ?? this.ownerOf(kind, jobId)
    const found = actor === null ? null : this.deps.policies.approvalFor(actor)
    if (found === null) return null
    if (found.approval.for === 'writes' && !this.jobWrites(kind, jobId)) return null
    const hours = found.approval.expiresHours ?? DEFAULT_EXPIRY_MINUTES / 60
    return { jobKind: kind, jobId, expiresAfterMinutes: hours * 60, reviewPlan: true }
  }

  /** Whether the graph, or any graph of the collection, has a destination or sync node. */
  private jobWrites(kind: JobKind, jobId: string): boolean {
    try {
      const graphIds =
        kind === 'graph'
          ? [jobId]
          : [...new Set(this.deps.collections.steps(this.deps.collections.row(jobId)).map((s) => s.graphId))]
      return graphIds.some((id) => this.writesDocument(this.deps.graphs.get(id).graph))
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false
      throw error
    }
  }

  private writesDocument(graph: unknown): boolean {
    const nodes = (graph as { nodes?: unknown } | null)?.nodes
    if (!Array.isArray(nodes)) return false
    return nodes.some((n) => {
      const type = (n as { type?: unknown } | null)?.type
      const category = typeof type === 'string' ? this.deps.catalog.get(type)?.category : undefined
      return category === 'destination' || category === 'sync'
    })
  }

  private ownerOf(kind: JobKind, jobId: string): string | null {
    try {
      return kind === 'graph'
        ? this.deps.graphs.row(jobId).createdBy
        : this.deps.collections.row(jobId).createdBy
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null
      throw error
    }
  }

  private jobName(kind: JobKind, jobId: string): string {
    return kind === 'graph' ? this.deps.graphs.row(jobId).name : this.deps.collections.row(jobId).name
  }

  private rows(
    filter: z.infer<typeof approvalsQuery> & { ownerId?: string | undefined },
  ): ApprovalRequestRow[] {
    const where: SQL[] = []
    if (filter.ownerId !== undefined) {
      const { db } = this.deps
      const ownGraphs = db.select({ id: graphs.id }).from(graphs).where(eq(graphs.createdBy, filter.ownerId))
      const ownCollections = db
        .select({ id: collections.id })
        .from(collections)
        .where(eq(collections.createdBy, filter.ownerId))
      where.push(
        or(
          eq(approvalRequests.requestedBy, filter.ownerId),
          and(eq(approvalRequests.jobKind, 'graph'), inArray(approvalRequests.jobId, ownGraphs)),
          and(eq(approvalRequests.jobKind, 'collection'), inArray(approvalRequests.jobId, ownCollections)),
        )!,
      )
    }
    if (filter.status !== undefined) where.push(eq(approvalRequests.status, filter.status))
    if (filter.jobKind !== undefined) where.push(eq(approvalRequests.jobKind, filter.jobKind))
    if (filter.jobId !== undefined) where.push(eq(approvalRequests.jobId, filter.jobId))
    return this.deps.db
      .select()
      .from(approvalRequests)
      .where(and(...where))
      .orderBy(desc(approvalRequests.requestedAt))
      .limit(filter.limit ?? 200)
      .all()
  }

  private row(id: string): ApprovalRequestRow {
    const row = this.deps.db.select().from(approvalRequests).where(eq(approvalRequests.id, id)).get()
    if (row === undefined) throw notFound('approval request', id)
    return row
  }

  private username(id: string | null): string | null {
    if (id === null) return null
    return this.deps.db.select({ u: users.username }).from(users).where(eq(users.id, id)).get()?.u ?? null
  }

  private view(row: ApprovalRequestRow): ApprovalView {
    return {
      id: row.id,
      jobKind: row.jobKind,
      jobId: row.jobId,
      jobName: row.jobName,
      status: row.status,
      trigger: row.trigger,
      requestedBy: row.requestedBy,
      requestedByName: this.username(row.requestedBy),
      requestedAt: row.requestedAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      params: JSON.parse(row.params) as Record<string, unknown>,
      planRunId: row.planRunId,
      decidedBy: row.decidedBy,
      decidedByName: this.username(row.decidedBy),
      decidedAt: row.decidedAt?.toISOString() ?? null,
      comment: row.comment,
      runId: row.runId,
    }
  }
}

function pendingError(existing: ApprovalView): ApiError {
  return new ApiError(
    409,
    'APPROVAL_PENDING',
    `A request to run this ${existing.jobKind} already waits for approval (${existing.id})`,
    { approvalId: existing.id },
  )
}

function ruleViewOf(row: typeof approvalRules.$inferSelect): ApprovalRuleView {
  return {
    jobKind: row.jobKind,
    jobId: row.jobId,
    expiresAfterMinutes: row.expiresAfterMinutes,
    reviewPlan: row.reviewPlan,
  }
}
