/**
 * Value mapping shared by the client-server drivers. Rows hold strings, numbers, booleans, null and
 * arrays; see each driver's `toParam` / `fromDb` for what it adds.
 */

/** Arrays and plain objects as JSON text; everything else unchanged (undefined becomes null). */
export function jsonOrValue(value: unknown): unknown {
  if (value === undefined) return null
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date || value instanceof Uint8Array) return value
  return JSON.stringify(value)
}

/**
 * A value a driver returned, as a row value: dates as ISO 8601 text, binary as base64 text, 64-bit
 * integers as numbers when they fit (text otherwise).
 */
export function rowValue(value: unknown): unknown {
  if (value === undefined) return null
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString()
  }
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString()
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  return value
}

/** Map every value of a driver's row through `rowValue`. */
export function toRow(raw: Record<string, unknown>): Record<string, unknown> {
  const row: Record<string, unknown> = {}
  for (const field in raw) row[field] = rowValue(raw[field])
  return row
}

/** Integer text that fits a JS number as a number; other text unchanged. */
export function safeInteger(text: string): number | string {
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : text
}
