import { once } from 'node:events'
import pg from 'pg'
import Cursor from 'pg-cursor'
import { from as copyFrom } from 'pg-copy-streams'
import { messageOf, writeBatchOn, type BatchDriver } from './batch.ts'
import { chunkRows, nonKeyColumns, writeStatements } from './statements.ts'
import type { RowFailure, SqlConnector, SqlDialect, SqlSession, TableInfo, WriteSpec } from './types.ts'
import { jsonOrValue, safeInteger, toRow } from './values.ts'
import { describeTarget } from './target.ts'

/** PostgreSQL allows 65535 parameters per statement. */
const MAX_PARAMS = 65_535
const MAX_ROWS_PER_STATEMENT = 1000

/** PostgreSQL SQL: double-quoted identifiers, `$n` placeholders, `ON CONFLICT … DO UPDATE` upserts. */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  quoteIdent(identifier) {
    if (identifier.includes('\u0000')) throw new Error('an identifier cannot contain the NUL character')
    return `"${identifier.replaceAll('"', '""')}"`
  },
  placeholder: (index) => `$${index}`,
  selectAll: (table) => `SELECT * FROM ${postgresDialect.quoteIdent(table)}`,
  writeStatements: (spec) => writeStatements(postgresDialect, spec, (s) => postgresUpsert(s, 1)),
  columnType(value) {
    if (typeof value === 'number') return Number.isInteger(value) ? 'BIGINT' : 'DOUBLE PRECISION'
    if (typeof value === 'bigint') return 'BIGINT'
    if (typeof value === 'boolean') return 'BOOLEAN'
    if (value instanceof Uint8Array) return 'BYTEA'
    return 'TEXT'
  },
  createTable(table, columns, key) {
    const q = postgresDialect.quoteIdent
    const defs = columns.map((c) => `${q(c.name)} ${c.type === '' ? 'TEXT' : c.type}`)
    if (key.length > 0) defs.push(`PRIMARY KEY (${key.map(q).join(', ')})`)
    return `CREATE TABLE IF NOT EXISTS ${q(table)} (${defs.join(', ')})`
  },
}

/** A multi-row `INSERT … ON CONFLICT (key) DO UPDATE SET c = EXCLUDED.c` for `rows` rows. */
export function postgresUpsert(spec: WriteSpec, rows: number): { sql: string; columns: readonly string[] } {
  const q = postgresDialect.quoteIdent
  const others = nonKeyColumns(spec)
  const action =
    others.length === 0
      ? 'DO NOTHING'
      : `DO UPDATE SET ${others.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}`
  return {
    sql: `${postgresInsert(spec, rows)} ON CONFLICT (${spec.key.map(q).join(', ')}) ${action}`,
    columns: spec.columns,
  }
}

function postgresInsert(spec: WriteSpec, rows: number): string {
  const q = postgresDialect.quoteIdent
  const width = spec.columns.length
  const tuples: string[] = []
  for (let r = 0; r < rows; r++) {
    tuples.push(`(${spec.columns.map((_, c) => `$${r * width + c + 1}`).join(', ')})`)
  }
  return `INSERT INTO ${q(spec.table)} (${spec.columns.map(q).join(', ')}) VALUES ${tuples.join(', ')}`
}

/** The COPY statement of the insert bulk path. */
export function postgresCopy(spec: Pick<WriteSpec, 'table' | 'columns'>): string {
  const q = postgresDialect.quoteIdent
  return `COPY ${q(spec.table)} (${spec.columns.map(q).join(', ')}) FROM STDIN`
}

/** One value in COPY text format: `\N` for null, backslash escapes, bytea as `\\x…` hex. */
export function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N'
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Uint8Array) return `\\\\x${Buffer.from(value).toString('hex')}`
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.replace(/[\\\n\r\t]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
  )
}

/** A row value as pg binds it: arrays and objects as JSON text (not PostgreSQL arrays), binary as bytea. */
export function postgresParam(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value)
  return jsonOrValue(value)
}

/** SQLSTATE class 23 (integrity) and 22 (data) are a row's own failure. */
export function classifyPostgres(error: unknown, index: number): RowFailure | undefined {
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return undefined
  if (code.startsWith('23')) return { index, code: 'SQL_CONSTRAINT', message: messageOf(error), cause: error }
  if (code.startsWith('22')) return { index, code: 'SQL_VALUE', message: messageOf(error), cause: error }
  return undefined
}

/** Type parsers: int8 as a number when it fits, dates and timestamps as text, timestamptz as ISO UTC. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary')
    switch (oid) {
      case 20: // int8
        return safeInteger
      case 1082: // date
        return (text: string) => text
      case 1114: // timestamp without time zone
        return (text: string) => text.replace(' ', 'T')
      case 1184: // timestamptz
        return (text: string) => new Date(text).toISOString()
      default:
        return pg.types.getTypeParser(oid, 'text')
    }
  },
} as pg.CustomTypesConfig

export interface PostgresSettings {
  url?: string
  host?: string
  port?: number
  user?: string
  password?: string
  database?: string
  ssl?: boolean
}

class PostgresSession implements SqlSession {
  constructor(readonly client: pg.PoolClient) {}
  async run(sql: string, params: readonly unknown[]) {
    const result = await this.client.query(sql, params as unknown[])
    return result.rowCount ?? 0
  }
  begin = async () => void (await this.client.query('BEGIN'))
  commit = async () => void (await this.client.query('COMMIT'))
  rollback = async () => void (await this.client.query('ROLLBACK'))
  savepoint = async (name: string) => void (await this.client.query(`SAVEPOINT ${name}`))
  rollbackTo = async (name: string) => void (await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`))
  releaseSavepoint = async (name: string) => void (await this.client.query(`RELEASE SAVEPOINT ${name}`))
  release = async () => this.client.release()
}

const driver: BatchDriver<PostgresSession> = {
  dialect: postgresDialect,
  toParam: postgresParam,
  classify: classifyPostgres,
  async bulk(session, spec, rows) {
    if (spec.mode === 'insert') {
      const stream = session.client.query(copyFrom(postgresCopy(spec)))
      const done = once(stream, 'finish')
      // Feed the COPY in slices so a large batch is never one string.
      for (let start = 0; start < rows.length; start += 500) {
        let text = ''
        for (const row of rows.slice(start, start + 500)) {
          text += spec.columns.map((c) => copyText(row[c])).join('\t') + '\n'
        }
        if (!stream.write(text)) await once(stream, 'drain')
      }
      stream.end()
      await done
      return
    }
    const maxRows = Math.max(
      1,
      Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(MAX_PARAMS / spec.columns.length)),
    )
    for (const chunk of chunkRows(rows, spec.key, maxRows)) {
      const params: unknown[] = []
      for (const row of chunk) for (const c of spec.columns) params.push(postgresParam(row[c]))
      await session.run(postgresUpsert(spec, chunk.length).sql, params)
    }
  },
}

/** Open a PostgreSQL pool (at most `max` connections); nothing connects until the first query. */
export function openPostgres(settings: PostgresSettings, options: { max?: number } = {}): SqlConnector {
  const pool = new pg.Pool({
    ...(settings.url === undefined ? {} : { connectionString: settings.url }),
    ...(settings.host === undefined ? {} : { host: settings.host }),
    ...(settings.port === undefined ? {} : { port: settings.port }),
    ...(settings.user === undefined ? {} : { user: settings.user }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.database === undefined ? {} : { database: settings.database }),
    ...(settings.ssl === true ? { ssl: true } : {}),
    max: options.max ?? 4,
    application_name: 'syncgraph',
    types,
    connectionTimeoutMillis: 15_000,
  })
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => undefined)
  const target = describeTarget('postgres', 5432, settings)
  let closed = false

  return {
    dialect: postgresDialect,
    target,

    async *query(sql, params, batchSize, signal) {
      const client = await pool.connect()
      let broken = false
      // A read never writes (`DELETE … RETURNING` would): role policies allow reading without writing.
      try {
        await client.query('BEGIN READ ONLY')
      } catch (error) {
        client.release(true)
        throw error
      }
      const cursor = client.query(new Cursor(sql, params.map(postgresParam) as unknown[]))
      try {
        for (;;) {
          signal.throwIfAborted()
          const rows = (await cursor.read(batchSize)) as Record<string, unknown>[]
          if (rows.length === 0) return
          yield rows.map(toRow)
          if (rows.length < batchSize) return
        }
      } catch (error) {
        broken = true
        throw error
      } finally {
        await cursor.close().catch(() => {
          broken = true
        })
        await client.query('ROLLBACK').catch(() => {
          broken = true
        })
        client.release(broken)
      }
    },

    async describeTable(table) {
      const columns = await pool.query<{ name: string; type: string; nullable: string }>(
        `SELECT column_name AS name, data_type AS type, is_nullable AS nullable
           FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = $1
          ORDER BY ordinal_position`,
        [table],
      )
      if (columns.rows.length === 0) return undefined
      const keys = await pool.query<{ primary: boolean; columns: string[] }>(
        `SELECT i.indisprimary AS primary, array_agg(a.attname::text ORDER BY k.ord) AS columns
           FROM pg_index i
           JOIN pg_class c ON c.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
          WHERE n.nspname = current_schema() AND c.relname = $1
            AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
          GROUP BY i.indexrelid, i.indisprimary
          ORDER BY i.indisprimary DESC, i.indexrelid`,
        [table],
      )
      const primary = new Set(keys.rows.find((k) => k.primary)?.columns ?? [])
      const info: TableInfo = {
        name: table,
        columns: columns.rows.map((c) => ({
          name: c.name,
          type: c.type,
          notNull: c.nullable === 'NO',
          primaryKey: primary.has(c.name),
        })),
        uniqueKeys: keys.rows.map((k) => k.columns),
      }
      return info
    },

    async listTables() {
      const result = await pool.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = current_schema() ORDER BY table_name`,
      )
      return result.rows.map((r) => r.name)
    },

    async execute(sql) {
      await pool.query(sql)
    },

    async writeBatch(spec, rows, options) {
      const client = await pool.connect()
      let broken = false
      try {
        return await writeBatchOn(new PostgresSession(client), driver, spec, rows, options)
      } catch (error) {
        // The batch failed for a reason other than a row: do not give the connection back to the pool.
        broken = true
        throw error
      } finally {
        client.release(broken)
      }
    },

    async session() {
      return new PostgresSession(await pool.connect())
    },

    async close() {
      if (closed) return
      closed = true
      await pool.end()
    },
  }
}
