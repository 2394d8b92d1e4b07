import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import {
  runDirFor,
  describeServer,
  sharedDatabase,
  STANDARD,
  type DatabaseKind,
  type DatabaseSettings,
} from '../databases.ts'
import { describeWithService } from '../services.ts'
import { openMssql } from '../../nodes/sql/mssql.ts'
import { openMysql } from '../../nodes/sql/mysql.ts'
import { openOracle } from '../../nodes/sql/oracle.ts'
import { openPostgres } from '../../nodes/sql/postgres.ts'
import type { SqlConnector } from '../../nodes/sql/types.ts'

/** An inline `connection` object as a graph holds it. */
export type Connection = Record<string, unknown>

/**
 * The PostgreSQL or MariaDB of this test run (test/databases.ts): `PG_URL` / `MYSQL_URL`, else the
 * standard service on loopback, else a private server in a temp folder shared by every test file;
 * `missing` says why there is none (the suite then skips, or fails under SYNCGRAPH_REQUIRE_SERVICES=1).
 */
export interface TestDatabase {
  /** An inline `connection` object (driver `postgres` or `mysql`). */
  connection: Connection
  settings: DatabaseSettings
  /** For suite names, e.g. `PostgreSQL on 127.0.0.1:5432 (standard service)`. */
  where: string
  missing: string | undefined
}

let runDir: string | undefined

/** The run folder from vitest's globalSetup, or (without it) one for this process alone. */
function sharedDir(): string {
  const provided = inject('syncgraphDatabases')
  if (provided !== undefined) return provided
  // Its servers are stopped by the run folder's reaper when this process exits.
  runDir ??= runDirFor()
  return runDir
}

const chosen = new Map<DatabaseKind, Promise<TestDatabase>>()

/** The test run's server of this kind (decided once per run, started only when first asked for). */
export function testDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  let found = chosen.get(kind)
  if (found === undefined) {
    found = (async () => {
      const driver = kind === 'postgres' ? 'postgres' : 'mysql'
      const choice = await sharedDatabase(sharedDir(), kind)
      if (choice.missing !== undefined) {
        return {
          connection: { driver, ...STANDARD[kind] },
          settings: STANDARD[kind],
          where: kind === 'postgres' ? 'PostgreSQL' : 'MariaDB',
          missing: choice.missing,
        }
      }
      const connection = { driver, ...choice.server.settings }
      return {
        connection,
        settings: choice.server.settings,
        where: describeServer(choice.server),
        missing: await unreachable(connection),
      }
    })()
    chosen.set(kind, found)
  }
  return found
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
