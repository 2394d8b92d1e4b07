import { create } from 'zustand'
import { edgeKey } from '../../engine/progress.ts'
import type { EdgeStats, NodeStats, RunSnapshot, RunStatus, RunSummary } from '../../engine/progress.ts'
import type { SerializedError } from '../../engine/errors.ts'

export interface RunLog {
  level: 'debug' | 'info' | 'warn' | 'error'
  nodeId?: string
  message: string
  time: string
}

/** Live counters of the run shown on the canvas; kept apart from the graph so progress re-renders only what changed. */
export interface RunState {
  runId: string | null
  status: RunStatus | 'interrupted' | null
  elapsedMs: number
  nodes: Record<string, NodeStats>
  edges: Record<string, EdgeStats>
  errors: SerializedError[]
  logs: RunLog[]
  finished: boolean

  start(runId: string): void
  applySnapshot(snapshot: RunSnapshot): void
  finish(summary: RunSummary | (RunSnapshot & { errors?: SerializedError[] })): void
  addLogs(logs: RunLog[]): void
  reset(): void
}

const sameNode = (a: NodeStats | undefined, b: NodeStats): boolean =>
  a !== undefined &&
  a.status === b.status &&
  a.rowsIn === b.rowsIn &&
  a.rowsOut === b.rowsOut &&
  a.rowsRejected === b.rowsRejected &&
  a.errors === b.errors &&
  Math.round(a.rowsPerSec) === Math.round(b.rowsPerSec)

const sameEdge = (a: EdgeStats | undefined, b: EdgeStats): boolean =>
  a !== undefined && a.rows === b.rows && a.queueDepth === b.queueDepth

/** Merge new counters, keeping the old objects where nothing changed so their components skip rendering. */
function merge(
  prev: { nodes: Record<string, NodeStats>; edges: Record<string, EdgeStats> },
  snapshot: RunSnapshot,
): { nodes: Record<string, NodeStats>; edges: Record<string, EdgeStats> } {
  const nodes: Record<string, NodeStats> = {}
  for (const [id, stats] of Object.entries(snapshot.nodes))
    nodes[id] = sameNode(prev.nodes[id], stats) ? prev.nodes[id]! : stats
  const edges: Record<string, EdgeStats> = {}
  for (const stats of snapshot.edges) {
    const key = edgeKey(stats)
    edges[key] = sameEdge(prev.edges[key], stats) ? prev.edges[key]! : stats
  }
  return { nodes, edges }
}

export const useRun = create<RunState>()((set) => ({
  runId: null,
  status: null,
  elapsedMs: 0,
  nodes: {},
  edges: {},
  errors: [],
  logs: [],
  finished: false,

  start: (runId) =>
    set({
      runId,
      status: 'queued',
      elapsedMs: 0,
      nodes: {},
      edges: {},
      errors: [],
      logs: [],
      finished: false,
    }),
  applySnapshot: (snapshot) =>
    set((s) =>
      s.runId !== snapshot.runId
        ? s
        : { ...merge(s, snapshot), status: snapshot.status, elapsedMs: snapshot.elapsedMs },
    ),
  finish: (summary) =>
    set((s) => ({
      ...merge(s, summary),
      status: summary.status,
      elapsedMs: 'durationMs' in summary ? summary.durationMs : summary.elapsedMs,
      errors: summary.errors ?? [],
      finished: true,
    })),
  addLogs: (logs) => set((s) => ({ logs: [...s.logs, ...logs].slice(-500) })),
  reset: () =>
    set({
      runId: null,
      status: null,
      elapsedMs: 0,
      nodes: {},
      edges: {},
      errors: [],
      logs: [],
      finished: false,
    }),
}))
