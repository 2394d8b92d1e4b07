import { Hono } from 'hono'
import { z } from 'zod'
import type { ApprovalService } from '../approvals/service.ts'
import { nodeStatsSchema, serializedErrorSchema } from '../../engine/ws-messages.ts'
import type { AppEnv } from '../http/env.ts'
import { validate } from '../http/validate.ts'
import { component, type RouteDoc } from '../openapi/document.ts'
import { scheduleView } from '../schedules/routes.ts'
import type { Scheduler } from '../schedules/scheduler.ts'
import { scheduleSpec } from '../schedules/spec.ts'
import { collectionRunStatuses } from '../db/schema.ts'
import { stepStatuses, type CollectionRunner } from './runner.ts'
import { collectionBody, collectionStep, collectionTemplateBody, type CollectionStore } from './store.ts'

const collectionView = component(
  z.object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    steps: z.array(collectionStep.extend({ graphName: z.string().nullable() })),
    updatedAt: z.string(),
    schedule: scheduleView.nullable(),
    nextRunAt: z.string().nullable().describe('When the schedule fires next (null: not scheduled)'),
  }),
  'Collection',
)
const stepRecord = z.object({
  index: z.number(),
  graphId: z.string(),
  graphName: z.string(),
  onFailure: z.enum(['abort', 'continue']),
  status: z.enum(stepStatuses),
  runId: z.string().nullable().describe('The graph run of this step: GET /api/runs/{runId}'),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  nodes: z.record(z.string(), nodeStatsSchema),
  errors: z.array(serializedErrorSchema),
})
const collectionRunRecord = component(
  z.object({
    id: z.string(),
    collectionId: z.string().nullable(),
    collectionName: z.string(),
    status: z.enum(collectionRunStatuses),
    trigger: z.enum(['manual', 'schedule']),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    steps: z.array(stepRecord),
  }),
  'CollectionRun',
)
const templateView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  steps: z.array(collectionStep),
  schedule: scheduleSpec.nullable(),
})
const runsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() })
const saveAsTemplateBody = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
})
const instantiateBody = z.object({ name: z.string().min(1).max(200) })
const ok = z.object({ ok: z.boolean() })
const created = z.object({ id: z.string() })

export const collectionDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/collections',
    summary: 'Job collections with their schedule and next run',
    response: z.object({ collections: z.array(collectionView) }),
  },
  {
    method: 'post',
    path: '/api/collections',
    summary: 'Create a collection: graphs run in order, each with parameter values and an on-failure action',
    body: collectionBody,
    response: collectionView,
    status: 201,
  },
  { method: 'get', path: '/api/collections/:id', summary: 'A collection', response: collectionView },
  {
    method: 'put',
    path: '/api/collections/:id',
    summary: 'Replace a collection’s name, description and steps',
    body: collectionBody,
    response: collectionView,
  },
  {
    method: 'delete',
    path: '/api/collections/:id',
    summary: 'Delete a collection and its schedule (its runs are kept)',
    response: ok,
  },
  {
    method: 'post',
    path: '/api/collections/:id/run',
    summary:
      'Run a collection now; it runs off the request path. When it (or one of its graphs) needs approval, a pending request instead',
    response: z.union([created, z.object({ approvalId: z.string(), status: z.literal('pending-approval') })]),
    status: 202,
  },
  {
    method: 'get',
    path: '/api/collections/:id/runs',
    summary: 'Runs of a collection, newest first',
    query: runsQuery,
    response: z.object({ runs: z.array(collectionRunRecord) }),
  },
  {
    method: 'post',
    path: '/api/collections/:id/template',
    summary:
      'Save a collection as a template: its steps (order, parameters, failure actions) and its schedule',
    body: saveAsTemplateBody,
    response: created,
    status: 201,
  },
  {
    method: 'get',
    path: '/api/collection-runs/:id',
    summary: 'A collection run: each step’s status, stats and graph run id',
    response: collectionRunRecord,
  },
  {
    method: 'post',
    path: '/api/collection-runs/:id/cancel',
    summary: 'Cancel a collection run: the running step is cancelled, the rest skipped',
    response: z.object({ cancelled: z.boolean() }),
  },
  {
    method: 'get',
    path: '/api/collection-templates',
    summary: 'Collection templates',
    response: z.object({ templates: z.array(templateView) }),
  },
  {
    method: 'post',
    path: '/api/collection-templates',
    summary: 'Create a collection template',
    body: collectionTemplateBody,
    response: created,
    status: 201,
  },
  {
    method: 'get',
    path: '/api/collection-templates/:id',
    summary: 'A collection template',
    response: templateView,
  },
  {
    method: 'delete',
    path: '/api/collection-templates/:id',
    summary: 'Delete a collection template',
    response: ok,
  },
  {
    method: 'post',
    path: '/api/collection-templates/:id/instantiate',
    summary: 'Make a collection from a template, with the template’s steps and schedule',
    body: instantiateBody,
    response: collectionView,
    status: 201,
  },
]

interface Deps {
  store: CollectionStore
  runner: CollectionRunner
  scheduler: Scheduler
  approvals?: ApprovalService
}

const withSchedule = (deps: Deps, view: ReturnType<CollectionStore['get']>) => {
  const schedule = deps.scheduler.get('collection', view.id)
  return { ...view, schedule, nextRunAt: schedule?.nextRunAt ?? null }
}

export function collectionRoutes(deps: Deps) {
  const { store, runner, scheduler } = deps
  return new Hono<AppEnv>()
    .get('/', (c) => c.json({ collections: store.list().map((v) => withSchedule(deps, v)) }))
    .post('/', validate('json', collectionBody), (c) =>
      c.json(withSchedule(deps, store.create(c.req.valid('json'), c.get('user').id)), 201),
    )
    .get('/:id', (c) => c.json(withSchedule(deps, store.get(c.req.param('id')))))
    .put('/:id', validate('json', collectionBody), (c) =>
      c.json(withSchedule(deps, store.update(c.req.param('id'), c.req.valid('json')))),
    )
    .delete('/:id', (c) => {
      const id = c.req.param('id')
      store.row(id)
      if (scheduler.get('collection', id) !== null) scheduler.remove('collection', id)
      store.delete(id)
      return c.json({ ok: true })
    })
    .post('/:id/run', (c) => {
      const collectionId = c.req.param('id')
      const userId = c.get('user').id
      if (deps.approvals?.requires('collection', collectionId, userId)) {
        const request = { kind: 'collection', jobId: collectionId, userId, trigger: 'manual' } as const
        return c.json(deps.approvals.request(request), 202)
      }
      return c.json({ id: runner.start({ collectionId, userId }) }, 202)
    })
    .get('/:id/runs', validate('query', runsQuery), (c) => {
      store.row(c.req.param('id'))
      return c.json({
        runs: runner.list({ collectionId: c.req.param('id'), limit: c.req.valid('query').limit }),
      })
    })
    .post('/:id/template', validate('json', saveAsTemplateBody), (c) => {
      const row = store.row(c.req.param('id'))
      const schedule = scheduler.get('collection', row.id)
      const body = c.req.valid('json')
      const id = store.createTemplate(
        {
          name: body.name,
          ...(body.description === undefined ? {} : { description: body.description }),
          steps: store.steps(row),
          ...(schedule === null ? {} : { schedule: scheduleSpec.parse(specOf(schedule)) }),
        },
        c.get('user').id,
      )
      return c.json({ id }, 201)
    })
}

/** The settings part of a schedule view. */
function specOf(view: NonNullable<ReturnType<Scheduler['get']>>): Record<string, unknown> {
  const { id: _id, jobKind: _k, jobId: _j, nextRunAt: _n, lastRunAt: _l, updatedAt: _u, ...spec } = view
  return spec
}

export function collectionRunRoutes(runner: CollectionRunner) {
  return new Hono<AppEnv>()
    .get('/:id', (c) => c.json(runner.get(c.req.param('id'))))
    .post('/:id/cancel', (c) => c.json({ cancelled: runner.cancel(c.req.param('id')) }))
}

export function collectionTemplateRoutes(deps: Deps) {
  const { store, scheduler } = deps
  return new Hono<AppEnv>()
    .get('/', (c) => c.json({ templates: store.listTemplates() }))
    .post('/', validate('json', collectionTemplateBody), (c) =>
      c.json({ id: store.createTemplate(c.req.valid('json'), c.get('user').id) }, 201),
    )
    .get('/:id', (c) => c.json(store.template(c.req.param('id'))))
    .delete('/:id', (c) => {
      store.deleteTemplate(c.req.param('id'))
      return c.json({ ok: true })
    })
    .post('/:id/instantiate', validate('json', instantiateBody), (c) => {
      const template = store.template(c.req.param('id'))
      const view = store.create(
        { name: c.req.valid('json').name, description: template.description, steps: template.steps },
        c.get('user').id,
      )
      if (template.schedule !== null) scheduler.set('collection', view.id, template.schedule)
      return c.json(withSchedule(deps, view), 201)
    })
}
