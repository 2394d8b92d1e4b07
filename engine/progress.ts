import type { SerializedError } from './errors.ts'

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'
export type NodeStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled'

/** What became of one write a sync node attempted; every attempted write ends as exactly one. */
export const WRITE_OUTCOMES = [
  'created',
  'updated',
  'renamed',
  'deleted',
  'disabled',
  'unchanged',
  'failed',
] as const
export type WriteOutcome = (typeof WRITE_OUTCOMES)[number]

/** Counters of one node in a run. `rowsRejected` counts rows that failed and were skipped or routed. */
export interface NodeStats {
  type: string
  status: NodeStatus
  rowsIn: number
  rowsOut: number
  rowsRejected: number
  errors: number
  batches: number
  busyMs: number
  rowsPerSec: number
  /** Sync nodes: objects per outcome (`renamed` includes moves); absent on other nodes. */
  outcomes?: Partial<Record<WriteOutcome, number>>
}

/** Counters of one edge: rows passed and the batches waiting in its queue. */
export interface EdgeStats {
  from: string
  fromPort: string
  to: string
  toPort: string
  rows: number
  batches: number
  queueDepth: number
}

export interface RunSnapshot {
  runId: string
  status: RunStatus
  elapsedMs: number
  nodes: Record<string, NodeStats>
  edges: EdgeStats[]
}

export interface RunSummary extends RunSnapshot {
  startedAt: string
  finishedAt: string
  durationMs: number
  /** The error that failed the run first, then samples of row errors (capped per node). */
  errors: SerializedError[]
}

export type RunEvent =
  | { type: 'progress'; snapshot: RunSnapshot }
  | {
      type: 'log'
      runId: string
      level: 'debug' | 'info' | 'warn' | 'error'
      nodeId?: string
      message: string
      time: string
    }
  | { type: 'finished'; summary: RunSummary }

/** Key of an edge in counters and on the canvas. */
export function edgeKey(edge: { from: string; fromPort: string; to: string; toPort: string }): string {
  return `${edge.from}.${edge.fromPort}->${edge.to}.${edge.toPort}`
}
