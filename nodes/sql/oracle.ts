import oracledb from 'oracledb'
import { messageOf, writeBatchOn, type BatchDriver } from './batch.ts'
import { chunkRows, nonKeyColumns, writeStatements } from './statements.ts'
import type { RowFailure, SqlConnector, SqlDialect, SqlSession, TableInfo, WriteSpec } from './types.ts'
import { jsonOrValue, toRow } from './values.ts'

const MAX_ROWS_PER_CALL = 1000

/** Session date formats, so ISO 8601 text binds to DATE and TIMESTAMP columns. */
export const NLS_ISO = `ALTER SESSION SET NLS_DATE_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS' NLS_TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.FF' NLS_TIMESTAMP_TZ_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.FFTZH:TZM' TIME_ZONE = '+00:00'`

/** Oracle SQL: double-quoted (case-sensitive) identifiers, `:n` placeholders, `MERGE` upserts. */
export const oracleDialect: SqlDialect = {
  name: 'oracle',
  quoteIdent(identifier) {
    // Oracle has no escape for a double quote (or NUL) inside a quoted identifier.
    if (identifier.includes('"') || identifier.includes('\u0000')) {
      throw new Error(`an Oracle identifier cannot contain a double quote: ${JSON.stringify(identifier)}`)
    }
    return `"${identifier}"`
  },
  placeholder: (index) => `:${index}`,
  selectAll: (table) => `SELECT * FROM ${oracleDialect.quoteIdent(table)}`,
  writeStatements: (spec) => writeStatements(oracleDialect, spec, oracleMerge),
  columnType(value) {
    if (typeof value === 'number') return Number.isInteger(value) ? 'NUMBER(19)' : 'BINARY_DOUBLE'
    if (typeof value === 'bigint') return 'NUMBER(19)'
    if (typeof value === 'boolean') return 'NUMBER(1)'
    if (value instanceof Uint8Array) return 'BLOB'
    return 'VARCHAR2(4000)'
  },
  createTable(table, columns, key) {
    const q = oracleDialect.quoteIdent
    const defs = columns.map((c) => `${q(c.name)} ${c.type === '' ? 'VARCHAR2(4000)' : c.type}`)
    if (key.length > 0) defs.push(`PRIMARY KEY (${key.map(q).join(', ')})`)
    return `CREATE TABLE ${q(table)} (${defs.join(', ')})`
  },
}

/**
 * A one-row `MERGE` from `dual`, run once per row by executeMany: update the non-key columns of the
 * row with the same key, or insert it. (Oracle may not update the columns of the ON clause.)
 */
export function oracleMerge(spec: WriteSpec): { sql: string; columns: readonly string[] } {
  const q = oracleDialect.quoteIdent
  const others = nonKeyColumns(spec)
  const source = spec.columns.map((c, i) => `:${i + 1} AS ${q(c)}`).join(', ')
  const on = spec.key.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ')
  const matched =
    others.length === 0
      ? ''
      : ` WHEN MATCHED THEN UPDATE SET ${others.map((c) => `t.${q(c)} = s.${q(c)}`).join(', ')}`
  return {
    sql:
      `MERGE INTO ${q(spec.table)} t USING (SELECT ${source} FROM dual) s ON (${on})` +
      `${matched} WHEN NOT MATCHED THEN INSERT (${spec.columns.map(q).join(', ')}) VALUES (${spec.columns.map((c) => `s.${q(c)}`).join(', ')})`,
    columns: spec.columns,
  }
}

/** A row value as oracledb binds it: booleans as 1/0 (no SQL BOOLEAN before 23ai), arrays and objects as JSON text. */
export function oracleParam(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value)
  return jsonOrValue(value)
}

const CONSTRAINT_ERRORS = new Set([1, 1400, 1407, 2290, 2291, 2292])
const VALUE_ERRORS = new Set([1438, 1722, 1830, 1840, 1841, 1843, 1847, 1858, 1861, 12899])

/** ORA- numbers: unique, NOT NULL, CHECK, foreign key are constraints; number, date and size errors are values. */
export function classifyOracle(error: unknown, index: number): RowFailure | undefined {
  const number = (error as { errorNum?: unknown }).errorNum
  if (typeof number !== 'number') return undefined
  if (CONSTRAINT_ERRORS.has(number))
    return { index, code: 'SQL_CONSTRAINT', message: messageOf(error), cause: error }
  if (VALUE_ERRORS.has(number)) return { index, code: 'SQL_VALUE', message: messageOf(error), cause: error }
  return undefined
}

export interface OracleSettings {
  /** `host:port/service` or a TNS descriptor. */
  connectString?: string
  user?: string
  password?: string
}

class OracleSession implements SqlSession {
  constructor(readonly connection: oracledb.Connection) {}
  async run(sql: string, params: readonly unknown[]) {
    const result = await this.connection.execute(sql, params.map(oracleParam) as oracledb.BindParameter[], {
      autoCommit: false,
    })
    return result.rowsAffected ?? 0
  }
  // Oracle opens a transaction with the first change.
  begin = async () => undefined
  commit = () => this.connection.commit()
  rollback = () => this.connection.rollback()
  savepoint = async (name: string) => void (await this.connection.execute(`SAVEPOINT ${name}`))
  rollbackTo = async (name: string) => void (await this.connection.execute(`ROLLBACK TO SAVEPOINT ${name}`))
  releaseSavepoint = async () => undefined
  release = async () => {
    await this.connection.rollback().catch(() => undefined)
    await this.connection.close()
  }
}

const driver: BatchDriver<OracleSession> = {
  dialect: oracleDialect,
  toParam: oracleParam,
  classify: classifyOracle,
  async bulk(session, spec, rows) {
    const statement =
      spec.mode === 'upsert'
        ? oracleMerge(spec).sql
        : `INSERT INTO ${oracleDialect.quoteIdent(spec.table)} (${spec.columns.map(oracleDialect.quoteIdent).join(', ')}) VALUES (${spec.columns.map((_, i) => `:${i + 1}`).join(', ')})`
    for (const chunk of chunkRows(rows, [], MAX_ROWS_PER_CALL)) {
      const binds = chunk.map((row) => spec.columns.map((c) => oracleParam(row[c])))
      await session.connection.executeMany(statement, binds as oracledb.BindParameters[], {
        autoCommit: false,
      })
    }
  },
}

/** Thin-mode fetch types: CLOB as text, BLOB as bytes (then base64), so rows hold no LOB handles. */
function fetchTypeHandler(metadata: oracledb.Metadata<unknown>): oracledb.FetchTypeResponse | undefined {
  if (metadata.dbType === oracledb.DB_TYPE_CLOB || metadata.dbType === oracledb.DB_TYPE_NCLOB) {
    return { type: oracledb.STRING }
  }
  if (metadata.dbType === oracledb.DB_TYPE_BLOB) return { type: oracledb.BUFFER }
  return undefined
}

/** Open an Oracle pool in thin mode (no client libraries); it connects on first use. */
export function openOracle(settings: OracleSettings, options: { max?: number } = {}): SqlConnector {
  let pool: Promise<oracledb.Pool> | undefined
  const ready = () =>
    (pool ??= oracledb.createPool({
      ...(settings.user === undefined ? {} : { user: settings.user }),
      ...(settings.password === undefined ? {} : { password: settings.password }),
      ...(settings.connectString === undefined ? {} : { connectString: settings.connectString }),
      poolMin: 0,
      poolMax: options.max ?? 4,
      poolIncrement: 1,
      // ISO 8601 text for dates and timestamps bound as strings, whatever the server's NLS defaults.
      sessionCallback(connection: oracledb.Connection, _tag: string, done: (error?: Error) => void) {
        connection.execute(NLS_ISO).then(() => done(), done)
      },
    }))
  const connection = async () => (await ready()).getConnection()
  const target = `oracle://${settings.user ?? ''}@${settings.connectString ?? ''}`

  const select = async <T>(sql: string, params: unknown[]): Promise<T[]> => {
    const c = await connection()
    try {
      const result = await c.execute<T>(sql, params as oracledb.BindParameter[], {
        outFormat: oracledb.OUT_FORMAT_OBJECT,
      })
      return result.rows ?? []
    } finally {
      await c.close()
    }
  }

  return {
    dialect: oracleDialect,
    target,

    async *query(sql, params, batchSize, signal) {
      const c = await connection()
      try {
        const result = await c.execute<Record<string, unknown>>(
          sql,
          params.map(oracleParam) as oracledb.BindParameter[],
          {
            resultSet: true,
            outFormat: oracledb.OUT_FORMAT_OBJECT,
            fetchArraySize: Math.min(batchSize, 10_000),
            fetchTypeHandler,
          },
        )
        const resultSet = result.resultSet!
        try {
          for (;;) {
            signal.throwIfAborted()
            const rows = await resultSet.getRows(batchSize)
            if (rows.length === 0) return
            yield rows.map(toRow)
            if (rows.length < batchSize) return
          }
        } finally {
          await resultSet.close()
        }
      } finally {
        await c.close()
      }
    },

    async describeTable(table) {
      const columns = await select<{ NAME: string; TYPE: string; NULLABLE: string }>(
        `SELECT column_name AS name, data_type AS type, nullable AS nullable
           FROM user_tab_columns WHERE table_name = :1 ORDER BY column_id`,
        [table],
      )
      if (columns.length === 0) return undefined
      const keys = await select<{ NAME: string; KIND: string; COL: string }>(
        `SELECT c.constraint_name AS name, c.constraint_type AS kind, cc.column_name AS col
           FROM user_constraints c
           JOIN user_cons_columns cc ON cc.constraint_name = c.constraint_name
          WHERE c.table_name = :1 AND c.constraint_type IN ('P', 'U')
          ORDER BY CASE c.constraint_type WHEN 'P' THEN 0 ELSE 1 END, c.constraint_name, cc.position`,
        [table],
      )
      const byKey = new Map<string, string[]>()
      for (const k of keys) byKey.set(k.NAME, [...(byKey.get(k.NAME) ?? []), k.COL])
      const primary = new Set(keys.filter((k) => k.KIND === 'P').map((k) => k.COL))
      const info: TableInfo = {
        name: table,
        columns: columns.map((c) => ({
          name: c.NAME,
          type: c.TYPE,
          notNull: c.NULLABLE === 'N',
          primaryKey: primary.has(c.NAME),
        })),
        uniqueKeys: [...byKey.values()],
      }
      return info
    },

    async listTables() {
      const rows = await select<{ NAME: string }>(
        'SELECT table_name AS name FROM user_tables UNION SELECT view_name FROM user_views ORDER BY 1',
        [],
      )
      return rows.map((r) => r.NAME)
    },

    async execute(sql) {
      const c = await connection()
      try {
        await c.execute(sql)
      } finally {
        await c.close()
      }
    },

    async writeBatch(spec, rows, options) {
      const session = new OracleSession(await connection())
      try {
        return await writeBatchOn(session, driver, spec, rows, options)
      } finally {
        await session.release()
      }
    },

    async session() {
      return new OracleSession(await connection())
    },

    async close() {
      const opened = pool
      pool = undefined
      if (opened !== undefined) await (await opened.catch(() => undefined))?.close(0)
    },
  }
}
