import { createNodeWebSocket } from '@hono/node-ws'
import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { z } from 'zod'
import { approvalDocs, approvalRoutes, approvalRuleRoutes } from './approvals/routes.ts'
import { authorize } from './auth/guards.ts'
import { requireSession } from './auth/middleware.ts'
import { authDocs, authRoutes } from './auth/routes.ts'
import {
  collectionDocs,
  collectionRoutes,
  collectionRunRoutes,
  collectionTemplateRoutes,
} from './collections/routes.ts'
import { connectionDocs, connectionRoutes } from './connections/routes.ts'
import { dashboardDocs, dashboardRoutes } from './dashboard/routes.ts'
import { serveEditor } from './editor-static/serve.ts'
import { fileDocs, fileRoutes } from './files/routes.ts'
import { graphDocs, graphRoutes } from './graphs/routes.ts'
import { historyDocs, historyRoutes } from './history/routes.ts'
import type { AppEnv } from './http/env.ts'
import { ApiError, toErrorResponse } from './http/errors.ts'
import { nodeTypeDocs, nodeTypeRoutes } from './node-types/routes.ts'
import { notificationDocs, notificationRoutes } from './notifications/routes.ts'
import { buildOpenApi, type RouteDoc } from './openapi/document.ts'
import { policyDocs, policyRoutes } from './policies/routes.ts'
import { policyIssues } from './policies/service.ts'
import { previewDocs, previewRoutes } from './preview/routes.ts'
import { runDocs, runRoutes } from './runs/routes.ts'
import { graphNextRun, scheduleDocs, scheduleRoutes, withNextRunDocs } from './schedules/routes.ts'
import type { Services } from './services.ts'
import { templateDocs, templateRoutes } from './templates/routes.ts'
import { userDocs, userRoutes } from './users/routes.ts'
import { UserStore } from './users/store.ts'
import { wsHandler } from './ws/routes.ts'

export const VERSION = '0.1.0'

const healthReply = z.object({ ok: z.boolean(), version: z.string() })
const baseDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/health',
    summary: 'Liveness; answers without a session',
    response: healthReply,
    public: true,
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    response: z.record(z.string(), z.unknown()),
  },
]
const allDocs = [
  ...baseDocs,
  ...authDocs,
  ...userDocs,
  ...nodeTypeDocs,
  ...withNextRunDocs(graphDocs),
  ...previewDocs,
  ...runDocs,
  ...templateDocs,
  ...connectionDocs,
  ...fileDocs,
  ...collectionDocs,
  ...scheduleDocs,
  ...notificationDocs,
  ...approvalDocs,
  ...historyDocs,
  ...dashboardDocs,
  ...policyDocs,
]

/** A browser page on another origin may not drive the API with the user's cookie (CSRF, cross-site WebSocket). */
const sameOrigin = createMiddleware(async (c, next) => {
  const origin = c.req.header('origin')
  const unsafe = c.req.method !== 'GET' && c.req.method !== 'HEAD'
  const upgrade = c.req.header('upgrade')?.toLowerCase() === 'websocket'
  if (origin !== undefined && (unsafe || upgrade)) {
    let host: string | undefined
    try {
      host = new URL(origin).host
    } catch {
      host = undefined
    }
    if (host !== c.req.header('host'))
      throw new ApiError(403, 'CROSS_ORIGIN', 'Requests from another origin are refused')
  }
  await next()
})

/** The Hono app: every /api route, the WebSocket hub at /api/ws and, when built, the editor. */
export function createApp(services: Services) {
  const app = new Hono<AppEnv>()
  const nodeWs = createNodeWebSocket({ app })
  const log = (m: string) => services.log.error(m)
  let openapi: Record<string, unknown> | undefined
  const routes = app
    .onError((error, c) => toErrorResponse(error, c, log))
    .notFound((c) =>
      c.json({ error: { code: 'NOT_FOUND', message: `No route ${c.req.method} ${c.req.path}` } }, 404),
    )
    .use('/api/*', sameOrigin)
    .use('/api/*', requireSession(services.db))
    .use('/api/*', authorize({ db: services.db, catalog: services.env.catalog }))
    .get('/api/health', (c) => c.json({ ok: true, version: VERSION }))
    .get('/api/openapi.json', (c) => c.json((openapi ??= buildOpenApi(allDocs, { version: VERSION }))))
    .route(
      '/api/auth',
      authRoutes({ db: services.db, limiter: services.limiter, passwordCost: services.passwordCost }),
    )
    .route('/api/users', userRoutes(new UserStore(services.db, services.passwordCost)))
    .route('/api/node-types', nodeTypeRoutes(services.env.catalog))
    .use('/api/graphs', graphNextRun(services.scheduler))
    .use('/api/graphs/*', graphNextRun(services.scheduler))
    .route('/api/graphs', graphRoutes(services.graphs))
    .route(
      '/api',
      previewRoutes(services.env, {
        timeoutMs: services.options.previewTimeoutMs ?? 30_000,
        policyIssues: (graph, params, user) =>
          policyIssues(services.policies.violations(graph, params, user.id)),
      }),
    )
    .route('/api/runs', runRoutes(services.runs, services.graphs, services.approvals))
    .route(
      '/api/templates',
      templateRoutes({ db: services.db, catalog: services.env.catalog, graphs: services.graphs }),
    )
    .route('/api/connections', connectionRoutes(services.connections, services.testConnection))
    .route(
      '/api/files',
      fileRoutes({
        filesDir: services.filesDir,
        files: services.env.files,
        maxUploadBytes: services.options.maxUploadBytes ?? 1024 ** 3,
      }),
    )
    .route('/api/collections', collectionRoutes(jobDeps(services)))
    .route('/api/collection-runs', collectionRunRoutes(services.collectionRuns))
    .route('/api/collection-templates', collectionTemplateRoutes(jobDeps(services)))
    .route('/api/schedules', scheduleRoutes(services.scheduler))
    .route('/api/notifications', notificationRoutes({ store: services.notifications, jobs: services.jobs }))
    .route('/api/approval-rules', approvalRuleRoutes(services.approvals))
    .route('/api/approvals', approvalRoutes(services.approvals, services.runs))
    .route(
      '/api',
      historyRoutes({
        store: services.history,
        retentionDays: services.options.historyRetentionDays ?? 90,
      }),
    )
    .route('/api/dashboard', dashboardRoutes(services))
    .route('/api/policies', policyRoutes(services.policies))
    .get('/api/ws', wsHandler(nodeWs.upgradeWebSocket, services.hub, services.db))
  if (services.options.editorDir !== undefined) serveEditor(app, services.options.editorDir)
  return { app: routes, injectWebSocket: nodeWs.injectWebSocket }
}

const jobDeps = (s: Services) => ({
  store: s.collections,
  runner: s.collectionRuns,
  scheduler: s.scheduler,
  approvals: s.approvals,
})

/** The typed API, for `hc<AppType>()` clients. */
export type AppType = ReturnType<typeof createApp>['app']
