/** Base of every error the engine raises: a stable `code`, the node it concerns, and a cause. */
export class SyncgraphError extends Error {
  readonly code: string
  readonly nodeId: string | undefined

  constructor(code: string, message: string, options: { nodeId?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.nodeId = options.nodeId
  }
}

/** The graph document cannot run as it is (invalid document, unknown node type, bad config). */
export class GraphError extends SyncgraphError {
  readonly issues: readonly { code: string; message: string; nodeId?: string; path?: string }[]

  constructor(
    code: string,
    message: string,
    options: { nodeId?: string; cause?: unknown; issues?: GraphError['issues'] } = {},
  ) {
    super(code, message, options)
    this.issues = options.issues ?? []
  }
}

/** A node failed while running; `row` is the 1-based position of the row in the node's input, when known. */
export class NodeRunError extends SyncgraphError {
  readonly row: number | undefined
  readonly field: string | undefined

  constructor(
    code: string,
    message: string,
    options: { nodeId?: string; cause?: unknown; row?: number; field?: string } = {},
  ) {
    super(code, message, options)
    this.row = options.row
    this.field = options.field
  }
}

/** A connector (file, database, directory) refused or failed: not found, bad credentials, unreachable. */
export class ConnectorError extends SyncgraphError {
  readonly field: string | undefined

  constructor(
    code: string,
    message: string,
    options: { nodeId?: string; cause?: unknown; field?: string } = {},
  ) {
    super(code, message, options)
    this.field = options.field
  }
}

/** The run was cancelled through its AbortSignal. */
export class CancelledError extends SyncgraphError {
  constructor(message = 'The run was cancelled') {
    super('CANCELLED', message)
  }
}

/** A plain, serialisable view of any thrown value, for the run summary, logs and worker replies. */
export interface SerializedError {
  code: string
  message: string
  nodeId?: string
  row?: number
  field?: string
  position?: number
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof SyncgraphError) {
    const out: SerializedError = { code: error.code, message: error.message }
    if (error.nodeId !== undefined) out.nodeId = error.nodeId
    if (error instanceof NodeRunError || error instanceof ConnectorError) {
      if (error.field !== undefined) out.field = error.field
    }
    if (error instanceof NodeRunError && error.row !== undefined) out.row = error.row
    return out
  }
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)) {
    // JSONata throws plain objects {code, message, position, token}; Node errors carry a code too.
    const code = errorCode(error) ?? 'INTERNAL'
    const out: SerializedError = { code, message: errorMessage(error) }
    const position = (error as { position?: unknown }).position
    if (typeof position === 'number') out.position = position
    return out
  }
  return { code: 'INTERNAL', message: String(error) }
}

/** The `code` property of an error-like value, when it is a string (Node's `ENOENT`, JSONata's `T2001`). */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  if (typeof error === 'object' && error !== null && 'message' in error) return String(error.message)
  return String(error)
}
