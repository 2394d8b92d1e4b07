import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** Every table the server stores, declared once (STYLE.md §10); row types are inferred from here. */

const now = sql`(cast(unixepoch('subsecond') * 1000 as integer))`
const createdAt = () => integer('created_at', { mode: 'timestamp_ms' }).notNull().default(now)

export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  username: text('username').notNull().unique(),
  /** `scrypt$N$r$p$salt$hash`, all base64url. */
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ['admin', 'editor', 'runner', 'viewer'] })
    .notNull()
    .default('admin'),
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
  },
  (t) => [index('runs_graph_idx').on(t.graphId), index('runs_status_idx').on(t.status)],
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
