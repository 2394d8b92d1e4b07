import { jsonataFieldPaths } from './config-fields.ts'
import { configJsonSchema, outputPorts, type AnyNodeDefinition, type Catalog } from './define-node.ts'
import { checkExpression, compileExpression } from './expression.ts'
import {
  bindParams,
  coerceParam,
  isParamRef,
  jsonPath,
  ParamError,
  parseGraph,
  type Graph,
  type GraphNode,
} from './graph.ts'
import { checkPortTypes, type PortSpec } from './ports.ts'
import type { Columns } from './types.ts'

export type IssueCode =
  | 'invalid-document'
  | 'duplicate-node-id'
  | 'unknown-node-type'
  | 'unsupported-version'
  | 'invalid-config'
  | 'unknown-param'
  | 'invalid-param'
  | 'unbound-param'
  | 'missing-input'
  | 'dangling-edge'
  | 'duplicate-edge'
  | 'too-many-edges'
  | 'incompatible-ports'
  | 'cycle'
  | 'expression-syntax'
  | 'unknown-column'
  | 'rejected-unconnected'
  | (string & {})

/** A validation remark. `path` is a JSON path into the node's config when `nodeId` is set, else into the document. */
export interface Issue {
  code: IssueCode
  severity: 'error' | 'warning'
  nodeId?: string
  path?: string
  message: string
  /** 0-based offset in a JSONata expression, for `expression-syntax`. */
  position?: number
}

export interface GraphAnalysis {
  issues: Issue[]
  /** The parsed graph, when the document itself parsed. */
  graph: Graph | undefined
  /** Known columns on each node's output ports (`undefined` = unknown). */
  columns: Record<string, Record<string, Columns>>
  /** Node ids in an order where every node comes after its inputs (cycles excluded). */
  order: string[]
  /** Every JSONata expression in node configs, and whether it runs compiled or on the interpreter. */
  expressions: { nodeId: string; path: string; compiled: boolean }[]
}

export interface ValidateOptions {
  /** Parameter values to bind; unbound parameters fall back to their defaults. */
  params?: Record<string, unknown>
}

/** Validate a graph document against a catalog. Never throws: every problem is an issue. */
export function validateGraph(input: unknown, catalog: Catalog, options: ValidateOptions = {}): Issue[] {
  return analyzeGraph(input, catalog, options).issues
}

export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === 'error')
}

/** Validation plus what it learns on the way: node order and the columns known on every port. */
export function analyzeGraph(input: unknown, catalog: Catalog, options: ValidateOptions = {}): GraphAnalysis {
  const parsed = parseGraph(input)
  if (!parsed.ok) {
    return {
      issues: parsed.issues.map((i) => ({
        code: 'invalid-document',
        severity: 'error',
        path: i.path,
        message: i.message,
      })),
      graph: undefined,
      columns: {},
      order: [],
      expressions: [],
    }
  }
  const graph = parsed.graph
  const issues: Issue[] = []
  const expressions: GraphAnalysis['expressions'] = []

  // Parameter values are checked once here; nodes then bind only the valid ones.
  const params: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(options.params ?? {})) {
    const spec = graph.params[name]
    if (spec === undefined) {
      const declared = Object.keys(graph.params).join(', ') || 'none'
      issues.push({
        code: 'unknown-param',
        severity: 'error',
        path: '$.params',
        message: `Unknown parameter "${name}"; the graph declares: ${declared}`,
      })
      continue
    }
    try {
      params[name] = coerceParam(name, spec, value)
    } catch (error) {
      if (!(error instanceof ParamError)) throw error
      issues.push({
        code: 'invalid-param',
        severity: 'error',
        path: jsonPath(['params', name]),
        message: error.message,
      })
    }
  }

  const nodes = new Map<string, { node: GraphNode; def: AnyNodeDefinition | undefined; config: unknown }>()
  graph.nodes.forEach((node, index) => {
    if (nodes.has(node.id)) {
      issues.push({
        code: 'duplicate-node-id',
        severity: 'error',
        nodeId: node.id,
        path: `$.nodes[${index}].id`,
        message: `Two nodes have the id "${node.id}"`,
      })
      return
    }
    const def = catalog.get(node.type)
    if (def === undefined) {
      issues.push({
        code: 'unknown-node-type',
        severity: 'error',
        nodeId: node.id,
        path: `$.nodes[${index}].type`,
        message: `Node "${node.id}" has unknown type "${node.type}"`,
      })
      nodes.set(node.id, { node, def, config: node.config })
      return
    }
    nodes.set(node.id, { node, def, config: checkConfig(graph, node, def, params, issues, expressions) })
  })

  // Edges: endpoints, ports, types.
  const incoming = new Map<string, { edge: Graph['edges'][number]; index: number }[]>()
  const outgoing = new Map<string, string[]>()
  const seen = new Set<string>()
  graph.edges.forEach((edge, index) => {
    const at = `$.edges[${index}]`
    const from = nodes.get(edge.from)
    const to = nodes.get(edge.to)
    if (from === undefined || to === undefined) {
      const missing = from === undefined ? edge.from : edge.to
      issues.push({
        code: 'dangling-edge',
        severity: 'error',
        path: `${at}.${from === undefined ? 'from' : 'to'}`,
        message: `Edge ${edge.from} → ${edge.to} refers to a node "${missing}" that does not exist`,
      })
      return
    }
    const key = `${edge.from}:${edge.fromPort}->${edge.to}:${edge.toPort}`
    if (seen.has(key)) {
      issues.push({
        code: 'duplicate-edge',
        severity: 'error',
        path: at,
        message: `Edge ${describeEdge(edge)} is drawn twice`,
      })
      return
    }
    seen.add(key)
    let fromPort: PortSpec | undefined
    let toPort: PortSpec | undefined
    if (from.def !== undefined) {
      const ports = outputPorts(from.def, from.node.onRowError ?? graph.settings.onRowError)
      fromPort = ports[edge.fromPort]
      if (fromPort === undefined) {
        const hint =
          edge.fromPort === 'rejected' && from.def.rowErrors
            ? ' (it sends rejected rows only when onRowError is "route")'
            : `; its outputs are: ${Object.keys(ports).join(', ') || 'none'}`
        issues.push({
          code: 'dangling-edge',
          severity: 'error',
          nodeId: edge.from,
          path: `${at}.fromPort`,
          message: `Node "${edge.from}" (${from.def.type}) has no output "${edge.fromPort}"${hint}`,
        })
      }
    }
    if (to.def !== undefined) {
      toPort = to.def.inputs[edge.toPort]
      if (toPort === undefined) {
        issues.push({
          code: 'dangling-edge',
          severity: 'error',
          nodeId: edge.to,
          path: `${at}.toPort`,
          message: `Node "${edge.to}" (${to.def.type}) has no input "${edge.toPort}"; its inputs are: ${Object.keys(to.def.inputs).join(', ') || 'none'}`,
        })
      }
    }
    if (fromPort !== undefined && toPort !== undefined) {
      const check = checkPortTypes(fromPort.type, toPort.type)
      if (!check.ok) {
        issues.push({
          code: 'incompatible-ports',
          severity: 'error',
          nodeId: edge.to,
          path: at,
          message: `Edge ${describeEdge(edge)}: ${check.reason}`,
        })
        return
      }
    }
    if (fromPort === undefined || toPort === undefined) return
    const inKey = `${edge.to}:${edge.toPort}`
    incoming.set(inKey, [...(incoming.get(inKey) ?? []), { edge, index }])
    outgoing.set(edge.from, [...(outgoing.get(edge.from) ?? []), edge.to])
  })

  // Inputs: required ones connected, single ones not fed twice; rejected rows going somewhere.
  for (const { node, def } of nodes.values()) {
    if (def === undefined) continue
    for (const [port, spec] of Object.entries(def.inputs)) {
      const edges = incoming.get(`${node.id}:${port}`) ?? []
      const aimed = graph.edges.some((e) => e.to === node.id && e.toPort === port)
      if (!aimed && !spec.optional) {
        issues.push({
          code: 'missing-input',
          severity: 'error',
          nodeId: node.id,
          message: `Node "${node.id}" (${def.type}) needs an edge into its "${port}" input`,
        })
      }
      if (edges.length > 1 && !spec.multiple) {
        issues.push({
          code: 'too-many-edges',
          severity: 'error',
          nodeId: node.id,
          message: `Node "${node.id}" input "${port}" takes one edge but has ${edges.length}; use a union node to combine streams`,
        })
      }
    }
    const policy = node.onRowError ?? graph.settings.onRowError
    if (
      def.rowErrors &&
      policy === 'route' &&
      !graph.edges.some((e) => e.from === node.id && e.fromPort === 'rejected')
    ) {
      issues.push({
        code: 'rejected-unconnected',
        severity: 'warning',
        nodeId: node.id,
        message: `Node "${node.id}" routes rejected rows, but its "rejected" output is not connected: they are counted and dropped`,
      })
    }
  }

  const order = topologicalOrder([...nodes.keys()], outgoing)
  if (order.length < nodes.size) {
    const inCycle = [...nodes.keys()].filter((id) => !order.includes(id))
    for (const id of inCycle) {
      issues.push({
        code: 'cycle',
        severity: 'error',
        nodeId: id,
        message: `Node "${id}" is on a cycle (${inCycle.join(' → ')}): a graph must flow one way`,
      })
    }
  }

  // Known columns, carried forward in order.
  const columns: Record<string, Record<string, Columns>> = {}
  for (const id of order) {
    const entry = nodes.get(id)!
    const { node, def, config } = entry
    if (def === undefined) continue
    const inputs: Record<string, Columns> = {}
    for (const port of Object.keys(def.inputs)) {
      const edges = incoming.get(`${id}:${port}`) ?? []
      inputs[port] = mergeColumns(edges.map(({ edge }) => columns[edge.from]?.[edge.fromPort]))
    }
    const ports = outputPorts(def, node.onRowError ?? graph.settings.onRowError)
    const out: Record<string, Columns> = Object.fromEntries(Object.keys(ports).map((p) => [p, undefined]))
    if (config !== undefined && def.infer !== undefined) {
      try {
        const inferred = def.infer({ config, inputs })
        Object.assign(out, inferred.outputs ?? {})
        for (const issue of inferred.issues ?? []) issues.push({ ...issue, nodeId: id })
      } catch (error) {
        issues.push({
          code: 'invalid-config',
          severity: 'error',
          nodeId: id,
          message: `Node "${id}": ${error instanceof Error ? error.message : String(error)}`,
        })
      }
    }
    if ('rejected' in ports && inputs.in !== undefined) out.rejected = [...inputs.in, '_error']
    columns[id] = out
  }

  return { issues, graph, columns, order, expressions }
}

function checkConfig(
  graph: Graph,
  node: GraphNode,
  def: AnyNodeDefinition,
  params: Record<string, unknown>,
  issues: Issue[],
  expressions: GraphAnalysis['expressions'],
): unknown {
  const version = node.version ?? def.version
  let config: unknown = node.config
  if (version > def.version) {
    issues.push({
      code: 'unsupported-version',
      severity: 'error',
      nodeId: node.id,
      message: `Node "${node.id}" was written for ${def.type} version ${version}; this Syncgraph knows version ${def.version}`,
    })
    return undefined
  }
  if (version < def.version) {
    if (def.migrate === undefined) {
      issues.push({
        code: 'unsupported-version',
        severity: 'error',
        nodeId: node.id,
        message: `Node "${node.id}" uses ${def.type} version ${version}, which cannot be migrated to ${def.version}`,
      })
      return undefined
    }
    config = def.migrate(config, version)
  }
  if (containsParamRef(config)) {
    try {
      config = bindParams(
        { ...graph, nodes: [{ ...node, config: config as Record<string, unknown> }] },
        params,
      ).nodes[0]!.config
    } catch (error) {
      if (!(error instanceof ParamError)) throw error
      const unbound = error.code === 'missing-param'
      issues.push({
        code: unbound ? 'unbound-param' : error.code,
        severity: unbound ? 'warning' : 'error',
        nodeId: node.id,
        message: unbound
          ? `Node "${node.id}": ${error.message}; its config is checked once the parameter has a value`
          : `Node "${node.id}": ${error.message}`,
      })
      return undefined
    }
  }
  const result = def.config.safeParse(config)
  if (!result.success) {
    for (const zi of result.error.issues) {
      issues.push({
        code: 'invalid-config',
        severity: 'error',
        nodeId: node.id,
        path: jsonPath(zi.path),
        message: `Node "${node.id}" config ${jsonPath(zi.path).slice(2) || 'value'}: ${zi.message}`,
      })
    }
    return undefined
  }
  for (const fieldPath of jsonataFieldPaths(configJsonSchema(def))) {
    for (const { path, value } of valuesAt(result.data, fieldPath)) {
      if (typeof value !== 'string') continue
      const problem = checkExpression(value)
      if (problem === undefined) {
        expressions.push({
          nodeId: node.id,
          path: jsonPath(path),
          compiled: compileExpression(value).compiled,
        })
        continue
      }
      const at = problem.position === undefined ? '' : ` at position ${problem.position}`
      issues.push({
        code: 'expression-syntax',
        severity: 'error',
        nodeId: node.id,
        path: jsonPath(path),
        message: `Node "${node.id}" ${jsonPath(path).slice(2)}: ${problem.message} (${problem.code}${at})`,
        ...(problem.position === undefined ? {} : { position: problem.position }),
      })
    }
  }
  return result.data
}

function containsParamRef(value: unknown): boolean {
  if (isParamRef(value)) return true
  if (Array.isArray(value)) return value.some(containsParamRef)
  if (typeof value === 'object' && value !== null) return Object.values(value).some(containsParamRef)
  return false
}

/** The values at a schema path with `*` wildcards, with their concrete paths. */
function valuesAt(root: unknown, path: (string | number)[]): { path: (string | number)[]; value: unknown }[] {
  let current: { path: (string | number)[]; value: unknown }[] = [{ path: [], value: root }]
  for (const key of path) {
    const next: typeof current = []
    for (const { path: p, value } of current) {
      if (typeof value !== 'object' || value === null) continue
      if (key === '*') {
        const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value)
        for (const [k, v] of entries) next.push({ path: [...p, k], value: v })
      } else if (key in value) {
        next.push({ path: [...p, key], value: (value as Record<string | number, unknown>)[key] })
      }
    }
    current = next
  }
  return current
}

function mergeColumns(list: Columns[]): Columns {
  if (list.length === 0 || list.some((c) => c === undefined)) return undefined
  return [...new Set(list.flatMap((c) => c ?? []))]
}

function topologicalOrder(ids: string[], outgoing: Map<string, string[]>): string[] {
  const indegree = new Map(ids.map((id) => [id, 0]))
  for (const targets of outgoing.values())
    for (const t of targets) indegree.set(t, (indegree.get(t) ?? 0) + 1)
  const ready = ids.filter((id) => indegree.get(id) === 0)
  const order: string[] = []
  while (ready.length > 0) {
    const id = ready.shift()!
    order.push(id)
    for (const t of outgoing.get(id) ?? []) {
      const d = (indegree.get(t) ?? 0) - 1
      indegree.set(t, d)
      if (d === 0) ready.push(t)
    }
  }
  return order
}

function describeEdge(edge: Graph['edges'][number]): string {
  return `${edge.from}.${edge.fromPort} → ${edge.to}.${edge.toPort}`
}

/** Columns on an input port, from an analysis, for nodes that check their column references. */
export function unknownColumnIssue(
  column: string,
  known: Columns,
  port: string,
  path: string,
): Issue | undefined {
  if (known === undefined || known.includes(column)) return undefined
  return {
    code: 'unknown-column',
    severity: 'warning',
    path,
    message: `Column "${column}" does not reach the "${port}" input; known columns: ${known.join(', ') || 'none'}`,
  }
}

/** `unknownColumnIssue` for a list of columns in config at `path` (`$.columns` → `$.columns[i]`). */
export function unknownColumnIssues(
  columns: readonly string[] | undefined,
  known: Columns,
  port: string,
  path: string,
): Issue[] {
  return (columns ?? []).flatMap((column, i) => {
    const issue = unknownColumnIssue(column, known, port, `${path}[${i}]`)
    return issue === undefined ? [] : [issue]
  })
}
