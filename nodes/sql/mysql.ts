import mysql from 'mysql2'
import type { Pool, PoolConnection } from 'mysql2/promise'
import { messageOf, writeBatchOn, type BatchDriver } from './batch.ts'
import { chunkRows, nonKeyColumns, writeStatements } from './statements.ts'
import type { RowFailure, SqlConnector, SqlDialect, SqlSession, TableInfo, WriteSpec } from './types.ts'
import { jsonOrValue, toRow } from './values.ts'
import { describeTarget } from './target.ts'

const MAX_ROWS_PER_STATEMENT = 1000

/** MySQL / MariaDB SQL: backquoted identifiers, `?` placeholders, `ON DUPLICATE KEY UPDATE` upserts. */
export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  quoteIdent(identifier) {
    if (identifier.includes('\u0000')) throw new Error('an identifier cannot contain the NUL character')
    return `\`${identifier.replaceAll('`', '``')}\``
  },
  placeholder: () => '?',
  selectAll: (table) => `SELECT * FROM ${mysqlDialect.quoteIdent(table)}`,
  writeStatements: (spec) => writeStatements(mysqlDialect, spec, (s) => mysqlUpsert(s, 1)),
  columnType(value) {
    if (typeof value === 'number') return Number.isInteger(value) ? 'BIGINT' : 'DOUBLE'
    if (typeof value === 'bigint') return 'BIGINT'
    if (typeof value === 'boolean') return 'BOOLEAN'
    if (value instanceof Uint8Array) return 'LONGBLOB'
    return 'TEXT'
  },
  createTable(table, columns, key) {
    const q = mysqlDialect.quoteIdent
    const keySet = new Set(key)
    // A TEXT column cannot be a key without a prefix length: key columns become VARCHAR(255).
    const defs = columns.map(
      (c) =>
        `${q(c.name)} ${keySet.has(c.name) && (c.type === '' || c.type === 'TEXT') ? 'VARCHAR(255)' : c.type === '' ? 'TEXT' : c.type}`,
    )
    if (key.length > 0) defs.push(`PRIMARY KEY (${key.map(q).join(', ')})`)
    return `CREATE TABLE IF NOT EXISTS ${q(table)} (${defs.join(', ')})`
  },
}

/** A multi-row `INSERT … ON DUPLICATE KEY UPDATE c = VALUES(c)` (MariaDB and MySQL alike) for `rows` rows. */
export function mysqlUpsert(spec: WriteSpec, rows: number): { sql: string; columns: readonly string[] } {
  const q = mysqlDialect.quoteIdent
  const others = nonKeyColumns(spec)
  // With nothing to update, `k = k` keeps the row as it is (INSERT IGNORE would hide other errors).
  const set = (others.length === 0 ? [spec.key[0]!] : others).map((c) => `${q(c)} = VALUES(${q(c)})`)
  return {
    sql: `${mysqlInsert(spec, rows)} ON DUPLICATE KEY UPDATE ${set.join(', ')}`,
    columns: spec.columns,
  }
}

/** A multi-row INSERT with `?` placeholders. */
export function mysqlInsert(spec: Pick<WriteSpec, 'table' | 'columns'>, rows: number): string {
  const q = mysqlDialect.quoteIdent
  const tuple = `(${spec.columns.map(() => '?').join(', ')})`
  return `INSERT INTO ${q(spec.table)} (${spec.columns.map(q).join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`
}

/** A row value as mysql2 binds it: arrays and objects as JSON text, booleans as 1/0, binary as bytes. */
export function mysqlParam(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value)
  return jsonOrValue(value)
}

const CONSTRAINT_ERRNOS = new Set([
  1022, 1048, 1062, 1364, 1169, 1216, 1217, 1451, 1452, 1557, 1586, 3819, 4025,
])
const VALUE_ERRNOS = new Set([1264, 1265, 1292, 1366, 1367, 1406, 1411, 1416, 3140])

/** Duplicate keys, NOT NULL (1048, and 1364 for a column left out), foreign keys and CHECK are constraints; range, truncation and format are values. */
export function classifyMysql(error: unknown, index: number): RowFailure | undefined {
  const { errno, sqlState } = error as { errno?: unknown; sqlState?: unknown }
  const message = messageOf(error)
  if ((typeof errno === 'number' && CONSTRAINT_ERRNOS.has(errno)) || sqlState === '23000') {
    return { index, code: 'SQL_CONSTRAINT', message, cause: error }
  }
  if (
    (typeof errno === 'number' && VALUE_ERRNOS.has(errno)) ||
    (typeof sqlState === 'string' && sqlState.startsWith('22'))
  ) {
    return { index, code: 'SQL_VALUE', message, cause: error }
  }
  return undefined
}

export interface MysqlSettings {
  url?: string
  host?: string
  port?: number
  user?: string
  password?: string
  database?: string
  ssl?: boolean
}

class MysqlSession implements SqlSession {
  constructor(readonly connection: PoolConnection) {}
  async run(sql: string, params: readonly unknown[]) {
    const [result] = await this.connection.query(sql, params.map(mysqlParam) as (string | number | null)[])
    return (result as { affectedRows?: number }).affectedRows ?? 0
  }
  private exec = async (sql: string) => void (await this.connection.query(sql))
  begin = () => this.exec('START TRANSACTION')
  commit = () => this.exec('COMMIT')
  rollback = () => this.exec('ROLLBACK')
  savepoint = (name: string) => this.exec(`SAVEPOINT ${name}`)
  rollbackTo = (name: string) => this.exec(`ROLLBACK TO SAVEPOINT ${name}`)
  releaseSavepoint = (name: string) => this.exec(`RELEASE SAVEPOINT ${name}`)
  release = async () => this.connection.release()
}

const driver: BatchDriver<MysqlSession> = {
  dialect: mysqlDialect,
  toParam: mysqlParam,
  classify: classifyMysql,
  async bulk(session, spec, rows) {
    for (const chunk of chunkRows(rows, spec.mode === 'upsert' ? spec.key : [], MAX_ROWS_PER_STATEMENT)) {
      const params: unknown[] = []
      for (const row of chunk) for (const c of spec.columns) params.push(mysqlParam(row[c]))
      const sql =
        spec.mode === 'upsert' ? mysqlUpsert(spec, chunk.length).sql : mysqlInsert(spec, chunk.length)
      await session.run(sql, params)
    }
  },
}

interface FieldInfo {
  type: string
  length: number
  string(): string | null
}

/** Open a MySQL / MariaDB pool (at most `max` connections); nothing connects until the first query. */
export function openMysql(settings: MysqlSettings, options: { max?: number } = {}): SqlConnector {
  const base = settings.url === undefined ? {} : { uri: settings.url }
  const pool = mysql.createPool({
    ...base,
    ...(settings.host === undefined ? {} : { host: settings.host }),
    ...(settings.port === undefined ? {} : { port: settings.port }),
    ...(settings.user === undefined ? {} : { user: settings.user }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.database === undefined ? {} : { database: settings.database }),
    ...(settings.ssl === true ? { ssl: {} } : {}),
    connectionLimit: options.max ?? 4,
    connectTimeout: 15_000,
    // Dates as the server's text, big integers as numbers when they fit, DECIMAL as exact text.
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: false,
    timezone: 'Z',
    charset: 'utf8mb4',
    // MySQL has no boolean type: TINYINT(1) (what BOOLEAN creates) reads as true/false.
    typeCast(field: FieldInfo, next: () => unknown) {
      if (field.type === 'TINY' && field.length === 1) {
        const text = field.string()
        return text === null ? null : text !== '0'
      }
      return next()
    },
  })
  const promisePool: Pool = pool.promise()
  const target = describeTarget('mysql', 3306, settings)
  let closed = false

  const select = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
    const [rows] = await promisePool.query(sql, params)
    return rows as T[]
  }

  return {
    dialect: mysqlDialect,
    target,

    async *query(sql, params, batchSize, signal) {
      const connection = await new Promise<mysql.PoolConnection>((resolve, reject) =>
        pool.getConnection((error, c) => (error ? reject(error) : resolve(c))),
      )
      // The protocol streams the result; pausing the stream stops reading the socket (back-pressure).
      const stream = connection
        .query({ sql, values: params.map(mysqlParam) })
        .stream({ highWaterMark: batchSize })
      let finished = false
      try {
        let batch: Record<string, unknown>[] = []
        for await (const row of stream as AsyncIterable<Record<string, unknown>>) {
          batch.push(toRow(row))
          if (batch.length >= batchSize) {
            yield batch
            batch = []
            signal.throwIfAborted()
          }
        }
        if (batch.length > 0) yield batch
        finished = true
      } finally {
        // A result left half-read leaves the connection unusable: drop it rather than pool it.
        if (finished) connection.release()
        else connection.destroy()
      }
    },

    async describeTable(table) {
      const columns = await select<{ name: string; type: string; nullable: string; key: string }>(
        `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_KEY AS \`key\`
           FROM information_schema.COLUMNS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
          ORDER BY ORDINAL_POSITION`,
        [table],
      )
      if (columns.length === 0) return undefined
      const indexes = await select<{ index: string; column: string }>(
        `SELECT INDEX_NAME AS \`index\`, COLUMN_NAME AS \`column\`
           FROM information_schema.STATISTICS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0 AND SUB_PART IS NULL
          ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
        [table],
      )
      const byIndex = new Map<string, string[]>()
      for (const { index, column } of indexes) byIndex.set(index, [...(byIndex.get(index) ?? []), column])
      const info: TableInfo = {
        name: table,
        columns: columns.map((c) => ({
          name: c.name,
          type: c.type,
          notNull: c.nullable === 'NO',
          primaryKey: c.key === 'PRI',
        })),
        uniqueKeys: [...byIndex.values()],
        uniqueIndexes: [...byIndex].map(([name, columns]) => ({ name, columns })),
      }
      return info
    },

    async listTables() {
      const rows = await select<{ name: string }>(
        'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME',
        [],
      )
      return rows.map((r) => r.name)
    },

    async execute(sql) {
      await promisePool.query(sql)
    },

    async writeBatch(spec, rows, options) {
      const connection = await promisePool.getConnection()
      let broken = false
      try {
        return await writeBatchOn(new MysqlSession(connection), driver, spec, rows, options)
      } catch (error) {
        broken = true
        throw error
      } finally {
        if (broken) connection.destroy()
        else connection.release()
      }
    },

    async session() {
      return new MysqlSession(await promisePool.getConnection())
    },

    async close() {
      if (closed) return
      closed = true
      await promisePool.end()
    },
  }
}
