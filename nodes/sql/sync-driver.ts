import { z } from 'zod'
import { ConnectorError, type Row } from '../../engine/index.ts'
import {
  applyItems,
  computePlan,
  toValues,
  type AttributeRule,
  type Comparison,
  type Deprovision,
  type Plan,
  type PlanItem,
  type ResultRow,
  type SyncDriver,
  type SyncDriverContext,
  type SyncValue,
} from '../../engine/sync/index.ts'
import { classifierFor } from './classify.ts'
import { connectSql, sqlConnectionField } from './connect.ts'
import type { SqlConnector, SqlDialect, SqlSession, TableInfo } from './types.ts'

const TYPE = 'sql.sync'

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()])

const flowRule = z
  .object({
    source: z
      .string()
      .min(1)
      .optional()
      .meta({ title: 'Source field', description: 'Default: the column name' }),
    flow: z.enum(['always', 'createOnly', 'ifEmpty']).default('always').meta({
      title: 'When to write',
      description:
        '`always`; `createOnly`: only when the row is created; `ifEmpty`: only while the column is NULL or empty.',
    }),
    empty: z.enum(['clear', 'keep']).default('clear').meta({
      title: 'An empty source value',
      description: '`clear` sets the column to NULL; `keep` leaves what is there.',
    }),
  })
  .strict()

export const sqlSyncConfig = z
  .object({
    connection: sqlConnectionField(),
    table: z
      .string()
      .min(1)
      .meta({ title: 'Table', description: 'The table this node makes look like its input.' }),
    scope: z
      .record(z.string(), z.union([scalar, z.array(scalar).min(1)]))
      .default({})
      .meta({
        title: 'Scope',
        description:
          'Which rows of the table this node owns: columns and the value (or list of values) they must have, e.g. `{ "source": "hr" }`. Rows outside the scope are never read, changed or deleted. Created rows get the single-valued scope columns. Empty: the whole table.',
      }),
    key: z
      .array(
        z.union([
          z.string().min(1),
          z
            .object({
              source: z.string().min(1).meta({ title: 'Source field' }),
              target: z.string().min(1).meta({ title: 'Table column' }),
            })
            .strict(),
        ]),
      )
      .min(1)
      .meta({
        title: 'Match on',
        description:
          'How an input row finds its table row: column names present on both sides (`["employee_id"]`), or `{ "source": "emp", "target": "employee_id" }` pairs. All must match; two or more rows in scope with one key are reported as ambiguous and never written. An inserted row gets every key column, whatever `columns` lists, so the next run finds it.',
        'x-ui': { widget: 'keyPairs' },
      }),
    columns: z
      .record(z.string(), z.union([z.string().min(1), flowRule]))
      .optional()
      .meta({
        title: 'Column flow',
        description:
          'Table column → source field, or `{ source, flow, empty }`. Default: every input field that is a column of the table, flowing always.',
      }),
    create: z.boolean().default(true).meta({ title: 'Insert missing rows' }),
    update: z.boolean().default(true).meta({ title: 'Update changed columns of matched rows' }),
    deprovision: z
      .discriminatedUnion('action', [
        z.object({ action: z.literal('none') }).strict(),
        z.object({ action: z.literal('delete') }).strict(),
        z
          .object({
            action: z.literal('flag'),
            set: z
              .record(z.string(), scalar)
              .refine((v) => Object.keys(v).length > 0, 'set at least one column')
              .meta({ title: 'Set these columns', description: 'e.g. `{ "active": false }`' }),
          })
          .strict(),
      ])
      .default({ action: 'none' })
      .meta({
        title: 'Rows no input row matches',
        description:
          '`none` (default) leaves them; `delete` deletes them; `flag` sets columns on them (e.g. `{ "action": "flag", "set": { "active": false } }`). Counted against maxDeletes / maxDeletePercent.',
      }),
    maxDeletes: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ title: 'Refuse when more rows would be deleted or flagged than' }),
    maxDeletePercent: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .meta({ title: 'Refuse over this percent of the scope' }),
    mode: z.enum(['apply', 'plan']).default('apply').meta({
      title: 'Mode',
      description: '`plan` computes and emits the plan (before/after per row), writing nothing.',
    }),
    transactionSize: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .meta({
        title: 'Rows per transaction',
        description:
          'Applied changes are committed in transactions of this many rows, each row under its own savepoint so one failure does not undo the others.',
        'x-ui': { advanced: true },
      }),
  })
  .strict()

export type SqlSyncConfig = z.infer<typeof sqlSyncConfig>

export function keyPairs(config: Pick<SqlSyncConfig, 'key'>): { source: string; target: string }[] {
  return config.key.map((k) => (typeof k === 'string' ? { source: k, target: k } : k))
}

type Kind = 'number' | 'boolean' | 'datetime' | 'date' | 'text'

/** How a column's declared type compares values. */
export function kindOf(type: string): Kind {
  const t = type.toLowerCase()
  if (/^(bool|boolean|bit)$|tinyint\(1\)/.test(t)) return 'boolean'
  if (/int|numeric|decimal|real|double|float|number|money/.test(t)) return 'number'
  if (/timestamp|datetime/.test(t)) return 'datetime'
  if (t === 'date') return 'date'
  return 'text'
}

const TRUE = new Set(['true', 't', '1', 'yes', 'y'])
const FALSE = new Set(['false', 'f', '0', 'no', 'n'])

/** Comparison by column type: numbers by value, booleans by truth, timestamps by instant, text exactly. */
export function sqlComparison(table: TableInfo): Comparison {
  const kinds = new Map(table.columns.map((c) => [c.name, kindOf(c.type)]))
  return {
    normalize(column, value) {
      const text = String(value)
      switch (kinds.get(column) ?? 'text') {
        case 'number': {
          const n = Number(text)
          return text.trim() !== '' && Number.isFinite(n) ? String(n) : text
        }
        case 'boolean': {
          const lower = text.trim().toLowerCase()
          return TRUE.has(lower) ? 'true' : FALSE.has(lower) ? 'false' : text
        }
        case 'datetime': {
          const t = Date.parse(text.includes('T') || !text.includes(' ') ? text : text.replace(' ', 'T'))
          return Number.isNaN(t) ? text : new Date(t).toISOString()
        }
        case 'date':
          return /^\d{4}-\d{2}-\d{2}/.test(text) ? text.slice(0, 10) : text
        case 'text':
          return text
      }
    },
    multiValued: () => false,
  }
}

/** `col = ?` / `col IN (…)` / `col IS NULL` for each scope column, ANDed; placeholders from `start`. */
export function scopeWhere(
  dialect: SqlDialect,
  scope: SqlSyncConfig['scope'],
  start: number,
): { sql: string; params: unknown[] } {
  const parts: string[] = []
  const params: unknown[] = []
  let n = start
  for (const [column, wanted] of Object.entries(scope)) {
    const q = dialect.quoteIdent(column)
    const list = Array.isArray(wanted) ? wanted : [wanted]
    const values = list.filter((v) => v !== null)
    const alternatives: string[] = []
    if (values.length === 1) alternatives.push(`${q} = ${dialect.placeholder(++n)}`)
    if (values.length > 1)
      alternatives.push(`${q} IN (${values.map(() => dialect.placeholder(++n)).join(', ')})`)
    if (values.length < list.length) alternatives.push(`${q} IS NULL`)
    params.push(...values)
    parts.push(alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(' OR ')})`)
  }
  return { sql: parts.join(' AND '), params }
}

function fail(nodeId: string, code: string, field: string, message: string): never {
  throw new ConnectorError(code, `Node "${nodeId}" (${TYPE}) ${field}: ${message}`, { nodeId, field })
}

/** The column rules: configured, or every input field that is a column of the table. */
export function columnRules(
  config: SqlSyncConfig,
  table: TableInfo,
  rows: readonly Row[],
): Record<string, AttributeRule> {
  const out: Record<string, AttributeRule> = {}
  if (config.columns !== undefined) {
    for (const [column, rule] of Object.entries(config.columns)) {
      out[column] = typeof rule === 'string' ? { source: rule } : rule
    }
    return out
  }
  const names = new Set(table.columns.map((c) => c.name))
  const seen = new Set<string>()
  for (const row of rows) for (const field in row) if (names.has(field)) seen.add(field)
  for (const field of seen) out[field] = { source: field }
  return out
}

/** The table checked against the config: every named column must exist. */
async function describe(nodeId: string, connector: SqlConnector, config: SqlSyncConfig): Promise<TableInfo> {
  const table = await connector.describeTable(config.table)
  if (table === undefined) {
    const tables = await connector.listTables()
    fail(
      nodeId,
      'TABLE_NOT_FOUND',
      'table',
      `no table "${config.table}" in ${connector.target}; it has: ${tables.join(', ') || 'none'}`,
    )
  }
  const names = new Set(table.columns.map((c) => c.name))
  const check = (column: string, field: string) => {
    if (!names.has(column)) {
      fail(
        nodeId,
        'SQL_UNKNOWN_COLUMN',
        field,
        `table "${table.name}" has no column "${column}"; its columns: ${[...names].join(', ')}`,
      )
    }
  }
  keyPairs(config).forEach((k, i) => check(k.target, `key[${i}]`))
  for (const column of Object.keys(config.scope)) check(column, `scope.${column}`)
  for (const column of Object.keys(config.columns ?? {})) check(column, `columns.${column}`)
  if (config.deprovision.action === 'flag') {
    for (const column of Object.keys(config.deprovision.set)) check(column, `deprovision.set.${column}`)
  }
  return table
}

/** Columns that identify a row for writes: the primary key (or first unique key), else the match key. */
function idColumns(config: SqlSyncConfig, table: TableInfo): string[] {
  return table.uniqueKeys[0] ?? keyPairs(config).map((k) => k.target)
}

/** Source rows with arrays and objects as JSON text: a SQL column holds one value. */
function flatten(rows: readonly Row[]): Row[] {
  return rows.map((row) => {
    let out: Row | undefined
    for (const field in row) {
      const v = row[field]
      if (typeof v === 'object' && v !== null) {
        out ??= { ...row }
        out[field] = JSON.stringify(v)
      }
    }
    return out ?? row
  })
}

async function withConnector<T>(
  ctx: SyncDriverContext & { onCleanup?: (release: () => void | Promise<void>) => void },
  config: SqlSyncConfig,
  body: (connector: SqlConnector) => Promise<T>,
): Promise<T> {
  const releases: (() => void | Promise<void>)[] = []
  try {
    const connector = await connectSql(
      { ...ctx, onCleanup: (r) => releases.push(r) },
      TYPE,
      config.connection,
      'write',
    )
    return await body(connector)
  } finally {
    for (const release of releases.reverse()) await release()
  }
}

/** Read the scope in one streamed query and compute the plan. */
export async function planSqlSync(
  ctx: SyncDriverContext & { config: SqlSyncConfig; rows: readonly Row[]; batchSize?: number },
): Promise<Plan> {
  const { config, nodeId } = ctx
  return withConnector(ctx, config, async (connector) => {
    const table = await describe(nodeId, connector, config)
    const { dialect } = connector
    const rules = columnRules(config, table, ctx.rows)
    const ids = idColumns(config, table)
    const pairs = keyPairs(config)
    const read = new Set<string>([...ids, ...pairs.map((k) => k.target), ...Object.keys(rules)])
    if (config.deprovision.action === 'flag') for (const c of Object.keys(config.deprovision.set)) read.add(c)
    const where = scopeWhere(dialect, config.scope, 0)
    const sql = `SELECT ${[...read].map((c) => dialect.quoteIdent(c)).join(', ')} FROM ${dialect.quoteIdent(config.table)}${where.sql === '' ? '' : ` WHERE ${where.sql}`}`
    const targets: { id: string; attributes: Row }[] = []
    for await (const batch of connector.query(sql, where.params, ctx.batchSize ?? 5000, ctx.signal)) {
      for (const row of batch) targets.push({ id: rowId(ids, row), attributes: row })
    }
    const createAttributes: Record<string, SyncValue[]> = {}
    for (const [column, value] of Object.entries(config.scope)) {
      if (!Array.isArray(value) && value !== null) createAttributes[column] = [value]
    }
    const deprovision: Deprovision =
      config.deprovision.action === 'flag'
        ? {
            action: 'disable',
            attributes: Object.fromEntries(
              Object.entries(config.deprovision.set).map(([c, v]) => [c, toValues(v)]),
            ),
          }
        : { action: config.deprovision.action }
    const plan = computePlan({
      nodeId,
      type: TYPE,
      target: { driver: dialect.name, database: connector.target, table: config.table, scope: config.scope },
      sources: flatten(ctx.rows),
      targets,
      key: pairs,
      attributes: rules,
      create: config.create,
      update: config.update,
      createAttributes,
      deprovision,
      maxDeletes: config.maxDeletes ?? null,
      maxDeletePercent: config.maxDeletePercent ?? null,
      comparison: sqlComparison(table),
    })
    ctx.log.info(
      `plan: ${
        Object.entries(plan.counts)
          .filter(([, n]) => n > 0)
          .map(([a, n]) => `${n} ${a}`)
          .join(', ') || 'nothing in scope'
      }`,
    )
    return plan
  })
}

/** A row's id in the plan: its identifying columns as JSON, e.g. `{"id":42}`. */
function rowId(columns: readonly string[], row: Row): string {
  return JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c] ?? null])))
}

/** One value for a column from a change: the first value, or NULL for a cleared column. */
function single(column: string, values: readonly SyncValue[]): SyncValue | null {
  if (values.length > 1) throw new Error(`column "${column}" would get ${values.length} values`)
  return values[0] ?? null
}

/** The statement that applies one plan item, with its parameters. */
export function itemStatement(
  dialect: SqlDialect,
  config: Pick<SqlSyncConfig, 'table' | 'scope'>,
  item: PlanItem,
): { sql: string; params: unknown[]; expect: 'one' | 'any' } | undefined {
  const q = (c: string) => dialect.quoteIdent(c)
  const table = q(config.table)
  let n = 0
  const match = () => {
    const id = JSON.parse(item.dn) as Record<string, unknown>
    const parts: string[] = []
    const params: unknown[] = []
    for (const [column, value] of Object.entries(id)) {
      if (value === null) parts.push(`${q(column)} IS NULL`)
      else {
        parts.push(`${q(column)} = ${dialect.placeholder(n + params.length + 1)}`)
        params.push(value)
      }
    }
    const scope = scopeWhere(dialect, config.scope, n + params.length)
    if (scope.sql !== '') parts.push(scope.sql)
    return { sql: parts.join(' AND '), params: [...params, ...scope.params] }
  }
  switch (item.action) {
    case 'create': {
      const columns = Object.keys(item.after ?? {})
      const params = columns.map((c) => single(c, item.after![c]!))
      return {
        sql: `INSERT INTO ${table} (${columns.map(q).join(', ')}) VALUES (${columns.map((_, i) => dialect.placeholder(i + 1)).join(', ')})`,
        params,
        expect: 'one',
      }
    }
    case 'update':
    case 'disable': {
      const set = new Map<string, SyncValue | null>()
      for (const change of item.changes) {
        set.set(
          change.attribute,
          change.op === 'delete' && change.values.length === 0
            ? null
            : single(change.attribute, change.values),
        )
      }
      const columns = [...set.keys()]
      n = columns.length
      const where = match()
      return {
        sql: `UPDATE ${table} SET ${columns.map((c, i) => `${q(c)} = ${dialect.placeholder(i + 1)}`).join(', ')} WHERE ${where.sql}`,
        params: [...set.values(), ...where.params],
        expect: 'one',
      }
    }
    case 'delete': {
      const where = match()
      return { sql: `DELETE FROM ${table} WHERE ${where.sql}`, params: where.params, expect: 'one' }
    }
    case 'rename':
    case 'move':
      throw new Error(`a SQL row cannot be ${item.action === 'rename' ? 'renamed' : 'moved'}`)
    case 'none':
    case 'ambiguous':
    case 'error':
      return undefined
    default: {
      const never: never = item.action
      throw new Error(`unhandled action ${String(never)}`)
    }
  }
}

/** The error a run over a threshold fails with. */
export function thresholdError(plan: Plan, nodeId: string): ConnectorError {
  return new ConnectorError('THRESHOLD_EXCEEDED', plan.thresholds.message ?? 'the plan is over a threshold', {
    nodeId,
    field:
      plan.thresholds.maxDeletes !== null && plan.thresholds.removals > plan.thresholds.maxDeletes
        ? 'maxDeletes'
        : 'maxDeletePercent',
  })
}

const SAVEPOINT = 'syncgraph_item'

/**
 * Apply a plan in transactions of `transactionSize` rows, each row under a savepoint so a failed row
 * is undone alone and recorded in its result. Refuses a plan over a threshold before writing anything.
 */
export async function* applySqlSync(
  ctx: SyncDriverContext & { config: SqlSyncConfig; plan: Plan; stats?: { writes: number }; halt?: boolean },
): AsyncGenerator<ResultRow[], void, undefined> {
  const { config, plan, nodeId } = ctx
  if (plan.thresholds.exceeded) throw thresholdError(plan, nodeId)
  const releases: (() => void | Promise<void>)[] = []
  let session: SqlSession | undefined
  try {
    const connector = await connectSql(
      { ...ctx, onCleanup: (r) => releases.push(r) },
      TYPE,
      config.connection,
      'write',
    )
    const dialect = connector.dialect
    const s = await connector.session()
    session = s
    const write = async (item: PlanItem) => {
      const statement = itemStatement(dialect, config, item)
      if (statement === undefined) return
      await s.savepoint(SAVEPOINT)
      try {
        const affected = await s.run(statement.sql, statement.params)
        if (affected !== 1) {
          throw new ConnectorError(
            affected === 0 ? 'SQL_ROW_GONE' : 'SQL_ROW_AMBIGUOUS',
            affected === 0
              ? 'the row is no longer in the table (or no longer in scope)'
              : `the statement matched ${affected} rows; nothing was changed`,
            { nodeId },
          )
        }
        await s.releaseSavepoint(SAVEPOINT)
        if (ctx.stats !== undefined) ctx.stats.writes += 1
      } catch (error) {
        await s.rollbackTo(SAVEPOINT)
        const failure = (await classifierFor(dialect.name))(error, 0)
        if (failure === undefined) throw error
        throw new ConnectorError(failure.code, failure.message, { nodeId, cause: error })
      }
    }
    await s.begin()
    for await (const rows of applyItems(plan, write, {
      concurrency: 1,
      chunk: config.transactionSize,
      signal: ctx.signal,
      halt: ctx.halt === true,
    })) {
      await s.commit()
      yield rows
      await s.begin()
    }
    await s.commit()
  } catch (error) {
    await session?.rollback().catch(() => undefined)
    throw error
  } finally {
    await session?.release().catch(() => undefined)
    for (const release of releases.reverse()) await release()
  }
}

/** The driver `syncgraph plan` / `syncgraph apply` use for sql.sync nodes. */
export const sqlSyncDriver: SyncDriver = {
  type: TYPE,
  plan: (ctx) => planSqlSync({ ...ctx, config: sqlSyncConfig.parse(ctx.config) }),
  async apply(ctx) {
    const stats = { writes: 0 }
    const rows: ResultRow[] = []
    for await (const chunk of applySqlSync({ ...ctx, config: sqlSyncConfig.parse(ctx.config), stats })) {
      rows.push(...chunk)
    }
    return { rows, writes: stats.writes }
  },
}
