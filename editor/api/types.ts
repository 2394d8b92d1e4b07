/** Shapes of the REST API (.tmp/api-contract.md); engine types are shared, never redeclared. */
import type { GraphInput, ParamSpec } from '../../engine/graph.ts'
import type { EdgeStats, NodeStats, RunStatus } from '../../engine/progress.ts'
import type { SerializedError } from '../../engine/errors.ts'
import type { Issue } from '../../engine/validate.ts'
import type { PortSpec } from '../../engine/ports.ts'
import type { NodeCategory } from '../../engine/define-node.ts'
import type { RunRecord, StoredRunStatus } from '../../engine/ws-messages.ts'

export type {
  Issue,
  NodeStats,
  EdgeStats,
  RunStatus,
  StoredRunStatus,
  SerializedError,
  PortSpec,
  NodeCategory,
  ParamSpec,
}

/** A graph document as the editor sends and receives it. */
export type GraphDoc = GraphInput

export type Row = Record<string, unknown>

/** A JSON Schema node, as produced by zod's toJSONSchema for a node's config. */
export interface JsonSchema {
  type?: string | string[]
  title?: string
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  format?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  additionalProperties?: boolean | JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  minimum?: number
  maximum?: number
  minLength?: number
  minItems?: number
  'x-ui'?: {
    widget?: 'column' | 'columns' | 'file' | 'connection' | 'code' | 'secret' | 'keyPairs'
    port?: string
    mode?: 'read' | 'write'
    advanced?: boolean
  }
  [key: string]: unknown
}

export interface User {
  id: string
  username: string
  role: string
  /** What the role allows (server/auth/permissions.ts); the editor hides the rest. */
  permissions?: string[]
}

export interface NodeTypeInfo {
  type: string
  version: number
  title: string
  category: NodeCategory | (string & {})
  description: string
  inputs: Record<string, PortSpec>
  outputs: Record<string, PortSpec>
  rowErrors: boolean
  holdsData?: string
  configSchema: JsonSchema
}

export interface GraphSummary {
  id: string
  name: string
  description?: string
  revision: number
  updatedAt: string
  /** When the graph's schedule fires next (null: not scheduled). */
  nextRunAt?: string | null
}

export interface StoredGraph {
  id: string
  revision: number
  graph: GraphDoc
  updatedAt: string
}

export interface ValidateResult {
  issues: Issue[]
  columns: Record<string, Record<string, string[] | null>>
  /** Each JSONata expression and whether it runs compiled to JavaScript or on the interpreter. */
  expressions: { nodeId: string; path: string; compiled: boolean }[]
}

export interface PreviewResult {
  columns: { name: string; type: string }[]
  rows: Row[]
  truncated: boolean
  /** The run failed after these rows (e.g. at a malformed CSV line). */
  error?: SerializedError
}

export interface RunListItem {
  id: string
  graphId: string | null
  graphName?: string
  status: StoredRunStatus
  createdAt?: string
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
}

/** A stored run with per-node stats (`GET /api/runs/:id`). */
export type RunDetail = RunRecord

export type TemplateParamType = ParamSpec['type']

export interface TemplateParam {
  type: TemplateParamType
  title?: string
  description?: string
  default?: unknown
  values?: (string | number)[]
  targets?: { nodeId: string; path: string }[]
}

export interface TemplateSummary {
  id: string
  name: string
  description?: string
  params: Record<string, TemplateParam>
}

export interface TemplateDetail extends TemplateSummary {
  graph: GraphDoc
}

export interface Connection {
  id: string
  name: string
  kind: 'sql' | 'ldap'
  driver?: string
  settings: Record<string, unknown>
  hasSecret: boolean
}

export interface FileInfo {
  name: string
  size: number
  modifiedAt: string
}
