import { Hono } from 'hono'
import { z } from 'zod'
import { configJsonSchema, type Catalog } from '../../engine/index.ts'
import type { AppEnv } from '../http/env.ts'
import type { RouteDoc } from '../openapi/document.ts'

const port = z.object({
  type: z.string(),
  title: z.string().optional(),
  optional: z.boolean().optional(),
  multiple: z.boolean().optional(),
})
export const nodeTypeSchema = z.object({
  type: z.string(),
  version: z.number(),
  title: z.string(),
  category: z.string(),
  description: z.string(),
  inputs: z.record(z.string(), port),
  outputs: z.record(z.string(), port),
  rowErrors: z.boolean(),
  holdsData: z.string().optional(),
  configSchema: z.record(z.string(), z.unknown()),
})

export const nodeTypeDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/node-types',
    summary: 'The node catalog with each type’s ports and config JSON Schema',
    response: z.object({ nodeTypes: z.array(nodeTypeSchema) }),
  },
]

/** The catalog as the editor sees it, derived from the one declaration per node type. */
export function nodeTypeRoutes(catalog: Catalog) {
  let cached: z.infer<typeof nodeTypeSchema>[] | undefined
  return new Hono<AppEnv>().get('/', (c) => {
    cached ??= catalog.list().map((def) => ({
      type: def.type,
      version: def.version,
      title: def.title,
      category: def.category,
      description: def.description,
      inputs: def.inputs,
      outputs: def.outputs,
      rowErrors: def.rowErrors ?? false,
      ...(def.holdsData === undefined ? {} : { holdsData: def.holdsData }),
      configSchema: configJsonSchema(def),
    }))
    return c.json({ nodeTypes: cached })
  })
}
