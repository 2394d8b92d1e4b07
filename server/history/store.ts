import { and, count, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import { SYNC_ACTIONS, type SyncAction } from '../../engine/sync/index.ts'
import type { Db } from '../db/client.ts'
import { history, type HistoryRow } from '../db/schema.ts'

/** Outcomes kept as history: a change written, or one that was tried and failed. */
export const historyOutcomes = ['applied', 'failed'] as const

const actionList = z
  .string()
  .refine((s) => s.split(',').every((a) => SYNC_ACTIONS.includes(a as SyncAction)), {
    message: `actions are ${SYNC_ACTIONS.join(', ')}`,
  })

export const historyFilter = z.object({
  /** Entries whose DN, new DN or key contains this text (case-insensitive). */
  q: z.string().min(1).max(500).optional(),
  runId: z.string().optional(),
  graphId: z.string().optional(),
  nodeId: z.string().optional(),
  /** Comma-separated, e.g. `create,delete`. */
  action: actionList.optional(),
  outcome: z.enum(historyOutcomes).optional(),
  /** At or after this instant (ISO 8601). */
  from: z.iso.datetime({ offset: true }).optional(),
  /** Before this instant (ISO 8601). */
  to: z.iso.datetime({ offset: true }).optional(),
})
export type HistoryFilter = z.infer<typeof historyFilter>

export const historyQuery = historyFilter.extend({
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
})

const values = z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()])))
export const historyEntry = z.object({
  id: z.number(),
  runId: z.string().describe('GET /api/runs/{runId}'),
  at: z.string(),
  graphId: z.string().nullable(),
  graphName: z.string(),
  startedBy: z.string().nullable().describe('User id; null when the scheduler started the run'),
  startedByName: z.string().nullable(),
  nodeId: z.string(),
  nodeType: z.string(),
  action: z.string(),
  dn: z.string(),
  newDn: z.string().nullable(),
  key: z.record(z.string(), z.unknown()),
  changed: z.array(z.string()),
  before: values.nullable(),
  after: values.nullable(),
  outcome: z.enum(historyOutcomes),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
})
export type HistoryEntry = z.infer<typeof historyEntry>
export type HistoryInsert = typeof history.$inferInsert

/** The per-object change history: stored, searched, exported and purged past its retention. */
export class HistoryStore {
  constructor(private readonly db: Db) {}

  insert(rows: readonly HistoryInsert[]): void {
    if (rows.length === 0) return
    this.db.transaction((tx) => {
      for (let i = 0; i < rows.length; i += 500)
        tx.insert(history)
          .values(rows.slice(i, i + 500))
          .run()
    })
  }

  /** Newest first, with the number of entries the filter matches. */
  list(filter: HistoryFilter, page: { offset?: number; limit?: number }) {
    const where = and(...conditions(filter))
    const total = this.db.select({ n: count() }).from(history).where(where).get()?.n ?? 0
    const entries = this.db
      .select()
      .from(history)
      .where(where)
      .orderBy(desc(history.id))
      .limit(page.limit ?? 100)
      .offset(page.offset ?? 0)
      .all()
      .map(entryOf)
    return { total, entries }
  }

  /** Every matching entry, newest first, read `pageSize` at a time (for a streamed export). */
  *iterate(filter: HistoryFilter, pageSize = 1000): Generator<HistoryEntry[]> {
    const base = conditions(filter)
    let before: number | undefined
    for (;;) {
      const rows = this.db
        .select()
        .from(history)
        .where(and(...base, ...(before === undefined ? [] : [lt(history.id, before)])))
        .orderBy(desc(history.id))
        .limit(pageSize)
        .all()
      if (rows.length === 0) return
      before = rows[rows.length - 1]!.id
      yield rows.map(entryOf)
      if (rows.length < pageSize) return
    }
  }

  /** Applied changes per UTC day and action from `since` on. */
  perDay(since: Date): { day: string; action: string; n: number }[] {
    const day = sql<string>`strftime('%Y-%m-%d', ${history.at} / 1000, 'unixepoch')`
    return this.db
      .select({ day, action: history.action, n: count() })
      .from(history)
      .where(and(gte(history.at, since), eq(history.outcome, 'applied')))
      .groupBy(day, history.action)
      .all()
  }

  /** Delete entries older than `days` before `now`; returns how many. */
  purge(now: Date, days: number): number {
    return this.db
      .delete(history)
      .where(lt(history.at, new Date(now.getTime() - days * 86_400_000)))
      .run().changes
  }
}

function conditions(filter: HistoryFilter): SQL[] {
  const where: SQL[] = []
  if (filter.q !== undefined) {
    // instr, not LIKE: the text is data, so % and _ in it match themselves.
    const needle = filter.q.toLowerCase()
    where.push(
      sql`(instr(lower(${history.dn}), ${needle}) > 0 or instr(lower(coalesce(${history.newDn}, '')), ${needle}) > 0 or instr(lower(${history.key}), ${needle}) > 0)`,
    )
  }
  if (filter.runId !== undefined) where.push(eq(history.runId, filter.runId))
  if (filter.graphId !== undefined) where.push(eq(history.graphId, filter.graphId))
  if (filter.nodeId !== undefined) where.push(eq(history.nodeId, filter.nodeId))
  if (filter.action !== undefined) where.push(inArray(history.action, filter.action.split(',')))
  if (filter.outcome !== undefined) where.push(eq(history.outcome, filter.outcome))
  if (filter.from !== undefined) where.push(gte(history.at, new Date(filter.from)))
  if (filter.to !== undefined) where.push(lt(history.at, new Date(filter.to)))
  return where
}

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T))

function entryOf(row: HistoryRow): HistoryEntry {
  return {
    id: row.id,
    runId: row.runId,
    at: row.at.toISOString(),
    graphId: row.graphId,
    graphName: row.graphName,
    startedBy: row.startedBy,
    startedByName: row.startedByName,
    nodeId: row.nodeId,
    nodeType: row.nodeType,
    action: row.action,
    dn: row.dn,
    newDn: row.newDn,
    key: JSON.parse(row.key) as Record<string, unknown>,
    changed: JSON.parse(row.changed) as string[],
    before: parse(row.before),
    after: parse(row.after),
    outcome: row.outcome as HistoryEntry['outcome'],
    error: parse(row.error),
  }
}
