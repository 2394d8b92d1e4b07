import type { NodeLog } from '../define-node.ts'
import { ConnectorError } from '../errors.ts'
import type { WriteOutcome } from '../progress.ts'
import type { OnRowError, Row } from '../types.ts'
import { resultRow } from './apply.ts'
import type { Plan, PlanItem, ResultRow } from './types.ts'

/** What became of one object, as the run counts it; undefined for a row that was not an attempt (plan mode). */
export function outcomeOf(row: Pick<ResultRow, 'action' | 'outcome'>): WriteOutcome | undefined {
  switch (row.outcome) {
    case 'failed':
      return 'failed'
    case 'unchanged':
      return 'unchanged'
    case 'planned':
    case 'skipped':
      return undefined
    case 'applied':
      switch (row.action) {
        case 'create':
          return 'created'
        case 'update':
          return 'updated'
        case 'rename':
        case 'move':
          return 'renamed'
        case 'delete':
          return 'deleted'
        case 'disable':
          return 'disabled'
        case 'none':
          return 'unchanged'
        case 'ambiguous':
        case 'error':
          return 'failed'
        default: {
          const never: never = row.action
          throw new Error(`unhandled action ${String(never)}`)
        }
      }
    default: {
      const never: never = row.outcome
      throw new Error(`unhandled outcome ${String(never)}`)
    }
  }
}

/** Objects per outcome, for a run's counters and summaries. */
export function countOutcomes(rows: readonly ResultRow[]): Partial<Record<WriteOutcome, number>> {
  const out: Partial<Record<WriteOutcome, number>> = {}
  for (const row of rows) {
    const outcome = outcomeOf(row)
    if (outcome !== undefined) out[outcome] = (out[outcome] ?? 0) + 1
  }
  return out
}

/** Whether a plan item can never be written (several matches, or a planned failure). */
export function cannotWrite(item: PlanItem): boolean {
  return item.action === 'ambiguous' || item.action === 'error'
}

/** `create uid=ann,ou=People,…` / `update {"id":42}` / `the object with key {…}`: what a failure concerns. */
function objectOf(item: PlanItem): string {
  const id = item.newDn ?? (item.dn === '' ? `with key ${JSON.stringify(item.key)}` : item.dn)
  return cannotWrite(item) ? `the object ${id}` : `${item.action} ${id}`
}

/** The error a failed object meets onRowError with: its code and a message naming the object. */
function failureOf(item: PlanItem, row: ResultRow, more = ''): ConnectorError {
  const error = row.error ?? { code: 'WRITE_FAILED', message: 'the write failed' }
  return new ConnectorError(error.code, `${objectOf(item)}: ${error.message}${more}`)
}

/** What a sync node's run needs to report its writes: counters and the row-error policy. */
export interface SyncReportContext {
  settings: { onRowError: OnRowError }
  log: NodeLog
  reject(row: Row, error: unknown, position?: number): void
  outcome(outcome: WriteOutcome, count?: number): void
}

/**
 * Report a sync node's applied results to its run: count each object's outcome, and send every
 * failed object through onRowError — its source row (or, for a de-provisioned object, its result
 * row) to `reject`. Under `fail`, a plan with objects that cannot be written fails before any write;
 * a failed write stops the apply (pass `halt` to it), the writes in flight settle and are yielded,
 * then the run fails naming the first failure. Yields the chunks as they come.
 */
export async function* reportApplied(
  ctx: SyncReportContext,
  plan: Plan,
  sources: readonly Row[],
  chunks: AsyncIterable<ResultRow[]>,
  stats: { writes: number },
): AsyncGenerator<ResultRow[], void, undefined> {
  const fail = ctx.settings.onRowError === 'fail'
  const rejected = (item: PlanItem, row: ResultRow): Row =>
    item.row === undefined ? row : (sources[item.row - 1] ?? row)
  if (fail) {
    const unwritable = plan.items.filter(cannotWrite)
    if (unwritable.length > 0) {
      ctx.outcome('failed', unwritable.length)
      const item = unwritable[0]!
      const row = resultRow(item, 'failed')
      const more = unwritable.length > 1 ? ` (${unwritable.length} objects cannot be written)` : ''
      const why = `${more}; nothing was written (onRowError "skip" or "route" writes the others)`
      ctx.reject(rejected(item, row), failureOf(item, row, why), item.row)
    }
  }
  let index = 0
  let failed = 0
  let first: { item: PlanItem; row: ResultRow } | undefined
  for await (const chunk of chunks) {
    const counts = new Map<WriteOutcome, number>()
    const failures: { item: PlanItem; row: ResultRow }[] = []
    for (const row of chunk) {
      const item = plan.items[index++]!
      const outcome = outcomeOf(row)
      if (outcome === undefined) continue
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
      if (outcome === 'failed') failures.push({ item, row })
    }
    for (const [outcome, n] of counts) ctx.outcome(outcome, n)
    failed += failures.length
    yield chunk
    if (fail) first ??= failures[0]
    else for (const f of failures) ctx.reject(rejected(f.item, f.row), failureOf(f.item, f.row), f.item.row)
  }
  ctx.log.info(`applied: ${stats.writes} write(s), ${failed} failed`)
  if (first !== undefined) {
    const why = `${failed > 1 ? ` (${failed} writes failed)` : ''}; no write started after the first failure`
    ctx.reject(rejected(first.item, first.row), failureOf(first.item, first.row, why), first.item.row)
  }
}
