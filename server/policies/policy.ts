import {
  SQL_DRIVER_NAMES,
  WRITE_ACTIONS,
  type PolicyDocument,
  type WriteAction,
  type WriteRule,
} from '../../engine/access.ts'
import type { Catalog, Columns, Graph, GraphNode } from '../../engine/index.ts'

// The policy document's schema is shared with the editor (engine/access.ts).
export {
  KNOWN_CONNECTORS,
  SQL_DRIVER_NAMES,
  WRITE_ACTIONS,
  approvalPolicy,
  policyDocument,
  writeRule,
  type ApprovalPolicy,
  type PolicyDocument,
  type WriteAction,
  type WriteRule,
} from '../../engine/access.ts'

/**
 * Policies per role (issue 8 point 6): which connectors a role's graphs may read from and write to, and
 * which object types (LDAP objectClass, SQL table) and attributes (columns) its syncs and writes may
 * change. `checkPolicy` is pure: it reads a graph (parameters already bound) and says what breaks.
 *
 * Connector names and the document's schema: engine/access.ts.
 */

export type PolicyRule = 'sources' | 'destinations' | 'writes.object' | 'writes.attribute' | 'writes.action'
export interface Violation {
  nodeId: string
  rule: PolicyRule
  /** The value that breaks the rule: a connector, an object type, an attribute or an action. */
  value: string
  message: string
}

export interface PolicyContext {
  /** The role the policy belongs to, named in messages. */
  role?: string
  /** Source vs destination by each node type's category; without it by the type's suffix (.read, .write, .sync). */
  catalog?: Catalog
  /** The driver of a stored connection, by name (undefined when unknown). */
  connectionDriver?: (name: string) => string | undefined
  /** Known output columns per node and port (validation's analysis), to know what sql.write writes. */
  columns?: Record<string, Record<string, Columns>>
}

/** What a node writes, as far as its config says. */
interface WriteInfo {
  kind: 'objectClass' | 'table'
  objects: string[]
  /** undefined: not known before the run (the columns of an upstream whose columns are not known). */
  attributes: string[] | undefined
  actions: WriteAction[]
}

const UNKNOWN_SQL = 'sql:?'

/** The violations of a policy by a graph (with parameters bound), in node order. */
export function checkPolicy(graph: Graph, policy: PolicyDocument, context: PolicyContext = {}): Violation[] {
  const role = context.role === undefined ? 'the' : `the ${context.role}`
  const out: Violation[] = []
  for (const node of graph.nodes) {
    const side = sideOf(node, context.catalog)
    if (side === undefined) continue
    const connector = connectorOf(node, context.connectionDriver)
    const allow = side === 'source' ? policy.sources?.allow : policy.destinations?.allow
    if (allow !== undefined && !allow.some((entry) => connectorMatches(entry, connector))) {
      const verb = side === 'source' ? 'reads from' : 'writes to'
      const list = allow.length === 0 ? 'none' : allow.join(', ')
      out.push({
        nodeId: node.id,
        rule: side === 'source' ? 'sources' : 'destinations',
        value: connector,
        message: `node "${node.id}" ${verb} ${describeConnector(connector)}; ${role} policy allows ${side === 'source' ? 'sources' : 'destinations'}: ${list}`,
      })
    }
    if (side === 'destination' && policy.writes !== undefined) {
      const info = writeInfo(node, graph, context.columns)
      if (info !== undefined) out.push(...checkWrites(node.id, connector, info, policy.writes, role))
    }
  }
  return out
}

function checkWrites(
  nodeId: string,
  connector: string,
  info: WriteInfo,
  rules: readonly WriteRule[],
  role: string,
): Violation[] {
  const kindName = info.kind === 'table' ? 'table' : 'objectClass'
  const forConnector = rules.filter((r) => connectorMatches(r.connector, connector))
  const lower = new Set(info.objects.map((o) => o.toLowerCase()))
  const matching = forConnector.filter((r) => r.object === '*' || lower.has(r.object.toLowerCase()))
  if (matching.length === 0) {
    const value = info.objects[0] ?? '?'
    const what =
      info.objects.length === 0
        ? `objects of an unknown ${kindName} (name it in objectClass or in the scope filter as (objectClass=…))`
        : `${kindName} ${info.objects.map((o) => `"${o}"`).join(', ')}`
    const allowed = forConnector.map((r) => r.object)
    return [
      {
        nodeId,
        rule: 'writes.object',
        value,
        message: `node "${nodeId}" writes ${what} (${describeConnector(connector)}); ${role} policy allows ${allowed.length === 0 ? `no ${describeConnector(connector)} writes` : `writing only ${kindName} ${allowed.join(', ')}`}`,
      },
    ]
  }
  const object = matching.find((r) => r.object !== '*')?.object ?? info.objects[0] ?? '*'
  const of = object === '*' ? '' : ` of ${kindName} "${object}"`
  const out: Violation[] = []
  const actions = new Set<WriteAction>(matching.flatMap((r) => r.actions ?? WRITE_ACTIONS))
  for (const action of info.actions) {
    if (actions.has(action)) continue
    out.push({
      nodeId,
      rule: 'writes.action',
      value: action,
      message: `node "${nodeId}" may ${action} objects${of}; ${role} policy allows only ${[...actions].join(', ')}`,
    })
  }
  if (matching.some((r) => r.attributes === '*')) return out
  const allowed = [...new Set(matching.flatMap((r) => (r.attributes === '*' ? [] : r.attributes)))]
  const allowedLower = new Set(allowed.map((a) => a.toLowerCase()))
  const only = allowed.length === 0 ? 'no attributes' : `only ${allowed.join(', ')}`
  if (info.attributes === undefined) {
    out.push({
      nodeId,
      rule: 'writes.attribute',
      value: '?',
      message: `node "${nodeId}" writes columns${of} that are not known before the run (put a map node before it that names them); ${role} policy allows ${only}`,
    })
    return out
  }
  for (const attribute of info.attributes) {
    if (allowedLower.has(attribute.toLowerCase())) continue
    out.push({
      nodeId,
      rule: 'writes.attribute',
      value: attribute,
      message: `node "${nodeId}" writes attribute "${attribute}"${of}; ${role} policy allows ${only}`,
    })
  }
  return out
}

/** Whether a policy entry (`csv`, `sql`, `sql:postgres`, `*`, a node type) covers a node's connector. */
export function connectorMatches(entry: string, connector: string): boolean {
  if (entry === '*' || entry === connector) return true
  return entry === 'sql' && connector.startsWith('sql:')
}

function describeConnector(connector: string): string {
  return connector === UNKNOWN_SQL ? 'sql (a driver not known before the run)' : connector
}

function sideOf(node: GraphNode, catalog: Catalog | undefined): 'source' | 'destination' | undefined {
  const category = catalog?.get(node.type)?.category
  if (category !== undefined) {
    if (category === 'source') return 'source'
    if (category === 'destination' || category === 'sync') return 'destination'
    return undefined
  }
  if (node.type.endsWith('.read')) return 'source'
  if (node.type.endsWith('.write') || node.type.endsWith('.sync')) return 'destination'
  return undefined
}

/** The connector a source or destination node uses: `csv`, `excel`, `ldap`, `sql:<driver>`, or its type. */
export function connectorOf(
  node: Pick<GraphNode, 'type' | 'config'>,
  connectionDriver?: (name: string) => string | undefined,
): string {
  const family = node.type.split('.')[0]
  if (family === 'csv' || family === 'excel' || family === 'ldap') return family
  if (family !== 'sql') return node.type
  const connection = node.config.connection
  let driver: unknown
  if (typeof connection === 'string') driver = connectionDriver?.(connection)
  else if (isRecord(connection)) driver = connection.driver
  return typeof driver === 'string' && (SQL_DRIVER_NAMES as readonly string[]).includes(driver)
    ? `sql:${driver}`
    : UNKNOWN_SQL
}

function writeInfo(node: GraphNode, graph: Graph, columns: PolicyContext['columns']): WriteInfo | undefined {
  const config = node.config
  const keys = (value: unknown) => (isRecord(value) ? Object.keys(value) : [])
  const create = config.create !== false
  const update = config.update !== false
  const deprovision = isRecord(config.deprovision) ? config.deprovision : { action: 'none' }
  switch (node.type) {
    case 'ldap.sync': {
      const objects = [...strings(config.objectClass), ...filterClasses(config.filter)]
      const attributes = keys(config.attributes)
      if (config.account !== undefined) attributes.push('userAccountControl')
      if (isRecord(config.password) && create)
        attributes.push(
          typeof config.password.attribute === 'string' ? config.password.attribute : 'unicodePwd',
        )
      // With a DN rule, an update renames or moves a linked object whose DN differs (ModifyDN): that
      // writes the naming attribute and counts as `move`.
      const renames = update && config.dn !== undefined
      if ((create || renames) && isRecord(config.dn) && typeof config.dn.rdn === 'string')
        attributes.push(config.dn.rdn)
      if (deprovision.action === 'disable') {
        if (deprovision.preset === 'activeDirectory') attributes.push('userAccountControl')
        attributes.push(...keys(deprovision.attributes))
      }
      const actions = syncActions(create, update, deprovision.action)
      if (renames && !actions.includes('move')) actions.push('move')
      return {
        kind: 'objectClass',
        objects: unique(objects),
        attributes: unique(attributes),
        actions,
      }
    }
    case 'sql.sync': {
      let attributes: string[] | undefined = isRecord(config.columns)
        ? keys(config.columns)
        : inputColumns(node.id, graph, columns)
      if (attributes !== undefined && create) {
        for (const k of Array.isArray(config.key) ? config.key : []) {
          if (typeof k === 'string') attributes.push(k)
          else if (isRecord(k) && typeof k.target === 'string') attributes.push(k.target)
        }
        attributes.push(
          ...Object.entries(isRecord(config.scope) ? config.scope : {})
            .filter(([, v]) => !Array.isArray(v))
            .map(([k]) => k),
        )
      }
      if (attributes !== undefined && deprovision.action === 'flag') attributes.push(...keys(deprovision.set))
      attributes = attributes === undefined ? undefined : unique(attributes)
      const action = deprovision.action === 'flag' ? 'disable' : deprovision.action
      return {
        kind: 'table',
        objects: strings([config.table]),
        attributes,
        actions: syncActions(create, update, action),
      }
    }
    case 'sql.write': {
      const mode = typeof config.mode === 'string' ? config.mode : 'insert'
      const key = new Set(strings(config.key))
      let attributes: string[] | undefined = []
      if (mode !== 'delete') {
        attributes = inputColumns(node.id, graph, columns)
        if (attributes !== undefined && mode === 'update') attributes = attributes.filter((a) => !key.has(a))
      }
      const actions: Record<string, WriteAction[]> = {
        insert: ['create'],
        upsert: ['create', 'update'],
        replace: ['delete', 'create'],
        update: ['update'],
        delete: ['delete'],
      }
      return {
        kind: 'table',
        objects: strings([config.table]),
        attributes,
        actions: actions[mode] ?? ['create', 'update', 'delete'],
      }
    }
    default:
      return undefined
  }
}

function syncActions(create: boolean, update: boolean, deprovision: unknown): WriteAction[] {
  const actions: WriteAction[] = []
  if (create) actions.push('create')
  if (update) actions.push('update')
  if (deprovision === 'delete' || deprovision === 'disable' || deprovision === 'move')
    actions.push(deprovision)
  return actions
}

/** The columns arriving on a node's `in` port, or undefined when any upstream's are not known. */
function inputColumns(nodeId: string, graph: Graph, columns: PolicyContext['columns']): string[] | undefined {
  const edges = graph.edges.filter((e) => e.to === nodeId && e.toPort === 'in')
  if (edges.length === 0 || columns === undefined) return undefined
  const out: string[] = []
  for (const edge of edges) {
    const known = columns[edge.from]?.[edge.fromPort]
    if (known === undefined) return undefined
    out.push(...known)
  }
  return unique(out)
}

/**
 * Object classes an LDAP filter requires: `(objectClass=…)` equality items reached from the root through
 * AND (`&`) only. One under OR or NOT does not narrow the scope (`(|(objectClass=person)(objectClass=group))`
 * holds groups too), and a filter that does not parse requires nothing (RFC 4515: values escape parentheses).
 */
function filterClasses(filter: unknown): string[] {
  if (typeof filter !== 'string') return []
  let at = 0
  const skipSpace = () => {
    while (/\s/.test(filter[at] ?? '')) at += 1
  }
  /** Parses one parenthesised filter at `at`; returns the classes it requires, or undefined when malformed. */
  const parse = (): string[] | undefined => {
    skipSpace()
    if (filter[at] !== '(') return undefined
    at += 1
    skipSpace()
    const op = filter[at]
    if (op === '&' || op === '|' || op === '!') {
      at += 1
      const classes: string[] = []
      for (;;) {
        skipSpace()
        if (filter[at] === ')') break
        const inner = parse()
        if (inner === undefined) return undefined
        if (op === '&') classes.push(...inner)
      }
      at += 1
      return classes
    }
    const end = filter.indexOf(')', at)
    if (end < 0) return undefined
    const item = filter.slice(at, end)
    at = end + 1
    if (item.includes('(')) return undefined
    const match = /^\s*objectClass\s*=\s*([^*\\\s]+)\s*$/i.exec(item)
    return match === null ? [] : [match[1]!]
  }
  const classes = parse()
  skipSpace()
  return classes === undefined || at !== filter.length ? [] : classes
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '') : []
}

function unique(values: string[]): string[] {
  const seen = new Set<string>()
  return values.filter((v) => {
    const k = v.toLowerCase()
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
