/** A row is a plain JSON object; a field holds a string, number, boolean, null or an array of those. */
export type Row = Record<string, unknown>

/** Rows move between nodes in batches. */
export type Batch = Row[]

/** Column names known at design time on a port; `undefined` means unknown (no false alarms). */
export type Columns = readonly string[] | undefined

/** A per-row failure as carried on a `rejected` port. */
export interface RowErrorInfo {
  code: string
  message: string
}

/** What `settings.onRowError` decides for a row a node could not process. */
export type OnRowError = 'fail' | 'skip' | 'route'
