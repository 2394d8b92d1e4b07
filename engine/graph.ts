import { z } from 'zod'

/** Node ids name nodes in edges, logs, counters and CLI output: keep them short and plain. */
const nodeId = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/,
    'a node id starts with a letter or _ and has letters, digits, _ . - only',
  )

export const onRowErrorSchema = z.enum(['fail', 'skip', 'route'])

export const paramSchema = z
  .object({
    type: z.enum(['string', 'number', 'boolean', 'enum', 'connection', 'path']),
    title: z.string().optional(),
    description: z.string().optional(),
    default: z.unknown().optional(),
    /** Allowed values of an `enum` parameter. */
    values: z.array(z.union([z.string(), z.number()])).optional(),
    required: z.boolean().optional(),
  })
  .strict()

export const graphNodeSchema = z
  .object({
    id: nodeId,
    type: z.string().min(1),
    /** The declaration version the config was written for; older configs are migrated on load. */
    version: z.number().int().positive().optional(),
    label: z.string().optional(),
    config: z.record(z.string(), z.unknown()).default({}),
    /** Overrides `settings.onRowError` for this node. */
    onRowError: onRowErrorSchema.optional(),
    position: z.object({ x: z.number(), y: z.number() }).optional(),
  })
  .strict()

export const graphEdgeSchema = z
  .object({
    from: z.string().min(1),
    fromPort: z.string().min(1).default('out'),
    to: z.string().min(1),
    toPort: z.string().min(1).default('in'),
  })
  .strict()

export const graphSettingsSchema = z
  .object({
    batchSize: z.number().int().min(1).max(1_000_000).default(5000),
    onRowError: onRowErrorSchema.default('fail'),
    /** Batches each edge buffers before its producer waits (back-pressure). */
    queueDepth: z.number().int().min(1).max(1000).default(4),
    /** Longest one expression evaluation may run before it fails the row (D1012). */
    expressionTimeoutMs: z.number().int().min(1).max(3_600_000).default(1000),
    /** Deepest nesting one expression evaluation may reach before it fails the row (D1011). */
    expressionDepth: z.number().int().min(10).max(100_000).default(500),
    /** Worker threads for CPU-heavy nodes: `auto` sizes the pool to the cores, 0 keeps all work on one thread. */
    workers: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
  })
  .strict()

/** The graph document, format version 1 (DESIGN.md §3). */
export const graphSchema = z
  .object({
    syncgraph: z.literal(1),
    name: z.string().default('Untitled graph'),
    description: z.string().optional(),
    params: z.record(z.string(), paramSchema).default({}),
    settings: graphSettingsSchema.default(() => graphSettingsSchema.parse({})),
    nodes: z.array(graphNodeSchema),
    edges: z.array(graphEdgeSchema).default([]),
  })
  .strict()

export type Graph = z.infer<typeof graphSchema>
export type GraphInput = z.input<typeof graphSchema>
export type GraphNode = z.infer<typeof graphNodeSchema>
export type GraphEdge = z.infer<typeof graphEdgeSchema>
export type GraphSettings = z.infer<typeof graphSettingsSchema>
export type ParamSpec = z.infer<typeof paramSchema>

/** Documents written before format version 1 would be migrated here, one step per version. */
const migrations: Record<number, (doc: Record<string, unknown>) => Record<string, unknown>> = {}

/** Parse a graph document, migrating older format versions; zod issues come back as paths and messages. */
export function parseGraph(
  input: unknown,
): { ok: true; graph: Graph } | { ok: false; issues: { path: string; message: string }[] } {
  let doc = input
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) {
    let version = (doc as Record<string, unknown>).syncgraph
    while (typeof version === 'number' && migrations[version] !== undefined) {
      doc = migrations[version]!(doc as Record<string, unknown>)
      version = (doc as Record<string, unknown>).syncgraph
    }
  }
  // zod (like any object spread) silently drops an own "__proto__" key, which JSON.parse creates:
  // refuse it by name rather than lose that part of the document.
  const protoKeys = protoKeyPaths(doc)
  if (protoKeys.length > 0)
    return {
      ok: false,
      issues: protoKeys.map((path) => ({
        path: jsonPath(path),
        message: 'the key "__proto__" is not allowed in a graph document (it cannot be kept); rename it',
      })),
    }
  const parsed = graphSchema.safeParse(doc)
  if (parsed.success) return { ok: true, graph: parsed.data }
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({ path: jsonPath(i.path), message: i.message })),
  }
}

/** Paths of every own `__proto__` key in a JSON value (depth-first). */
function protoKeyPaths(value: unknown, path: PropertyKey[] = [], out: PropertyKey[][] = []): PropertyKey[][] {
  if (typeof value !== 'object' || value === null) return out
  if (Array.isArray(value)) {
    value.forEach((item, i) => protoKeyPaths(item, [...path, i], out))
    return out
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__') out.push([...path, key])
    else protoKeyPaths((value as Record<string, unknown>)[key], [...path, key], out)
  }
  return out
}

/** `$.nodes[2].config.on[0].left` style path for an issue. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '$'
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out
}

/** A value `{ "$param": "name" }` anywhere in a node's config is replaced by that parameter's value. */
export function isParamRef(value: unknown): value is { $param: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as Record<string, unknown>).$param === 'string'
  )
}

export class ParamError extends Error {
  constructor(
    readonly code: 'unknown-param' | 'invalid-param' | 'missing-param',
    message: string,
    readonly param: string,
  ) {
    super(message)
  }
}

/** Coerce a parameter value (from `--param k=v` text or JSON) to its declared type. */
export function coerceParam(name: string, spec: ParamSpec, value: unknown): unknown {
  const bad = (expected: string) =>
    new ParamError(
      'invalid-param',
      `Parameter "${name}" must be ${expected}, got ${JSON.stringify(value)}`,
      name,
    )
  switch (spec.type) {
    case 'string':
    case 'path':
    case 'connection':
      if (typeof value === 'string') return value
      if (spec.type === 'connection' && typeof value === 'object' && value !== null) return value
      throw bad('a string')
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
      if (typeof n === 'number' && Number.isFinite(n)) return n
      throw bad('a number')
    }
    case 'boolean':
      if (typeof value === 'boolean') return value
      if (value === 'true') return true
      if (value === 'false') return false
      throw bad('true or false')
    case 'enum': {
      const allowed = spec.values ?? []
      const match = allowed.find((v) => v === value || String(v) === value)
      if (match !== undefined) return match
      throw bad(`one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`)
    }
    default: {
      const never: never = spec.type
      throw new Error(`unhandled parameter type ${String(never)}`)
    }
  }
}

/**
 * The graph with every `{ "$param": … }` replaced by the given value or the parameter's default.
 * Throws ParamError for an unknown, missing or mistyped parameter.
 */
export function bindParams(graph: Graph, values: Record<string, unknown> = {}): Graph {
  for (const name of Object.keys(values)) {
    if (graph.params[name] === undefined) {
      throw new ParamError(
        'unknown-param',
        `Unknown parameter "${name}"; the graph declares: ${Object.keys(graph.params).join(', ') || 'none'}`,
        name,
      )
    }
  }
  const resolved: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(graph.params)) {
    if (name in values) resolved[name] = coerceParam(name, spec, values[name])
    else if (spec.default !== undefined) resolved[name] = coerceParam(name, spec, spec.default)
  }
  const substitute = (value: unknown): unknown => {
    if (isParamRef(value)) {
      if (!(value.$param in graph.params)) {
        throw new ParamError('unknown-param', `Unknown parameter "${value.$param}"`, value.$param)
      }
      if (!(value.$param in resolved)) {
        throw new ParamError(
          'missing-param',
          `Parameter "${value.$param}" has no value and no default`,
          value.$param,
        )
      }
      return resolved[value.$param]
    }
    if (Array.isArray(value)) return value.map(substitute)
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]))
    }
    return value
  }
  return {
    ...graph,
    nodes: graph.nodes.map((node) => ({
      ...node,
      config: substitute(node.config) as Record<string, unknown>,
    })),
  }
}
