import { eq } from 'drizzle-orm'
import type { Context, MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import { TrieRouter } from 'hono/router/trie-router'
import { z } from 'zod'
import type { Catalog } from '../../engine/index.ts'
import type { Db } from '../db/client.ts'
import {
  approvalRequests,
  collectionRuns,
  collections,
  collectionTemplates,
  graphs,
  notificationRules,
  runs,
  templates,
  type JobKind,
} from '../db/schema.ts'
import type { AppEnv, SessionUser } from '../http/env.ts'
import { ApiError, notFound } from '../http/errors.ts'
import { assertCanAccess, assertPermission, canAccess, type Permission } from './permissions.ts'

/**
 * Who may call which /api route: one entry per route (method + Hono path), checked before the route's
 * handler. `need` are role permissions (403 naming the missing one); `check` applies owner-only access
 * to the object the path or body names (404 when the user may not see it); `visible` narrows a list
 * the route answers to what the user may see. A route without an entry answers 403 (fail closed);
 * server/auth/security-review.test.ts checks that every route the app registers has one.
 */
export interface RouteGuard {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  need?: Permission[]
  check?: (g: GuardContext) => void | Promise<void>
  /** The list field of the JSON reply and which of its items the user may see. */
  visible?: { field: string; item: (g: GuardContext, item: Record<string, unknown>) => boolean }
}

export interface GuardContext {
  c: Context<AppEnv>
  user: SessionUser
  db: Db
  catalog: Catalog
  param(name: string): string
  /** The JSON body, or undefined when it is not a JSON object (the route's validator answers 400 then). */
  body(): Promise<Record<string, unknown> | undefined>
}

const WRITING_CATEGORIES = new Set(['destination', 'sync'])
/** The media types Hono's JSON validator parses (hono/validator): application/json, application/*+json. */
const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i

// ---- ownership lookups (owner: the user who created the object; null: the scheduler or unknown) ----

function ownerOf(db: Db, what: 'graph' | 'run' | 'collection' | 'collection run', id: string) {
  const row =
    what === 'graph'
      ? db.select({ owner: graphs.createdBy }).from(graphs).where(eq(graphs.id, id)).get()
      : what === 'run'
        ? db.select({ owner: runs.createdBy }).from(runs).where(eq(runs.id, id)).get()
        : what === 'collection'
          ? db.select({ owner: collections.createdBy }).from(collections).where(eq(collections.id, id)).get()
          : db
              .select({ owner: collectionRuns.createdBy })
              .from(collectionRuns)
              .where(eq(collectionRuns.id, id))
              .get()
  if (row === undefined) throw notFound(what, id)
  return row.owner
}

function visible(g: GuardContext, what: 'graph' | 'run' | 'collection' | 'collection run', id: string) {
  if (what === 'run') {
    if (!canViewRun(g.db, g.user, id)) throw notFound('run', id)
    return
  }
  if (what === 'collection run') {
    const row = g.db
      .select({ owner: collectionRuns.createdBy, collectionId: collectionRuns.collectionId })
      .from(collectionRuns)
      .where(eq(collectionRuns.id, id))
      .get()
    if (row === undefined) throw notFound(what, id)
    if (canAccess(g.user, row.owner) || ownsJob(g.db, g.user, 'collection', row.collectionId)) return
    throw notFound(what, id)
  }
  assertCanAccess(g.user, { ownerId: ownerOf(g.db, what, id) }, what, id)
}

function ownsJob(db: Db, user: SessionUser, kind: JobKind, jobId: string | null): boolean {
  if (jobId === null) return false
  const table = kind === 'graph' ? graphs : collections
  return db.select({ owner: table.createdBy }).from(table).where(eq(table.id, jobId)).get()?.owner === user.id
}

/**
 * A run is the user's when they started it or it ran their graph (a scheduled run has no starter),
 * or when the user may see everything. Also what the WebSocket asks before a subscription.
 */
export function canViewRun(db: Db, user: SessionUser, runId: string): boolean {
  const row = db
    .select({ owner: runs.createdBy, graphId: runs.graphId })
    .from(runs)
    .where(eq(runs.id, runId))
    .get()
  if (row === undefined) return false
  return canAccess(user, row.owner) || ownsJob(db, user, 'graph', row.graphId)
}

const stepsSchema = z.array(z.object({ graphId: z.string() }).loose())

/** Every graph a collection's steps name must be visible too: running it runs them. */
function visibleSteps(g: GuardContext, steps: unknown): void {
  const parsed = stepsSchema.safeParse(steps)
  if (!parsed.success) return
  for (const graphId of new Set(parsed.data.map((s) => s.graphId))) {
    const row = g.db.select({ owner: graphs.createdBy }).from(graphs).where(eq(graphs.id, graphId)).get()
    // A step naming no graph at all is the store's 400 to give; one the user may not see is a 404.
    if (row !== undefined) assertCanAccess(g.user, { ownerId: row.owner }, 'graph', graphId)
  }
}

function visibleCollectionWithSteps(g: GuardContext, id: string): void {
  visible(g, 'collection', id)
  const row = g.db.select({ steps: collections.steps }).from(collections).where(eq(collections.id, id)).get()
  if (row !== undefined) visibleSteps(g, JSON.parse(row.steps))
}

/** 404 unless the user may see the job (and, for a collection that will run, every graph it names). */
function visibleJob(g: GuardContext, kind: string, jobId: string, withSteps = false): void {
  if (kind !== 'graph' && kind !== 'collection') return // the route validator's 400
  if (!jobVisible(g, kind, jobId)) throw notFound(kind, jobId)
  if (kind === 'collection' && withSteps) visibleCollectionWithSteps(g, jobId)
}

/** A job the user may see; one that no longer exists (its schedule, rules and events remain) needs view-any. */
function jobVisible(g: GuardContext, kind: unknown, jobId: unknown): boolean {
  if (typeof jobId !== 'string' || (kind !== 'graph' && kind !== 'collection')) return false
  try {
    return canAccess(g.user, ownerOf(g.db, kind as JobKind, jobId))
  } catch {
    return canAccess(g.user, null)
  }
}

function ownedTemplate(g: GuardContext, table: 'template' | 'collection template', id: string): void {
  const row =
    table === 'template'
      ? g.db.select({ owner: templates.createdBy }).from(templates).where(eq(templates.id, id)).get()
      : g.db
          .select({ owner: collectionTemplates.createdBy })
          .from(collectionTemplates)
          .where(eq(collectionTemplates.id, id))
          .get()
  if (row === undefined) throw notFound(table, id)
  // Templates are a shared gallery: everyone reads them; changing one is for its author or view-any.
  if (!canAccess(g.user, row.owner))
    throw new ApiError(
      403,
      'FORBIDDEN',
      `Only its author (or a role with "view-any") may change this ${table}`,
      {
        permission: 'view-any',
        role: g.user.role,
      },
    )
}

function hasWritingNode(catalog: Catalog, graph: unknown): boolean {
  const nodes = (graph as { nodes?: unknown } | null)?.nodes
  if (!Array.isArray(nodes)) return false
  return nodes.some((n) => {
    const type = (n as { type?: unknown } | null)?.type
    return typeof type === 'string' && WRITING_CATEGORIES.has(catalog.get(type)?.category ?? '')
  })
}

/**
 * POST /api/runs. A stored graph: `run` and access to the graph. An inline document (`{graph}`):
 * `create` and `run`; and since approval rules belong to stored graphs, an inline document that writes
 * (a destination or sync node) may only run in plan mode unless the user also holds `approve`.
 */
async function checkStartRun(g: GuardContext): Promise<void> {
  const body = await g.body()
  if (body === undefined) return
  if (typeof body.graphId === 'string') return visible(g, 'graph', body.graphId)
  if (!('graph' in body)) return
  assertPermission(g.user, 'create', 'Running a graph that is not saved')
  if (body.mode !== 'plan' && hasWritingNode(g.catalog, body.graph))
    assertPermission(
      g.user,
      'approve',
      'Running an unsaved graph that writes (save it and run it by id, or run it in plan mode)',
    )
}

/** POST /api/runs/:id/apply: the plan run must be visible; a plan of an unsaved graph applies like an inline write. */
function checkApply(g: GuardContext): void {
  const id = g.param('id')
  visible(g, 'run', id)
  const row = g.db.select({ graphId: runs.graphId }).from(runs).where(eq(runs.id, id)).get()
  if (row !== undefined && row.graphId === null) {
    assertPermission(g.user, 'create', 'Applying the plan of an unsaved graph')
    assertPermission(g.user, 'approve', 'Applying the plan of an unsaved graph')
  }
}

/**
 * 409 while a run request of the job waits for an approver (or, for a graph, one of a collection that
 * runs it): approving runs the job as it is then, so it must be what the approver was asked about.
 */
function notPendingApproval(g: GuardContext, kind: JobKind, jobId: string): void {
  for (const row of g.db
    .select({ id: approvalRequests.id, kind: approvalRequests.jobKind, jobId: approvalRequests.jobId })
    .from(approvalRequests)
    .where(eq(approvalRequests.status, 'pending'))
    .all()) {
    let held = row.kind === kind && row.jobId === jobId
    if (!held && kind === 'graph' && row.kind === 'collection') {
      const steps = g.db
        .select({ steps: collections.steps })
        .from(collections)
        .where(eq(collections.id, row.jobId))
        .get()?.steps
      const parsed = stepsSchema.safeParse(steps === undefined ? [] : JSON.parse(steps))
      held = parsed.success && parsed.data.some((s) => s.graphId === jobId)
    }
    if (held)
      throw new ApiError(
        409,
        'APPROVAL_PENDING',
        `A run request waits for an approver (approval "${row.id}"); change the ${kind} once it is decided or withdrawn`,
        { approvalId: row.id },
      )
  }
}

function visibleApproval(g: GuardContext): void {
  const id = g.param('id')
  const row = g.db
    .select({
      owner: approvalRequests.requestedBy,
      kind: approvalRequests.jobKind,
      jobId: approvalRequests.jobId,
    })
    .from(approvalRequests)
    .where(eq(approvalRequests.id, id))
    .get()
  if (row === undefined) throw notFound('approval request', id)
  // The requester's, or one about the user's own job (a scheduled request has no requester).
  if (!canAccess(g.user, row.owner) && !ownsJob(g.db, g.user, row.kind, row.jobId))
    throw notFound('approval request', id)
}

function visibleNotificationRule(g: GuardContext): void {
  const id = g.param('id')
  const row = g.db
    .select({ kind: notificationRules.jobKind, jobId: notificationRules.jobId })
    .from(notificationRules)
    .where(eq(notificationRules.id, id))
    .get()
  if (row === undefined) throw notFound('notification rule', id)
  if (!jobVisible(g, row.kind, row.jobId)) throw notFound('notification rule', id)
}

const id =
  (what: 'graph' | 'run' | 'collection' | 'collection run') =>
  (g: GuardContext): void =>
    visible(g, what, g.param('id'))
const job =
  (withSteps = false) =>
  (g: GuardContext): void =>
    visibleJob(g, g.param('kind'), g.param('jobId'), withSteps)
const bodySteps = async (g: GuardContext) => visibleSteps(g, (await g.body())?.steps)
const byId = (g: GuardContext, item: Record<string, unknown>, what: 'graph' | 'collection') => {
  if (typeof item.id !== 'string') return false
  try {
    return canAccess(g.user, ownerOf(g.db, what, item.id))
  } catch {
    return false
  }
}
const ofJob = (_g: GuardContext, item: Record<string, unknown>) => jobVisible(_g, item.jobKind, item.jobId)

/** The table. A route not listed here answers 403 to everyone (security-review.test.ts keeps every route listed). */
export const routeGuards: RouteGuard[] = [
  // Any signed-in user.
  { method: 'GET', path: '/api/openapi.json' },
  { method: 'POST', path: '/api/auth/logout' },
  { method: 'GET', path: '/api/auth/me' },
  { method: 'POST', path: '/api/auth/password' },
  { method: 'GET', path: '/api/node-types' },
  // The WebSocket: each subscription is checked against the run (server/ws/routes.ts).
  { method: 'GET', path: '/api/ws' },
  { method: 'POST', path: '/api/validate' },
  // Users (admins).
  { method: 'GET', path: '/api/users', need: ['manage-users'] },
  { method: 'POST', path: '/api/users', need: ['manage-users'] },
  { method: 'PUT', path: '/api/users/:id', need: ['manage-users'] },
  { method: 'DELETE', path: '/api/users/:id', need: ['manage-users'] },
  { method: 'POST', path: '/api/users/:id/password', need: ['manage-users'] },
  // Graphs and their revisions: owner-only.
  {
    method: 'GET',
    path: '/api/graphs',
    visible: { field: 'graphs', item: (g, item) => byId(g, item, 'graph') },
  },
  { method: 'POST', path: '/api/graphs', need: ['create'] },
  { method: 'GET', path: '/api/graphs/:id', check: id('graph') },
  {
    method: 'PUT',
    path: '/api/graphs/:id',
    need: ['edit'],
    check: (g) => {
      visible(g, 'graph', g.param('id'))
      notPendingApproval(g, 'graph', g.param('id'))
    },
  },
  { method: 'DELETE', path: '/api/graphs/:id', need: ['delete'], check: id('graph') },
  { method: 'POST', path: '/api/graphs/:id/duplicate', need: ['create'], check: id('graph') },
  { method: 'GET', path: '/api/graphs/:id/revisions', check: id('graph') },
  { method: 'GET', path: '/api/graphs/:id/revisions/:revision', check: id('graph') },
  // Preview runs the nodes a node needs (reads its sources).
  { method: 'POST', path: '/api/preview', need: ['run'] },
  // Runs: owner-only (the list is narrowed by the route).
  { method: 'POST', path: '/api/runs', need: ['run'], check: checkStartRun },
  { method: 'GET', path: '/api/runs' },
  { method: 'GET', path: '/api/runs/:id', check: id('run') },
  { method: 'GET', path: '/api/runs/:id/plan', check: id('run') },
  { method: 'GET', path: '/api/runs/:id/rejected', check: id('run') },
  { method: 'POST', path: '/api/runs/:id/apply', need: ['run'], check: checkApply },
  { method: 'POST', path: '/api/runs/:id/cancel', need: ['run'], check: id('run') },
  // Templates: a shared gallery, changed by their authors.
  { method: 'GET', path: '/api/templates' },
  { method: 'POST', path: '/api/templates', need: ['create'] },
  { method: 'GET', path: '/api/templates/:id' },
  {
    method: 'DELETE',
    path: '/api/templates/:id',
    need: ['delete'],
    check: (g) => ownedTemplate(g, 'template', g.param('id')),
  },
  { method: 'POST', path: '/api/templates/:id/instantiate', need: ['create'] },
  // Connections: shared settings (no secret is ever returned); testing one contacts its server.
  { method: 'GET', path: '/api/connections' },
  { method: 'POST', path: '/api/connections', need: ['create'] },
  { method: 'GET', path: '/api/connections/:id' },
  { method: 'PUT', path: '/api/connections/:id', need: ['edit'] },
  { method: 'DELETE', path: '/api/connections/:id', need: ['delete'] },
  { method: 'POST', path: '/api/connections/:id/test', need: ['run'] },
  // Files: the shared files folder.
  { method: 'GET', path: '/api/files' },
  { method: 'PUT', path: '/api/files/:name{.+}', need: ['create'] },
  { method: 'GET', path: '/api/files/:name{.+}' },
  { method: 'DELETE', path: '/api/files/:name{.+}', need: ['delete'] },
  // Collections: owner-only; every graph a collection names must be visible to whoever changes or runs it.
  {
    method: 'GET',
    path: '/api/collections',
    visible: { field: 'collections', item: (g, item) => byId(g, item, 'collection') },
  },
  { method: 'POST', path: '/api/collections', need: ['create'], check: bodySteps },
  { method: 'GET', path: '/api/collections/:id', check: id('collection') },
  {
    method: 'PUT',
    path: '/api/collections/:id',
    need: ['edit'],
    check: async (g) => {
      visible(g, 'collection', g.param('id'))
      await bodySteps(g)
      notPendingApproval(g, 'collection', g.param('id'))
    },
  },
  { method: 'DELETE', path: '/api/collections/:id', need: ['delete'], check: id('collection') },
  {
    method: 'POST',
    path: '/api/collections/:id/run',
    need: ['run'],
    check: (g) => visibleCollectionWithSteps(g, g.param('id')),
  },
  { method: 'GET', path: '/api/collections/:id/runs', check: id('collection') },
  { method: 'POST', path: '/api/collections/:id/template', need: ['create'], check: id('collection') },
  { method: 'GET', path: '/api/collection-runs/:id', check: id('collection run') },
  { method: 'POST', path: '/api/collection-runs/:id/cancel', need: ['run'], check: id('collection run') },
  { method: 'GET', path: '/api/collection-templates' },
  { method: 'POST', path: '/api/collection-templates', need: ['create'], check: bodySteps },
  { method: 'GET', path: '/api/collection-templates/:id' },
  {
    method: 'DELETE',
    path: '/api/collection-templates/:id',
    need: ['delete'],
    check: (g) => ownedTemplate(g, 'collection template', g.param('id')),
  },
  {
    method: 'POST',
    path: '/api/collection-templates/:id/instantiate',
    need: ['create'],
    check: (g) => {
      const row = g.db
        .select({ steps: collectionTemplates.steps })
        .from(collectionTemplates)
        .where(eq(collectionTemplates.id, g.param('id')))
        .get()
      if (row !== undefined) visibleSteps(g, JSON.parse(row.steps))
    },
  },
  // Schedules and notification rules are a job's operational settings: `run` and access to the job.
  { method: 'GET', path: '/api/schedules', visible: { field: 'schedules', item: ofJob } },
  { method: 'GET', path: '/api/schedules/:kind/:jobId', check: job() },
  { method: 'PUT', path: '/api/schedules/:kind/:jobId', need: ['run'], check: job(true) },
  { method: 'DELETE', path: '/api/schedules/:kind/:jobId', need: ['run'], check: job() },
  { method: 'GET', path: '/api/schedules/:kind/:jobId/events', check: job() },
  { method: 'GET', path: '/api/notifications/settings' },
  { method: 'PUT', path: '/api/notifications/settings', need: ['manage-users'] },
  { method: 'GET', path: '/api/notifications/rules', visible: { field: 'rules', item: ofJob } },
  {
    method: 'POST',
    path: '/api/notifications/rules',
    need: ['run'],
    check: async (g) => {
      const body = await g.body()
      if (typeof body?.jobKind === 'string' && typeof body.jobId === 'string')
        visibleJob(g, body.jobKind, body.jobId)
    },
  },
  { method: 'DELETE', path: '/api/notifications/rules/:id', need: ['run'], check: visibleNotificationRule },
  { method: 'GET', path: '/api/notifications/deliveries', visible: { field: 'deliveries', item: ofJob } },
  // Approval rules decide who must wait for an approver: changing one takes `approve` and `edit`.
  { method: 'GET', path: '/api/approval-rules', visible: { field: 'rules', item: ofJob } },
  { method: 'GET', path: '/api/approval-rules/:kind/:jobId', check: job() },
  { method: 'PUT', path: '/api/approval-rules/:kind/:jobId', need: ['approve', 'edit'], check: job() },
  { method: 'DELETE', path: '/api/approval-rules/:kind/:jobId', need: ['approve', 'edit'], check: job() },
  // Approval requests: the requester's own, or all with view-any (the list is narrowed by the route).
  { method: 'GET', path: '/api/approvals' },
  { method: 'GET', path: '/api/approvals/:id', check: visibleApproval },
  { method: 'GET', path: '/api/approvals/:id/plan', check: visibleApproval },
  { method: 'POST', path: '/api/approvals/:id/approve', need: ['approve'], check: visibleApproval },
  // The requester may withdraw without `approve`; the service checks that.
  { method: 'POST', path: '/api/approvals/:id/deny', check: visibleApproval },
  // Policies (issue 8 point 6): everyone reads them; administration changes them.
  { method: 'GET', path: '/api/policies' },
  { method: 'GET', path: '/api/policies/:role' },
  { method: 'PUT', path: '/api/policies/:role', need: ['manage-users'] },
  { method: 'DELETE', path: '/api/policies/:role', need: ['manage-users'] },
  // Installation-wide views.
  { method: 'GET', path: '/api/history', need: ['view-any'] },
  { method: 'GET', path: '/api/history.csv', need: ['view-any'] },
  { method: 'GET', path: '/api/dashboard', need: ['view-any'] },
]

/**
 * One middleware for /api/*, after the session: finds the route's guard (Hono's trie router, so the
 * same paths match as the routes'), checks permissions and access, and narrows list replies.
 */
export function authorize(deps: { db: Db; catalog: Catalog }): MiddlewareHandler<AppEnv> {
  const router = new TrieRouter<RouteGuard>()
  for (const guard of routeGuards) router.add(guard.method, guard.path, guard)
  return async (c, next) => {
    const user = c.get('user') as SessionUser | undefined
    if (user === undefined) return next()
    // The route that will answer (not middleware, not the editor's catch-all); none: the 404 handler's.
    const handler = matchedRoutes(c).find((r) => r.method !== 'ALL' && r.path !== '*' && r.path !== '/*')
    if (handler === undefined) return next()
    // Fail closed: a route whose own method and path have no entry answers 403, so a new route is never open.
    const matched = router
      .match(handler.method, c.req.path)[0]
      .find(([guard]) => guard.method === handler.method && guard.path === handler.path)
    if (matched === undefined)
      throw new ApiError(
        403,
        'FORBIDDEN',
        `${c.req.method} ${handler.path} has no access rule (server/auth/guards.ts), so nobody may call it`,
      )
    const [guard, params] = matched as [RouteGuard, Record<string, string>]
    const g: GuardContext = {
      c,
      user,
      db: deps.db,
      catalog: deps.catalog,
      param: (name) => params[name] ?? '',
      body: async () => {
        // Exactly the bodies the route's JSON validator reads, so no media type skips a check.
        const media = (c.req.header('content-type') ?? '').split(';')[0]!.trim()
        if (!JSON_MEDIA.test(media)) return undefined
        try {
          const body = (await c.req.json()) as unknown
          return typeof body === 'object' && body !== null && !Array.isArray(body)
            ? (body as Record<string, unknown>)
            : undefined
        } catch {
          return undefined
        }
      },
    }
    for (const permission of guard.need ?? []) assertPermission(user, permission)
    await guard.check?.(g)
    await next()
    if (guard.visible === undefined || c.res.status !== 200) return
    if (!(c.res.headers.get('content-type') ?? '').includes('application/json')) return
    const reply = (await c.res.clone().json()) as Record<string, unknown>
    const items = reply[guard.visible.field]
    if (!Array.isArray(items)) return
    const { item } = guard.visible
    const kept = items.filter(
      (i) => typeof i === 'object' && i !== null && item(g, i as Record<string, unknown>),
    )
    if (kept.length === items.length) return
    const headers = new Headers(c.res.headers)
    headers.delete('content-length')
    c.res = new Response(JSON.stringify({ ...reply, [guard.visible.field]: kept }), { status: 200, headers })
  }
}
