import { Hono } from 'hono'
import { z } from 'zod'
import { graphSchema } from '../../engine/index.ts'
import type { AppEnv } from '../http/env.ts'
import { validate } from '../http/validate.ts'
import type { RouteDoc } from '../openapi/document.ts'
import { graphDocument } from './document.ts'
import type { GraphStore } from './store.ts'

export const listQuery = z.object({ q: z.string().max(200).optional() })
export const createBody = z.object({ graph: graphDocument })
export const updateBody = z.object({ graph: graphDocument, revision: z.number().int().positive() })
export const duplicateBody = z.object({ name: z.string().min(1).max(200).optional() })
const revisionParam = z.object({ id: z.string(), revision: z.coerce.number().int().positive() })

const storedGraph = z.object({
  id: z.string(),
  revision: z.number(),
  graph: graphSchema,
  updatedAt: z.string(),
})
const graphSummary = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  revision: z.number(),
  updatedAt: z.string(),
})

export const graphDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/graphs',
    summary: 'List graphs (q searches name and description)',
    query: listQuery,
    response: z.object({ graphs: z.array(graphSummary) }),
  },
  {
    method: 'post',
    path: '/api/graphs',
    summary: 'Create (import) a graph',
    body: createBody,
    response: storedGraph,
    status: 201,
  },
  { method: 'get', path: '/api/graphs/:id', summary: 'Get (export) a graph', response: storedGraph },
  {
    method: 'put',
    path: '/api/graphs/:id',
    summary:
      'Save a new revision (409 when revision is not the latest, or APPROVAL_PENDING while a run request of it waits)',
    body: updateBody,
    response: storedGraph,
  },
  {
    method: 'delete',
    path: '/api/graphs/:id',
    summary: 'Delete a graph',
    response: z.object({ ok: z.boolean() }),
  },
  {
    method: 'post',
    path: '/api/graphs/:id/duplicate',
    summary: 'Copy a graph',
    body: duplicateBody,
    response: storedGraph,
    status: 201,
  },
  {
    method: 'get',
    path: '/api/graphs/:id/revisions',
    summary: 'Revisions of a graph, newest first',
    response: z.object({ revisions: z.array(z.object({ revision: z.number(), savedAt: z.string() })) }),
  },
  {
    method: 'get',
    path: '/api/graphs/:id/revisions/:revision',
    summary: 'One revision of a graph',
    response: z.object({ revision: z.number(), savedAt: z.string(), graph: graphSchema }),
  },
]

export function graphRoutes(store: GraphStore) {
  return new Hono<AppEnv>()
    .get('/', validate('query', listQuery), (c) => c.json({ graphs: store.list(c.req.valid('query').q) }))
    .post('/', validate('json', createBody), (c) =>
      c.json(store.create(c.req.valid('json').graph, c.get('user').id), 201),
    )
    .get('/:id', (c) => c.json(store.get(c.req.param('id'))))
    .put('/:id', validate('json', updateBody), (c) => {
      const { graph, revision } = c.req.valid('json')
      return c.json(store.update(c.req.param('id'), graph, revision, c.get('user').id))
    })
    .delete('/:id', (c) => {
      store.delete(c.req.param('id'))
      return c.json({ ok: true })
    })
    .post('/:id/duplicate', validate('json', duplicateBody), (c) => {
      const original = store.get(c.req.param('id'))
      const name = c.req.valid('json').name ?? `${original.graph.name} (copy)`
      return c.json(store.create({ ...original.graph, name }, c.get('user').id), 201)
    })
    .get('/:id/revisions', (c) => c.json({ revisions: store.revisions(c.req.param('id')) }))
    .get('/:id/revisions/:revision', validate('param', revisionParam), (c) => {
      const { id, revision } = c.req.valid('param')
      return c.json(store.revision(id, revision))
    })
}
