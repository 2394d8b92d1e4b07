import { ConnectorError, errorCode, errorMessage } from '../engine/index.ts'

/**
 * A file system error as a ConnectorError a user can act on, naming node, field and the path as
 * `FileResolver.display` shows it (relative to the files folder, never the server's absolute path).
 */
export function fileError(
  error: unknown,
  where: { nodeId: string; type: string; field: string; path: string; action: 'read' | 'write' },
): ConnectorError {
  const prefix = `Node "${where.nodeId}" (${where.type}) ${where.field}`
  const options = { nodeId: where.nodeId, field: where.field, cause: error }
  switch (errorCode(error)) {
    case 'ENOENT':
      return where.action === 'read'
        ? new ConnectorError('FILE_NOT_FOUND', `${prefix}: file not found: ${where.path}`, options)
        : new ConnectorError(
            'FOLDER_NOT_FOUND',
            `${prefix}: the folder of ${where.path} does not exist`,
            options,
          )
    case 'EISDIR':
      return new ConnectorError('FILE_IS_FOLDER', `${prefix}: ${where.path} is a folder, not a file`, options)
    case 'EACCES':
    case 'EPERM':
      return new ConnectorError(
        'FILE_ACCESS_DENIED',
        `${prefix}: no permission to ${where.action} ${where.path}`,
        options,
      )
    default:
      return new ConnectorError(
        'FILE_ERROR',
        `${prefix}: cannot ${where.action} ${where.path}: ${errorMessage(error)}`,
        options,
      )
  }
}

/**
 * An engine service error (a refused path, an unknown stored connection) told from the node's
 * point of view: `Node "id" (type) field: …`, with its code and field kept.
 */
export function inNode(error: unknown, nodeId: string, type: string): unknown {
  if (!(error instanceof ConnectorError) || error.nodeId !== undefined) return error
  const field = error.field
  const text =
    field !== undefined && error.message.startsWith(field)
      ? error.message
      : `${field ?? ''} ${error.message}`.trim()
  const message = `Node "${nodeId}" (${type}) ${text}`
  return new ConnectorError(error.code, message, {
    nodeId,
    cause: error,
    ...(field === undefined ? {} : { field }),
  })
}
