/** Collections, schedules, notifications and approval rules: the API calls of the job screens. */
import { request } from './client.ts'
import type { NodeStats, SerializedError } from './types.ts'

export type JobKind = 'graph' | 'collection'
export type OnFailure = 'abort' | 'continue'

export interface CollectionStep {
  graphId: string
  params: Record<string, unknown>
  onFailure: OnFailure
}

export interface RepeatSpec {
  every: number
  unit: 'minutes' | 'hours' | 'days'
  /** 0 = Sunday … 6 = Saturday; missing means every day. */
  weekdays?: number[]
  /** HH:MM, with unit "days". */
  at?: string
}

/** A schedule's settings, as `PUT /api/schedules/:kind/:jobId` takes them. */
export interface ScheduleSpec {
  cron?: string
  repeat?: RepeatSpec
  timezone: string
  startAt?: string
  endAt?: string
  maxRunSeconds?: number
  missedRunGraceMinutes: number
  params?: Record<string, unknown>
  enabled: boolean
}

export interface ScheduleView extends ScheduleSpec {
  id: string
  jobKind: JobKind
  jobId: string
  params: Record<string, unknown>
  nextRunAt: string | null
  lastRunAt: string | null
  updatedAt: string
}

export interface ScheduleEvent {
  kind: string
  scheduledFor: string
  at: string
  runId: string | null
  message: string
}

export interface Collection {
  id: string
  name: string
  description: string
  steps: (CollectionStep & { graphName: string | null })[]
  updatedAt: string
  schedule: ScheduleView | null
  nextRunAt: string | null
}

export interface CollectionInput {
  name: string
  description?: string
  steps: CollectionStep[]
}

export type StepStatus =
  'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'skipped'

export interface StepRecord {
  index: number
  graphId: string
  graphName: string
  onFailure: OnFailure
  status: StepStatus
  runId: string | null
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
  nodes: Record<string, NodeStats>
  errors: SerializedError[]
}

export interface CollectionRun {
  id: string
  collectionId: string | null
  collectionName: string
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted'
  trigger: 'manual' | 'schedule'
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
  steps: StepRecord[]
}

export interface CollectionTemplate {
  id: string
  name: string
  description: string
  steps: CollectionStep[]
  schedule: ScheduleSpec | null
}

export const notifyEvents = ['failure', 'threshold', 'changes', 'always'] as const
export type NotifyEvent = (typeof notifyEvents)[number]

export interface NotificationRule {
  id: string
  jobKind: JobKind
  jobId: string
  channel: 'email' | 'webhook'
  to?: string[]
  url?: string
  /** Webhook rules: whether requests are signed (the secret is never returned). */
  signed?: boolean
  on: NotifyEvent[]
}

export type NotificationRuleInput = Omit<NotificationRule, 'id' | 'signed'> & {
  /** Webhook only, write-only: signs each request (at least 16 characters). */
  secret?: string
}

export interface NotificationDelivery {
  id: number
  ruleId: string | null
  jobKind: JobKind
  jobId: string
  runId: string
  channel: 'email' | 'webhook'
  target: string
  event: string
  status: 'sent' | 'failed'
  error: string | null
  at: string
}

export interface SmtpView {
  host: string
  port: number
  secure: boolean
  username: string | null
  from: string
  hasPassword: boolean
}

export interface NotificationSettings {
  linkBaseUrl: string
  smtp: SmtpView | null
}

export interface SmtpInput {
  host: string
  port: number
  secure: boolean
  username?: string
  /** Write-only: a string sets it, null removes it, missing keeps it. */
  password?: string | null
  from: string
}

export interface ApprovalRule {
  jobKind: JobKind
  jobId: string
  expiresAfterMinutes: number
  reviewPlan: boolean
}

/** A run request of a job that needs approval answers with a pending request instead of a run. */
export type RunReply = { id: string } | { approvalId: string; status: 'pending-approval' }

const enc = encodeURIComponent

export const jobsApi = {
  listCollections: () => request<{ collections: Collection[] }>('GET', '/collections'),
  getCollection: (id: string) => request<Collection>('GET', `/collections/${enc(id)}`),
  createCollection: (body: CollectionInput) => request<Collection>('POST', '/collections', body),
  saveCollection: (id: string, body: CollectionInput) =>
    request<Collection>('PUT', `/collections/${enc(id)}`, body),
  deleteCollection: (id: string) => request<{ ok: boolean }>('DELETE', `/collections/${enc(id)}`),
  runCollection: (id: string) => request<RunReply>('POST', `/collections/${enc(id)}/run`),
  collectionRuns: (id: string, limit = 20) =>
    request<{ runs: CollectionRun[] }>('GET', `/collections/${enc(id)}/runs?limit=${limit}`),
  cancelCollectionRun: (id: string) =>
    request<{ cancelled: boolean }>('POST', `/collection-runs/${enc(id)}/cancel`),
  saveAsTemplate: (id: string, body: { name: string; description?: string }) =>
    request<{ id: string }>('POST', `/collections/${enc(id)}/template`, body),

  listCollectionTemplates: () => request<{ templates: CollectionTemplate[] }>('GET', '/collection-templates'),
  deleteCollectionTemplate: (id: string) =>
    request<{ ok: boolean }>('DELETE', `/collection-templates/${enc(id)}`),
  instantiateCollectionTemplate: (id: string, name: string) =>
    request<Collection>('POST', `/collection-templates/${enc(id)}/instantiate`, { name }),

  listSchedules: () => request<{ schedules: ScheduleView[] }>('GET', '/schedules'),
  setSchedule: (kind: JobKind, jobId: string, spec: ScheduleSpec) =>
    request<ScheduleView>('PUT', `/schedules/${kind}/${enc(jobId)}`, spec),
  deleteSchedule: (kind: JobKind, jobId: string) =>
    request<{ ok: boolean }>('DELETE', `/schedules/${kind}/${enc(jobId)}`),
  scheduleEvents: (kind: JobKind, jobId: string, limit = 20) =>
    request<{ events: ScheduleEvent[] }>('GET', `/schedules/${kind}/${enc(jobId)}/events?limit=${limit}`),

  notificationRules: (jobKind: JobKind, jobId: string) =>
    request<{ rules: NotificationRule[] }>(
      'GET',
      `/notifications/rules?jobKind=${jobKind}&jobId=${enc(jobId)}`,
    ),
  createNotificationRule: (body: NotificationRuleInput) =>
    request<NotificationRule>('POST', '/notifications/rules', body),
  deleteNotificationRule: (id: string) =>
    request<{ ok: boolean }>('DELETE', `/notifications/rules/${enc(id)}`),
  notificationDeliveries: (jobId: string, limit = 5) =>
    request<{ deliveries: NotificationDelivery[] }>(
      'GET',
      `/notifications/deliveries?jobId=${enc(jobId)}&limit=${limit}`,
    ),
  notificationSettings: () => request<NotificationSettings>('GET', '/notifications/settings'),
  saveNotificationSettings: (body: { linkBaseUrl?: string; smtp?: SmtpInput | null }) =>
    request<NotificationSettings>('PUT', '/notifications/settings', body),

  approvalRules: () => request<{ rules: ApprovalRule[] }>('GET', '/approval-rules'),
  setApprovalRule: (
    kind: JobKind,
    jobId: string,
    body: { expiresAfterMinutes: number; reviewPlan: boolean },
  ) => request<ApprovalRule>('PUT', `/approval-rules/${kind}/${enc(jobId)}`, body),
  deleteApprovalRule: (kind: JobKind, jobId: string) =>
    request<{ ok: boolean }>('DELETE', `/approval-rules/${kind}/${enc(jobId)}`),
}
