import { Hono } from 'hono'
import { z } from 'zod'
import { jobKinds } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { notFound } from '../http/errors.ts'
import { validate } from '../http/validate.ts'
import type { RouteDoc } from '../openapi/document.ts'
import type { JobLauncher } from '../schedules/jobs.ts'
import {
  deliveryView,
  ruleBody,
  ruleView,
  settingsBody,
  settingsView,
  type NotificationStore,
} from './store.ts'

const rulesQuery = z.object({ jobKind: z.enum(jobKinds).optional(), jobId: z.string().optional() })
const deliveriesQuery = z.object({
  runId: z.string().optional(),
  jobId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
})

export const notificationDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/notifications/settings',
    summary: 'Link base URL and SMTP settings (the SMTP password is never returned)',
    response: settingsView,
  },
  {
    method: 'put',
    path: '/api/notifications/settings',
    summary: 'Change the link base URL and SMTP settings; the password is stored encrypted',
    body: settingsBody,
    response: settingsView,
  },
  {
    method: 'get',
    path: '/api/notifications/rules',
    summary: 'Notification rules, optionally of one job',
    query: rulesQuery,
    response: z.object({ rules: z.array(ruleView) }),
  },
  {
    method: 'post',
    path: '/api/notifications/rules',
    summary:
      'Notify by e-mail or webhook when a graph or collection run ends with failure / threshold / changes / always',
    body: ruleBody,
    response: ruleView,
    status: 201,
  },
  {
    method: 'delete',
    path: '/api/notifications/rules/:id',
    summary: 'Delete a notification rule',
    response: z.object({ ok: z.boolean() }),
  },
  {
    method: 'get',
    path: '/api/notifications/deliveries',
    summary: 'Notifications sent or failed, newest first',
    query: deliveriesQuery,
    response: z.object({ deliveries: z.array(deliveryView) }),
  },
]

export function notificationRoutes(deps: { store: NotificationStore; jobs: JobLauncher }) {
  const { store, jobs } = deps
  return new Hono<AppEnv>()
    .get('/settings', (c) => c.json(store.settings()))
    .put('/settings', validate('json', settingsBody), (c) =>
      c.json(store.updateSettings(c.req.valid('json'))),
    )
    .get('/rules', validate('query', rulesQuery), (c) => c.json({ rules: store.rules(c.req.valid('query')) }))
    .post('/rules', validate('json', ruleBody), (c) => {
      const body = c.req.valid('json')
      if (!jobs.exists(body.jobKind, body.jobId)) throw notFound(body.jobKind, body.jobId)
      return c.json(store.createRule(body), 201)
    })
    .delete('/rules/:id', (c) => {
      store.deleteRule(c.req.param('id'))
      return c.json({ ok: true })
    })
    .get('/deliveries', validate('query', deliveriesQuery), (c) =>
      c.json({ deliveries: store.deliveries(c.req.valid('query')) }),
    )
}
