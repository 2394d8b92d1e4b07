import { rowFailure } from './sqlite.ts'
import type { RowFailure, SqlDriver } from './types.ts'

type Classifier = (error: unknown, index: number) => RowFailure | undefined

/**
 * A driver's test for "this error is the row's own" (constraint → SQL_CONSTRAINT, bad value →
 * SQL_VALUE). The server drivers' modules load on demand: their client libraries take most of a second
 * to load together, which every process (CLI, server, each worker thread) would otherwise pay.
 */
export async function classifierFor(driver: SqlDriver): Promise<Classifier> {
  switch (driver) {
    case 'sqlite':
      return rowFailure
    case 'postgres':
      return (await import('./postgres.ts')).classifyPostgres
    case 'mysql':
      return (await import('./mysql.ts')).classifyMysql
    case 'mssql':
      return (await import('./mssql.ts')).classifyMssql
    case 'oracle':
      return (await import('./oracle.ts')).classifyOracle
  }
}
