import type { RowStatement, SqlDialect, WriteSpec } from './types.ts'

/**
 * The per-row statements of each write mode in portable SQL; `upsert` gives the dialect's own
 * single-row upsert (ON CONFLICT, ON DUPLICATE KEY UPDATE, MERGE).
 */
export function writeStatements(
  dialect: SqlDialect,
  spec: WriteSpec,
  upsert: (spec: WriteSpec) => RowStatement,
): RowStatement[] {
  const q = (name: string) => dialect.quoteIdent(name)
  const table = q(spec.table)
  const keySet = new Set(spec.key)
  const others = spec.columns.filter((c) => !keySet.has(c))
  let n = 0
  const next = () => dialect.placeholder(++n)
  const where = () => spec.key.map((k) => `${q(k)} = ${next()}`).join(' AND ')
  const insert = (): RowStatement => ({
    sql: `INSERT INTO ${table} (${spec.columns.map(q).join(', ')}) VALUES (${spec.columns.map(next).join(', ')})`,
    columns: spec.columns,
  })
  switch (spec.mode) {
    case 'insert':
      return [insert()]
    case 'upsert':
      return [upsert(spec)]
    case 'replace': {
      const remove = { sql: `DELETE FROM ${table} WHERE ${where()}`, columns: spec.key }
      n = 0
      return [remove, insert()]
    }
    case 'update': {
      if (others.length === 0) {
        // Nothing to change: a statement that still reports whether the row exists.
        const keys = where()
        return [
          {
            sql: `UPDATE ${table} SET ${q(spec.key[0]!)} = ${q(spec.key[0]!)} WHERE ${keys}`,
            columns: spec.key,
          },
        ]
      }
      const set = others.map((c) => `${q(c)} = ${next()}`).join(', ')
      return [{ sql: `UPDATE ${table} SET ${set} WHERE ${where()}`, columns: [...others, ...spec.key] }]
    }
    case 'delete':
      return [{ sql: `DELETE FROM ${table} WHERE ${where()}`, columns: spec.key }]
    default: {
      const never: never = spec.mode
      throw new Error(`unhandled write mode ${String(never)}`)
    }
  }
}

/** The non-key columns of a write. */
export function nonKeyColumns(spec: Pick<WriteSpec, 'columns' | 'key'>): string[] {
  const keySet = new Set(spec.key)
  return spec.columns.filter((c) => !keySet.has(c))
}

/**
 * Split rows into chunks of at most `maxRows`, starting a new chunk when a key repeats: a multi-row
 * upsert or MERGE may not touch one row twice, and running the chunks in order keeps "last row wins".
 */
export function chunkRows<T extends Record<string, unknown>>(
  rows: readonly T[],
  key: readonly string[],
  maxRows: number,
): T[][] {
  const out: T[][] = []
  let chunk: T[] = []
  let seen = new Set<string>()
  for (const row of rows) {
    const id = key.length === 0 ? '' : JSON.stringify(key.map((k) => row[k] ?? null))
    if (chunk.length >= maxRows || (key.length > 0 && seen.has(id))) {
      out.push(chunk)
      chunk = []
      seen = new Set()
    }
    chunk.push(row)
    if (key.length > 0) seen.add(id)
  }
  if (chunk.length > 0) out.push(chunk)
  return out
}
