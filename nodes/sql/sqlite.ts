import Database from 'better-sqlite3'
import type { Row } from '../../engine/index.ts'
import { decodeBinary } from './batch.ts'
import { rowValue } from './values.ts'
import { nonKeyColumns, writeStatements } from './statements.ts'
import type {
  BatchOutcome,
  RowFailure,
  RowStatement,
  SqlConnector,
  SqlDialect,
  SqlSession,
  TableInfo,
  WriteSpec,
} from './types.ts'

/** SQLite SQL: double-quoted identifiers, `?` placeholders, `ON CONFLICT … DO UPDATE` upserts. */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  quoteIdent: (identifier) => `"${identifier.replaceAll('"', '""')}"`,
  placeholder: () => '?',
  selectAll: (table) => `SELECT * FROM ${sqliteDialect.quoteIdent(table)}`,
  writeStatements: (spec) => writeStatements(sqliteDialect, spec, sqliteUpsert),
  columnType(value) {
    if (value === null || value === undefined) return ''
    if (typeof value === 'number') return Number.isInteger(value) ? 'INTEGER' : 'REAL'
    if (typeof value === 'boolean' || typeof value === 'bigint') return 'INTEGER'
    if (value instanceof Uint8Array) return 'BLOB'
    return 'TEXT'
  },
  createTable(table, columns, key) {
    const q = sqliteDialect.quoteIdent
    const defs = columns.map((c) => (c.type === '' ? q(c.name) : `${q(c.name)} ${c.type}`))
    if (key.length > 0) defs.push(`PRIMARY KEY (${key.map(q).join(', ')})`)
    return `CREATE TABLE IF NOT EXISTS ${q(table)} (${defs.join(', ')})`
  },
}

/** `INSERT … ON CONFLICT (key) DO UPDATE SET c = excluded.c` for one row. */
function sqliteUpsert(spec: WriteSpec): RowStatement {
  const q = sqliteDialect.quoteIdent
  const others = nonKeyColumns(spec)
  const action =
    others.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${others.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`
  return {
    sql: `INSERT INTO ${q(spec.table)} (${spec.columns.map(q).join(', ')}) VALUES (${spec.columns.map(() => '?').join(', ')}) ON CONFLICT (${spec.key.map(q).join(', ')}) ${action}`,
    columns: spec.columns,
  }
}

/**
 * A row value as SQLite stores it: booleans as 1/0, arrays and objects as JSON text, dates as ISO
 * text. A whole number past ±2^53 is bound as a 64-bit integer, not as a REAL (better-sqlite3 binds
 * every JS number as a double). Integers read as text (beyond ±2^53) are bound as text, which a
 * column of INTEGER or NUMERIC affinity stores as the exact integer.
 */
export function toSqliteValue(value: unknown): unknown {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) && !Number.isSafeInteger(value) && value >= -(2 ** 63) && value < 2 ** 63
        ? BigInt(value)
        : value
    case 'string':
    case 'bigint':
      return value
    case 'boolean':
      return value ? 1 : 0
    case 'undefined':
      return null
    case 'object':
      if (value === null || value instanceof Uint8Array) return value
      if (value instanceof Date) return value.toISOString()
      return JSON.stringify(value)
    default:
      return String(value)
  }
}

/**
 * A row as SQLite gave it (integers as BigInt) as row values: integers as numbers within ±2^53 and
 * as text beyond, as the PostgreSQL and MySQL drivers read 64-bit integers, so none is rounded;
 * BLOBs as base64 text, as the other drivers read binary (rows hold no bytes).
 */
function sqliteRow(row: Row): Row {
  for (const field in row) {
    const value = row[field]
    if (typeof value === 'bigint') row[field] = rowValue(value)
    else if (value instanceof Uint8Array) row[field] = Buffer.from(value).toString('base64')
  }
  return row
}

/** Errors that belong to one row (a constraint, a value) rather than to the connection or the file. */
export function rowFailure(error: unknown, index: number): RowFailure | undefined {
  const code = (error as { code?: unknown }).code
  const message = error instanceof Error ? error.message : String(error)
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
    return { index, code: 'SQL_CONSTRAINT', message, cause: error }
  }
  if (
    code === 'SQLITE_MISMATCH' ||
    code === 'SQLITE_TOOBIG' ||
    code === 'SQLITE_RANGE' ||
    error instanceof RangeError
  ) {
    return { index, code: 'SQL_VALUE', message, cause: error }
  }
  return undefined
}

/**
 * Open a SQLite database file. `write` turns on WAL and creates the file when missing; `shown` is
 * the path messages show (relative to the files folder).
 */
export function openSqlite(path: string, options: { write: boolean; shown?: string }): SqlConnector {
  const db = new Database(path, { readonly: !options.write, fileMustExist: !options.write, timeout: 10_000 })
  try {
    // Fails here, not at the first query, when the file is not a database.
    db.pragma('schema_version')
    if (options.write) db.pragma('journal_mode = WAL')
  } catch (error) {
    db.close()
    throw error
  }
  const statements = new Map<string, Database.Statement<unknown[]>>()
  const prepare = (sql: string) => {
    let statement = statements.get(sql)
    if (statement === undefined) {
      statement = db.prepare<unknown[]>(sql)
      statements.set(sql, statement)
    }
    return statement
  }

  const specs = new Map<string, RowStatement[]>()
  const exec = async (sql: string) => void db.exec(sql)
  const session: SqlSession = {
    run: async (sql, params) => prepare(sql).run(params.map(toSqliteValue)).changes,
    begin: () => exec('BEGIN'),
    commit: () => exec('COMMIT'),
    rollback: async () => {
      if (db.inTransaction) db.exec('ROLLBACK')
    },
    savepoint: (name) => exec(`SAVEPOINT ${name}`),
    rollbackTo: (name) => exec(`ROLLBACK TO ${name}`),
    releaseSavepoint: (name) => exec(`RELEASE ${name}`),
    release: async () => undefined,
  }

  return {
    dialect: sqliteDialect,
    target: options.shown ?? path,

    async *query(sql, params, batchSize, signal) {
      const statement = db.prepare<unknown[], Row>(sql)
      if (!statement.reader) throw new Error('the statement returns no rows; use a SELECT')
      statement.safeIntegers(true)
      const rows = statement.iterate(params.map(toSqliteValue))
      try {
        let batch: Row[] = []
        for (const row of rows) {
          batch.push(sqliteRow(row))
          if (batch.length >= batchSize) {
            yield batch
            batch = []
            signal.throwIfAborted()
          }
        }
        if (batch.length > 0) yield batch
      } finally {
        rows.return?.()
      }
    },

    async describeTable(table) {
      const columns = db
        .prepare<[string], { name: string; type: string; notnull: number; pk: number }>(
          'SELECT name, type, "notnull", pk FROM pragma_table_info(?)',
        )
        .all(table)
      if (columns.length === 0) return undefined
      const primaryKey = columns
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name)
      const uniqueKeys = primaryKey.length > 0 ? [primaryKey] : []
      const indexes = db
        .prepare<[string], { name: string; unique: number; partial: number }>(
          'SELECT name, "unique", partial FROM pragma_index_list(?)',
        )
        .all(table)
      for (const index of indexes) {
        if (index.unique !== 1 || index.partial === 1) continue
        const names = db
          .prepare<[string], { name: string | null }>('SELECT name FROM pragma_index_info(?) ORDER BY seqno')
          .all(index.name)
          .map((c) => c.name)
        if (names.every((c): c is string => c !== null)) uniqueKeys.push(names)
      }
      const info: TableInfo = {
        name: table,
        columns: columns.map((c) => ({
          name: c.name,
          type: c.type,
          notNull: c.notnull === 1,
          primaryKey: c.pk > 0,
        })),
        uniqueKeys,
      }
      return info
    },

    async listTables() {
      return db
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all()
        .map((t) => t.name)
    },

    async execute(sql) {
      db.exec(sql)
    },

    async writeBatch(spec: WriteSpec, rows: readonly Row[], { keepGoodRows }): Promise<BatchOutcome> {
      rows = decodeBinary(rows, spec.binaryColumns ?? [])
      const signature = `${spec.table}\u0000${spec.mode}\u0000${spec.columns.join('\u0001')}\u0000${spec.key.join('\u0001')}`
      let list = specs.get(signature)
      if (list === undefined) {
        list = sqliteDialect.writeStatements(spec)
        specs.set(signature, list)
      }
      const prepared = list.map((s) => ({ statement: prepare(s.sql), columns: s.columns }))
      const writeRow = (row: Row): number => {
        let changes = 0
        for (const { statement, columns } of prepared) {
          const params = new Array<unknown>(columns.length)
          for (let i = 0; i < columns.length; i++) params[i] = toSqliteValue(row[columns[i]!])
          changes = statement.run(params).changes
        }
        return changes
      }
      const affected = new Array<number>(rows.length)
      let at = 0
      try {
        db.transaction(() => {
          for (at = 0; at < rows.length; at++) affected[at] = writeRow(rows[at]!)
        })()
        return { affected, failures: [] }
      } catch (error) {
        const failure = rowFailure(error, at)
        if (failure === undefined) throw error
        if (!keepGoodRows) return { affected: [], failures: [failure] }
      }
      // Redo row by row: better-sqlite3 runs a transaction inside a transaction as a savepoint.
      const failures: RowFailure[] = []
      const one = db.transaction(writeRow)
      db.transaction(() => {
        for (let i = 0; i < rows.length; i++) {
          try {
            affected[i] = one(rows[i]!)
          } catch (error) {
            const failure = rowFailure(error, i)
            if (failure === undefined) throw error
            affected[i] = -1
            failures.push(failure)
          }
        }
      })()
      return { affected, failures }
    },

    async session() {
      return session
    },

    async close() {
      if (db.open) db.close()
    },
  }
}
