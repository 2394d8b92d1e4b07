import { createHash } from 'node:crypto'
import { z } from 'zod'
import { createConnectionResolver } from '../connections.ts'
import type { Catalog, ConnectionResolver, FileResolver, NodeLog } from '../define-node.ts'
import { ConnectorError, GraphError, NodeRunError } from '../errors.ts'
import { createFileResolver } from '../files.ts'
import { bindParams, parseGraph, type Graph } from '../graph.ts'
import type { RunEvent, WriteOutcome } from '../progress.ts'
import { runGraph } from '../runtime.ts'
import type { OnRowError, Row } from '../types.ts'
import { cannotWrite, countOutcomes } from './outcomes.ts'
import type { Plan, ResultRow } from './types.ts'

/** The run services a sync driver may use, as a node's setup gets them. */
export interface SyncDriverContext {
  nodeId: string
  signal: AbortSignal
  log: NodeLog
  files: FileResolver
  connections: ConnectionResolver
}

/**
 * What a sync node type exports so a plan can be made and applied outside a graph run
 * (`syncgraph plan` / `syncgraph apply`). The node's own `run` uses the same two functions.
 */
export interface SyncDriver {
  type: string
  plan(ctx: SyncDriverContext & { config: unknown; rows: readonly Row[] }): Promise<Plan>
  /**
   * Apply exactly `plan`; refuses (throws THRESHOLD_EXCEEDED) when the plan is over a threshold. With
   * `halt`, no write starts after the first failure (the writes in flight settle).
   */
  apply(
    ctx: SyncDriverContext & { config: unknown; plan: Plan; halt?: boolean },
  ): Promise<{ rows: ResultRow[]; writes: number }>
}

/** The plans of every sync node of a graph, tied to the graph (and parameter values) they came from. */
export interface PlanDocument {
  format: 'syncgraph-plan-document'
  version: 1
  graphName: string
  graphHash: string
  params: Record<string, unknown>
  createdAt: string
  /** Where the graph was read from, when it came from a file (`syncgraph plan` records it). */
  graphFile?: string
  plans: Plan[]
}

const planShape = z.looseObject({
  format: z.literal('syncgraph-plan'),
  version: z.literal(1),
  nodeId: z.string().min(1),
  type: z.string().min(1),
  thresholds: z.looseObject({ exceeded: z.boolean() }),
  items: z.array(
    z.looseObject({
      dn: z.string(),
      action: z.string(),
      changes: z.array(
        z.looseObject({ attribute: z.string(), op: z.string(), values: z.array(z.unknown()) }),
      ),
    }),
  ),
})

const planDocumentShape = z.looseObject({
  format: z.literal('syncgraph-plan-document'),
  version: z.literal(1),
  graphName: z.string(),
  graphHash: z.string().regex(/^[0-9a-f]{64}$/),
  params: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  graphFile: z.string().optional(),
  plans: z.array(planShape),
})

/** Check that a value read from a file or request is a plan document; throws PLAN_INVALID saying where not. */
export function parsePlanDocument(value: unknown): PlanDocument {
  const parsed = planDocumentShape.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.length === 0 ? '' : ` at ${issue.path.map(String).join('.')}`
    throw new GraphError(
      'PLAN_INVALID',
      `not a Syncgraph plan document (format syncgraph-plan-document, version 1)${where}: ${issue.message}`,
    )
  }
  return parsed.data as unknown as PlanDocument
}

export interface GraphSyncOptions {
  catalog: Catalog
  drivers: readonly SyncDriver[]
  params?: Record<string, unknown>
  files?: FileResolver
  connections?: ConnectionResolver
  signal?: AbortSignal
  onEvent?: (event: RunEvent) => void
}

/** A stable hash of what a graph does: nodes (type, version, config, onRowError), edges, settings, params. */
export function graphHash(graph: unknown, params: Record<string, unknown> = {}): string {
  const parsed = parseGraph(graph)
  if (!parsed.ok)
    throw new GraphError('INVALID_GRAPH', parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; '))
  const g = parsed.graph
  const essence = {
    params: g.params,
    values: params,
    settings: g.settings,
    nodes: g.nodes.map((n) => ({
      id: n.id,
      type: n.type,
      version: n.version,
      config: n.config,
      onRowError: n.onRowError,
    })),
    edges: g.edges,
  }
  return createHash('sha256').update(canonicalJson(essence)).digest('hex')
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

function boundGraph(graph: unknown, params: Record<string, unknown>): Graph {
  const parsed = parseGraph(graph)
  if (!parsed.ok)
    throw new GraphError('INVALID_GRAPH', parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; '))
  return bindParams(parsed.graph, params)
}

function driverContext(nodeId: string, options: GraphSyncOptions): SyncDriverContext {
  const emit = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string) =>
    options.onEvent?.({ type: 'log', runId: 'plan', level, message, nodeId, time: new Date().toISOString() })
  return {
    nodeId,
    signal: options.signal ?? new AbortController().signal,
    log: { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') },
    files: options.files ?? createFileResolver({ baseDir: process.cwd() }),
    connections: options.connections ?? createConnectionResolver(),
  }
}

function nodeConfig(graph: Graph, nodeId: string, catalog: Catalog): unknown {
  const node = graph.nodes.find((n) => n.id === nodeId)!
  const def = catalog.get(node.type)
  if (def === undefined)
    throw new GraphError('UNKNOWN_NODE_TYPE', `Unknown node type ${node.type}`, { nodeId })
  const config =
    node.version !== undefined && node.version < def.version
      ? def.migrate!(node.config, node.version)
      : node.config
  return def.config.parse(config)
}

/**
 * Plan every sync node of a graph without writing anything (`syncgraph plan`): run what feeds the
 * sync nodes, then let each node's driver compute its plan from the rows it would receive.
 */
export async function planGraph(graph: unknown, options: GraphSyncOptions): Promise<PlanDocument> {
  const params = options.params ?? {}
  const bound = boundGraph(graph, params)
  const drivers = new Map(options.drivers.map((d) => [d.type, d]))
  const syncNodes = bound.nodes.filter((n) => drivers.has(n.type))
  const feeding = bound.edges.filter((e) => syncNodes.some((n) => n.id === e.to))
  const received = new Map<string, Row[]>(syncNodes.map((n) => [n.id, []]))
  const parents = [...new Set(feeding.map((e) => e.from))]
  if (parents.length > 0) {
    const summary = await runGraph(graph, {
      catalog: options.catalog,
      params,
      targets: parents,
      ...(options.files === undefined ? {} : { files: options.files }),
      ...(options.connections === undefined ? {} : { connections: options.connections }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
      onBatch: (nodeId, port, batch) => {
        for (const e of feeding)
          if (e.from === nodeId && e.fromPort === port) received.get(e.to)!.push(...batch)
      },
    })
    if (summary.status !== 'succeeded') {
      const first = summary.errors[0]
      throw new NodeRunError(first?.code ?? 'RUN_FAILED', first?.message ?? `the run ${summary.status}`, {
        ...(first?.nodeId === undefined ? {} : { nodeId: first.nodeId }),
      })
    }
  }
  const plans: Plan[] = []
  for (const node of syncNodes) {
    const driver = drivers.get(node.type)!
    plans.push(
      await driver.plan({
        ...driverContext(node.id, options),
        config: nodeConfig(bound, node.id, options.catalog),
        rows: received.get(node.id)!,
      }),
    )
  }
  return {
    format: 'syncgraph-plan-document',
    version: 1,
    graphName: bound.name,
    graphHash: graphHash(graph, params),
    params,
    createdAt: new Date().toISOString(),
    plans,
  }
}

export interface AppliedPlanDocument {
  results: Record<string, ResultRow[]>
  writes: number
  /** Objects that failed, in every plan. */
  failed: number
  /** Objects per outcome, per sync node (as a run's `outcomes` counters). */
  outcomes: Record<string, Partial<Record<WriteOutcome, number>>>
  /** `failed` when a node whose onRowError is `fail` had a failed write (it stopped there). */
  status: 'succeeded' | 'failed'
}

/**
 * Apply a plan document exactly as it is (`syncgraph apply`). Refuses with PLAN_STALE when the graph
 * (or its parameter values) changed since the plan was made, and before any write when a plan is
 * over a threshold or, for a node whose onRowError is `fail`, holds objects that cannot be written.
 * Failed writes follow each node's onRowError: `fail` stops that node's apply at the first failure
 * (the writes in flight settle) and fails the whole; `skip` and `route` count them.
 */
export async function applyPlanDocument(
  document: PlanDocument,
  graph: unknown,
  options: GraphSyncOptions,
): Promise<AppliedPlanDocument> {
  parsePlanDocument(document)
  const params = options.params ?? document.params
  if (graphHash(graph, params) !== document.graphHash) {
    throw new GraphError(
      'PLAN_STALE',
      'the graph (or its parameter values) changed since this plan was made; make a new plan',
    )
  }
  const bound = boundGraph(graph, params)
  const drivers = new Map(options.drivers.map((d) => [d.type, d]))
  // Every plan is checked before the first write, so a refusal writes nothing anywhere.
  for (const plan of document.plans) {
    if (!drivers.has(plan.type))
      throw new GraphError('UNKNOWN_NODE_TYPE', `No sync driver for ${plan.type}`, { nodeId: plan.nodeId })
    if (plan.thresholds.exceeded) {
      throw new ConnectorError(
        'THRESHOLD_EXCEEDED',
        `node "${plan.nodeId}": ${plan.thresholds.message ?? 'the plan is over a threshold; nothing was written'}`,
        { nodeId: plan.nodeId },
      )
    }
    const unwritable = plan.items.filter(cannotWrite)
    const first = unwritable[0]
    if (first !== undefined && policyOf(bound, plan.nodeId) === 'fail') {
      throw new ConnectorError(
        first.action === 'ambiguous' ? 'AMBIGUOUS' : (first.code ?? 'PLAN_ERROR'),
        `node "${plan.nodeId}": ${unwritable.length} object(s) of the plan cannot be written, the first ${first.dn || JSON.stringify(first.key)}: ${first.reason ?? first.action}; nothing was written (with onRowError "skip" or "route" the others are written)`,
        { nodeId: plan.nodeId },
      )
    }
  }
  const results: Record<string, ResultRow[]> = {}
  const outcomes: AppliedPlanDocument['outcomes'] = {}
  let writes = 0
  let failed = 0
  let status: AppliedPlanDocument['status'] = 'succeeded'
  for (const plan of document.plans) {
    const driver = drivers.get(plan.type)
    if (driver === undefined)
      throw new GraphError('UNKNOWN_NODE_TYPE', `No sync driver for ${plan.type}`, { nodeId: plan.nodeId })
    const halt = policyOf(bound, plan.nodeId) === 'fail'
    const applied = await driver.apply({
      ...driverContext(plan.nodeId, options),
      config: nodeConfig(bound, plan.nodeId, options.catalog),
      plan,
      halt,
    })
    results[plan.nodeId] = applied.rows
    outcomes[plan.nodeId] = countOutcomes(applied.rows)
    writes += applied.writes
    const nodeFailed = outcomes[plan.nodeId]!.failed ?? 0
    failed += nodeFailed
    if (nodeFailed > 0 && halt) {
      // Like a run: the first failure under onRowError "fail" stops everything after it.
      status = 'failed'
      break
    }
  }
  return { results, writes, failed, outcomes, status }
}

/** A node's onRowError: its own, else the graph's. */
function policyOf(graph: Graph, nodeId: string): OnRowError {
  const node = graph.nodes.find((n) => n.id === nodeId)
  return node?.onRowError ?? graph.settings.onRowError
}
