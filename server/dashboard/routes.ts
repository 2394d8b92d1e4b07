import { Hono } from 'hono'
import type { AppEnv } from '../http/env.ts'
import { validate } from '../http/validate.ts'
import { component, type RouteDoc } from '../openapi/document.ts'
import type { Services } from '../services.ts'
import { buildDashboard, dashboardQuery, dashboardView } from './dashboard.ts'

component(dashboardView, 'Dashboard')

export const dashboardDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/dashboard',
    summary:
      'Operations overview: runs today and success rate, objects created/updated/disabled/deleted per day (from the history), failing jobs, next scheduled runs, pending approvals, running now with live counts; every item carries the link (and filter) of the runs or history behind it',
    query: dashboardQuery,
    response: dashboardView,
  },
]

export function dashboardRoutes(
  deps: Pick<Services, 'db' | 'clock' | 'runs' | 'collectionRuns' | 'scheduler' | 'approvals' | 'history'>,
) {
  return new Hono<AppEnv>().get('/', validate('query', dashboardQuery), (c) =>
    c.json(buildDashboard(deps, c.req.valid('query'))),
  )
}
