import { eq } from 'drizzle-orm'
import type { Catalog, Graph } from '../../engine/index.ts'
import type { PlanItem } from '../../engine/sync/index.ts'
import type { Db } from '../db/client.ts'
import { runs, users } from '../db/schema.ts'
import type { Logger } from '../logger.ts'
import type { RunManager } from '../runs/manager.ts'
import type { Clock } from '../schedules/clock.ts'
import { historyOutcomes, type HistoryInsert, type HistoryStore } from './store.ts'

const DAY_MS = 86_400_000

interface RunContext {
  graphId: string | null
  graphName: string
  startedBy: string | null
  startedByName: string | null
  /** Node id → type, for the sync nodes of the run's graph only. */
  syncNodes: Map<string, string>
}

/**
 * Turns the `results` rows of sync nodes into history entries as a run produces them (run mode: every
 * batch; apply runs: the plan applied, with each item's before/after), and purges entries past the
 * retention at start and once a day.
 */
export class HistoryRecorder {
  private readonly runsSeen = new Map<string, RunContext>()
  private stopListening: (() => void) | undefined
  private disarm: (() => void) | undefined

  constructor(
    private readonly deps: {
      db: Db
      store: HistoryStore
      catalog: Catalog
      clock: Clock
      log: Logger
      retentionDays: number
    },
  ) {}

  /** For RunManager's `onResults`: never throws, so a history failure cannot fail a sync mid-way. */
  readonly onResults = (
    runId: string,
    nodeId: string,
    rows: readonly Record<string, unknown>[],
    items?: readonly PlanItem[],
  ): void => {
    try {
      this.record(runId, nodeId, rows, items)
    } catch (error) {
      this.deps.log.error(`could not record the history of run ${runId}: ${(error as Error).message}`)
    }
  }

  /** Follow the runs' ends (to drop what was cached per run); purge now, then once a day. */
  start(runs: RunManager): void {
    this.stopListening = runs.listen((notice) => {
      if (notice.type === 'finished') this.runsSeen.delete(notice.runId)
    })
    this.purge()
    // A real timer, not the clock's: the purge need not happen at a chosen instant, only daily.
    const timer = setInterval(() => {
      try {
        this.purge()
      } catch (error) {
        this.deps.log.error(`history purge failed: ${(error as Error).message}`)
      }
    }, DAY_MS)
    timer.unref()
    this.disarm = () => clearInterval(timer)
  }

  stop(): void {
    this.disarm?.()
    this.stopListening?.()
  }

  purge(): number {
    const n = this.deps.store.purge(this.deps.clock.now(), this.deps.retentionDays)
    if (n > 0) this.deps.log.info(`history: purged ${n} entries older than ${this.deps.retentionDays} days`)
    return n
  }

  private record(
    runId: string,
    nodeId: string,
    rows: readonly Record<string, unknown>[],
    items: readonly PlanItem[] | undefined,
  ): void {
    const run = this.context(runId)
    const nodeType = run?.syncNodes.get(nodeId)
    if (run === undefined || nodeType === undefined) return
    const at = this.deps.clock.now()
    const out: HistoryInsert[] = []
    rows.forEach((row, i) => {
      const outcome = row.outcome
      if (!historyOutcomes.includes(outcome as (typeof historyOutcomes)[number])) return
      const item = items?.[i]
      out.push({
        runId,
        at,
        graphId: run.graphId,
        graphName: run.graphName,
        startedBy: run.startedBy,
        startedByName: run.startedByName,
        nodeId,
        nodeType,
        action: String(row.action),
        dn: typeof row.dn === 'string' ? row.dn : '',
        newDn: typeof row.newDn === 'string' ? row.newDn : null,
        key: JSON.stringify(row.key ?? {}),
        changed: JSON.stringify(Array.isArray(row.changed) ? row.changed : []),
        before: json(row.before ?? item?.before),
        after: json(row.after ?? item?.after),
        outcome: outcome as string,
        error: json(row.error),
      })
    })
    this.deps.store.insert(out)
  }

  private context(runId: string): RunContext | undefined {
    const known = this.runsSeen.get(runId)
    if (known !== undefined) return known
    const row = this.deps.db
      .select({
        graphId: runs.graphId,
        graphName: runs.graphName,
        createdBy: runs.createdBy,
        document: runs.document,
      })
      .from(runs)
      .where(eq(runs.id, runId))
      .get()
    if (row === undefined) return undefined
    const user =
      row.createdBy === null
        ? undefined
        : this.deps.db
            .select({ username: users.username })
            .from(users)
            .where(eq(users.id, row.createdBy))
            .get()
    const graph = JSON.parse(row.document) as Graph
    const context: RunContext = {
      graphId: row.graphId,
      graphName: row.graphName,
      startedBy: row.createdBy,
      startedByName: user?.username ?? null,
      syncNodes: new Map(
        graph.nodes
          .filter((n) => this.deps.catalog.get(n.type)?.category === 'sync')
          .map((n) => [n.id, n.type]),
      ),
    }
    this.runsSeen.set(runId, context)
    return context
  }
}

const json = (value: unknown): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value)
