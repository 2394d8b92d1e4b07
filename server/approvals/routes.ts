import { Hono } from 'hono'
import { z } from 'zod'
import { ownerFilter } from '../auth/permissions.ts'
import { jobKinds } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { ApiError } from '../http/errors.ts'
import { validate } from '../http/validate.ts'
import { component, type RouteDoc } from '../openapi/document.ts'
import { planCsv, planQuery, planViewSchema } from '../runs/plans.ts'
import type { RunManager } from '../runs/manager.ts'
import {
  approvalRuleBody,
  approvalRuleView,
  approvalsQuery,
  approvalView,
  type ApprovalService,
} from './service.ts'

component(approvalView, 'ApprovalRequest')
const jobParam = z.object({ kind: z.enum(jobKinds), jobId: z.string().min(1) })
const decisionBody = z.object({ comment: z.string().max(2000).optional() }).strict()

/** What a run request answers when the job needs approval (202). */
export const approvalPendingReply = z.object({
  approvalId: z.string().describe('GET /api/approvals/{approvalId}'),
  status: z.literal('pending-approval'),
  id: z.string().optional().describe('Plan mode: the plan run the approver reviews'),
})

export const approvalDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/approval-rules',
    summary: 'The graphs and collections whose runs need approval',
    response: z.object({ rules: z.array(approvalRuleView) }),
  },
  {
    method: 'get',
    path: '/api/approval-rules/:kind/:jobId',
    summary: 'Whether a graph or collection needs approval (404: it does not)',
    response: approvalRuleView,
  },
  {
    method: 'put',
    path: '/api/approval-rules/:kind/:jobId',
    summary:
      'Require approval for every run request of a graph or collection (manual, collection, scheduled), with the expiry of pending requests',
    body: approvalRuleBody,
    response: approvalRuleView,
  },
  {
    method: 'delete',
    path: '/api/approval-rules/:kind/:jobId',
    summary: 'Stop requiring approval (pending requests stay pending until decided or expired)',
    response: z.object({ ok: z.boolean() }),
  },
  {
    method: 'get',
    path: '/api/approvals',
    summary: 'Approval requests, newest first; filter by status and job',
    query: approvalsQuery,
    response: z.object({ approvals: z.array(approvalView) }),
  },
  {
    method: 'get',
    path: '/api/approvals/:id',
    summary: 'An approval request',
    response: approvalView,
  },
  {
    method: 'get',
    path: '/api/approvals/:id/plan',
    summary:
      'The plan a plan-mode request would apply (same filters and CSV export as GET /api/runs/{id}/plan); 404 when the request has no plan',
    query: planQuery,
    response: planViewSchema,
  },
  {
    method: 'post',
    path: '/api/approvals/:id/approve',
    summary:
      'Approve: starts the run, or applies exactly the reviewed plan; 403 for the requester, 409 when decided or expired',
    body: decisionBody,
    response: approvalView,
  },
  {
    method: 'post',
    path: '/api/approvals/:id/deny',
    summary:
      'Deny (the requester may withdraw): the request is cancelled, and a plan run still going with it',
    body: decisionBody,
    response: approvalView,
  },
]

export function approvalRuleRoutes(approvals: ApprovalService) {
  return new Hono<AppEnv>()
    .get('/', (c) => c.json({ rules: approvals.rules() }))
    .get('/:kind/:jobId', validate('param', jobParam), (c) => {
      const { kind, jobId } = c.req.valid('param')
      const rule = approvals.rule(kind, jobId)
      if (rule === null) throw new ApiError(404, 'NOT_FOUND', `The ${kind} "${jobId}" needs no approval`)
      return c.json(rule)
    })
    .put('/:kind/:jobId', validate('param', jobParam), validate('json', approvalRuleBody), (c) => {
      const { kind, jobId } = c.req.valid('param')
      return c.json(approvals.setRule(kind, jobId, c.req.valid('json'), c.get('user').id))
    })
    .delete('/:kind/:jobId', validate('param', jobParam), (c) => {
      const { kind, jobId } = c.req.valid('param')
      approvals.removeRule(kind, jobId)
      return c.json({ ok: true })
    })
}

export function approvalRoutes(approvals: ApprovalService, runs: RunManager) {
  return new Hono<AppEnv>()
    .get('/', validate('query', approvalsQuery), (c) =>
      c.json({
        approvals: approvals.list({ ...c.req.valid('query'), ownerId: ownerFilter(c.get('user')) }),
      }),
    )
    .get('/:id', (c) => c.json(approvals.get(c.req.param('id'))))
    .get('/:id/plan', validate('query', planQuery), (c) => {
      const request = approvals.get(c.req.param('id'))
      if (request.planRunId === null)
        throw new ApiError(404, 'NO_PLAN', 'This request runs the job as it is; it has no plan to review')
      const query = c.req.valid('query')
      const view = runs.plan(request.planRunId, query)
      if (query.format !== 'csv') return c.json(view)
      return c.body(planCsv(view.nodes), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="plan-${view.runId}.csv"`,
      })
    })
    .post('/:id/approve', validate('json', decisionBody), (c) =>
      c.json(approvals.approve(c.req.param('id'), c.get('user'), c.req.valid('json').comment)),
    )
    .post('/:id/deny', validate('json', decisionBody), (c) =>
      c.json(approvals.deny(c.req.param('id'), c.get('user'), c.req.valid('json').comment)),
    )
}
