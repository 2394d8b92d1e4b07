import { and, count, gte, isNotNull, ne, sql } from 'drizzle-orm'
import { z } from 'zod'
import type { ApprovalService } from '../approvals/service.ts'
import type { CollectionRunner } from '../collections/runner.ts'
import type { Db } from '../db/client.ts'
import { collectionRuns, collections, graphs, runs } from '../db/schema.ts'
import type { HistoryStore } from '../history/store.ts'
import type { RunManager } from '../runs/manager.ts'
import type { Clock } from '../schedules/clock.ts'
import type { Scheduler } from '../schedules/scheduler.ts'

const DAY_MS = 86_400_000

export const dashboardQuery = z.object({
  /** Days of object changes to chart, today included (UTC days). */
  days: z.coerce.number().int().min(1).max(366).optional(),
  /** Items per list (failing jobs, next runs, pending approvals, running now). */
  limit: z.coerce.number().int().min(1).max(200).optional(),
})

/** Where a card drills into: an API path with its query, and the same filter as data. */
const link = z.object({ href: z.string(), filter: z.record(z.string(), z.string()) })
type Link = z.infer<typeof link>
const jobKind = z.enum(['graph', 'collection'])

const changeCounts = z.object({
  created: z.number(),
  updated: z.number().describe('Updates, renames and moves'),
  disabled: z.number(),
  deleted: z.number(),
})

export const dashboardView = z.object({
  generatedAt: z.string(),
  runsToday: z.object({
    since: z.string(),
    total: z.number().describe('Graph runs created today (UTC), plan-only runs excepted'),
    byStatus: z.record(z.string(), z.number()),
    successRate: z.number().nullable().describe('Succeeded / ended, 0…1; null when none ended'),
    link,
    failedLink: link,
  }),
  changes: z.object({
    days: z.number(),
    totals: changeCounts,
    perDay: z.array(
      changeCounts.extend({
        day: z.string(),
        link: link.describe('The history entries of that day'),
        links: z.record(z.string(), link).describe('Per series (created, updated, disabled, deleted)'),
      }),
    ),
  }),
  failingJobs: z.array(
    z.object({
      kind: jobKind,
      id: z.string(),
      name: z.string(),
      lastRunId: z.string(),
      failedAt: z.string().nullable(),
      error: z.string().nullable(),
      link: link.describe('The failed run'),
      runsLink: link.describe('The job’s runs'),
    }),
  ),
  nextRuns: z.array(
    z.object({
      kind: jobKind,
      id: z.string(),
      name: z.string(),
      nextRunAt: z.string(),
      needsApproval: z.boolean(),
      link,
    }),
  ),
  pendingApprovals: z.object({
    total: z.number(),
    items: z.array(
      z.object({
        id: z.string(),
        kind: jobKind,
        jobId: z.string(),
        jobName: z.string(),
        requestedByName: z.string().nullable(),
        trigger: z.enum(['manual', 'schedule']),
        requestedAt: z.string(),
        expiresAt: z.string(),
        planRunId: z.string().nullable(),
        link,
      }),
    ),
    link,
  }),
  runningNow: z.array(
    z.object({
      kind: jobKind,
      id: z.string(),
      jobId: z.string().nullable(),
      name: z.string(),
      status: z.string(),
      mode: z.string().optional(),
      startedAt: z.string().nullable(),
      rows: z.object({ in: z.number(), out: z.number(), rejected: z.number(), errors: z.number() }),
      nodes: z.record(
        z.string(),
        z.object({
          rowsIn: z.number(),
          rowsOut: z.number(),
          rowsRejected: z.number(),
          rowsPerSec: z.number(),
        }),
      ),
      link,
      live: z.string().optional().describe('Subscribe to this run id on /api/ws for live counts'),
    }),
  ),
})
export type DashboardView = z.infer<typeof dashboardView>

const to = (href: string, filter: Record<string, string> = {}): Link => {
  const query = new URLSearchParams(filter).toString()
  return { href: query === '' ? href : `${href}?${query}`, filter }
}

const SERIES = {
  created: ['create'],
  updated: ['update', 'rename', 'move'],
  disabled: ['disable'],
  deleted: ['delete'],
} as const
type Series = keyof typeof SERIES

/** The operations overview: one read of runs, history, schedules and approvals, each item with its drill-down. */
export function buildDashboard(
  deps: {
    db: Db
    clock: Clock
    runs: RunManager
    collectionRuns: CollectionRunner
    scheduler: Scheduler
    approvals: ApprovalService
    history: HistoryStore
  },
  query: z.infer<typeof dashboardQuery>,
): DashboardView {
  const now = deps.clock.now()
  const days = query.days ?? 14
  const limit = query.limit ?? 20
  const today = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS)
  const since = today.toISOString()

  const byStatus: Record<string, number> = {}
  for (const r of deps.db
    .select({ status: runs.status, n: count() })
    .from(runs)
    .where(and(gte(runs.createdAt, today), ne(runs.mode, 'plan')))
    .groupBy(runs.status)
    .all())
    byStatus[r.status] = r.n
  const ended = ['succeeded', 'failed', 'cancelled', 'interrupted'].reduce(
    (n, s) => n + (byStatus[s] ?? 0),
    0,
  )

  const first = new Date(today.getTime() - (days - 1) * DAY_MS)
  const perDayRows = deps.history.perDay(first)
  const totals = { created: 0, updated: 0, disabled: 0, deleted: 0 }
  const perDay = Array.from({ length: days }, (_, i) => {
    const start = new Date(first.getTime() + i * DAY_MS)
    const day = start.toISOString().slice(0, 10)
    const window = { from: start.toISOString(), to: new Date(start.getTime() + DAY_MS).toISOString() }
    const counts = { created: 0, updated: 0, disabled: 0, deleted: 0 }
    for (const [series, actions] of Object.entries(SERIES) as [Series, readonly string[]][]) {
      counts[series] = perDayRows
        .filter((r) => r.day === day && actions.includes(r.action))
        .reduce((n, r) => n + r.n, 0)
      totals[series] += counts[series]
    }
    return {
      day,
      ...counts,
      link: to('/api/history', { ...window, outcome: 'applied' }),
      links: Object.fromEntries(
        Object.entries(SERIES).map(([series, actions]) => [
          series,
          to('/api/history', { ...window, outcome: 'applied', action: actions.join(',') }),
        ]),
      ),
    }
  })

  return {
    generatedAt: now.toISOString(),
    runsToday: {
      since,
      total: Object.values(byStatus).reduce((a, b) => a + b, 0),
      byStatus,
      successRate: ended === 0 ? null : (byStatus.succeeded ?? 0) / ended,
      // Plan-only runs are not counted, so the lists behind the numbers leave them out too.
      link: to('/api/runs', { from: since, mode: 'run,apply' }),
      failedLink: to('/api/runs', { from: since, status: 'failed', mode: 'run,apply' }),
    },
    changes: { days, totals, perDay },
    failingJobs: failingJobs(deps.db, limit),
    nextRuns: deps.scheduler
      .list()
      .filter((s) => s.enabled && s.nextRunAt !== null)
      .slice(0, limit)
      .map((s) => ({
        kind: s.jobKind,
        id: s.jobId,
        name: jobName(deps.db, s.jobKind, s.jobId),
        nextRunAt: s.nextRunAt!,
        needsApproval: deps.approvals.requires(s.jobKind, s.jobId),
        link: to(`/api/schedules/${s.jobKind}/${s.jobId}`),
      })),
    pendingApprovals: pendingApprovals(deps.approvals, limit),
    runningNow: runningNow(deps, limit),
  }
}

function pendingApprovals(approvals: ApprovalService, limit: number): DashboardView['pendingApprovals'] {
  const pending = approvals.list({ status: 'pending', limit: 1000 })
  return {
    total: pending.length,
    items: pending.slice(0, limit).map((a) => ({
      id: a.id,
      kind: a.jobKind,
      jobId: a.jobId,
      jobName: a.jobName,
      requestedByName: a.requestedByName,
      trigger: a.trigger,
      requestedAt: a.requestedAt,
      expiresAt: a.expiresAt,
      planRunId: a.planRunId,
      link: to(`/api/approvals/${a.id}`),
    })),
    link: to('/api/approvals', { status: 'pending' }),
  }
}

/** Stored graphs and collections whose latest run (plan-only runs aside) failed. */
function failingJobs(db: Db, limit: number): DashboardView['failingJobs'] {
  const ENDED = sql`('succeeded', 'failed', 'cancelled', 'interrupted')`
  // SQLite takes the bare columns of an aggregate query from the row holding max().
  const lastGraphRuns = db
    .select({
      graphId: runs.graphId,
      id: runs.id,
      status: runs.status,
      finishedAt: runs.finishedAt,
      errors: runs.errors,
      name: graphs.name,
      at: sql<number>`max(${runs.createdAt})`,
    })
    .from(runs)
    .innerJoin(graphs, sql`${graphs.id} = ${runs.graphId}`)
    .where(and(isNotNull(runs.graphId), ne(runs.mode, 'plan'), sql`${runs.status} in ${ENDED}`))
    .groupBy(runs.graphId)
    .all()
  const lastCollectionRuns = db
    .select({
      collectionId: collectionRuns.collectionId,
      id: collectionRuns.id,
      status: collectionRuns.status,
      finishedAt: collectionRuns.finishedAt,
      steps: collectionRuns.steps,
      name: collections.name,
      at: sql<number>`max(${collectionRuns.createdAt})`,
    })
    .from(collectionRuns)
    .innerJoin(collections, sql`${collections.id} = ${collectionRuns.collectionId}`)
    .where(sql`${collectionRuns.status} in ${ENDED}`)
    .groupBy(collectionRuns.collectionId)
    .all()
  const failing: (DashboardView['failingJobs'][number] & { at: number })[] = [
    ...lastGraphRuns
      .filter((r) => r.status === 'failed')
      .map((r) => ({
        kind: 'graph' as const,
        id: r.graphId!,
        name: r.name,
        lastRunId: r.id,
        failedAt: r.finishedAt?.toISOString() ?? null,
        error: (JSON.parse(r.errors) as { message?: string }[])[0]?.message ?? null,
        link: to(`/api/runs/${r.id}`),
        runsLink: to('/api/runs', { graphId: r.graphId! }),
        at: Number(r.at),
      })),
    ...lastCollectionRuns
      .filter((r) => r.status === 'failed')
      .map((r) => ({
        kind: 'collection' as const,
        id: r.collectionId!,
        name: r.name,
        lastRunId: r.id,
        failedAt: r.finishedAt?.toISOString() ?? null,
        error:
          (JSON.parse(r.steps) as { errors?: { message?: string }[] }[]).flatMap((s) => s.errors ?? [])[0]
            ?.message ?? null,
        link: to(`/api/collection-runs/${r.id}`),
        runsLink: to(`/api/collections/${r.collectionId!}/runs`),
        at: Number(r.at),
      })),
  ]
  return failing
    .sort((a, b) => b.at - a.at)
    .slice(0, limit)
    .map(({ at: _at, ...item }) => item)
}

function runningNow(
  deps: { runs: RunManager; collectionRuns: CollectionRunner },
  limit: number,
): DashboardView['runningNow'] {
  const graphRuns = [
    ...deps.runs.list({ status: 'running', limit }),
    ...deps.runs.list({ status: 'queued', limit }),
  ].slice(0, limit)
  const items: DashboardView['runningNow'] = graphRuns.map((r) => {
    const record = deps.runs.get(r.id)
    const nodes = Object.fromEntries(
      Object.entries(record.nodes).map(([id, n]) => [
        id,
        { rowsIn: n.rowsIn, rowsOut: n.rowsOut, rowsRejected: n.rowsRejected, rowsPerSec: n.rowsPerSec },
      ]),
    )
    const stats = Object.values(record.nodes)
    return {
      kind: 'graph',
      id: r.id,
      jobId: r.graphId,
      name: r.graphName,
      status: record.status,
      mode: r.mode,
      startedAt: record.startedAt,
      rows: {
        in: stats.reduce((n, s) => n + s.rowsIn, 0),
        out: stats.reduce((n, s) => n + s.rowsOut, 0),
        rejected: stats.reduce((n, s) => n + s.rowsRejected, 0),
        errors: stats.reduce((n, s) => n + s.errors, 0),
      },
      nodes,
      link: to(`/api/runs/${r.id}`),
      live: r.id,
    }
  })
  for (const c of deps.collectionRuns.list({ limit: 200 })) {
    if (c.status !== 'running' && c.status !== 'queued') continue
    const step = c.steps.find((s) => s.status === 'running')
    items.push({
      kind: 'collection',
      id: c.id,
      jobId: c.collectionId,
      name: c.collectionName,
      status: c.status,
      startedAt: c.startedAt,
      rows: { in: 0, out: 0, rejected: 0, errors: 0 },
      nodes: {},
      link: to(`/api/collection-runs/${c.id}`),
      ...(step?.runId == null ? {} : { live: step.runId }),
    })
  }
  return items
}

function jobName(db: Db, kind: 'graph' | 'collection', id: string): string {
  const table = kind === 'graph' ? graphs : collections
  return (
    db
      .select({ name: table.name })
      .from(table)
      .where(sql`${table.id} = ${id}`)
      .get()?.name ?? ''
  )
}
