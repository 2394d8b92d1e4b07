import { z } from 'zod'
import {
  ConnectorError,
  defineNode,
  errorMessage,
  NodeRunError,
  rows,
  type NodeIssue,
} from '../engine/index.ts'
import { connectSql, sqlConnectionField } from './sql/connect.ts'

const TYPE = 'sql.read'

/** Read rows from a SQL table or query, streamed in batches. */
export const sqlRead = defineNode({
  type: TYPE,
  version: 1,
  title: 'Read SQL',
  category: 'source',
  description:
    "Streams the rows of a table, or of a query, from a database through a server-side cursor (PostgreSQL pg-cursor, MySQL/MariaDB streamed result, SQL Server streamed request, Oracle result set; SQLite iterates the file), one batch at a time: never the whole result in memory. Give exactly one of `table` and `query`; `watermark` makes reads incremental. Values by driver — **sqlite**: as stored (INTEGER/REAL numbers, TEXT, NULL), BLOB as base64 text like every other driver. **postgres**: integers and floats as numbers, bigint as a number when it fits (text otherwise), numeric/decimal as exact text, boolean as true/false, date as `YYYY-MM-DD`, timestamp as `YYYY-MM-DDTHH:MM:SS[.fff]`, timestamptz as ISO 8601 UTC, json/jsonb parsed, bytea as base64 text. **mysql** (MySQL, MariaDB): integers as numbers (BIGINT as text past 2^53), DECIMAL as exact text, TINYINT(1)/BOOLEAN as true/false, DATE/DATETIME/TIMESTAMP as the server's text (`YYYY-MM-DD HH:MM:SS[.fff]`), BLOB/BINARY as base64. **mssql**: numbers (decimal/money as JS numbers), bigint as a number when it fits, bit as true/false, date/datetime2/datetimeoffset as ISO 8601 UTC, varbinary as base64. **oracle** (thin mode): NUMBER as a number, DATE/TIMESTAMP as ISO 8601 (read in the server session's time zone, set to UTC), CLOB as text, BLOB/RAW as base64. NULL is null everywhere. A SQLite file that a sql.write of the same graph writes to must be in WAL mode, or the writer waits for the reader.",
  inputs: {},
  outputs: { out: rows() },
  config: z
    .object({
      connection: sqlConnectionField(),
      table: z.string().min(1).optional().meta({
        title: 'Table',
        description: 'Read every row of this table or view. The name must exist in the database.',
      }),
      query: z
        .string()
        .min(1)
        .optional()
        .meta({
          title: 'Query',
          description:
            'A SELECT statement. Put values in `params` and refer to them with `?` placeholders; never paste values into the text.',
          'x-ui': { widget: 'code' },
        }),
      params: z
        .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
        .optional()
        .meta({
          title: 'Query parameters',
          description:
            'Values for the `?` placeholders of `query`, in order. Use `{ "$param": "name" }` for a template parameter.',
          'x-ui': { advanced: true },
        }),
      watermark: z.string().min(1).optional().meta({
        title: 'Watermark column',
        description:
          "Incremental reads: only rows whose value in this column is greater than the largest value the last successful run of the graph read, in the column's order (`WHERE column > last ORDER BY column`; with `query`, the query is wrapped as a subquery). Use an ever-increasing column (an id, an updated-at timestamp). The largest value read is kept per graph and node (the CLI keeps it in `<graph file>.state.json`) and advanced only when the whole run succeeds, so a failed run reads the same rows again. The first run reads every row; rows whose column is NULL are never read.",
      }),
    })
    .strict(),
  infer: ({ config }) => ({ outputs: { out: undefined }, issues: sourceIssues(config) }),
  async setup(ctx) {
    const { nodeId, config } = ctx
    const problem = sourceIssues(config)[0]
    if (problem !== undefined) {
      throw new NodeRunError(
        'SQL_READ_SOURCE',
        `Node "${nodeId}" (${TYPE}) ${problem.path!.slice(2)}: ${problem.message}`,
        {
          nodeId,
          field: problem.path!.slice(2),
        },
      )
    }
    const connector = await connectSql(ctx, TYPE, config.connection, 'read')
    const q = (name: string) => connector.dialect.quoteIdent(name)
    let last: unknown
    if (config.watermark !== undefined) {
      if (ctx.runState === undefined) {
        throw new NodeRunError(
          'WATERMARK_NO_STATE',
          `Node "${nodeId}" (${TYPE}) watermark: this host keeps no state between runs, so an incremental read cannot remember where it stopped`,
          { nodeId, field: 'watermark' },
        )
      }
      const kept = ctx.runState.get('watermark') as { column?: unknown; value?: unknown } | undefined
      if (kept?.column === config.watermark && kept.value !== undefined && kept.value !== null)
        last = kept.value
    }
    const incremental = (from: string): { sql: string; params: unknown[] } => {
      const params = config.params ?? []
      if (config.watermark === undefined) return { sql: from, params }
      const column = q(config.watermark)
      const where =
        last === undefined ? '' : ` WHERE ${column} > ${connector.dialect.placeholder(params.length + 1)}`
      return {
        sql: `SELECT * FROM ${from}${where} ORDER BY ${column}`,
        params: last === undefined ? params : [...params, last],
      }
    }
    if (config.table === undefined) {
      const query = config.query!
      return {
        connector,
        ...(config.watermark === undefined
          ? { sql: query, params: config.params ?? [] }
          : incremental(`(${query}) sg_incremental`)),
      }
    }
    const table = await connector.describeTable(config.table)
    if (table === undefined) {
      const tables = await connector.listTables()
      throw new ConnectorError(
        'TABLE_NOT_FOUND',
        `Node "${nodeId}" (${TYPE}) table: no table or view "${config.table}" in ${connector.target}; it has: ${tables.join(', ') || 'none'}`,
        { nodeId, field: 'table' },
      )
    }
    if (config.watermark !== undefined && !table.columns.some((c) => c.name === config.watermark)) {
      throw new ConnectorError(
        'SQL_UNKNOWN_COLUMN',
        `Node "${nodeId}" (${TYPE}) watermark: table "${config.table}" has no column "${config.watermark}"; its columns: ${table.columns.map((c) => c.name).join(', ')}`,
        { nodeId, field: 'watermark' },
      )
    }
    if (config.watermark === undefined)
      return { connector, sql: connector.dialect.selectAll(config.table), params: [] }
    return { connector, ...incremental(q(config.table)) }
  },
  async *run({ nodeId, config, state, settings, signal, runState }) {
    const field = config.table === undefined ? 'query' : 'table'
    const stream = state.connector.query(state.sql, state.params, settings.batchSize, signal)
    let highest: unknown
    const batches = stream[Symbol.asyncIterator]()
    try {
      for (;;) {
        let next: IteratorResult<Record<string, unknown>[]>
        try {
          next = await batches.next()
        } catch (error) {
          if (signal.aborted) throw error
          throw new NodeRunError(
            'SQL_QUERY_FAILED',
            `Node "${nodeId}" (${TYPE}) ${field}: ${errorMessage(error)}`,
            {
              nodeId,
              field,
              cause: error,
            },
          )
        }
        if (next.done) break
        if (config.watermark !== undefined) {
          for (let i = next.value.length - 1; i >= 0; i--) {
            const value = next.value[i]![config.watermark]
            if (value !== null && value !== undefined) {
              highest = value
              break
            }
          }
        }
        yield { out: next.value }
      }
    } finally {
      await batches.return?.()
    }
    // Kept by the engine only if the whole run succeeds.
    if (config.watermark !== undefined && highest !== undefined) {
      runState?.set('watermark', { column: config.watermark, value: highest })
    }
  },
})

function sourceIssues(config: { table?: string | undefined; query?: string | undefined }): NodeIssue[] {
  if ((config.table === undefined) === (config.query === undefined)) {
    return [
      {
        code: 'invalid-config',
        severity: 'error',
        path: config.table === undefined ? '$.table' : '$.query',
        message:
          config.table === undefined
            ? 'set either table (read a whole table) or query (a SELECT statement)'
            : 'set table or query, not both',
      },
    ]
  }
  return []
}
