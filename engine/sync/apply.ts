import { errorCode, errorMessage } from '../errors.ts'
import type { Outcome, Plan, PlanItem, ResultRow, SyncValue } from './types.ts'

/** Writes one planned object; throw to fail that object only. */
export type ItemWriter = (item: PlanItem) => Promise<void>

/** The results row of one plan item, with its outcome. */
export function resultRow(item: PlanItem, outcome: Outcome, error?: unknown): ResultRow {
  const changed = [...new Set(item.changes.map((c) => c.attribute))]
  return {
    key: item.key,
    dn: item.dn,
    newDn: item.newDn ?? null,
    action: item.action,
    changed,
    // The changed attributes' values before and after (null for a create's before, a delete's after),
    // so an audit trail downstream (or the server's change history) has what changed, not only where.
    before: pick(item.before, changed),
    after: pick(item.after, changed),
    outcome,
    error:
      error === undefined
        ? item.action === 'ambiguous' || item.action === 'error'
          ? {
              code: item.action === 'ambiguous' ? 'AMBIGUOUS' : 'PLAN_ERROR',
              message: item.reason ?? item.action,
            }
          : null
        : { code: errorCode(error) ?? 'WRITE_FAILED', message: errorMessage(error) },
  }
}

function pick(
  values: Record<string, SyncValue[]> | null,
  attributes: readonly string[],
): Record<string, SyncValue[]> | null {
  if (values === null) return null
  const out: Record<string, SyncValue[]> = {}
  for (const attribute of attributes)
    if (Object.hasOwn(values, attribute)) out[attribute] = values[attribute]!
  return out
}

/**
 * Results rows of a plan that is not applied (plan mode); with `detail`, each row also carries the
 * item's `before`, `after` and `changes` for review.
 */
export function plannedRows(plan: Plan, options: { outcome?: Outcome; detail?: boolean } = {}): ResultRow[] {
  return plan.items.map((item) => {
    const outcome =
      item.action === 'none'
        ? 'unchanged'
        : item.action === 'ambiguous' || item.action === 'error'
          ? 'skipped'
          : (options.outcome ?? 'planned')
    const row = resultRow(item, outcome)
    return options.detail ? { ...row, before: item.before, after: item.after, changes: item.changes } : row
  })
}

/** Whether an item writes anything. */
export function writes(item: PlanItem): boolean {
  switch (item.action) {
    case 'create':
    case 'update':
    case 'rename':
    case 'move':
    case 'delete':
    case 'disable':
      return true
    case 'none':
    case 'ambiguous':
    case 'error':
      return false
    default: {
      const never: never = item.action
      throw new Error(`unhandled action ${String(never)}`)
    }
  }
}

/**
 * Apply a plan's items with up to `concurrency` writes in flight; one object's failure is recorded
 * in its row and the others go on. Rows come back in plan order, in chunks of `chunk` as they settle.
 */
export async function* applyItems(
  plan: Plan,
  write: ItemWriter,
  options: { concurrency: number; signal?: AbortSignal; chunk?: number },
): AsyncGenerator<ResultRow[], void, undefined> {
  const chunk = options.chunk ?? 1000
  const items = plan.items
  for (let start = 0; start < items.length; start += chunk) {
    options.signal?.throwIfAborted()
    const slice = items.slice(start, start + chunk)
    const rows: ResultRow[] = new Array(slice.length)
    let next = 0
    const worker = async () => {
      while (next < slice.length) {
        const i = next++
        const item = slice[i]!
        if (!writes(item)) {
          rows[i] = resultRow(item, item.action === 'none' ? 'unchanged' : 'skipped')
          continue
        }
        try {
          await write(item)
          rows[i] = resultRow(item, 'applied')
        } catch (error) {
          rows[i] = resultRow(item, 'failed', error)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker))
    yield rows
  }
}
