import { z } from 'zod'
import {
  columnName,
  ConnectorError,
  defineNode,
  errorCode,
  errorMessage,
  NodeRunError,
  results,
  rows,
  unknownColumnIssues,
  type NodeIssue,
  type Row,
} from '../engine/index.ts'
import { setField } from './row-builder.ts'
import { isBinaryType } from './sql/batch.ts'
import { connectSql, sqlConnectionField } from './sql/connect.ts'
import { WRITE_MODES, type SqlConnector, type TableInfo, type WriteMode } from './sql/types.ts'

const TYPE = 'sql.write'

/** What `_action` says a written row did, by mode. */
const ACTIONS: Record<WriteMode, string> = {
  insert: 'insert',
  upsert: 'upsert',
  replace: 'replace',
  update: 'update',
  delete: 'delete',
}

/** Write rows to a SQL table, one transaction per batch. */
export const sqlWrite = defineNode({
  type: TYPE,
  version: 1,
  title: 'Write SQL',
  category: 'destination',
  description:
    "Writes each input row to a table, one transaction per batch, through each driver's bulk path for `insert` and `upsert`: PostgreSQL COPY FROM STDIN (insert) and multi-row INSERT … ON CONFLICT (upsert); MySQL/MariaDB multi-row INSERT (… ON DUPLICATE KEY UPDATE when the key is the table's only unique index, else a SELECT of the existing keys, a multi-row UPDATE … JOIN and a multi-row INSERT, which match on the key alone); SQL Server bulk load (insert) and multi-row MERGE (upsert); Oracle executeMany of INSERT or MERGE; SQLite prepared statements. Every field of a row must be a column of the table (a field missing from a row is written as NULL); names are checked against the table and quoted per dialect, values are always sent as parameters. Values: arrays and objects as JSON text; booleans as true/false where the database has a boolean (PostgreSQL, SQL Server bit) and 1/0 elsewhere; text into a binary column (bytea, BLOB, VARBINARY, RAW) is decoded from base64, the form sql.read gives binary in (every driver, SQLite included); dates as the text the row holds (ISO 8601 works for every driver; Oracle sessions are set to ISO formats). A row the database refuses (a constraint, a bad value) is handled by onRowError: with `fail` nothing of its batch is kept; with `skip` or `route` the batch is redone row by row under savepoints and the other rows are still written. The `results` output carries each written row with `_action` (the mode, or `none` when an update or delete matched no row).",
  inputs: { in: rows() },
  outputs: { results: results({ title: 'Written rows' }) },
  rowErrors: true,
  config: z
    .object({
      connection: sqlConnectionField(),
      table: z.string().min(1).meta({
        title: 'Table',
        description: 'The table to write to. It must exist unless createTable is set.',
      }),
      mode: z.enum(WRITE_MODES).default('insert').meta({
        title: 'Mode',
        description:
          '`insert`: add every row. `upsert`: insert, or update the row with the same key (the key must be the primary key or a unique index; rows are matched on the key alone: on MySQL/MariaDB, whose ON DUPLICATE KEY UPDATE fires on any unique index, a table with another unique index is upserted with SELECT + UPDATE + INSERT instead, so a row that collides on that other index fails as SQL_CONSTRAINT naming the index rather than updating another row). `replace`: delete the row with the same key, then insert (columns not in the row get their default). `update`: change the row with the same key; rows with no match are left alone. `delete`: delete the row with the same key. Every mode but insert needs `key`.',
      }),
      key: z
        .array(columnName({ title: 'Key column', port: 'in' }))
        .min(1)
        .optional()
        .meta({
          title: 'Key',
          description:
            'The column(s) that identify a row. Required for upsert, replace, update and delete; with createTable they become the primary key. A row with an empty (null) key value is rejected.',
          'x-ui': { widget: 'columns', port: 'in' },
        }),
      createTable: z.boolean().default(false).meta({
        title: 'Create the table',
        description:
          'When the table does not exist, create it from the fields of the first batch: INTEGER, REAL or TEXT from the first non-null value (booleans INTEGER, arrays and objects TEXT; no type when the batch holds only nulls), with `key` as primary key. An existing table is used as it is.',
      }),
    })
    .strict(),
  infer: ({ config, inputs }) => {
    const issues: NodeIssue[] = []
    const missing = keyIssue(config.mode, config.key)
    if (missing !== undefined) issues.push(missing)
    issues.push(...unknownColumnIssues(config.key, inputs.in, 'in', '$.key'))
    return { outputs: { results: inputs.in === undefined ? undefined : [...inputs.in, '_action'] }, issues }
  },
  async setup(ctx) {
    const { nodeId, config } = ctx
    const missing = keyIssue(config.mode, config.key)
    if (missing !== undefined) {
      throw new NodeRunError('SQL_KEY_REQUIRED', `Node "${nodeId}" (${TYPE}) key: ${missing.message}`, {
        nodeId,
        field: 'key',
      })
    }
    const connector = await connectSql(ctx, TYPE, config.connection, 'write')
    const table = await connector.describeTable(config.table)
    if (table === undefined && !config.createTable) {
      const tables = await connector.listTables()
      throw new ConnectorError(
        'TABLE_NOT_FOUND',
        `Node "${nodeId}" (${TYPE}) table: no table "${config.table}" in ${connector.target} (it has: ${tables.join(', ') || 'none'}); create it first or set createTable`,
        { nodeId, field: 'table' },
      )
    }
    if (table !== undefined) checkKey(nodeId, config.mode, config.key ?? [], table)
    return { connector, table }
  },
  async *run({ nodeId, config, state, inputs, settings, reject }) {
    const { connector } = state
    const key = config.key ?? []
    const action = ACTIONS[config.mode]
    const keepGoodRows = settings.onRowError !== 'fail'
    let table = state.table
    let position = 0
    for await (const batch of inputs.in!) {
      if (batch.length === 0) continue
      table ??= await createTable(nodeId, connector, config.table, config.mode, key, batch)
      const columns = fieldsOf(batch)
      checkColumns(nodeId, table, columns)

      // Rows with an empty key cannot be matched: reject them before writing.
      let toWrite: readonly Row[] = batch
      let positions: number[] | undefined
      if (key.length > 0) {
        const kept: Row[] = []
        const at: number[] = []
        batch.forEach((row, i) => {
          const empty = key.find((k) => row[k] === null || row[k] === undefined)
          if (empty === undefined) {
            kept.push(row)
            at.push(i)
            return
          }
          reject(
            row,
            new NodeRunError('SQL_KEY_EMPTY', `key column "${empty}" is empty`, { nodeId, field: 'key' }),
            position + i + 1,
          )
        })
        if (kept.length < batch.length) {
          toWrite = kept
          positions = at
        }
      }

      const binaryColumns = table.columns
        .filter((c) => isBinaryType(c.type) && columns.includes(c.name))
        .map((c) => c.name)
      const spec = {
        table: config.table,
        mode: config.mode,
        columns,
        key,
        binaryColumns,
        otherUniqueKeys: otherUniqueKeys(table, key),
      }
      const outcome = await connector.writeBatch(spec, toWrite, { keepGoodRows }).catch((error: unknown) => {
        throw writeError(nodeId, connector, error)
      })
      for (const failure of outcome.failures) {
        const index = positions?.[failure.index] ?? failure.index
        const error = new NodeRunError(failure.code, failure.message, { nodeId, cause: failure.cause })
        reject(toWrite[failure.index]!, error, position + index + 1)
      }
      // The engine counts the rows yielded on `results` as this node's rows out.
      const written: Row[] = []
      outcome.affected.forEach((affected, i) => {
        if (affected < 0) return
        const row = toWrite[i]!
        const result: Row = {}
        for (const field in row) setField(result, field, row[field])
        result._action = affected === 0 && config.mode !== 'upsert' ? 'none' : action
        written.push(result)
      })
      position += batch.length
      if (written.length > 0) yield { results: written }
    }
  },
})

/** A failure of the whole batch (not of one row) as an error naming node and target. */
function writeError(nodeId: string, connector: SqlConnector, error: unknown): ConnectorError {
  const locked = errorCode(error)?.startsWith('SQLITE_BUSY') === true
  const message = locked
    ? `${connector.target} is locked by another connection. A sql.read on the same SQLite file blocks writers unless the file is in WAL mode (PRAGMA journal_mode = WAL)`
    : `writing to ${connector.target} failed: ${errorMessage(error)}`
  return new ConnectorError(
    locked ? 'DATABASE_LOCKED' : 'SQL_WRITE_FAILED',
    `Node "${nodeId}" (${TYPE}) connection: ${message}`,
    {
      nodeId,
      field: 'connection',
      cause: error,
    },
  )
}

function keyIssue(mode: WriteMode, key: readonly string[] | undefined): NodeIssue | undefined {
  if (mode === 'insert' || (key !== undefined && key.length > 0)) return undefined
  return {
    code: 'invalid-config',
    severity: 'error',
    path: '$.key',
    message: `mode "${mode}" needs a key: the column(s) that identify a row, e.g. ["id"]`,
  }
}

/** Key columns must exist, and an upsert needs them to be the primary key or a unique index. */
function checkKey(nodeId: string, mode: WriteMode, key: readonly string[], table: TableInfo): void {
  const names = table.columns.map((c) => c.name)
  for (const column of key) {
    if (names.includes(column)) continue
    throw new ConnectorError(
      'SQL_UNKNOWN_COLUMN',
      `Node "${nodeId}" (${TYPE}) key: table "${table.name}" has no column "${column}"; its columns: ${names.join(', ')}`,
      { nodeId, field: 'key' },
    )
  }
  if (mode !== 'upsert') return
  const wanted = [...key].sort().join('\u0000')
  if (table.uniqueKeys.some((u) => [...u].sort().join('\u0000') === wanted)) return
  throw new ConnectorError(
    'SQL_KEY_NOT_UNIQUE',
    `Node "${nodeId}" (${TYPE}) key: upsert needs a primary key or unique index on (${key.join(', ')}) in table "${table.name}"; its unique keys: ${table.uniqueKeys.map((u) => `(${u.join(', ')})`).join(', ') || 'none'}`,
    { nodeId, field: 'key' },
  )
}

/**
 * Whether a row could collide with another row on a unique index other than the key's: one that does
 * not hold every key column, or only a prefix of a column (see WriteSpec.otherUniqueKeys).
 */
function otherUniqueKeys(table: TableInfo, key: readonly string[]): boolean {
  const indexes = table.uniqueIndexes ?? table.uniqueKeys.map((columns) => ({ columns, partial: false }))
  return indexes.some((u) => u.partial === true || !key.every((k) => u.columns.includes(k)))
}

/** Every field of the batch's rows, in order of first appearance. */
function fieldsOf(batch: readonly Row[]): string[] {
  const seen = new Set<string>()
  for (const row of batch) for (const field in row) seen.add(field)
  return [...seen]
}

function checkColumns(nodeId: string, table: TableInfo, fields: readonly string[]): void {
  const names = new Set(table.columns.map((c) => c.name))
  const unknown = fields.find((f) => !names.has(f))
  if (unknown === undefined) return
  throw new NodeRunError(
    'SQL_UNKNOWN_COLUMN',
    `Node "${nodeId}" (${TYPE}) table: table "${table.name}" has no column "${unknown}" (a field of the input rows); its columns: ${[...names].join(', ')}. Drop or rename the field with a map node.`,
    { nodeId, field: 'table' },
  )
}

/** Create the table from the first batch: each field's type from its first non-null value. */
async function createTable(
  nodeId: string,
  connector: SqlConnector,
  name: string,
  mode: WriteMode,
  key: readonly string[],
  batch: readonly Row[],
): Promise<TableInfo> {
  const fields = fieldsOf(batch)
  const missingKey = key.find((k) => !fields.includes(k))
  if (missingKey !== undefined) {
    throw new NodeRunError(
      'SQL_UNKNOWN_COLUMN',
      `Node "${nodeId}" (${TYPE}) key: cannot create table "${name}" with key "${missingKey}": the input rows have no such field; they have: ${fields.join(', ')}`,
      { nodeId, field: 'key' },
    )
  }
  const columns = fields.map((field) => {
    const sample = batch.find((row) => row[field] !== null && row[field] !== undefined)
    return { name: field, type: connector.dialect.columnType(sample?.[field]) }
  })
  await connector.execute(connector.dialect.createTable(name, columns, key))
  const table = await connector.describeTable(name)
  if (table === undefined) throw new Error(`table "${name}" was created but cannot be read back`)
  checkKey(nodeId, mode, key, table)
  return table
}
