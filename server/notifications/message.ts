import type { Catalog, NodeStats, SerializedError } from '../../engine/index.ts'
import type { JobKind } from '../db/schema.ts'
import type { NotifyEvent } from './store.ts'

/** What a notification is about: one ended run of a graph or a collection. */
export interface RunOutcome {
  jobKind: JobKind
  jobId: string
  jobName: string
  runId: string
  status: string
  startedAt: string | null
  finishedAt: string | null
  durationMs: number | null
  /** Per graph run: its nodes' counters (one entry for a graph, one per step for a collection). */
  runs: { name: string; runId: string | null; status: string; nodes: Record<string, NodeStats> }[]
  errors: SerializedError[]
}

/** Rows written by destination and sync nodes: what "changes made" means. */
export function rowsWritten(outcome: RunOutcome, catalog: Catalog): number {
  let written = 0
  for (const run of outcome.runs) {
    for (const stats of Object.values(run.nodes)) {
      const category = catalog.get(stats.type)?.category
      if (category === 'destination' || category === 'sync') written += stats.rowsOut
    }
  }
  return written
}

/** The events of `on` this outcome matches, most specific first. */
export function matchingEvents(
  outcome: RunOutcome,
  on: readonly NotifyEvent[],
  catalog: Catalog,
): NotifyEvent[] {
  const failed = outcome.status === 'failed' || outcome.status === 'interrupted'
  const threshold = outcome.errors.some((e) => e.code === 'THRESHOLD_EXCEEDED')
  const matched: NotifyEvent[] = []
  if (on.includes('threshold') && threshold) matched.push('threshold')
  if (on.includes('failure') && failed) matched.push('failure')
  if (on.includes('changes') && rowsWritten(outcome, catalog) > 0) matched.push('changes')
  if (on.includes('always')) matched.push('always')
  return matched
}

export function runLink(outcome: RunOutcome, linkBaseUrl: string): string {
  return outcome.jobKind === 'graph'
    ? `${linkBaseUrl}/api/runs/${outcome.runId}`
    : `${linkBaseUrl}/api/collection-runs/${outcome.runId}`
}

export interface Message {
  subject: string
  text: string
  link: string
}

/** A short plain-text summary: status, timing, rows per node, the first errors, and the link. */
export function buildMessage(
  outcome: RunOutcome,
  event: NotifyEvent,
  linkBaseUrl: string,
  catalog: Catalog,
): Message {
  const link = runLink(outcome, linkBaseUrl)
  const what = outcome.jobKind === 'graph' ? 'Graph' : 'Collection'
  const lines = [
    `${what} "${outcome.jobName}" ${outcome.status}${event === 'threshold' ? ' (stopped by a sync threshold)' : ''}.`,
    '',
    `Run: ${outcome.runId}`,
    `Started: ${outcome.startedAt ?? '-'}`,
    `Finished: ${outcome.finishedAt ?? '-'}`,
    `Duration: ${outcome.durationMs === null ? '-' : `${(outcome.durationMs / 1000).toFixed(1)} s`}`,
    `Rows written: ${rowsWritten(outcome, catalog)}`,
  ]
  for (const run of outcome.runs) {
    lines.push(
      '',
      outcome.jobKind === 'collection'
        ? `Step "${run.name}": ${run.status}${run.runId === null ? '' : ` (run ${run.runId})`}`
        : 'Nodes:',
    )
    for (const [id, s] of Object.entries(run.nodes))
      lines.push(
        `  ${id} (${s.type}): in ${s.rowsIn}, out ${s.rowsOut}, rejected ${s.rowsRejected}, errors ${s.errors}`,
      )
  }
  if (outcome.errors.length > 0) {
    lines.push('', 'Errors:')
    for (const e of outcome.errors.slice(0, 5)) lines.push(`  ${e.code}: ${e.message}`)
  }
  lines.push('', `Details: ${link}`)
  return {
    subject: `[Syncgraph] ${outcome.jobName}: ${outcome.status}${event === 'threshold' ? ' (threshold)' : ''}`,
    text: lines.join('\n'),
    link,
  }
}
