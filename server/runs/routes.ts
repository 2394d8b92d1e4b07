import { Hono } from 'hono'
import type { ApprovalService } from '../approvals/service.ts'
import { z } from 'zod'
import {
  edgeStatsSchema,
  nodeStatsSchema,
  runRecordSchema,
  serializedErrorSchema,
  storedRunStatusSchema,
} from '../../engine/ws-messages.ts'
import { ownerFilter } from '../auth/permissions.ts'
import { graphDocument } from '../graphs/document.ts'
import type { GraphStore } from '../graphs/store.ts'
import type { AppEnv } from '../http/env.ts'
import { validate } from '../http/validate.ts'
import { component, type RouteDoc } from '../openapi/document.ts'
import type { RunManager } from './manager.ts'
import { planCsv, planQuery, planViewSchema, runModes } from './plans.ts'

const params = z.record(z.string(), z.unknown()).optional()
/** `plan` computes the sync nodes' plans and writes nothing to them; apply one with POST /api/runs/:id/apply. */
const mode = z.enum(['run', 'plan']).optional()
export const startRunBody = z.union([
  z.object({ graph: graphDocument, params, mode }).strict(),
  z.object({ graphId: z.string().min(1), params, mode }).strict(),
])
export const listRunsQuery = z.object({
  graphId: z.string().optional(),
  status: storedRunStatusSchema.optional(),
  /** Created at or after this instant (ISO 8601). */
  from: z.iso.datetime({ offset: true }).optional(),
  /** Created before this instant (ISO 8601). */
  to: z.iso.datetime({ offset: true }).optional(),
  /** Comma-separated run modes, e.g. `run,apply` (the runs that write). */
  mode: z
    .string()
    .refine((s) => s.split(',').every((m) => (runModes as readonly string[]).includes(m)), {
      message: `modes are ${runModes.join(', ')}`,
    })
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
})
const rejectedQuery = z.object({
  nodeId: z.string().optional(),
  /** Rows per node (the server keeps the first 1,000 of each). */
  limit: z.coerce.number().int().min(1).max(1000).optional(),
})

const serverRunRecord = runRecordSchema.extend({
  mode: z.enum(runModes),
  planRunId: z.string().nullable(),
})
component(serverRunRecord, 'Run')
component(planViewSchema, 'Plan')
component(nodeStatsSchema, 'NodeStats')
component(edgeStatsSchema, 'EdgeStats')
component(serializedErrorSchema, 'SerializedError')
const runListItem = serverRunRecord.pick({
  id: true,
  graphId: true,
  graphName: true,
  status: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  durationMs: true,
  mode: true,
  planRunId: true,
})

export const runDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/api/runs',
    summary:
      'Start a run of a graph document or a stored graph; it runs off the request path. 403 POLICY_VIOLATION (details.violations) when the graph breaks the role policy of the user; 202 with a pending approval request when the graph or the user’s role policy requires approval; 403 APPROVAL_REQUIRED for a graph document the role policy requires approval for (save it first)',
    body: startRunBody,
    response: z.union([
      z.object({ id: z.string() }),
      z
        .object({
          approvalId: z.string(),
          status: z.literal('pending-approval'),
          id: z.string().optional().describe('Plan mode: the plan run the approver reviews'),
        })
        .describe('The stored graph needs approval: a pending request, GET /api/approvals/{approvalId}'),
    ]),
    status: 202,
  },
  {
    method: 'get',
    path: '/api/runs',
    summary: 'Runs, newest first',
    query: listRunsQuery,
    response: z.object({ runs: z.array(runListItem) }),
  },
  {
    method: 'get',
    path: '/api/runs/:id',
    summary: 'A run with per-node and per-edge counters and errors',
    response: serverRunRecord,
  },
  {
    method: 'get',
    path: '/api/runs/:id/plan',
    summary:
      'The plans a plan run stored (counts per action, threshold verdict, entries with before/after), or for an apply run the plan with each object’s outcome; filter by node, action and text, page with offset/limit; format=csv exports the entries',
    query: planQuery,
    response: planViewSchema,
  },
  {
    method: 'post',
    path: '/api/runs/:id/apply',
    summary:
      'Apply exactly the plan a plan run stored, as a new run; 409 when the graph changed since, a threshold is exceeded, or the plan was applied already. When the graph needs approval, a pending request to apply it instead',
    response: z.union([
      z.object({ id: z.string() }),
      z.object({ approvalId: z.string(), status: z.literal('pending-approval'), id: z.string().optional() }),
    ]),
    status: 202,
  },
  {
    method: 'post',
    path: '/api/runs/:id/cancel',
    summary: 'Cancel a queued or running run',
    response: z.object({ cancelled: z.boolean() }),
  },
  {
    method: 'get',
    path: '/api/runs/:id/rejected',
    summary:
      'The first rows each node rejected, with `_error: {code, message}` (the server keeps 1,000 per node; `limit` takes fewer), live while the run goes',
    query: rejectedQuery,
    response: z.object({ rows: z.array(z.record(z.string(), z.unknown())) }),
  },
]

export function runRoutes(manager: RunManager, graphs: GraphStore, approvals?: ApprovalService) {
  return new Hono<AppEnv>()
    .post('/', validate('json', startRunBody), (c) => {
      const body = c.req.valid('json')
      const user = c.get('user').id
      // Inline documents cannot wait for an approver; a role whose policy requires approval saves first.
      if ('graph' in body && body.mode !== 'plan') approvals?.assertInlineAllowed(user, body.graph)
      if (!('graph' in body) && approvals?.requires('graph', body.graphId, user)) {
        const request = { kind: 'graph', jobId: body.graphId, userId: user, trigger: 'manual' } as const
        return c.json(approvals.request({ ...request, params: body.params, mode: body.mode }), 202)
      }
      const id =
        'graph' in body
          ? manager.submit({ graph: body.graph, params: body.params, userId: user, mode: body.mode })
          : manager.submit({
              graph: graphs.get(body.graphId).graph,
              graphId: body.graphId,
              params: body.params,
              userId: user,
              mode: body.mode,
            })
      return c.json({ id }, 202)
    })
    .get('/:id/plan', validate('query', planQuery), (c) => {
      const query = c.req.valid('query')
      const view = manager.plan(c.req.param('id'), query)
      if (query.format !== 'csv') return c.json(view)
      return c.body(planCsv(view.nodes), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="plan-${view.runId}.csv"`,
      })
    })
    .post('/:id/apply', (c) => {
      const planRun = manager.get(c.req.param('id'))
      if (planRun.mode === 'plan' && planRun.graphId === null)
        approvals?.assertInlineAllowed(c.get('user').id)
      if (
        planRun.mode === 'plan' &&
        planRun.graphId !== null &&
        approvals?.requires('graph', planRun.graphId, c.get('user').id)
      ) {
        const request = { kind: 'graph', jobId: planRun.graphId, planRunId: planRun.id } as const
        return c.json(
          approvals.request({ ...request, userId: c.get('user').id, trigger: 'manual', params: {} }),
          202,
        )
      }
      return c.json({ id: manager.submitApply(c.req.param('id'), c.get('user').id) }, 202)
    })
    .get('/', validate('query', listRunsQuery), (c) =>
      c.json({ runs: manager.list({ ...c.req.valid('query'), ownerId: ownerFilter(c.get('user')) }) }),
    )
    .get('/:id', (c) => c.json(manager.get(c.req.param('id'))))
    .post('/:id/cancel', (c) => c.json({ cancelled: manager.cancel(c.req.param('id')) }))
    .get('/:id/rejected', validate('query', rejectedQuery), (c) =>
      c.json({
        rows: manager.rejected(
          c.req.param('id'),
          c.req.valid('query').nodeId,
          c.req.valid('query').limit,
        ) as Record<string, unknown>[],
      }),
    )
}
