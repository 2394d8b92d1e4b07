import { randomBytes } from 'node:crypto'
import { describeWithService } from '../services.ts'
import { openMssql } from '../../nodes/sql/mssql.ts'
import { openMysql } from '../../nodes/sql/mysql.ts'
import { openOracle } from '../../nodes/sql/oracle.ts'
import { openPostgres } from '../../nodes/sql/postgres.ts'
import type { SqlConnector } from '../../nodes/sql/types.ts'

/** An inline `connection` object as a graph holds it. */
export type Connection = Record<string, unknown>

/** The PostgreSQL on loopback the tests use (trust auth, database `test`). */
export const POSTGRES: Connection = {
  driver: 'postgres',
  host: '127.0.0.1',
  port: 5432,
  user: 'postgres',
  database: 'test',
}
/** The MariaDB on loopback the tests use (root, empty password, database `test`). */
export const MARIADB: Connection = {
  driver: 'mysql',
  host: '127.0.0.1',
  port: 3306,
  user: 'root',
  password: '',
  database: 'test',
}

/** `MSSQL_URL`, e.g. `mssql://sa:Secret_1@127.0.0.1:1433/master?encrypt=true&trustServerCertificate=true`. */
export function mssqlFromEnv(): Connection | undefined {
  const url = process.env.MSSQL_URL
  return url === undefined || url === '' ? undefined : { driver: 'mssql', url }
}

/** `ORACLE_URL`, e.g. `oracle://system:Secret_1@127.0.0.1:1521/FREEPDB1`. */
export function oracleFromEnv(): Connection | undefined {
  const url = process.env.ORACLE_URL
  if (url === undefined || url === '') return undefined
  const parsed = new URL(url)
  return {
    driver: 'oracle',
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    connectString: `${parsed.hostname}:${parsed.port || '1521'}${parsed.pathname}`,
  }
}

/** Open a connector on an inline connection (the tests' own setup and checks). */
export function open(connection: Connection): SqlConnector {
  const settings = Object.fromEntries(Object.entries(connection).filter(([k]) => k !== 'driver')) as Record<
    string,
    string
  >
  switch (connection.driver) {
    case 'postgres':
      return openPostgres(settings)
    case 'mysql':
      return openMysql(settings)
    case 'mssql':
      return openMssql(settings)
    case 'oracle':
      return openOracle(settings)
    default:
      throw new Error(`no test connector for ${String(connection.driver)}`)
  }
}

/** Why the database cannot be reached, or undefined when it answers. */
export async function unreachable(connection: Connection): Promise<string | undefined> {
  const connector = open(connection)
  try {
    await connector.listTables()
    return undefined
  } catch (error) {
    return `${connector.target} is not reachable: ${error instanceof Error ? error.message : String(error)}`
  } finally {
    await connector.close().catch(() => undefined)
  }
}

/**
 * A suite that needs a database server. When it cannot be reached the suite is reported as skipped
 * with the reason, unless SYNCGRAPH_REQUIRE_SERVICES=1 (then it fails); `optional` servers (SQL Server,
 * Oracle: only when their URL is set) are skipped when not configured, whatever that variable says.
 */
export function describeWithDatabase(
  name: string,
  missing: string | undefined,
  body: () => void,
  options: { optional?: boolean } = {},
): void {
  describeWithService(name, missing, body, options)
}

/** A table name no other test (or parallel test file) uses. */
export function uniqueTable(prefix: string): string {
  return `sg_${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`
}
