import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { ROLES } from '../../engine/access.ts'

/** Every table the server stores, declared once (STYLE.md §10); row types are inferred from here. */

const now = sql`(cast(unixepoch('subsecond') * 1000 as integer))`
const createdAt = () => integer('created_at', { mode: 'timestamp_ms' }).notNull().default(now)

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  username: text('username').notNull().unique(),
  /** `scrypt$N$r$p$salt$hash`, all base64url. */
  passwordHash: text('password_hash').notNull(),
  /** One of ROLES (engine/access.ts): what the user may do is decided by the role (issue 8 point 5). */
  role: text('role', { enum: ROLES }).notNull().default('admin'),
  /** A disabled user cannot sign in; their sessions are dropped when an admin disables them. */
  disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
  createdAt: createdAt(),
  passwordChangedAt: integer('password_changed_at', { mode: 'timestamp_ms' }),
})

export const sessions = sqliteTable(
  'sessions',
  {
    /** SHA-256 of the cookie token; the token itself is never stored. */
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
)

export const graphs = sqliteTable('graphs', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  revision: integer('revision').notNull(),
  /** The graph document as JSON text, parsed with the engine's graph schema on read. */
  document: text('document').notNull(),
  createdAt: createdAt(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  createdBy: text('created_by'),
})

export const graphRevisions = sqliteTable(
  'graph_revisions',
  {
    graphId: text('graph_id')
      .notNull()
      .references(() => graphs.id, { onDelete: 'cascade' }),
    revision: integer('revision').notNull(),
    document: text('document').notNull(),
    savedAt: integer('saved_at', { mode: 'timestamp_ms' }).notNull(),
    savedBy: text('saved_by'),
  },
  (t) => [primaryKey({ columns: [t.graphId, t.revision] })],
)

export const templates = sqliteTable('templates', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  /** The graph document with `{ "$param": name }` in place of each parameterised value. */
  document: text('document').notNull(),
  createdAt: createdAt(),
  createdBy: text('created_by'),
})

export const connections = sqliteTable('connections', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  kind: text('kind', { enum: ['sql', 'ldap'] }).notNull(),
  driver: text('driver'),
  /** Non-secret settings as JSON. */
  settings: text('settings').notNull().default('{}'),
  /** AES-256-GCM sealed JSON of the secret fields (`v1.iv.tag.ciphertext`), or null when there are none. */
  secrets: text('secrets'),
  createdAt: createdAt(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
})

export const runStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const

export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    graphId: text('graph_id').references(() => graphs.id, { onDelete: 'set null' }),
    graphName: text('graph_name').notNull().default(''),
    status: text('status', { enum: runStatuses }).notNull(),
    /** The document that ran and its parameter values, as JSON. */
    document: text('document').notNull(),
    params: text('params').notNull().default('{}'),
    createdAt: createdAt(),
    createdBy: text('created_by'),
    startedAt: integer('started_at', { mode: 'timestamp_ms' }),
    finishedAt: integer('finished_at', { mode: 'timestamp_ms' }),
    durationMs: integer('duration_ms'),
    /** Per-node stats (`Record<nodeId, NodeStats>`), per-edge stats and errors, as JSON. */
    nodes: text('nodes').notNull().default('{}'),
    edges: text('edges').notNull().default('[]'),
    errors: text('errors').notNull().default('[]'),
    /** `run` executes the graph; `plan` only computes its sync nodes' plans; `apply` applies a plan run's plans. */
    mode: text('mode', { enum: ['run', 'plan', 'apply'] })
      .notNull()
      .default('run'),
    /** The plan run an apply run applies. */
    planRunId: text('plan_run_id'),
    /** graphHash() of the document and parameter values a plan was made from (plan and apply runs). */
    graphHash: text('graph_hash'),
  },
  (t) => [
    index('runs_graph_idx').on(t.graphId),
    index('runs_status_idx').on(t.status),
    index('runs_plan_run_idx').on(t.planRunId),
  ],
)

/** The plan each sync node of a plan run computed; for an apply run, the plan applied and its results. */
export const runPlans = sqliteTable(
  'run_plans',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    nodeId: text('node_id').notNull(),
    /** Order of the sync nodes in the graph; plans apply in this order. */
    position: integer('position').notNull(),
    /** The node's plan (`Plan` from engine/sync) as JSON. */
    plan: text('plan').notNull(),
    /** Apply runs: one results row per plan item (outcome, error) as JSON; null for a plan run. */
    results: text('results'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.nodeId] })],
)

export const runRejected = sqliteTable(
  'run_rejected',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    nodeId: text('node_id').notNull(),
    row: text('row').notNull(),
  },
  (t) => [index('run_rejected_run_idx').on(t.runId, t.nodeId)],
)

export type UserRow = typeof users.$inferSelect
export type GraphRow = typeof graphs.$inferSelect
export type TemplateRow = typeof templates.$inferSelect
export type ConnectionRow = typeof connections.$inferSelect
export type RunRow = typeof runs.$inferSelect
export type RunStatusStored = (typeof runStatuses)[number]

/** A job is a stored graph or a collection; schedules, notification rules and their records point at one. */
export const jobKinds = ['graph', 'collection'] as const

export const collections = sqliteTable('collections', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  /** Ordered steps as JSON: `[{ graphId, params, onFailure }]`. */
  steps: text('steps').notNull().default('[]'),
  createdAt: createdAt(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  createdBy: text('created_by'),
})

export const collectionRunStatuses = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
] as const

export const collectionRuns = sqliteTable(
  'collection_runs',
  {
    id: text('id').primaryKey(),
    collectionId: text('collection_id').references(() => collections.id, { onDelete: 'set null' }),
    collectionName: text('collection_name').notNull().default(''),
    status: text('status', { enum: collectionRunStatuses }).notNull(),
    trigger: text('trigger', { enum: ['manual', 'schedule'] })
      .notNull()
      .default('manual'),
    /** Per step as JSON: `[{ graphId, graphName, onFailure, status, runId, stats, error }]`. */
    steps: text('steps').notNull().default('[]'),
    createdAt: createdAt(),
    createdBy: text('created_by'),
    startedAt: integer('started_at', { mode: 'timestamp_ms' }),
    finishedAt: integer('finished_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('collection_runs_collection_idx').on(t.collectionId)],
)

export const collectionTemplates = sqliteTable('collection_templates', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  /** The steps as the collection held them (order, parameter values, failure actions), as JSON. */
  steps: text('steps').notNull(),
  /** The collection's schedule settings as JSON, or null when it had none. */
  schedule: text('schedule'),
  createdAt: createdAt(),
  createdBy: text('created_by'),
})

export const schedules = sqliteTable(
  'schedules',
  {
    id: text('id').primaryKey(),
    jobKind: text('job_kind', { enum: jobKinds }).notNull(),
    jobId: text('job_id').notNull(),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    /** The schedule settings (`ScheduleSpec`) as JSON. */
    spec: text('spec').notNull(),
    /** The next occurrence the scheduler has armed; compared with the clock at start to find missed runs. */
    nextRunAt: integer('next_run_at', { mode: 'timestamp_ms' }),
    lastRunAt: integer('last_run_at', { mode: 'timestamp_ms' }),
    createdAt: createdAt(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('schedules_job_idx').on(t.jobKind, t.jobId)],
)

export const scheduleEventKinds = [
  'started',
  'skipped-overlap',
  'missed-run',
  'missed-skipped',
  'timed-out',
  'start-failed',
  'approval-requested',
] as const

export const scheduleEvents = sqliteTable(
  'schedule_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    scheduleId: text('schedule_id')
      .notNull()
      .references(() => schedules.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: scheduleEventKinds }).notNull(),
    /** The occurrence this decision is about. */
    scheduledFor: integer('scheduled_for', { mode: 'timestamp_ms' }).notNull(),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
    /** The graph run or collection run started, when one was. */
    runId: text('run_id'),
    message: text('message').notNull().default(''),
  },
  (t) => [index('schedule_events_schedule_idx').on(t.scheduleId)],
)

export const notificationSettings = sqliteTable('notification_settings', {
  /** Always "default": one set of settings per installation. */
  id: text('id').primaryKey(),
  /** Base of the run links put in messages, e.g. https://syncgraph.example.com. */
  linkBaseUrl: text('link_base_url').notNull(),
  smtpHost: text('smtp_host'),
  smtpPort: integer('smtp_port'),
  smtpSecure: integer('smtp_secure', { mode: 'boolean' }).notNull().default(false),
  smtpUsername: text('smtp_username'),
  smtpFrom: text('smtp_from'),
  /** AES-256-GCM sealed SMTP password (`v1.iv.tag.ciphertext`) bound to "smtp:default"; null when none. */
  smtpPassword: text('smtp_password'),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
})

export const notificationRules = sqliteTable(
  'notification_rules',
  {
    id: text('id').primaryKey(),
    jobKind: text('job_kind', { enum: jobKinds }).notNull(),
    jobId: text('job_id').notNull(),
    channel: text('channel', { enum: ['email', 'webhook'] }).notNull(),
    /** E-mail: addresses joined by ","; webhook: the URL. */
    target: text('target').notNull(),
    /** JSON array of `failure | threshold | changes | always`. */
    events: text('events').notNull(),
    /** Webhook signing secret, sealed like connection secrets (`v1.iv.tag.ciphertext`); write-only. */
    secret: text('secret'),
    createdAt: createdAt(),
  },
  (t) => [index('notification_rules_job_idx').on(t.jobKind, t.jobId)],
)

export const notificationDeliveries = sqliteTable(
  'notification_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ruleId: text('rule_id').references(() => notificationRules.id, { onDelete: 'set null' }),
    jobKind: text('job_kind', { enum: jobKinds }).notNull(),
    jobId: text('job_id').notNull(),
    /** A graph run id or a collection run id, per jobKind. */
    runId: text('run_id').notNull(),
    channel: text('channel', { enum: ['email', 'webhook'] }).notNull(),
    target: text('target').notNull(),
    /** Which of the rule's events matched. */
    event: text('event').notNull(),
    status: text('status', { enum: ['sent', 'failed'] }).notNull(),
    error: text('error'),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('notification_deliveries_run_idx').on(t.runId)],
)

export type CollectionRow = typeof collections.$inferSelect
export type CollectionRunRow = typeof collectionRuns.$inferSelect
export type ScheduleRow = typeof schedules.$inferSelect
export type JobKind = (typeof jobKinds)[number]

/** A graph or collection whose every run request waits for an approver. */
export const approvalRules = sqliteTable(
  'approval_rules',
  {
    jobKind: text('job_kind', { enum: jobKinds }).notNull(),
    jobId: text('job_id').notNull(),
    /** A pending request not decided within this many minutes expires (and is cancelled). */
    expiresAfterMinutes: integer('expires_after_minutes').notNull().default(1440),
    /** Graphs with sync nodes: a request made in run mode (also a scheduled one) first computes a plan for the approver. */
    reviewPlan: integer('review_plan', { mode: 'boolean' }).notNull().default(false),
    createdAt: createdAt(),
    createdBy: text('created_by'),
  },
  (t) => [primaryKey({ columns: [t.jobKind, t.jobId] })],
)

export const approvalStatuses = ['pending', 'approved', 'denied', 'expired'] as const

export const approvalRequests = sqliteTable(
  'approval_requests',
  {
    id: text('id').primaryKey(),
    jobKind: text('job_kind', { enum: jobKinds }).notNull(),
    jobId: text('job_id').notNull(),
    jobName: text('job_name').notNull().default(''),
    status: text('status', { enum: approvalStatuses }).notNull(),
    trigger: text('trigger', { enum: ['manual', 'schedule'] }).notNull(),
    /** The session user who asked; null for a scheduled request. */
    requestedBy: text('requested_by'),
    requestedAt: integer('requested_at', { mode: 'timestamp_ms' }).notNull(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    /** Parameter values the run gets, as JSON. */
    params: text('params').notNull().default('{}'),
    /** The plan run whose plan approving applies (plan mode), or null to run the job as it is then. */
    planRunId: text('plan_run_id'),
    decidedBy: text('decided_by'),
    decidedAt: integer('decided_at', { mode: 'timestamp_ms' }),
    comment: text('comment').notNull().default(''),
    /** What approving started: a graph run, an apply run, or a collection run. */
    runId: text('run_id'),
  },
  (t) => [
    // At most one pending request per job, enforced by the database too.
    uniqueIndex('approval_requests_pending_idx')
      .on(t.jobKind, t.jobId)
      .where(sql`status = 'pending'`),
    index('approval_requests_status_idx').on(t.status),
  ],
)

/** Every change a sync applied (or tried to), per object: the change history behind GET /api/history. */
export const history = sqliteTable(
  'history',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: text('run_id').notNull(),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
    graphId: text('graph_id'),
    graphName: text('graph_name').notNull().default(''),
    /** The user who started the run (null: the scheduler); the name as it was then. */
    startedBy: text('started_by'),
    startedByName: text('started_by_name'),
    nodeId: text('node_id').notNull(),
    nodeType: text('node_type').notNull(),
    action: text('action').notNull(),
    dn: text('dn').notNull(),
    newDn: text('new_dn'),
    /** The correlation key as JSON. */
    key: text('key').notNull().default('{}'),
    /** Attribute names changed, as JSON. */
    changed: text('changed').notNull().default('[]'),
    /** Flowed attributes before and after, as JSON (null when not known or not there). */
    before: text('before'),
    after: text('after'),
    outcome: text('outcome').notNull(),
    error: text('error'),
  },
  (t) => [
    index('history_at_idx').on(t.at),
    index('history_run_idx').on(t.runId),
    index('history_dn_idx').on(t.dn),
  ],
)

/**
 * What each role may read from and write to (issue 8 point 6): one JSON policy document per role, parsed
 * by the policy module's zod schema. A role without a row has no restrictions beyond its permissions.
 */
export const policies = sqliteTable('policies', {
  role: text('role', { enum: ROLES }).primaryKey(),
  document: text('document').notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  updatedBy: text('updated_by'),
})

export type ApprovalRequestRow = typeof approvalRequests.$inferSelect
export type HistoryRow = typeof history.$inferSelect
