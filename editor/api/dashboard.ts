import type { StoredRunStatus } from '../../engine/ws-messages.ts'
import { request } from './client.ts'

/** Where a dashboard item drills into: the API path with its query, and the same filter as data. */
export interface DrillLink {
  href: string
  filter: Record<string, string>
}

export type JobKind = 'graph' | 'collection'

export interface ChangeCounts {
  created: number
  updated: number
  disabled: number
  deleted: number
}
export type ChangeSeries = keyof ChangeCounts
export const CHANGE_SERIES: readonly ChangeSeries[] = ['created', 'updated', 'disabled', 'deleted']

/** `GET /api/dashboard` (server/dashboard/dashboard.ts `dashboardView`). */
export interface DashboardView {
  generatedAt: string
  runsToday: {
    since: string
    total: number
    byStatus: Record<string, number>
    successRate: number | null
    link: DrillLink
    failedLink: DrillLink
  }
  changes: {
    days: number
    totals: ChangeCounts
    perDay: (ChangeCounts & { day: string; link: DrillLink; links: Record<string, DrillLink> })[]
  }
  failingJobs: {
    kind: JobKind
    id: string
    name: string
    lastRunId: string
    failedAt: string | null
    error: string | null
    link: DrillLink
    runsLink: DrillLink
  }[]
  nextRuns: {
    kind: JobKind
    id: string
    name: string
    nextRunAt: string
    needsApproval: boolean
    link: DrillLink
  }[]
  pendingApprovals: {
    total: number
    items: {
      id: string
      kind: JobKind
      jobId: string
      jobName: string
      requestedByName: string | null
      trigger: 'manual' | 'schedule'
      requestedAt: string
      expiresAt: string
      planRunId: string | null
      link: DrillLink
    }[]
    link: DrillLink
  }
  runningNow: RunningItem[]
}

export interface RunningItem {
  kind: JobKind
  id: string
  jobId: string | null
  name: string
  status: string
  mode?: string
  startedAt: string | null
  rows: { in: number; out: number; rejected: number; errors: number }
  nodes: Record<string, { rowsIn: number; rowsOut: number; rowsRejected: number; rowsPerSec: number }>
  link: DrillLink
  live?: string
}

export type HistoryValues = Record<string, (string | number | boolean)[]>

/** One applied (or tried) change to one object (`GET /api/history`). */
export interface HistoryEntry {
  id: number
  runId: string
  at: string
  graphId: string | null
  graphName: string
  startedBy: string | null
  startedByName: string | null
  nodeId: string
  nodeType: string
  action: string
  dn: string
  newDn: string | null
  key: Record<string, unknown>
  changed: string[]
  before: HistoryValues | null
  after: HistoryValues | null
  outcome: 'applied' | 'failed'
  error: { code: string; message: string } | null
}

/** The filters `/api/history` and `/api/history.csv` share; every field is optional. */
export interface HistoryFilter {
  q?: string
  runId?: string
  graphId?: string
  nodeId?: string
  /** Comma-separated actions, e.g. `create,delete`. */
  action?: string
  outcome?: 'applied' | 'failed'
  from?: string
  to?: string
}
export const HISTORY_FILTER_KEYS = [
  'q',
  'runId',
  'graphId',
  'nodeId',
  'action',
  'outcome',
  'from',
  'to',
] as const

export const SYNC_ACTIONS = ['create', 'update', 'rename', 'move', 'disable', 'delete'] as const

export interface RunsFilter {
  graphId?: string
  status?: StoredRunStatus
  from?: string
  to?: string
  /** Comma-separated run modes (run, plan, apply). */
  mode?: string
  limit?: number
}

export interface RunRow {
  id: string
  graphId: string | null
  graphName: string
  status: StoredRunStatus
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
  mode: 'run' | 'plan' | 'apply'
  planRunId: string | null
}

/** `?a=1&b=2` from the defined, non-empty values; empty string when none. */
export function queryString(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v))
  const s = search.toString()
  return s ? `?${s}` : ''
}

/** The operations API behind the dashboard, history and runs screens. */
export const opsApi = {
  dashboard: (days?: number, signal?: AbortSignal) =>
    request<DashboardView>('GET', `/dashboard${queryString({ days })}`, undefined, signal ? { signal } : {}),
  history: (filter: HistoryFilter, page: { offset: number; limit: number }, signal?: AbortSignal) =>
    request<{ total: number; retentionDays: number; entries: HistoryEntry[] }>(
      'GET',
      `/history${queryString({ ...filter, ...page })}`,
      undefined,
      signal ? { signal } : {},
    ),
  runs: (filter: RunsFilter, signal?: AbortSignal) =>
    request<{ runs: RunRow[] }>(
      'GET',
      `/runs${queryString({ ...filter })}`,
      undefined,
      signal ? { signal } : {},
    ),
}

/** The URL of the CSV export of the history entries a filter selects (a plain link: the browser downloads it). */
export function historyCsvUrl(filter: HistoryFilter): string {
  return `/api/history.csv${queryString({ ...filter })}`
}
