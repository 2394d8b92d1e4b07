import mysql from 'mysql2'
import type { Pool, PoolConnection } from 'mysql2/promise'
import type { Row } from '../../engine/index.ts'
import { messageOf, writeBatchOn, type BatchDriver } from './batch.ts'
import { chunkRows, nonKeyColumns, writeStatements } from './statements.ts'
import type {
  RowFailure,
  RowStatement,
  SqlConnector,
  SqlDialect,
  SqlSession,
  TableInfo,
  WriteSpec,
} from './types.ts'
import { jsonOrValue, toRow } from './values.ts'
import { describeTarget } from './target.ts'

const MAX_ROWS_PER_STATEMENT = 1000

/**
 * MySQL / MariaDB SQL: backquoted identifiers, `?` placeholders, `ON DUPLICATE KEY UPDATE` upserts
 * (or, when the table has another unique index, upserts that match on the key alone).
 */
export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  quoteIdent(identifier) {
    if (identifier.includes('\u0000')) throw new Error('an identifier cannot contain the NUL character')
    return `\`${identifier.replaceAll('`', '``')}\``
  },
  placeholder: () => '?',
  selectAll: (table) => `SELECT * FROM ${mysqlDialect.quoteIdent(table)}`,
  writeStatements: (spec) =>
    spec.mode === 'upsert' && spec.otherUniqueKeys === true
      ? mysqlUpsertByKey(spec)
      : writeStatements(mysqlDialect, spec, (s) => mysqlUpsert(s, 1)),
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

/**
 * The per-row upsert by the key alone: UPDATE the row with the key, then INSERT unless a row with the
 * key exists. A collision on another unique index is a duplicate-key error, never an update elsewhere.
 */
export function mysqlUpsertByKey(spec: WriteSpec): RowStatement[] {
  const q = mysqlDialect.quoteIdent
  const table = q(spec.table)
  const where = spec.key.map((k) => `${q(k)} = ?`).join(' AND ')
  const insert = {
    sql: `INSERT INTO ${table} (${spec.columns.map(q).join(', ')}) SELECT ${spec.columns.map(() => '?').join(', ')} FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM ${table} WHERE ${where})`,
    columns: [...spec.columns, ...spec.key],
  }
  const others = nonKeyColumns(spec)
  if (others.length === 0) return [insert]
  const set = others.map((c) => `${q(c)} = ?`).join(', ')
  return [{ sql: `UPDATE ${table} SET ${set} WHERE ${where}`, columns: [...others, ...spec.key] }, insert]
}

/**
 * `rows` rows' keys as a derived table `v` (`i` the row's position, `k0…` its key) joined to the table
 * on the key: which rows exist, and the key each matched (`t0…`). The database compares the keys
 * (its collation and type conversion), not JavaScript.
 */
export function mysqlExistingKeys(spec: Pick<WriteSpec, 'table' | 'key'>, rows: number): string {
  const q = mysqlDialect.quoteIdent
  const first = `SELECT 0 AS i, ${spec.key.map((_, j) => `? AS k${j}`).join(', ')}`
  const rest = Array.from(
    { length: rows - 1 },
    (_, i) => `SELECT ${i + 1}, ${spec.key.map(() => '?').join(', ')}`,
  )
  const derived = [first, ...rest].join(' UNION ALL ')
  const matched = spec.key.map((k, j) => `t.${q(k)} AS t${j}`).join(', ')
  const on = spec.key.map((k, j) => `t.${q(k)} = v.k${j}`).join(' AND ')
  return `SELECT v.i, ${matched} FROM (${derived}) AS v JOIN ${q(spec.table)} AS t ON ${on}`
}

/**
 * A multi-row UPDATE of `rows` existing rows: their values as a derived table joined on the key,
 * bound per row as the key columns, then the other columns.
 */
export function mysqlUpdateFrom(spec: Pick<WriteSpec, 'table' | 'columns' | 'key'>, rows: number): string {
  const q = mysqlDialect.quoteIdent
  const others = nonKeyColumns(spec)
  const first = `SELECT ${[...spec.key.map((_, j) => `? AS k${j}`), ...others.map((_, j) => `? AS c${j}`)].join(', ')}`
  const tuple = `SELECT ${[...spec.key, ...others].map(() => '?').join(', ')}`
  const derived = [first, ...Array.from({ length: rows - 1 }, () => tuple)].join(' UNION ALL ')
  const on = spec.key.map((k, j) => `t.${q(k)} = v.k${j}`).join(' AND ')
  const set = others.map((c, j) => `t.${q(c)} = v.c${j}`).join(', ')
  return `UPDATE ${q(spec.table)} AS t JOIN (${derived}) AS v ON ${on} SET ${set}`
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
  async select(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> {
    const [rows] = await this.connection.query(sql, params.map(mysqlParam) as (string | number | null)[])
    return rows as Record<string, unknown>[]
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
    const byKey = spec.mode === 'upsert' && spec.otherUniqueKeys === true
    for (const chunk of chunkRows(rows, spec.mode === 'upsert' ? spec.key : [], MAX_ROWS_PER_STATEMENT)) {
      if (byKey) {
        await upsertByKey(session, spec, chunk)
        continue
      }
      const params: unknown[] = []
      for (const row of chunk) for (const c of spec.columns) params.push(mysqlParam(row[c]))
      const sql =
        spec.mode === 'upsert' ? mysqlUpsert(spec, chunk.length).sql : mysqlInsert(spec, chunk.length)
      await session.run(sql, params)
    }
  },
}

/**
 * Upsert a chunk (no key twice) by the key alone: one SELECT for which keys exist, one multi-row
 * UPDATE of those rows, one multi-row INSERT of the others. A collision on another unique index is
 * then a duplicate-key error, which the batch writer traces to its row.
 */
async function upsertByKey(session: MysqlSession, spec: WriteSpec, rows: readonly Row[]): Promise<void> {
  const values = (row: Row, columns: readonly string[]) => columns.map((c) => row[c])
  const found = await session.select(
    mysqlExistingKeys(spec, rows.length),
    rows.flatMap((row) => values(row, spec.key)),
  )
  const existing = new Set<number>()
  const matched = new Set<string>()
  let shared = false
  for (const hit of found) {
    existing.add(Number(hit.i))
    const id = JSON.stringify(spec.key.map((_, j) => hit[`t${j}`]))
    shared ||= matched.has(id)
    matched.add(id)
  }
  const updates = rows.filter((_, i) => existing.has(i))
  const inserts = rows.filter((_, i) => !existing.has(i))
  const others = nonKeyColumns(spec)
  if (updates.length > 0 && others.length > 0) {
    if (shared) {
      // Keys that differ only as the collation sees them ('Ann', 'ann ') match one table row:
      // update row by row, in order, so the last one wins as with ON DUPLICATE KEY UPDATE.
      const [update] = writeStatements(mysqlDialect, { ...spec, mode: 'update' }, () => {
        throw new Error('not an upsert')
      })
      for (const row of updates) await session.run(update!.sql, values(row, update!.columns))
    } else {
      await session.run(
        mysqlUpdateFrom(spec, updates.length),
        updates.flatMap((row) => values(row, [...spec.key, ...others])),
      )
    }
  }
  if (inserts.length > 0) {
    await session.run(
      mysqlInsert(spec, inserts.length),
      inserts.flatMap((row) => values(row, spec.columns)),
    )
  }
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
    // One statement per query, whatever the URL says: a read's `…; COMMIT; DELETE …` cannot escape it.
    multipleStatements: false,
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
      // A read never writes (`DELETE … RETURNING` would): role policies allow reading without writing.
      try {
        await new Promise<void>((resolve, reject) =>
          connection.query('START TRANSACTION READ ONLY', (error) => (error ? reject(error) : resolve())),
        )
      } catch (error) {
        connection.destroy()
        throw error
      }
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
        if (finished)
          connection.query('ROLLBACK', (error) => (error ? connection.destroy() : connection.release()))
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
      const indexes = await select<{ index: string; column: string | null; part: number | null }>(
        `SELECT INDEX_NAME AS \`index\`, COLUMN_NAME AS \`column\`, SUB_PART AS part
           FROM information_schema.STATISTICS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0
          ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
        [table],
      )
      // A prefix (or expression) part makes the index partial: it refuses duplicates but is no key.
      const byIndex = new Map<string, { name: string; columns: string[]; partial?: boolean }>()
      for (const { index, column, part } of indexes) {
        const entry = byIndex.get(index) ?? { name: index, columns: [] }
        if (column !== null) entry.columns.push(column)
        if (column === null || part !== null) entry.partial = true
        byIndex.set(index, entry)
      }
      const unique = [...byIndex.values()]
      const info: TableInfo = {
        name: table,
        columns: columns.map((c) => ({
          name: c.name,
          type: c.type,
          notNull: c.nullable === 'NO',
          primaryKey: c.key === 'PRI',
        })),
        uniqueKeys: unique.filter((u) => u.partial !== true).map((u) => u.columns),
        uniqueIndexes: unique,
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
