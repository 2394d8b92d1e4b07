import { stringify } from 'csv-stringify/sync'
import { z } from 'zod'
import type { Graph } from '../../engine/index.ts'
import {
  SYNC_ACTIONS,
  type Plan,
  type PlanDocument,
  type PlanItem,
  type ResultRow,
  type SyncAction,
  type SyncDriver,
} from '../../engine/sync/index.ts'

/** How a run uses its graph: `run` executes it, `plan` only computes its sync nodes' plans, `apply` applies a plan run's plans. */
export const runModes = ['run', 'plan', 'apply'] as const
export type RunMode = (typeof runModes)[number]

/** The sync nodes of a graph that a driver can plan and apply. */
export function syncNodesOf(graph: Graph, drivers: readonly SyncDriver[]): string[] {
  return graph.nodes.filter((n) => drivers.some((d) => d.type === n.type)).map((n) => n.id)
}

/** One node's stored plan, and for an apply run the outcome of each item. */
export interface StoredPlan {
  plan: Plan
  results: ResultRow[] | null
}

const syncAction = z.enum(SYNC_ACTIONS as [SyncAction, ...SyncAction[]])
const values = z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()])))

export const planEntrySchema = z.object({
  key: z.record(z.string(), z.unknown()),
  dn: z.string(),
  newDn: z.string().optional(),
  action: syncAction,
  before: values.nullable(),
  after: values.nullable(),
  changes: z.array(
    z.object({
      attribute: z.string(),
      op: z.enum(['add', 'delete', 'replace']),
      values: z.array(z.union([z.string(), z.number(), z.boolean()])),
    }),
  ),
  deprovision: z.boolean().optional(),
  reason: z.string().optional(),
  matches: z.array(z.string()).optional(),
  row: z.number().optional(),
  /** Apply runs: what happened to the object. */
  outcome: z.enum(['planned', 'applied', 'unchanged', 'failed', 'skipped']).optional(),
  error: z.object({ code: z.string(), message: z.string() }).nullable().optional(),
})

export const planNodeSchema = z.object({
  nodeId: z.string(),
  type: z.string(),
  target: z.record(z.string(), z.unknown()),
  counts: z.record(syncAction, z.number()),
  thresholds: z.object({
    maxDeletes: z.number().nullable(),
    maxDeletePercent: z.number().nullable(),
    removals: z.number(),
    scopeSize: z.number(),
    percent: z.number(),
    exceeded: z.boolean(),
    message: z.string().optional(),
  }),
  /** Apply runs: objects per outcome. */
  outcomes: z.record(z.string(), z.number()).optional(),
  /** Entries that match the filter, before `offset` / `limit`. */
  total: z.number(),
  entries: z.array(planEntrySchema),
})

export const planViewSchema = z.object({
  runId: z.string(),
  mode: z.enum(['plan', 'apply']),
  status: z.string(),
  graphId: z.string().nullable(),
  graphName: z.string(),
  graphHash: z.string(),
  params: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  /** The plan run an apply run applied. */
  planRunId: z.string().nullable(),
  /** A plan run: the stored graph changed since (applying it is refused). */
  stale: z.boolean(),
  /** A plan run: the apply runs started from it, newest first. */
  appliedBy: z.array(z.object({ id: z.string(), status: z.string() })),
  nodes: z.array(planNodeSchema),
})
export type PlanView = z.infer<typeof planViewSchema>

export const planQuery = z.object({
  nodeId: z.string().optional(),
  /** Only these actions (comma-separated), e.g. `create,delete`. */
  action: z
    .string()
    .optional()
    .refine((s) => s === undefined || s.split(',').every((a) => SYNC_ACTIONS.includes(a as SyncAction)), {
      message: `actions are ${SYNC_ACTIONS.join(', ')}`,
    }),
  /** Entries whose DN, new DN or key contains this text (case-insensitive). */
  q: z.string().optional(),
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).optional(),
  format: z.enum(['json', 'csv']).optional(),
})
export type PlanQuery = z.infer<typeof planQuery>

type Entry = PlanItem & { outcome?: ResultRow['outcome']; error?: ResultRow['error'] }

/** The entries of each node that pass the query's filters, with apply outcomes merged in. */
export function planNodes(stored: readonly StoredPlan[], query: PlanQuery): PlanView['nodes'] {
  const actions = query.action === undefined ? undefined : new Set(query.action.split(','))
  const needle = query.q?.toLowerCase()
  const offset = query.offset ?? 0
  const limit = query.limit ?? 1000
  return stored
    .filter((s) => query.nodeId === undefined || s.plan.nodeId === query.nodeId)
    .map(({ plan, results }) => {
      const entries: Entry[] = plan.items.map((item, i) => {
        const result = results?.[i]
        return result === undefined ? item : { ...item, outcome: result.outcome, error: result.error }
      })
      const kept = entries.filter(
        (e) =>
          (actions === undefined || actions.has(e.action)) &&
          (needle === undefined ||
            `${e.dn}\n${e.newDn ?? ''}\n${JSON.stringify(e.key)}`.toLowerCase().includes(needle)),
      )
      const outcomes: Record<string, number> = {}
      for (const r of results ?? []) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1
      return {
        nodeId: plan.nodeId,
        type: plan.type,
        target: plan.target,
        counts: plan.counts,
        thresholds: plan.thresholds,
        ...(results === null ? {} : { outcomes }),
        total: kept.length,
        entries: kept.slice(offset, offset + limit),
      }
    })
}

/** A spreadsheet may run a cell that starts with one of these as a formula (CSV injection). */
const FORMULA = /^[=+\-@\t\r]/
const cell = (value: unknown): string => {
  const text =
    typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value)
  return FORMULA.test(text) ? `'${text}` : text
}

/** The plan as CSV, one line per object: what a reviewer opens in a spreadsheet. */
export function planCsv(nodes: PlanView['nodes']): string {
  const header = [
    'node',
    'action',
    'dn',
    'newDn',
    'key',
    'changed',
    'before',
    'after',
    'reason',
    'outcome',
    'error',
  ]
  const lines: string[][] = [header]
  for (const node of nodes) {
    for (const e of node.entries) {
      lines.push(
        [
          node.nodeId,
          e.action,
          e.dn,
          e.newDn,
          e.key,
          [...new Set(e.changes.map((c) => c.attribute))].join(' '),
          e.before,
          e.after,
          e.reason,
          e.outcome,
          e.error?.message,
        ].map(cell),
      )
    }
  }
  return stringify(lines)
}

/** The plan document (`syncgraph apply`'s format) that a plan run stored. */
export function planDocumentOf(input: {
  graphName: string
  graphHash: string
  params: Record<string, unknown>
  createdAt: string
  plans: Plan[]
}): PlanDocument {
  return { format: 'syncgraph-plan-document', version: 1, ...input }
}
