import { z } from 'zod'
import type { PortSpec } from './ports.ts'
import type { WriteOutcome } from './progress.ts'
import type { NodeRunState } from './run-state.ts'
import type { Batch, Columns, OnRowError, Row } from './types.ts'

export type NodeCategory = 'source' | 'transform' | 'join' | 'destination' | 'sync'

export interface NodeLog {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** Resolves a file path from a config value; refuses paths outside the folders the host allows. */
export interface FileResolver {
  resolve(path: string, options: { mode: 'read' | 'write'; field: string }): Promise<string>
  /**
   * A resolved path as messages show it: relative to the files folder (server) or the graph's
   * folder (CLI), never the server's absolute path.
   */
  display(path: string): string
}

/** Resolves a connection reference (a stored name or an inline object) to its settings, secrets included. */
export interface ConnectionResolver {
  resolve(ref: unknown, options: { field: string }): Promise<Record<string, unknown>>
}

export interface RunSettings {
  batchSize: number
  onRowError: OnRowError
  /** Limits of one expression evaluation (see `compileExpression`). */
  expressionTimeoutMs: number
  expressionDepth: number
}

/** What `setup` gets: the node's parsed config and the few run services it may use. */
export interface SetupContext<C> {
  nodeId: string
  config: C
  settings: RunSettings
  signal: AbortSignal
  log: NodeLog
  files: FileResolver
  connections: ConnectionResolver
  /** Register a release (close a file, a pool); runs when the node ends, whether it succeeded or not. */
  onCleanup(release: () => void | Promise<void>): void
  /** Values kept across successful runs of this graph, for this node; undefined when the host keeps none. */
  runState?: NodeRunState
}

/** What `run` gets: the setup context, the state `setup` made, input streams and the row-error hook. */
export interface RunContext<C, S> extends SetupContext<C> {
  state: S
  /** One stream of batches per input port; an unconnected optional input is an empty stream. */
  inputs: Record<string, AsyncIterable<Batch>>
  /**
   * A row failed: the engine applies `settings.onRowError` (throws on `fail`, counts on `skip`,
   * sends the row with `_error` to the `rejected` port on `route`). `position` is 1-based; without
   * it, a `NodeRunError`'s `row` (e.g. a file's line number) is reported as the row.
   */
  reject(row: Row, error: unknown, position?: number): void
  /** A destination reports rows it wrote (its `rowsOut`), since it yields none. */
  countOut(rows: number): void
  /** A sync node reports what became of `count` attempted writes (its `outcomes` counters). */
  outcome(outcome: WriteOutcome, count?: number): void
}

/** Batches a node yields, by output port. */
export type Outputs = Partial<Record<string, Batch>>

/** A per-row transform: pure, built only from config, so the engine may run it on a worker thread. */
export interface RowProcessor<C, P> {
  prepare(config: C, settings: RunSettings): P | Promise<P>
  /** Handle one row; call `emit` for each output row. Throw to fail the row (the engine applies onRowError). */
  process(state: P, row: Row, emit: (port: string, row: Row) => void): void | Promise<void>
  /**
   * CPU-heavy work the engine should spread over the worker pool; a function decides per config
   * (a compiled expression is cheaper than the trip to a worker, an interpreted one is not).
   */
  offload?: boolean | ((config: C) => boolean)
}

export interface ColumnInference<C> {
  config: C
  /** Known columns on each connected input port. */
  inputs: Record<string, Columns>
}

/** A validation remark a node adds about its own config, e.g. a join key column that cannot exist. */
export interface NodeIssue {
  code: string
  severity: 'error' | 'warning'
  path?: string
  message: string
}

export interface NodeDefinition<Schema extends z.ZodType = z.ZodType, S = unknown, P = unknown> {
  type: string
  version: number
  title: string
  category: NodeCategory
  description: string
  inputs: Record<string, PortSpec>
  outputs: Record<string, PortSpec>
  /** Plain-data config schema (no transforms) with UI hints in `.meta()`. */
  config: Schema
  /** The node can fail a single row; with `onRowError: route` it gains a `rejected` output. */
  rowErrors?: boolean
  /** The node holds data in memory (a join's build side, a sort) instead of streaming it. */
  holdsData?: string
  /** Known output columns (and remarks) from config and known input columns. */
  infer?(args: ColumnInference<z.infer<Schema>>): { outputs?: Record<string, Columns>; issues?: NodeIssue[] }
  /** Turn config into per-run state; register cleanups on the context. */
  setup?(ctx: SetupContext<z.infer<Schema>>): S | Promise<S>
  /** Stream batches out (sources, joins, destinations). Exactly one of `run` and `rows` is given. */
  run?(ctx: RunContext<z.infer<Schema>, S>): AsyncGenerator<Outputs, void, undefined>
  /** A per-row transform the engine drives batch by batch, on this thread or on the worker pool. */
  rows?: RowProcessor<z.infer<Schema>, P>
  /** Upgrade a config written for an older `version`. */
  migrate?(config: unknown, fromVersion: number): unknown
}

/** Any node definition, whatever its config and state types. */
// The config/state parameters are erased here so definitions of different types share one catalog.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNodeDefinition = NodeDefinition<z.ZodType, any, any>

/** Declare a node type once; the engine, validator, server catalog and editor form derive from it. */
export function defineNode<Schema extends z.ZodType, S = undefined, P = undefined>(
  definition: NodeDefinition<Schema, S, P>,
): NodeDefinition<Schema, S, P> {
  if ((definition.run === undefined) === (definition.rows === undefined)) {
    throw new Error(`Node type ${definition.type}: declare exactly one of run and rows`)
  }
  return definition
}

export interface Catalog {
  get(type: string): AnyNodeDefinition | undefined
  list(): AnyNodeDefinition[]
  /** The module that exports this catalog as `catalog`, so worker threads can load the same declarations. */
  readonly moduleUrl: string | undefined
}

export function createCatalog(definitions: readonly AnyNodeDefinition[], moduleUrl?: string): Catalog {
  const byType = new Map<string, AnyNodeDefinition>()
  for (const definition of definitions) {
    if (byType.has(definition.type)) throw new Error(`Node type ${definition.type} is declared twice`)
    byType.set(definition.type, definition)
  }
  return { get: (type) => byType.get(type), list: () => [...byType.values()], moduleUrl }
}

/** The JSON Schema of a node's config, as the editor form and the server's catalog see it. */
export function configJsonSchema(definition: AnyNodeDefinition): Record<string, unknown> {
  return z.toJSONSchema(definition.config, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
}

/** Input/output ports of a node as configured; `rejected` is added when rows are routed. */
export function outputPorts(definition: AnyNodeDefinition, onRowError: OnRowError): Record<string, PortSpec> {
  if (definition.rowErrors && onRowError === 'route') {
    return { ...definition.outputs, rejected: { type: 'rejected', title: 'Rejected rows' } }
  }
  return definition.outputs
}
