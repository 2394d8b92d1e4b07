import { defineNode, results, rows, type NodeIssue, type Row } from '../engine/index.ts'
import { plannedRows, reportApplied } from '../engine/sync/index.ts'
import {
  applySqlSync,
  keyPairs,
  planSqlSync,
  sqlSyncConfig,
  sqlSyncDriver,
  thresholdError,
} from './sql/sync-driver.ts'

export { sqlSyncDriver }

/** Make the rows of a table scope look like the input rows: insert, update changed columns, delete or flag; plan first. */
export const sqlSync = defineNode({
  type: 'sql.sync',
  version: 1,
  title: 'SQL sync',
  category: 'sync',
  description:
    'Provisions, updates and de-provisions the rows of a table within a scope (the table, narrowed by `scope` column values) from the input rows, with the same plan → apply semantics as ldap.sync. It reads the scope once, correlates by key (two or more rows in scope with one key are reported as ambiguous and never written), computes a plan that updates only the columns whose values changed (compared by column type: numbers by value, booleans by truth, timestamps by instant), checks maxDeletes / maxDeletePercent on it, then applies it in transactions of `transactionSize` rows with a savepoint per row, so one row\'s failure is undone alone. Inserted rows get the key columns whatever `columns` lists. Every row ends as one outcome (created, updated, deleted, disabled, unchanged, failed), counted in the run; a failed one follows onRowError: fail (the default) fails the run once the transaction in flight commits (nothing after it starts), skip counts it, route sends its source row with `_error` to "rejected". In plan mode it only emits the plan. One row per table row on "results": `key`, `dn` (the row\'s identifying columns as JSON, e.g. `{"id":42}`; empty for a row to create), `action`, `changed`, `outcome`, `error`.',
  inputs: { in: rows({ title: 'Source rows' }) },
  outputs: { results: results({ title: 'Results' }) },
  config: sqlSyncConfig,
  rowErrors: true,
  holdsData: 'every input row, to correlate them with the rows in scope',
  infer: ({ config, inputs }) => {
    const issues: NodeIssue[] = []
    const known = inputs.in
    if (known !== undefined) {
      const fields = [
        ...keyPairs(config).map((k, i) => ({ field: k.source, path: `$.key[${i}]` })),
        ...Object.entries(config.columns ?? {}).map(([c, r]) => ({
          field: typeof r === 'string' ? r : (r.source ?? c),
          path: `$.columns.${c}`,
        })),
      ]
      for (const { field, path } of fields) {
        if (!known.includes(field)) {
          issues.push({
            code: 'UNKNOWN_COLUMN',
            severity: 'warning',
            path,
            message: `"${field}" is not among the input columns (${known.join(', ')})`,
          })
        }
      }
    }
    return { issues, outputs: { results: ['key', 'dn', 'newDn', 'action', 'changed', 'outcome', 'error'] } }
  },
  async *run(ctx) {
    const { config, inputs, nodeId, settings } = ctx
    const held: Row[] = []
    for await (const batch of inputs.in!) held.push(...batch)
    const plan = await planSqlSync({ ...ctx, config, rows: held, batchSize: settings.batchSize })
    if (config.mode === 'plan') {
      const out = plannedRows(plan, { detail: true })
      for (let i = 0; i < out.length; i += settings.batchSize)
        yield { results: out.slice(i, i + settings.batchSize) }
      return
    }
    if (plan.thresholds.exceeded) throw thresholdError(plan, nodeId)
    const stats = { writes: 0 }
    const applied = applySqlSync({ ...ctx, config, plan, stats, halt: settings.onRowError === 'fail' })
    for await (const chunk of reportApplied(ctx, plan, held, applied, stats)) yield { results: chunk }
  },
})
