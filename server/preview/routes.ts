import { Hono } from 'hono'
import { z } from 'zod'
import {
  analyzeGraph,
  hasErrors,
  outputPorts,
  runGraph,
  type Row,
  type SerializedError,
} from '../../engine/index.ts'
import type { AppEnv, SessionUser } from '../http/env.ts'
import { ApiError } from '../http/errors.ts'
import { validate } from '../http/validate.ts'
import type { RouteDoc } from '../openapi/document.ts'
import type { RunEnvironment } from '../run-environment.ts'
import { inferColumns } from './columns.ts'

const params = z.record(z.string(), z.unknown()).optional()
export const validateBody = z.object({ graph: z.unknown(), params })
export const previewBody = z.object({
  graph: z.unknown(),
  nodeId: z.string().min(1),
  port: z.string().min(1).default('out'),
  limit: z.number().int().min(1).max(10_000).default(100),
  params,
})

const issueSchema = z.object({
  code: z.string(),
  severity: z.enum(['error', 'warning']),
  nodeId: z.string().optional(),
  path: z.string().optional(),
  message: z.string(),
  position: z.number().optional(),
  rule: z
    .string()
    .optional()
    .describe('policy-violation: the policy rule broken (sources, destinations, writes.…)'),
  value: z.string().optional().describe('policy-violation: the connector, object, attribute or action'),
})
const validateReply = z.object({
  issues: z.array(issueSchema),
  columns: z.record(z.string(), z.record(z.string(), z.array(z.string()).nullable())),
  expressions: z
    .array(z.object({ nodeId: z.string(), path: z.string(), compiled: z.boolean() }))
    .describe('Each JSONata expression and whether it runs compiled to JavaScript or on the interpreter'),
})
const previewReply = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.record(z.string(), z.unknown())),
  truncated: z.boolean(),
  error: z
    .object({
      code: z.string(),
      message: z.string(),
      nodeId: z.string().optional(),
      row: z.number().optional(),
    })
    .optional()
    .describe(
      'The run failed after the node gave these rows (e.g. a malformed CSV line): the rows before the failure, and why it stopped. A failure before any row is a 422.',
    ),
})

export const previewDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/api/validate',
    summary:
      'Validate a graph: issues (with `policy-violation` errors for what the signed-in user’s role policy forbids) and the columns known on every port (null = unknown)',
    body: validateBody,
    response: validateReply,
  },
  {
    method: 'post',
    path: '/api/preview',
    summary: 'The first rows out of one node, running only that node and what feeds it',
    body: previewBody,
    response: previewReply,
  },
]

/** Categories whose nodes change something outside the run; a preview never runs them. */
const SIDE_EFFECTS = new Set(['destination', 'sync'])

export function previewRoutes(
  env: RunEnvironment,
  options: {
    timeoutMs: number
    /** Issues for what the user's role policy forbids (server/policies). */
    policyIssues?: (
      graph: unknown,
      params: Record<string, unknown>,
      user: SessionUser,
    ) => z.infer<typeof issueSchema>[]
  },
) {
  return new Hono<AppEnv>()
    .post('/validate', validate('json', validateBody), (c) => {
      const body = c.req.valid('json')
      const analysis = analyzeGraph(body.graph, env.catalog, { params: body.params ?? {} })
      const columns: Record<string, Record<string, string[] | null>> = {}
      for (const [id, ports] of Object.entries(analysis.columns)) {
        columns[id] = Object.fromEntries(
          Object.entries(ports).map(([p, cols]) => [p, cols === undefined ? null : [...cols]]),
        )
      }
      // Which JSONata expressions run compiled to JavaScript and which on the (slower) interpreter.
      const policy = options.policyIssues?.(body.graph, body.params ?? {}, c.get('user')) ?? []
      return c.json({ issues: [...analysis.issues, ...policy], columns, expressions: analysis.expressions })
    })
    .post('/preview', validate('json', previewBody), async (c) => {
      const { graph: input, nodeId, port, limit, params: values } = c.req.valid('json')
      const analysis = analyzeGraph(input, env.catalog, { params: values ?? {} })
      const graph = analysis.graph
      if (graph === undefined || hasErrors(analysis.issues)) {
        const issues = analysis.issues.filter((i) => i.severity === 'error')
        throw new ApiError(
          400,
          'INVALID_GRAPH',
          `The graph has ${issues.length} error(s); fix them before a preview`,
          { issues },
        )
      }
      const node = graph.nodes.find((n) => n.id === nodeId)
      if (node === undefined) throw new ApiError(404, 'NOT_FOUND', `The graph has no node "${nodeId}"`)
      const def = env.catalog.get(node.type)!
      const upstream = upstreamOf(graph.edges, nodeId)
      // A preview reads its sources: the user's role policy must allow them.
      const refused = (options.policyIssues?.(input, values ?? {}, c.get('user')) ?? []).filter(
        (i) => i.rule === 'sources' && i.nodeId !== undefined && upstream.has(i.nodeId),
      )
      if (refused.length > 0) {
        throw new ApiError(
          403,
          'POLICY_VIOLATION',
          `A preview of "${nodeId}" reads what your role's policy does not allow: ${refused.map((i) => i.message).join('; ')}`,
          {
            violations: refused.map((i) => ({
              nodeId: i.nodeId,
              rule: i.rule,
              value: i.value,
              message: i.message,
            })),
          },
        )
      }
      for (const id of upstream) {
        const upstream = graph.nodes.find((n) => n.id === id)!
        const category = env.catalog.get(upstream.type)?.category ?? ''
        if (SIDE_EFFECTS.has(category)) {
          throw new ApiError(
            400,
            'PREVIEW_HAS_SIDE_EFFECTS',
            `A preview of "${nodeId}" would run "${id}" (${upstream.type}), which writes to its destination; preview a node before it`,
          )
        }
      }
      if (!(port in outputPorts(def, node.onRowError ?? graph.settings.onRowError))) {
        throw new ApiError(400, 'UNKNOWN_PORT', `Node "${nodeId}" (${node.type}) has no output "${port}"`)
      }
      const rows: Row[] = []
      let truncated = false
      let failure: SerializedError | undefined
      const controller = new AbortController()
      const timer = setTimeout(() => {
        truncated = true
        controller.abort()
      }, options.timeoutMs)
      try {
        const summary = await runGraph(input, {
          catalog: env.catalog,
          params: values ?? {},
          signal: controller.signal,
          targets: [nodeId],
          files: env.files,
          connections: env.connections,
          pool: env.poolFor(graph),
          progressIntervalMs: 60_000,
          onBatch: (id, p, batch) => {
            if (id !== nodeId || p !== port || controller.signal.aborted) return
            for (const row of batch) {
              if (rows.length === limit) {
                truncated = true
                controller.abort()
                return
              }
              rows.push(row)
            }
          },
        })
        if (summary.status === 'failed') {
          if (rows.length === 0 || summary.errors[0] === undefined) {
            throw new ApiError(
              422,
              'PREVIEW_FAILED',
              summary.errors[0]?.message ?? 'The preview run failed',
              {
                errors: summary.errors,
              },
            )
          }
          // The rows the node gave before it failed are worth seeing, next to the reason it stopped.
          const { code, message, nodeId: failed, row } = summary.errors[0]
          failure = {
            code,
            message,
            ...(failed === undefined ? {} : { nodeId: failed }),
            ...(row === undefined ? {} : { row }),
          }
        }
      } finally {
        clearTimeout(timer)
      }
      return c.json({
        columns: inferColumns(rows),
        rows,
        truncated,
        ...(failure === undefined ? {} : { error: failure }),
      })
    })
}

/** The node and every node that feeds it. */
function upstreamOf(edges: readonly { from: string; to: string }[], target: string): Set<string> {
  const found = new Set<string>()
  const stack = [target]
  while (stack.length > 0) {
    const id = stack.pop()!
    if (found.has(id)) continue
    found.add(id)
    for (const e of edges) if (e.to === id) stack.push(e.from)
  }
  return found
}
