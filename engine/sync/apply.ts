import { errorCode, errorMessage } from '../errors.ts'
import type { Outcome, Plan, PlanItem, ResultRow, SyncValue } from './types.ts'

/** Writes one planned object; throw to fail that object only. */
export type ItemWriter = (item: PlanItem) => Promise<void>

/** The results row of one plan item, with its outcome. */
export function resultRow(item: PlanItem, outcome: Outcome, error?: unknown): ResultRow {
  const changed =
    item.changes.length === 0
      ? []
      : item.changes.length === 1
        ? [item.changes[0]!.attribute]
        : [...new Set(item.changes.map((c) => c.attribute))]
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
              code: item.action === 'ambiguous' ? 'AMBIGUOUS' : (item.code ?? 'PLAN_ERROR'),
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
  if (attributes.length === 0) return {}
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

/** How a plan is applied: writes in flight, chunking, and whether the first failure stops it. */
export interface ApplyOptions {
  concurrency: number
  signal?: AbortSignal
  chunk?: number
  sliding?: boolean
  /**
   * Stop at the first failure (onRowError `fail`): no write starts after it, the writes in flight
   * settle and their rows are yielded; the items never started have no row.
   */
  halt?: boolean
}

/**
 * Apply a plan's items with up to `concurrency` writes in flight; one object's failure is recorded
 * in its row and the others go on (unless `halt`). Rows come back in plan order, in chunks of `chunk`
 * as they settle. By default a chunk's writes all settle before the next chunk's start (a caller may
 * commit between chunks); with `sliding`, writes go on up to `chunk` items past the first unsettled
 * one, so a slow write holds back only the rows after it, not the next writes. An ambiguous or
 * failed plan item is written as nothing and its row says `failed`.
 */
export async function* applyItems(
  plan: Plan,
  write: ItemWriter,
  options: ApplyOptions,
): AsyncGenerator<ResultRow[], void, undefined> {
  const chunk = Math.max(1, options.chunk ?? 1000)
  const lookahead = options.sliding === true ? 2 * chunk : chunk
  const concurrency = Math.max(1, options.concurrency)
  const items = plan.items
  const rows: (ResultRow | undefined)[] = new Array(items.length)
  let next = 0
  let emitted = 0
  let running = 0
  let wake: (() => void) | undefined
  const settled = () => {
    running--
    const w = wake
    wake = undefined
    w?.()
  }
  let halted = false
  while (emitted < (halted ? next : items.length)) {
    options.signal?.throwIfAborted()
    while (!halted && next < items.length && running < concurrency && next < emitted + lookahead) {
      const i = next++
      const item = items[i]!
      if (!writes(item)) {
        // An ambiguous or failed plan item is a write that cannot be made: it fails, never silently.
        const unchanged = item.action === 'none'
        rows[i] = resultRow(item, unchanged ? 'unchanged' : 'failed')
        if (!unchanged && options.halt === true) halted = true
        continue
      }
      running++
      write(item).then(
        () => {
          rows[i] = resultRow(item, 'applied')
          settled()
        },
        (error: unknown) => {
          rows[i] = resultRow(item, 'failed', error)
          if (options.halt === true) halted = true
          settled()
        },
      )
    }
    // Once halted, the plan ends at the last write started: those settle and are yielded.
    const last = halted ? next : items.length
    let end = emitted
    while (end < last && end - emitted < chunk && rows[end] !== undefined) end++
    if (end - emitted === chunk || end === last) {
      const out = rows.slice(emitted, end) as ResultRow[]
      rows.fill(undefined, emitted, end)
      emitted = end
      yield out
      continue
    }
    await new Promise<void>((resolve) => (wake = resolve))
  }
}
