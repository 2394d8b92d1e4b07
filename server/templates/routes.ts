import { desc, eq } from 'drizzle-orm'
import { Hono } from 'hono'
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import {
  analyzeGraph,
  bindParams,
  coerceParam,
  graphSchema,
  hasErrors,
  isParamRef,
  paramSchema,
  type Catalog,
  type Graph,
} from '../../engine/index.ts'
import type { Db } from '../db/client.ts'
import { templates, type TemplateRow } from '../db/schema.ts'
import { graphDocument, readStoredGraph } from '../graphs/document.ts'
import type { GraphStore } from '../graphs/store.ts'
import type { AppEnv } from '../http/env.ts'
import { ApiError, notFound } from '../http/errors.ts'
import { validate } from '../http/validate.ts'
import type { RouteDoc } from '../openapi/document.ts'
import { parseJsonPath, replaceAt } from './json-path.ts'

const target = z.object({
  nodeId: z.string().min(1),
  path: z.string().min(1).describe('JSON path inside the node config, e.g. $.path'),
})
const templateParam = paramSchema.extend({ targets: z.array(target).default([]) })
export const saveTemplateBody = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  graph: graphDocument,
  params: z
    .record(
      z.string().regex(/^[A-Za-z_][\w]{0,63}$/, 'a parameter name is letters, digits and _'),
      templateParam,
    )
    .default({}),
})
export const instantiateBody = z.object({
  name: z.string().min(1).max(200),
  values: z.record(z.string(), z.unknown()).default({}),
})
const templateSummary = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  params: z.record(z.string(), paramSchema),
})

export const templateDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/api/templates',
    summary: 'Save a graph as a template; each param’s targets become { "$param": name }',
    body: saveTemplateBody,
    response: z.object({ id: z.string() }),
    status: 201,
  },
  {
    method: 'get',
    path: '/api/templates',
    summary: 'Templates',
    response: z.object({ templates: z.array(templateSummary) }),
  },
  {
    method: 'get',
    path: '/api/templates/:id',
    summary: 'A template with its graph',
    response: templateSummary.extend({ graph: graphSchema }),
  },
  {
    method: 'delete',
    path: '/api/templates/:id',
    summary: 'Delete a template',
    response: z.object({ ok: z.boolean() }),
  },
  {
    method: 'post',
    path: '/api/templates/:id/instantiate',
    summary: 'Make a new graph from a template with parameter values (checked against their types)',
    body: instantiateBody,
    response: z.object({ id: z.string() }),
    status: 201,
  },
]

/** Turn the chosen config values into parameters; refuses a target that does not exist or a default of the wrong type. */
export function parameterise(graph: Graph, params: z.infer<typeof saveTemplateBody>['params']): Graph {
  const doc = structuredClone(graph)
  for (const [name, { targets, ...spec }] of Object.entries(params)) {
    if (doc.params[name] !== undefined)
      throw new ApiError(400, 'DUPLICATE_PARAM', `The graph already declares a parameter "${name}"`)
    let firstValue: unknown
    for (const { nodeId, path } of targets) {
      const node = doc.nodes.find((n) => n.id === nodeId)
      if (node === undefined)
        throw new ApiError(400, 'INVALID_TARGET', `Parameter "${name}": the graph has no node "${nodeId}"`)
      let old: unknown
      try {
        old = replaceAt(node.config, parseJsonPath(path), { $param: name }, path)
      } catch (error) {
        throw new ApiError(
          400,
          'INVALID_TARGET',
          `Parameter "${name}", node "${nodeId}": ${(error as Error).message}`,
        )
      }
      if (isParamRef(old))
        throw new ApiError(
          400,
          'INVALID_TARGET',
          `Parameter "${name}": ${nodeId} ${path} is already a parameter`,
        )
      firstValue ??= old
    }
    const declared = {
      ...spec,
      ...(spec.default === undefined && firstValue !== undefined ? { default: firstValue } : {}),
    }
    if (declared.default !== undefined) declared.default = coerceParam(name, declared, declared.default)
    doc.params[name] = declared
  }
  return doc
}

export function templateRoutes(deps: { db: Db; catalog: Catalog; graphs: GraphStore }) {
  const { db } = deps
  const load = (id: string): TemplateRow => {
    const row = db.select().from(templates).where(eq(templates.id, id)).get()
    if (row === undefined) throw notFound('template', id)
    return row
  }
  return new Hono<AppEnv>()
    .post('/', validate('json', saveTemplateBody), (c) => {
      const body = c.req.valid('json')
      const graph = parameterise(body.graph, body.params)
      const issues = analyzeGraph(graph, deps.catalog).issues
      if (hasErrors(issues)) {
        throw new ApiError(400, 'INVALID_GRAPH', 'A template must be a valid graph', {
          issues: issues.filter((i) => i.severity === 'error'),
        })
      }
      const id = randomUUID()
      db.insert(templates)
        .values({
          id,
          name: body.name,
          description: body.description ?? '',
          document: JSON.stringify(graph),
          createdBy: c.get('user').id,
        })
        .run()
      return c.json({ id }, 201)
    })
    .get('/', (c) =>
      c.json({
        templates: db
          .select()
          .from(templates)
          .orderBy(desc(templates.createdAt))
          .all()
          .map((t) => ({
            id: t.id,
            name: t.name,
            description: t.description,
            params: readStoredGraph(t.document, `template ${t.id}`).params,
          })),
      }),
    )
    .get('/:id', (c) => {
      const t = load(c.req.param('id'))
      const graph = readStoredGraph(t.document, `template ${t.id}`)
      return c.json({ id: t.id, name: t.name, description: t.description, params: graph.params, graph })
    })
    .delete('/:id', (c) => {
      load(c.req.param('id'))
      db.delete(templates)
        .where(eq(templates.id, c.req.param('id')))
        .run()
      return c.json({ ok: true })
    })
    .post('/:id/instantiate', validate('json', instantiateBody), (c) => {
      const t = load(c.req.param('id'))
      const { name, values } = c.req.valid('json')
      const bound = bindParams(readStoredGraph(t.document, `template ${t.id}`), values)
      const created = deps.graphs.create({ ...bound, name, params: {} }, c.get('user').id)
      return c.json({ id: created.id }, 201)
    })
}
