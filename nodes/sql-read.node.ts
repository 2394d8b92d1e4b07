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
    'Streams the rows of a table, or of a query, from a database through a cursor, one batch at a time. Give exactly one of `table` and `query`. Values come as the database returns them (numbers, text, null). A SQLite file that a sql.write of the same graph writes to must be in WAL mode, or the writer waits for the reader.',
  inputs: {},
  outputs: { out: rows() },
  config: z
    .object({
      connection: sqlConnectionField('read'),
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
    if (config.table === undefined) return { connector, sql: config.query! }
    const table = await connector.describeTable(config.table)
    if (table === undefined) {
      const tables = await connector.listTables()
      throw new ConnectorError(
        'TABLE_NOT_FOUND',
        `Node "${nodeId}" (${TYPE}) table: no table or view "${config.table}" in ${connector.target}; it has: ${tables.join(', ') || 'none'}`,
        { nodeId, field: 'table' },
      )
    }
    return { connector, sql: connector.dialect.selectAll(config.table) }
  },
  async *run({ nodeId, config, state, settings, signal }) {
    const field = config.table === undefined ? 'query' : 'table'
    const stream = state.connector.query(state.sql, config.params ?? [], settings.batchSize, signal)
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
        if (next.done) return
        yield { out: next.value }
      }
    } finally {
      await batches.return?.()
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
