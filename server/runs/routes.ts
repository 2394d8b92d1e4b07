import { Hono } from 'hono'
import { z } from 'zod'
import {
  edgeStatsSchema,
  nodeStatsSchema,
  runRecordSchema,
  serializedErrorSchema,
  storedRunStatusSchema,
} from '../../engine/ws-messages.ts'
import { graphDocument } from '../graphs/document.ts'
import type { GraphStore } from '../graphs/store.ts'
import type { AppEnv } from '../http/env.ts'
import { validate } from '../http/validate.ts'
import { component, type RouteDoc } from '../openapi/document.ts'
import type { RunManager } from './manager.ts'

const params = z.record(z.string(), z.unknown()).optional()
export const startRunBody = z.union([
  z.object({ graph: graphDocument, params }).strict(),
  z.object({ graphId: z.string().min(1), params }).strict(),
])
export const listRunsQuery = z.object({
  graphId: z.string().optional(),
  status: storedRunStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
})
const rejectedQuery = z.object({ nodeId: z.string().optional() })

component(runRecordSchema, 'Run')
component(nodeStatsSchema, 'NodeStats')
component(edgeStatsSchema, 'EdgeStats')
component(serializedErrorSchema, 'SerializedError')
const runListItem = runRecordSchema.pick({
  id: true,
  graphId: true,
  graphName: true,
  status: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  durationMs: true,
})

export const runDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/api/runs',
    summary: 'Start a run of a graph document or a stored graph; it runs off the request path',
    body: startRunBody,
    response: z.object({ id: z.string() }),
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
    response: runRecordSchema,
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
    summary: 'Rows nodes routed to "rejected" (capped per node)',
    query: rejectedQuery,
    response: z.object({ rows: z.array(z.record(z.string(), z.unknown())) }),
  },
]

export function runRoutes(manager: RunManager, graphs: GraphStore) {
  return new Hono<AppEnv>()
    .post('/', validate('json', startRunBody), (c) => {
      const body = c.req.valid('json')
      const user = c.get('user').id
      const id =
        'graph' in body
          ? manager.submit({ graph: body.graph, params: body.params, userId: user })
          : manager.submit({
              graph: graphs.get(body.graphId).graph,
              graphId: body.graphId,
              params: body.params,
              userId: user,
            })
      return c.json({ id }, 202)
    })
    .get('/', validate('query', listRunsQuery), (c) => c.json({ runs: manager.list(c.req.valid('query')) }))
    .get('/:id', (c) => c.json(manager.get(c.req.param('id'))))
    .post('/:id/cancel', (c) => c.json({ cancelled: manager.cancel(c.req.param('id')) }))
    .get('/:id/rejected', validate('query', rejectedQuery), (c) =>
      c.json({
        rows: manager.rejected(c.req.param('id'), c.req.valid('query').nodeId) as Record<string, unknown>[],
      }),
    )
}
