import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { ConnectorError, GraphError, ParamError, SyncgraphError } from '../../engine/index.ts'

/** The one error a handler throws: a status, a stable code, a message and optional details. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export const notFound = (what: string, id: string) =>
  new ApiError(404, 'NOT_FOUND', `No ${what} with id "${id}"`)

/** Body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown }
}

/** The single mapping from thrown errors to responses (STYLE.md §9). */
export function toErrorResponse(error: unknown, c: Context, log: (message: string) => void): Response {
  const reply = (
    status: ContentfulStatusCode,
    code: string,
    message: string,
    details?: unknown,
    headers?: Record<string, string>,
  ) =>
    c.json<ErrorBody>(
      { error: { code, message, ...(details === undefined ? {} : { details }) } },
      status,
      headers,
    )
  if (error instanceof ApiError)
    return reply(error.status, error.code, error.message, error.details, error.headers)
  if (error instanceof GraphError) return reply(400, error.code, error.message, { issues: error.issues })
  if (error instanceof ParamError) return reply(400, 'INVALID_PARAM', error.message, { param: error.param })
  if (error instanceof ConnectorError) {
    const status =
      error.code === 'PATH_OUTSIDE_FILES' ? 403 : error.code === 'CONNECTION_NOT_FOUND' ? 404 : 400
    return reply(
      status,
      error.code,
      error.message,
      error.field === undefined ? undefined : { field: error.field },
    )
  }
  if (error instanceof SyncgraphError) return reply(400, error.code, error.message)
  if (error instanceof SyntaxError && /JSON/.test(error.message))
    return reply(400, 'INVALID_JSON', 'The request body is not valid JSON')
  const status = (error as { status?: unknown }).status
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Hono's own HTTPException (body limit, malformed input) keeps its status.
    return reply(
      status as ContentfulStatusCode,
      'BAD_REQUEST',
      error instanceof Error ? error.message : 'Bad request',
    )
  }
  log(
    `unhandled error on ${c.req.method} ${c.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  )
  return reply(500, 'INTERNAL', 'Internal server error')
}
