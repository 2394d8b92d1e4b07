import type { Row } from '../../engine/index.ts'

export type ColumnType = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null' | 'mixed'

function typeOf(value: unknown): ColumnType {
  if (value === null || value === undefined) return 'null'
  if (Array.isArray(value)) return 'array'
  const t = typeof value
  if (t === 'string' || t === 'number' || t === 'boolean') return t
  return 'object'
}

/** Columns in first-seen order, each typed by its non-null values (`mixed` when they disagree, `null` when all are null). */
export function inferColumns(rows: readonly Row[]): { name: string; type: ColumnType }[] {
  const types = new Map<string, ColumnType>()
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      const seen = types.get(name)
      const t = typeOf(value)
      if (seen === undefined || seen === 'null') types.set(name, t)
      else if (t !== 'null' && t !== seen) types.set(name, 'mixed')
    }
  }
  return [...types].map(([name, type]) => ({ name, type }))
}
