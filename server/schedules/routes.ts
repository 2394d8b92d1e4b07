import { Hono, type MiddlewareHandler } from 'hono'
import { z } from 'zod'
import { jobKinds, scheduleEventKinds } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { ApiError } from '../http/errors.ts'
import { validate } from '../http/validate.ts'
import { component, type RouteDoc } from '../openapi/document.ts'
import type { Scheduler } from './scheduler.ts'
import { scheduleSpec } from './spec.ts'

const jobParam = z.object({ kind: z.enum(jobKinds), jobId: z.string().min(1) })
const eventsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() })

/** A schedule as the API returns it: its settings plus when it fires next. */
export const scheduleView = component(
  z.object({
    id: z.string(),
    jobKind: z.enum(jobKinds),
    jobId: z.string(),
    cron: z.string().optional(),
    repeat: scheduleSpec.shape.repeat,
    timezone: z.string(),
    startAt: z.string().optional(),
    endAt: z.string().optional(),
    maxRunSeconds: z.number().optional(),
    missedRunGraceMinutes: z.number(),
    params: z.record(z.string(), z.unknown()),
    enabled: z.boolean(),
    nextRunAt: z.string().nullable(),
    lastRunAt: z.string().nullable(),
    updatedAt: z.string(),
  }),
  'Schedule',
)
component(scheduleSpec, 'ScheduleSettings')
const scheduleEvent = z.object({
  kind: z.enum(scheduleEventKinds),
  scheduledFor: z.string(),
  at: z.string(),
  runId: z.string().nullable(),
  message: z.string(),
})

export const scheduleDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/schedules',
    summary: 'Every schedule, soonest next run first',
    response: z.object({ schedules: z.array(scheduleView) }),
  },
  {
    method: 'get',
    path: '/api/schedules/:kind/:jobId',
    summary: 'The schedule of a graph or collection (kind: graph | collection)',
    response: scheduleView,
  },
  {
    method: 'put',
    path: '/api/schedules/:kind/:jobId',
    summary: 'Set the schedule of a graph or collection: cron or repeat, time zone, window, max run time',
    body: scheduleSpec,
    response: scheduleView,
  },
  {
    method: 'delete',
    path: '/api/schedules/:kind/:jobId',
    summary: 'Remove a schedule',
    response: z.object({ ok: z.boolean() }),
  },
  {
    method: 'get',
    path: '/api/schedules/:kind/:jobId/events',
    summary:
      'What the scheduler decided for this job, newest first: started, skipped (overlap), missed, timed out',
    query: eventsQuery,
    response: z.object({ events: z.array(scheduleEvent) }),
  },
]

export function scheduleRoutes(scheduler: Scheduler) {
  return new Hono<AppEnv>()
    .get('/', (c) => c.json({ schedules: scheduler.list() }))
    .get('/:kind/:jobId', validate('param', jobParam), (c) => {
      const { kind, jobId } = c.req.valid('param')
      const view = scheduler.get(kind, jobId)
      if (view === null) throw new ApiError(404, 'NOT_FOUND', `The ${kind} "${jobId}" has no schedule`)
      return c.json(view)
    })
    .put('/:kind/:jobId', validate('param', jobParam), validate('json', scheduleSpec), (c) => {
      const { kind, jobId } = c.req.valid('param')
      return c.json(scheduler.set(kind, jobId, c.req.valid('json')))
    })
    .delete('/:kind/:jobId', validate('param', jobParam), (c) => {
      const { kind, jobId } = c.req.valid('param')
      scheduler.remove(kind, jobId)
      return c.json({ ok: true })
    })
    .get('/:kind/:jobId/events', validate('param', jobParam), validate('query', eventsQuery), (c) => {
      const { kind, jobId } = c.req.valid('param')
      return c.json({ events: scheduler.events(kind, jobId, c.req.valid('query').limit) })
    })
}

/**
 * Adds `nextRunAt` to the graphs `/api/graphs` returns (the list and single graphs), so the next
 * scheduled run shows wherever a graph does, without the graph routes knowing about schedules.
 */
export function graphNextRun(scheduler: Scheduler): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next()
    if (c.res.status >= 300 || !(c.res.headers.get('content-type') ?? '').includes('application/json')) return
    const body = (await c.res.clone().json()) as Record<string, unknown>
    const add = (g: unknown) =>
      typeof g === 'object' && g !== null && typeof (g as { id?: unknown }).id === 'string'
        ? { ...g, nextRunAt: scheduler.nextRunAt('graph', (g as { id: string }).id) }
        : g
    let changed: unknown
    if (Array.isArray(body.graphs)) changed = { ...body, graphs: body.graphs.map(add) }
    else if (typeof body.id === 'string' && 'graph' in body) changed = add(body)
    else return
    const headers = new Headers(c.res.headers)
    headers.delete('content-length')
    c.res = new Response(JSON.stringify(changed), { status: c.res.status, headers })
  }
}

/** The graph routes' documentation with `nextRunAt` on every graph they return. */
export function withNextRunDocs(docs: RouteDoc[]): RouteDoc[] {
  const nextRunAt = z
    .string()
    .nullable()
    .describe('When the graph’s schedule fires next (null: not scheduled)')
  return docs.map((doc) => {
    const response = doc.response
    if (!(response instanceof z.ZodObject)) return doc
    const shape = response.shape as Record<string, z.ZodType>
    const graphs = shape.graphs
    if (graphs instanceof z.ZodArray && graphs.element instanceof z.ZodObject)
      return { ...doc, response: response.extend({ graphs: z.array(graphs.element.extend({ nextRunAt })) }) }
    if ('id' in shape && 'graph' in shape) return { ...doc, response: response.extend({ nextRunAt }) }
    return doc
  })
}
