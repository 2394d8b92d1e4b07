import { and, eq, inArray } from 'drizzle-orm'
import type { ApprovalService } from '../approvals/service.ts'
import { runEnded } from '../collections/run-waiter.ts'
import type { CollectionRunner } from '../collections/runner.ts'
import type { CollectionStore } from '../collections/store.ts'
import type { Db } from '../db/client.ts'
import { runs as runsTable, type JobKind } from '../db/schema.ts'
import type { GraphStore } from '../graphs/store.ts'
import type { RunManager } from '../runs/manager.ts'

/** A run the scheduler started: its id, a promise of its end, and how to cancel it. */
export interface LaunchedRun {
  runId: string
  ended: Promise<unknown>
  cancel(): void
}

/** A scheduled run of a job that needs approval: a pending request instead of a run. */
export interface ApprovalRequested {
  approvalId: string
}

/** What the scheduler needs of graphs and collections, behind one small interface. */
export interface JobLauncher {
  exists(kind: JobKind, id: string): boolean
  /** A run of this job is queued or running (started by anyone), or waits for approval. */
  busy(kind: JobKind, id: string): boolean
  launch(kind: JobKind, id: string, params: Record<string, unknown>): LaunchedRun | ApprovalRequested
}

export function createJobLauncher(deps: {
  db: Db
  graphs: GraphStore
  runs: RunManager
  collections: CollectionStore
  collectionRuns: CollectionRunner
  approvals?: ApprovalService
}): JobLauncher {
  const exists = (get: () => unknown) => {
    try {
      get()
      return true
    } catch {
      return false
    }
  }
  return {
    exists: (kind, id) =>
      kind === 'graph' ? exists(() => deps.graphs.row(id)) : exists(() => deps.collections.row(id)),
    busy(kind, id) {
      if (deps.approvals?.pending(kind, id) !== undefined) return true
      if (kind === 'collection') return deps.collectionRuns.isActive(id)
      return (
        deps.db
          .select({ id: runsTable.id })
          .from(runsTable)
          .where(and(eq(runsTable.graphId, id), inArray(runsTable.status, ['queued', 'running'])))
          .get() !== undefined
      )
    },
    launch(kind, id, params) {
      // No user started it: the job owner's role policy decides, as for policy checks.
      if (deps.approvals?.requires(kind, id, null))
        return deps.approvals.request({ kind, jobId: id, userId: null, trigger: 'schedule', params })
      if (kind === 'collection') {
        const runId = deps.collectionRuns.start({ collectionId: id, trigger: 'schedule' })
        return {
          runId,
          ended: deps.collectionRuns.ended(runId),
          cancel: () => deps.collectionRuns.cancel(runId),
        }
      }
      const runId = deps.runs.submit({ graph: deps.graphs.get(id).graph, graphId: id, params })
      return { runId, ended: runEnded(deps.runs, runId), cancel: () => deps.runs.cancel(runId) }
    },
  }
}
