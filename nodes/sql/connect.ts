import { stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { z } from 'zod'
import { ConnectorError, errorCode, errorMessage, type SetupContext } from '../../engine/index.ts'
import { fileError, inNode } from '../file-errors.ts'
import { openSqlite } from './sqlite.ts'
import { SQL_DRIVERS, type SqlConnector } from './types.ts'

/** Drivers this build can open; the others in SQL_DRIVERS are accepted by the schema and refused with a clear message. */
export const AVAILABLE_DRIVERS = ['sqlite'] as const

/** The `connection` config field of the SQL nodes: a stored connection's name, or an inline connection. */
export const sqlConnectionField = (mode: 'read' | 'write') =>
  z
    .union([
      z
        .string()
        .min(1)
        .meta({ title: 'Stored connection', description: 'The name of a connection stored on the server.' }),
      z
        .object({
          driver: z
            .literal('sqlite')
            .meta({ title: 'Driver', description: 'The database driver: `sqlite`.' }),
          path: z
            .string()
            .min(1)
            .meta({
              title: 'Database file',
              description: `The SQLite database file, relative to the graph file (CLI) or the server files folder.${mode === 'write' ? ' Created when missing, and switched to WAL mode so readers and the writer do not block each other.' : ''}`,
              'x-ui': { widget: 'file', mode },
            }),
        })
        .strict()
        .meta({ title: 'SQLite database' }),
    ])
    .meta({
      title: 'Connection',
      description:
        'A stored connection name, or an inline connection such as `{ "driver": "sqlite", "path": "hr.db" }`. Secrets in an inline connection may be `{ "$env": "VAR" }`.',
      'x-ui': { widget: 'connection' },
    })

/**
 * Open the connection a SQL node's `connection` field names, closed by the node's cleanup whatever
 * happens. File paths go through the host's file rules (mode `read` for sources, `write` for destinations).
 */
export async function connectSql(
  ctx: Pick<SetupContext<unknown>, 'nodeId' | 'files' | 'connections' | 'onCleanup'>,
  type: string,
  ref: unknown,
  mode: 'read' | 'write',
): Promise<SqlConnector> {
  const prefix = `Node "${ctx.nodeId}" (${type}) connection`
  try {
    const connection = await ctx.connections.resolve(ref, { field: 'connection' })
    const driver = connection.driver
    switch (driver) {
      case 'sqlite': {
        if (typeof connection.path !== 'string' || connection.path === '') {
          throw new ConnectorError(
            'CONNECTION_INVALID',
            `${prefix}.path: a sqlite connection needs the database file path`,
            {
              nodeId: ctx.nodeId,
              field: 'connection.path',
            },
          )
        }
        const path = await ctx.files.resolve(connection.path, { mode, field: 'connection.path' })
        const where = { nodeId: ctx.nodeId, type, field: 'connection.path', path, action: mode } as const
        try {
          await stat(mode === 'read' ? path : dirname(path))
        } catch (error) {
          throw fileError(error, where)
        }
        let connector: SqlConnector
        try {
          connector = openSqlite(path, { write: mode === 'write' })
        } catch (error) {
          const code = errorCode(error) === 'SQLITE_NOTADB' ? 'NOT_A_DATABASE' : 'CONNECTION_FAILED'
          throw new ConnectorError(code, `${prefix}.path: cannot open ${path}: ${errorMessage(error)}`, {
            nodeId: ctx.nodeId,
            field: 'connection.path',
            cause: error,
          })
        }
        ctx.onCleanup(() => connector.close())
        return connector
      }
      default: {
        const known = (SQL_DRIVERS as readonly unknown[]).includes(driver)
        throw new ConnectorError(
          known ? 'DRIVER_NOT_AVAILABLE' : 'CONNECTION_INVALID',
          known
            ? `${prefix}.driver: the ${String(driver)} driver is not available yet; this version supports: ${AVAILABLE_DRIVERS.join(', ')}`
            : `${prefix}.driver: unknown driver ${JSON.stringify(driver)}; expected one of: ${SQL_DRIVERS.join(', ')}`,
          { nodeId: ctx.nodeId, field: 'connection.driver' },
        )
      }
    }
  } catch (error) {
    throw inNode(error, ctx.nodeId, type)
  }
}
