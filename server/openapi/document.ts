import { z } from 'zod'

/** One documented route; the schemas are the same objects the route validates with. */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'delete'
  path: string
  summary: string
  body?: z.ZodType
  /** A raw (non-JSON) request body of this media type. */
  rawBody?: string
  query?: z.ZodType
  response?: z.ZodType
  /** A raw (non-JSON) response of this media type. */
  rawResponse?: string
  status?: number
  public?: boolean
}

/** Schemas documented once under components, referenced wherever they appear. */
const components = new Map<z.ZodType, { name: string; schema: z.ZodType }>()

/** Document `schema` as `#/components/schemas/<name>`, described by `documentedAs` (e.g. a transform's input). */
export function component<T extends z.ZodType>(schema: T, name: string, documentedAs: z.ZodType = schema): T {
  components.set(schema, { name, schema: documentedAs })
  return schema
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
    override: (ctx) => {
      const ref = components.get(ctx.zodSchema as unknown as z.ZodType)
      if (ref === undefined || ctx.path.length === 0) return
      for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[key]
      ctx.jsonSchema.$ref = `#/components/schemas/${ref.name}`
    },
  }) as Record<string, unknown>
}

const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
})

/** An OpenAPI 3.1 document for the given routes. */
export function buildOpenApi(docs: readonly RouteDoc[], info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  const errorRef = { $ref: '#/components/schemas/Error' }
  for (const doc of docs) {
    const path = doc.path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, '{$1}')
    const parameters: unknown[] = [...doc.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }))
    if (doc.query !== undefined) {
      const q = toSchema(doc.query, 'input') as { properties?: Record<string, unknown>; required?: string[] }
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema })
      }
    }
    const responses: Record<string, unknown> = {
      [String(doc.status ?? 200)]: {
        description: 'OK',
        ...(doc.response !== undefined
          ? { content: { 'application/json': { schema: toSchema(doc.response, 'output') } } }
          : doc.rawResponse !== undefined
            ? { content: { [doc.rawResponse]: { schema: { type: 'string', format: 'binary' } } } }
            : {}),
      },
      '400': { description: 'Invalid input', content: { 'application/json': { schema: errorRef } } },
      '404': { description: 'Not found', content: { 'application/json': { schema: errorRef } } },
    }
    if (!doc.public)
      responses['401'] = { description: 'No session', content: { 'application/json': { schema: errorRef } } }
    paths[path] ??= {}
    paths[path][doc.method] = {
      summary: doc.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(doc.body !== undefined
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: toSchema(doc.body, 'input') } },
            },
          }
        : doc.rawBody !== undefined
          ? {
              requestBody: {
                required: true,
                content: { [doc.rawBody]: { schema: { type: 'string', format: 'binary' } } },
              },
            }
          : {}),
      responses,
      ...(doc.public ? { security: [] } : {}),
    }
  }
  const schemas: Record<string, unknown> = { Error: toSchema(errorBody, 'output') }
  for (const { name, schema } of components.values()) schemas[name] = toSchema(schema, 'input')
  return {
    openapi: '3.1.0',
    info: { title: 'Syncgraph API', version: info.version },
    paths,
    components: {
      schemas,
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'sg_session' } },
    },
    security: [{ session: [] }],
  }
}
