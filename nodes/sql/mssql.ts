import sql from 'mssql'
import { messageOf, writeBatchOn, type BatchDriver } from './batch.ts'
import { chunkRows, nonKeyColumns, writeStatements } from './statements.ts'
import type { RowFailure, SqlConnector, SqlDialect, SqlSession, TableInfo, WriteSpec } from './types.ts'
import { jsonOrValue, rowValue, safeInteger } from './values.ts'
import { describeTarget } from './target.ts'

/** SQL Server allows 2100 parameters per request. */
const MAX_PARAMS = 2000
const MAX_ROWS_PER_STATEMENT = 1000

/** SQL Server SQL: bracketed identifiers, `@pN` placeholders, `MERGE` upserts. */
export const mssqlDialect: SqlDialect = {
  name: 'mssql',
  quoteIdent(identifier) {
    if (identifier.includes('\u0000')) throw new Error('an identifier cannot contain the NUL character')
    return `[${identifier.replaceAll(']', ']]')}]`
  },
  placeholder: (index) => `@p${index}`,
  selectAll: (table) => `SELECT * FROM ${mssqlDialect.quoteIdent(table)}`,
  writeStatements: (spec) => writeStatements(mssqlDialect, spec, (s) => mssqlMerge(s, 1)),
  columnType(value) {
    if (typeof value === 'number') return Number.isInteger(value) ? 'BIGINT' : 'FLOAT'
    if (typeof value === 'bigint') return 'BIGINT'
    if (typeof value === 'boolean') return 'BIT'
    if (value instanceof Uint8Array) return 'VARBINARY(MAX)'
    return 'NVARCHAR(MAX)'
  },
  createTable(table, columns, key) {
    const q = mssqlDialect.quoteIdent
    const keySet = new Set(key)
    // An index key is at most 900 bytes: key text columns become NVARCHAR(450).
    const defs = columns.map((c) => {
      const type = c.type === '' ? 'NVARCHAR(MAX)' : c.type
      const keyed = keySet.has(c.name)
      return `${q(c.name)} ${keyed && type.endsWith('(MAX)') ? type.replace('(MAX)', '(450)') : type}${keyed ? ' NOT NULL' : ''}`
    })
    if (key.length > 0) defs.push(`PRIMARY KEY (${key.map(q).join(', ')})`)
    return `CREATE TABLE ${q(table)} (${defs.join(', ')})`
  },
}

/**
 * A `MERGE … WITH (HOLDLOCK)` of `rows` rows from a VALUES list: update the non-key columns of a
 * matched row, insert the others. HOLDLOCK keeps two concurrent merges from inserting one key twice.
 */
export function mssqlMerge(spec: WriteSpec, rows: number): { sql: string; columns: readonly string[] } {
  const q = mssqlDialect.quoteIdent
  const width = spec.columns.length
  const tuples: string[] = []
  for (let r = 0; r < rows; r++) {
    tuples.push(`(${spec.columns.map((_, c) => `@p${r * width + c + 1}`).join(', ')})`)
  }
  const others = nonKeyColumns(spec)
  const on = spec.key.map((k) => `target.${q(k)} = source.${q(k)}`).join(' AND ')
  const matched =
    others.length === 0
      ? ''
      : ` WHEN MATCHED THEN UPDATE SET ${others.map((c) => `target.${q(c)} = source.${q(c)}`).join(', ')}`
  return {
    sql:
      `MERGE INTO ${q(spec.table)} WITH (HOLDLOCK) AS target USING (VALUES ${tuples.join(', ')}) AS source (${spec.columns.map(q).join(', ')}) ON ${on}` +
      `${matched} WHEN NOT MATCHED THEN INSERT (${spec.columns.map(q).join(', ')}) VALUES (${spec.columns.map((c) => `source.${q(c)}`).join(', ')});`,
    columns: spec.columns,
  }
}

/** A row value as the mssql driver binds it: arrays and objects as JSON text, binary as VARBINARY. */
export function mssqlParam(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value)
  return jsonOrValue(value)
}

const CONSTRAINT_NUMBERS = new Set([515, 547, 2601, 2627])
const VALUE_NUMBERS = new Set([220, 241, 242, 245, 8114, 8115, 8152, 2628, 295, 296])

/** Error numbers: duplicate key, NULL, foreign key / CHECK are constraints; conversion, overflow, truncation are values. */
export function classifyMssql(error: unknown, index: number): RowFailure | undefined {
  const direct = (error as { number?: unknown }).number
  const inner = (error as { originalError?: { info?: { number?: unknown }; number?: unknown } }).originalError
  const number = typeof direct === 'number' ? direct : (inner?.info?.number ?? inner?.number)
  if (typeof number !== 'number') return undefined
  if (CONSTRAINT_NUMBERS.has(number))
    return { index, code: 'SQL_CONSTRAINT', message: messageOf(error), cause: error }
  if (VALUE_NUMBERS.has(number)) return { index, code: 'SQL_VALUE', message: messageOf(error), cause: error }
  return undefined
}

/**
 * The column type the bulk loader declares, from the type `describeTable` reports (e.g. `nvarchar(50)`,
 * `decimal(10,2)`, `varbinary(max)`). Unknown types load as NVARCHAR(MAX) and convert on the server.
 */
export function bulkColumnType(type: string): sql.ISqlType | (() => sql.ISqlType) {
  const match = /^(\w+)(?:\((max|\d+)(?:,\s*(\d+))?\))?$/i.exec(type.trim())
  const name = (match?.[1] ?? '').toLowerCase()
  const size =
    match?.[2] === undefined ? undefined : match[2].toLowerCase() === 'max' ? sql.MAX : Number(match[2])
  const scale = match?.[3] === undefined ? undefined : Number(match[3])
  switch (name) {
    case 'bit':
      return sql.Bit
    case 'tinyint':
      return sql.TinyInt
    case 'smallint':
      return sql.SmallInt
    case 'int':
      return sql.Int
    case 'bigint':
      return sql.BigInt
    case 'float':
      return sql.Float
    case 'real':
      return sql.Real
    case 'decimal':
    case 'numeric':
      return sql.Decimal(size ?? 18, scale ?? 0)
    case 'money':
      return sql.Money
    case 'smallmoney':
      return sql.SmallMoney
    case 'char':
      return sql.Char(size ?? 1)
    case 'nchar':
      return sql.NChar(size ?? 1)
    case 'varchar':
      return sql.VarChar(size ?? sql.MAX)
    case 'nvarchar':
      return sql.NVarChar(size ?? sql.MAX)
    case 'text':
      return sql.Text
    case 'ntext':
      return sql.NText
    case 'date':
      return sql.Date
    case 'time':
      return sql.Time(size === undefined ? 7 : Number(size))
    case 'datetime':
      return sql.DateTime
    case 'datetime2':
      return sql.DateTime2(size ?? 7)
    case 'datetimeoffset':
      return sql.DateTimeOffset(size ?? 7)
    case 'smalldatetime':
      return sql.SmallDateTime
    case 'binary':
    case 'varbinary':
      return sql.VarBinary(size ?? sql.MAX)
    case 'uniqueidentifier':
      return sql.UniqueIdentifier
    default:
      return sql.NVarChar(sql.MAX)
  }
}

/** The type text of an INFORMATION_SCHEMA.COLUMNS row, e.g. `nvarchar(50)`, `decimal(10,2)`. */
export function mssqlTypeText(c: {
  type: string
  length: number | null
  precision: number | null
  scale: number | null
}): string {
  const t = c.type.toLowerCase()
  if (['char', 'nchar', 'varchar', 'nvarchar', 'binary', 'varbinary'].includes(t) && c.length !== null) {
    return `${t}(${c.length === -1 ? 'max' : c.length})`
  }
  if ((t === 'decimal' || t === 'numeric') && c.precision !== null)
    return `${t}(${c.precision},${c.scale ?? 0})`
  return t
}

export interface MssqlSettings {
  url?: string
  host?: string
  port?: number
  user?: string
  password?: string
  database?: string
  encrypt?: boolean
  trustServerCertificate?: boolean
}

class MssqlSession implements SqlSession {
  transaction: sql.Transaction | undefined
  constructor(private readonly pool: sql.ConnectionPool) {}
  request(): sql.Request {
    return this.transaction === undefined ? new sql.Request(this.pool) : new sql.Request(this.transaction)
  }
  async run(text: string, params: readonly unknown[]) {
    const request = this.request()
    params.forEach((value, i) => request.input(`p${i + 1}`, value))
    const result = await request.query(text)
    return result.rowsAffected.at(-1) ?? 0
  }
  async begin() {
    this.transaction = new sql.Transaction(this.pool)
    await this.transaction.begin()
  }
  async commit() {
    const t = this.transaction
    this.transaction = undefined
    await t?.commit()
  }
  async rollback() {
    const t = this.transaction
    this.transaction = undefined
    // The server may already have ended a transaction a statement failed in.
    await t?.rollback().catch(() => undefined)
  }
  savepoint = async (name: string) => void (await this.request().batch(`SAVE TRANSACTION ${name}`))
  rollbackTo = async (name: string) => void (await this.request().batch(`ROLLBACK TRANSACTION ${name}`))
  releaseSavepoint = async () => undefined
  release = async () => this.rollback()
}

/** Open a SQL Server pool; `ready` resolves once connected. */
export function openMssql(settings: MssqlSettings, options: { max?: number } = {}): SqlConnector {
  const config: sql.config = {
    server: settings.host ?? 'localhost',
    ...(settings.port === undefined ? {} : { port: settings.port }),
    ...(settings.user === undefined ? {} : { user: settings.user }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.database === undefined ? {} : { database: settings.database }),
    pool: { max: options.max ?? 4, min: 0 },
    options: {
      encrypt: settings.encrypt ?? true,
      trustServerCertificate: settings.trustServerCertificate ?? false,
      useUTC: true,
    },
    connectionTimeout: 15_000,
  }
  const pool =
    settings.url === undefined ? new sql.ConnectionPool(config) : new sql.ConnectionPool(settings.url)
  pool.on('error', () => undefined)
  let connecting: Promise<sql.ConnectionPool> | undefined
  const ready = () => (connecting ??= pool.connect())
  const described = new Map<string, TableInfo>()
  const target = describeTarget('mssql', 1433, settings)

  const select = async <T>(text: string, params: unknown[]): Promise<T[]> => {
    await ready()
    const request = pool.request()
    params.forEach((value, i) => request.input(`p${i + 1}`, value))
    return (await request.query(text)).recordset as T[]
  }

  const describeTable = async (table: string): Promise<TableInfo | undefined> => {
    const columns = await select<{
      name: string
      type: string
      length: number | null
      precision: number | null
      scale: number | null
      nullable: string
    }>(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS type, CHARACTER_MAXIMUM_LENGTH AS length,
              NUMERIC_PRECISION AS precision, NUMERIC_SCALE AS scale, IS_NULLABLE AS nullable
         FROM INFORMATION_SCHEMA.COLUMNS
        WHERE TABLE_SCHEMA = SCHEMA_NAME() AND TABLE_NAME = @p1
        ORDER BY ORDINAL_POSITION`,
      [table],
    )
    if (columns.length === 0) return undefined
    const keys = await select<{ id: number; primary: boolean; name: string }>(
      `SELECT i.index_id AS id, i.is_primary_key AS [primary], c.name AS name
         FROM sys.indexes i
         JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
         JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
        WHERE i.object_id = OBJECT_ID(QUOTENAME(SCHEMA_NAME()) + '.' + QUOTENAME(@p1))
          AND i.is_unique = 1 AND i.has_filter = 0 AND ic.is_included_column = 0
        ORDER BY i.is_primary_key DESC, i.index_id, ic.key_ordinal`,
      [table],
    )
    const byIndex = new Map<number, string[]>()
    for (const k of keys) byIndex.set(k.id, [...(byIndex.get(k.id) ?? []), k.name])
    const primary = new Set(keys.filter((k) => k.primary).map((k) => k.name))
    const info: TableInfo = {
      name: table,
      columns: columns.map((c) => ({
        name: c.name,
        type: mssqlTypeText(c),
        notNull: c.nullable === 'NO',
        primaryKey: primary.has(c.name),
      })),
      uniqueKeys: [...byIndex.values()],
    }
    described.set(table, info)
    return info
  }

  const driver: BatchDriver<MssqlSession> = {
    dialect: mssqlDialect,
    toParam: mssqlParam,
    classify: classifyMssql,
    async bulk(session, spec, rows) {
      if (spec.mode === 'insert') {
        const info = described.get(spec.table) ?? (await describeTable(spec.table))
        if (info === undefined) throw new Error(`table "${spec.table}" not found`)
        const table = new sql.Table(mssqlDialect.quoteIdent(spec.table))
        table.create = false
        for (const name of spec.columns) {
          const column = info.columns.find((c) => c.name === name)
          table.columns.add(name, bulkColumnType(column?.type ?? 'nvarchar'), { nullable: !column?.notNull })
        }
        for (const row of rows)
          table.rows.add(...spec.columns.map((c) => mssqlParam(row[c]) as sql.IRow[number]))
        await session.request().bulk(table)
        return
      }
      const maxRows = Math.max(
        1,
        Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_PARAMS / spec.columns.length)),
      )
      for (const chunk of chunkRows(rows, spec.key, maxRows)) {
        const params: unknown[] = []
        for (const row of chunk) for (const c of spec.columns) params.push(mssqlParam(row[c]))
        await session.run(mssqlMerge(spec, chunk.length).sql, params)
      }
    },
  }

  return {
    dialect: mssqlDialect,
    target,

    async *query(text, params, batchSize, signal) {
      await ready()
      const request = pool.request()
      params.forEach((value, i) => request.input(`p${i + 1}`, mssqlParam(value)))
      const bigints = new Set<string>()
      request.on('recordset', (columns: Record<string, { type: unknown }>) => {
        for (const [name, column] of Object.entries(columns))
          if (column.type === sql.BigInt) bigints.add(name)
      })
      const stream = request.toReadableStream({ highWaterMark: batchSize })
      void request.query(text).catch((error: unknown) => stream.destroy(error as Error))
      try {
        let batch: Record<string, unknown>[] = []
        for await (const raw of stream as AsyncIterable<Record<string, unknown>>) {
          const row: Record<string, unknown> = {}
          for (const field in raw) {
            const value = raw[field]
            row[field] =
              bigints.has(field) && typeof value === 'string' ? safeInteger(value) : rowValue(value)
          }
          batch.push(row)
          if (batch.length >= batchSize) {
            yield batch
            batch = []
            signal.throwIfAborted()
          }
        }
        if (batch.length > 0) yield batch
      } finally {
        if (!stream.destroyed) stream.destroy()
      }
    },

    describeTable,

    async listTables() {
      const rows = await select<{ name: string }>(
        'SELECT TABLE_NAME AS name FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = SCHEMA_NAME() ORDER BY TABLE_NAME',
        [],
      )
      return rows.map((r) => r.name)
    },

    async execute(text) {
      await ready()
      await pool.request().batch(text)
    },

    async writeBatch(spec, rows, options) {
      await ready()
      return writeBatchOn(new MssqlSession(pool), driver, spec, rows, options)
    },

    async session() {
      await ready()
      return new MssqlSession(pool)
    },

    async close() {
      await connecting?.catch(() => undefined)
      await pool.close()
    },
  }
}
