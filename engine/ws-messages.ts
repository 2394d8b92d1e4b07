import { z } from 'zod'
import type { SerializedError } from './errors.ts'
import {
  WRITE_OUTCOMES,
  type EdgeStats,
  type NodeStats,
  type RunSnapshot,
  type RunSummary,
} from './progress.ts'

/**
 * WebSocket messages between the server (`/api/ws`) and the editor: one zod discriminated union
 * per direction (DESIGN.md §8). Both sides parse with these; nothing else describes the shapes.
 */

const nodeStatus = z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled'])
/** Statuses a stored run can have: the engine's, plus `interrupted` for runs a server restart cut off. */
export const storedRunStatusSchema = z.enum([
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
])
export type StoredRunStatus = z.infer<typeof storedRunStatusSchema>

export const nodeStatsSchema = z.object({
  type: z.string(),
  status: nodeStatus,
  rowsIn: z.number(),
  rowsOut: z.number(),
  rowsRejected: z.number(),
  errors: z.number(),
  batches: z.number(),
  busyMs: z.number(),
  rowsPerSec: z.number(),
  outcomes: z.partialRecord(z.enum(WRITE_OUTCOMES), z.number()).optional(),
})

export const edgeStatsSchema = z.object({
  from: z.string(),
  fromPort: z.string(),
  to: z.string(),
  toPort: z.string(),
  rows: z.number(),
  batches: z.number(),
  queueDepth: z.number(),
})

export const serializedErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  nodeId: z.string().optional(),
  row: z.number().optional(),
  field: z.string().optional(),
  position: z.number().optional(),
})

export const runSnapshotSchema = z.object({
  runId: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  elapsedMs: z.number(),
  nodes: z.record(z.string(), nodeStatsSchema),
  edges: z.array(edgeStatsSchema),
})

export const runSummarySchema = runSnapshotSchema.extend({
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  errors: z.array(serializedErrorSchema),
})

/** A stored run as `GET /api/runs/:id` returns it and the `snapshot` message carries it. */
export const runRecordSchema = z.object({
  id: z.string(),
  graphId: z.string().nullable(),
  graphName: z.string(),
  status: storedRunStatusSchema,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  nodes: z.record(z.string(), nodeStatsSchema),
  edges: z.array(edgeStatsSchema),
  errors: z.array(serializedErrorSchema),
})
export type RunRecord = z.infer<typeof runRecordSchema>

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), runId: z.string().min(1) }),
  z.object({ type: z.literal('unsubscribe'), runId: z.string().min(1) }),
])
export type ClientMessage = z.infer<typeof clientMessageSchema>

export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('snapshot'), runId: z.string(), run: runRecordSchema }),
  z.object({ type: z.literal('progress'), runId: z.string(), snapshot: runSnapshotSchema }),
  z.object({
    type: z.literal('log'),
    runId: z.string(),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    nodeId: z.string().optional(),
    message: z.string(),
    time: z.string(),
    /** Log lines this client missed because it read too slowly (dropped, never queued without bound). */
    dropped: z.number().optional(),
  }),
  z.object({
    type: z.literal('finished'),
    runId: z.string(),
    status: storedRunStatusSchema,
    summary: runSummarySchema,
  }),
  z.object({ type: z.literal('error'), message: z.string(), runId: z.string().optional() }),
])
export type ServerMessage = z.infer<typeof serverMessageSchema>

// The schemas above mirror the engine's interfaces; these lines fail to compile if they drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const _drift: [
  Same<z.infer<typeof nodeStatsSchema>, NodeStats>,
  Same<z.infer<typeof edgeStatsSchema>, EdgeStats>,
  Same<z.infer<typeof runSnapshotSchema>, RunSnapshot>,
  Same<z.infer<typeof runSummarySchema>, RunSummary>,
  Same<z.infer<typeof serializedErrorSchema>, SerializedError>,
] = [true, true, true, true, true]
void _drift
