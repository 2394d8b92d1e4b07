/** Plan-mode runs, their plans, applying them, and approval requests (`/api/runs/:id/plan`, `/api/approvals`). */
import type { ResultRow, SyncAction, ThresholdVerdict } from '../../engine/sync/types.ts'
import type { GraphDoc, RunDetail } from './types.ts'
import { request } from './client.ts'

export type { SyncAction }

export type RunMode = 'run' | 'plan' | 'apply'

/** A stored run with how it used its graph (`GET /api/runs/:id`). */
export type RunWithMode = RunDetail & { mode: RunMode; planRunId: string | null }

type Value = string | number | boolean

/** One object of a plan, with the outcome when it belongs to an apply run. */
export interface PlanEntry {
  key: Record<string, unknown>
  dn: string
  newDn?: string
  action: SyncAction
  before: Record<string, Value[]> | null
  after: Record<string, Value[]> | null
  changes: { attribute: string; op: 'add' | 'delete' | 'replace'; values: Value[] }[]
  deprovision?: boolean
  reason?: string
  matches?: string[]
  row?: number
  outcome?: ResultRow['outcome']
  error?: { code: string; message: string } | null
}

export interface PlanNode {
  nodeId: string
  type: string
  target: Record<string, unknown>
  counts: Record<SyncAction, number>
  thresholds: ThresholdVerdict
  outcomes?: Record<string, number>
  /** Entries that match the filter, before offset / limit. */
  total: number
  entries: PlanEntry[]
}

/** `GET /api/runs/:id/plan`. */
export interface PlanView {
  runId: string
  mode: 'plan' | 'apply'
  status: string
  graphId: string | null
  graphName: string
  graphHash: string
  params: Record<string, unknown>
  createdAt: string
  planRunId: string | null
  stale: boolean
  appliedBy: { id: string; status: string }[]
  nodes: PlanNode[]
}

export interface PlanQuery {
  nodeId?: string
  /** Only these actions. */
  actions?: SyncAction[]
  q?: string
  offset?: number
  limit?: number
}

/** What a run request answers when the job needs approval. */
export interface PendingApproval {
  approvalId: string
  status: 'pending-approval'
  /** Plan mode: the plan run the approver reviews. */
  id?: string
}

export type StartReply = { id: string } | PendingApproval

export const isPending = (reply: StartReply): reply is PendingApproval => 'approvalId' in reply

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired'

export interface ApprovalRequest {
  id: string
  jobKind: 'graph' | 'collection'
  jobId: string
  jobName: string
  status: ApprovalStatus
  trigger: 'manual' | 'schedule'
  requestedBy: string | null
  requestedByName: string | null
  requestedAt: string
  expiresAt: string
  params: Record<string, unknown>
  planRunId: string | null
  decidedBy: string | null
  decidedByName: string | null
  decidedAt: string | null
  comment: string
  runId: string | null
}

export interface ApprovalRule {
  jobKind: 'graph' | 'collection'
  jobId: string
  expiresAfterMinutes: number
  reviewPlan: boolean
}

const enc = encodeURIComponent

/** The query string of a plan request; `format: 'csv'` asks for the CSV export of every matching entry. */
export function planSearch(query: PlanQuery, format?: 'csv'): string {
  const search = new URLSearchParams()
  if (query.nodeId) search.set('nodeId', query.nodeId)
  if (query.actions?.length) search.set('action', query.actions.join(','))
  if (query.q) search.set('q', query.q)
  if (format === 'csv') {
    search.set('format', 'csv')
    search.set('limit', '100000')
  } else {
    if (query.offset) search.set('offset', String(query.offset))
    if (query.limit) search.set('limit', String(query.limit))
  }
  const s = search.toString()
  return s ? `?${s}` : ''
}

/** Where a plan comes from: a run, or an approval request (which shows its plan run's plan). */
export type PlanSource = { kind: 'run'; runId: string } | { kind: 'approval'; approvalId: string }

const planPath = (source: PlanSource): string =>
  source.kind === 'run' ? `/runs/${enc(source.runId)}/plan` : `/approvals/${enc(source.approvalId)}/plan`

export const plansApi = {
  run: (id: string) => request<RunWithMode>('GET', `/runs/${enc(id)}`),
  /** Start a plan-mode run of a stored graph (or, when it needs approval, a pending request with the plan run). */
  startPlan: (graphId: string) => request<StartReply>('POST', '/runs', { graphId, mode: 'plan' }),
  startPlanOf: (graph: GraphDoc) => request<StartReply>('POST', '/runs', { graph, mode: 'plan' }),
  plan: (source: PlanSource, query: PlanQuery, signal?: AbortSignal) =>
    request<PlanView>('GET', `${planPath(source)}${planSearch(query)}`, undefined, signal ? { signal } : {}),
  /** A URL the browser downloads the filtered plan from, as CSV. */
  csvUrl: (source: PlanSource, query: PlanQuery) => `/api${planPath(source)}${planSearch(query, 'csv')}`,
  apply: (planRunId: string) => request<StartReply>('POST', `/runs/${enc(planRunId)}/apply`),
  cancel: (id: string) => request<{ cancelled: boolean }>('POST', `/runs/${enc(id)}/cancel`),
  rejected: (id: string, nodeId: string) =>
    request<{ rows: Record<string, unknown>[] }>(
      'GET',
      `/runs/${enc(id)}/rejected?nodeId=${enc(nodeId)}&limit=100`,
    ),

  approvals: (filter: { status?: ApprovalStatus; jobId?: string; limit?: number } = {}) => {
    const search = new URLSearchParams()
    if (filter.status) search.set('status', filter.status)
    if (filter.jobId) search.set('jobId', filter.jobId)
    if (filter.limit) search.set('limit', String(filter.limit))
    const s = search.toString()
    return request<{ approvals: ApprovalRequest[] }>('GET', `/approvals${s ? `?${s}` : ''}`)
  },
  approve: (id: string, comment: string) =>
    request<ApprovalRequest>('POST', `/approvals/${enc(id)}/approve`, comment ? { comment } : {}),
  deny: (id: string, comment: string) =>
    request<ApprovalRequest>('POST', `/approvals/${enc(id)}/deny`, comment ? { comment } : {}),
  approvalRules: () => request<{ rules: ApprovalRule[] }>('GET', '/approval-rules'),
}
