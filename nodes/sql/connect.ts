import { stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { z } from 'zod'
import { ConnectorError, errorCode, errorMessage, type SetupContext } from '../../engine/index.ts'
import { fileError, inNode } from '../file-errors.ts'
import { openSqlite } from './sqlite.ts'
import { SQL_DRIVERS, type SqlConnector } from './types.ts'

/** Drivers this build can open. */
export const AVAILABLE_DRIVERS = SQL_DRIVERS

const secret = (title: string) =>
  z
    .union([z.string(), z.object({ $env: z.string().min(1) }).strict()])
    .meta({ title, description: 'The value, or `{ "$env": "VAR" }` to read it from the environment.' })

const serverFields = (driver: 'postgres' | 'mysql' | 'mssql', defaultPort: number) => ({
  url: secret('Connection URL')
    .optional()
    .meta({
      description: `A connection URL instead of the fields below, e.g. \`${driver === 'postgres' ? 'postgres://user:pass@host:5432/db' : driver === 'mysql' ? 'mysql://user:pass@host:3306/db' : 'mssql://user:pass@host:1433/db'}\`; may be \`{ "$env": "VAR" }\`.`,
    }),
  host: z.string().min(1).optional().meta({ title: 'Host', description: 'Default: localhost.' }),
  port: z
    .number()
    .int()
    .min(1)
    .max(65_535)
    .optional()
    .meta({ title: 'Port', description: `Default: ${defaultPort}.` }),
  user: z.string().optional().meta({ title: 'User' }),
  password: secret('Password').optional(),
  database: z.string().optional().meta({ title: 'Database' }),
})

/** The inline connection objects, one per driver. */
export const inlineSqlConnection = z.discriminatedUnion('driver', [
  z
    .object({
      driver: z.literal('sqlite').meta({ title: 'Driver' }),
      path: z
        .string()
        .min(1)
        .meta({
          title: 'Database file',
          description:
            'The SQLite database file, relative to the graph file (CLI) or the server files folder. A destination creates it when missing and switches it to WAL mode, so readers and the writer do not block each other.',
          'x-ui': { widget: 'file' },
        }),
    })
    .strict()
    .meta({ title: 'SQLite database' }),
  z
    .object({
      driver: z.literal('postgres').meta({ title: 'Driver' }),
      ...serverFields('postgres', 5432),
      ssl: z.boolean().optional().meta({ title: 'TLS', description: 'Connect over TLS.' }),
    })
    .strict()
    .meta({ title: 'PostgreSQL' }),
  z
    .object({
      driver: z.literal('mysql').meta({ title: 'Driver' }),
      ...serverFields('mysql', 3306),
      ssl: z.boolean().optional().meta({ title: 'TLS', description: 'Connect over TLS.' }),
    })
    .strict()
    .meta({ title: 'MySQL / MariaDB' }),
  z
    .object({
      driver: z.literal('mssql').meta({ title: 'Driver' }),
      ...serverFields('mssql', 1433),
      encrypt: z
        .boolean()
        .optional()
        .meta({ title: 'Encrypt', description: 'TLS to the server (default true).' }),
      trustServerCertificate: z.boolean().optional().meta({
        title: 'Trust the server certificate',
        description: 'Accept a self-signed certificate (development servers).',
      }),
    })
    .strict()
    .meta({ title: 'SQL Server' }),
  z
    .object({
      driver: z.literal('oracle').meta({ title: 'Driver' }),
      connectString: z.string().min(1).meta({
        title: 'Connect string',
        description: '`host:port/service_name`, e.g. `db.example.com:1521/FREEPDB1`.',
      }),
      user: z.string().min(1).meta({ title: 'User' }),
      password: secret('Password'),
    })
    .strict()
    .meta({ title: 'Oracle (thin mode)' }),
])

/** The `connection` config field of the SQL nodes: a stored connection's name, or an inline connection. */
export const sqlConnectionField = () =>
  z
    .union([
      z
        .string()
        .min(1)
        .meta({ title: 'Stored connection', description: 'The name of a connection stored on the server.' }),
      inlineSqlConnection,
    ])
    .meta({
      title: 'Connection',
      description:
        'A stored connection name, or an inline connection: `{ "driver": "sqlite", "path": "hr.db" }`, `{ "driver": "postgres", "host": "db", "user": "sync", "password": { "$env": "PGPASSWORD" }, "database": "hr" }`, and likewise for `mysql` (MySQL and MariaDB), `mssql` and `oracle` (`connectString`, `user`, `password`). Secrets may be `{ "$env": "VAR" }` so graph files never hold passwords.',
      'x-ui': { widget: 'connection' },
    })

const SERVER_FIELDS = {
  url: 'string',
  host: 'string',
  port: 'number',
  user: 'string',
  password: 'string',
  database: 'string',
  ssl: 'boolean',
  encrypt: 'boolean',
  trustServerCertificate: 'boolean',
  connectString: 'string',
} as const

/**
 * Open the connection a SQL node's `connection` field names, closed by the node's cleanup whatever
 * happens (success, failure, cancel). File paths go through the host's file rules (mode `read` for
 * sources, `write` for destinations).
 */
export async function connectSql(
  ctx: Pick<SetupContext<unknown>, 'nodeId' | 'files' | 'connections' | 'onCleanup'>,
  type: string,
  ref: unknown,
  mode: 'read' | 'write',
): Promise<SqlConnector> {
  const prefix = `Node "${ctx.nodeId}" (${type}) connection`
  const invalid = (field: string, message: string) =>
    new ConnectorError('CONNECTION_INVALID', `${prefix}.${field}: ${message}`, {
      nodeId: ctx.nodeId,
      field: `connection.${field}`,
    })
  try {
    const connection = await ctx.connections.resolve(ref, { field: 'connection' })
    const driver = connection.driver
    if (driver === 'sqlite') {
      if (typeof connection.path !== 'string' || connection.path === '') {
        throw invalid('path', 'a sqlite connection needs the database file path')
      }
      const path = await ctx.files.resolve(connection.path, { mode, field: 'connection.path' })
      const shown = ctx.files.display(path)
      const where = { nodeId: ctx.nodeId, type, field: 'connection.path', path: shown, action: mode } as const
      try {
        await stat(mode === 'read' ? path : dirname(path))
      } catch (error) {
        throw fileError(error, where)
      }
      let connector: SqlConnector
      try {
        connector = openSqlite(path, { write: mode === 'write', shown })
      } catch (error) {
        const code = errorCode(error) === 'SQLITE_NOTADB' ? 'NOT_A_DATABASE' : 'CONNECTION_FAILED'
        throw new ConnectorError(code, `${prefix}.path: cannot open ${shown}: ${errorMessage(error)}`, {
          nodeId: ctx.nodeId,
          field: 'connection.path',
          cause: error,
        })
      }
      ctx.onCleanup(() => connector.close())
      return connector
    }
    if (driver !== 'postgres' && driver !== 'mysql' && driver !== 'mssql' && driver !== 'oracle') {
      throw invalid(
        'driver',
        `unknown driver ${JSON.stringify(driver)}; expected one of: ${SQL_DRIVERS.join(', ')}`,
      )
    }
    const settings: Record<string, string | number | boolean> = {}
    for (const [field, kind] of Object.entries(SERVER_FIELDS)) {
      const value = connection[field]
      if (value === undefined || value === null) continue
      if (typeof value !== kind) throw invalid(field, `expected a ${kind}`)
      settings[field] = value as string | number | boolean
    }
    if (driver === 'oracle' && settings.connectString === undefined) {
      throw invalid('connectString', 'an oracle connection needs connectString (host:port/service)')
    }
    const connector = await openServer(driver, settings)
    ctx.onCleanup(() => connector.close())
    try {
      // Connect now, so a wrong host or password fails the node's setup with the target named.
      await connector.listTables()
    } catch (error) {
      throw new ConnectorError(
        'CONNECTION_FAILED',
        `${prefix}: cannot connect to ${connector.target}: ${errorMessage(error)}`,
        { nodeId: ctx.nodeId, field: 'connection', cause: error },
      )
    }
    return connector
  } catch (error) {
    throw inNode(error, ctx.nodeId, type)
  }
}

/**
 * Open a server driver's connector. Each driver's module (and its client library) loads on first use:
 * together they take most of a second to load, which every process would otherwise pay at start.
 */
async function openServer(
  driver: 'postgres' | 'mysql' | 'mssql' | 'oracle',
  settings: Record<string, string | number | boolean>,
): Promise<SqlConnector> {
  switch (driver) {
    case 'postgres':
      return (await import('./postgres.ts')).openPostgres(settings)
    case 'mysql':
      return (await import('./mysql.ts')).openMysql(settings)
    case 'mssql':
      return (await import('./mssql.ts')).openMssql(settings)
    case 'oracle':
      return (await import('./oracle.ts')).openOracle(settings)
  }
}
