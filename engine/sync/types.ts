/** A single attribute value as the planner compares and writes it. */
export type SyncValue = string | number | boolean

export type SyncAction =
  'create' | 'update' | 'rename' | 'move' | 'delete' | 'disable' | 'none' | 'ambiguous' | 'error'

export const SYNC_ACTIONS: readonly SyncAction[] = [
  'create',
  'update',
  'rename',
  'move',
  'delete',
  'disable',
  'none',
  'ambiguous',
  'error',
]

/** One change to one attribute; `delete` with no values removes the attribute. */
export interface AttributeChange {
  attribute: string
  op: 'add' | 'delete' | 'replace'
  values: SyncValue[]
}

/** What the plan does to one object. */
export interface PlanItem {
  /** The correlation key: source field values (or, for a de-provisioned object, its target values). */
  key: Record<string, unknown>
  /** The object's id (LDAP: its DN) now, or the id it will get when created. */
  dn: string
  /** The new id of a renamed or moved object. */
  newDn?: string
  action: SyncAction
  /** The flowed attributes as they are (null for a create). */
  before: Record<string, SyncValue[]> | null
  /** The flowed attributes as they will be (null for a delete). */
  after: Record<string, SyncValue[]> | null
  changes: AttributeChange[]
  /** An update that also renames or moves, or a de-provisioning: what else happens. */
  deprovision?: boolean
  /** Why an object is ambiguous, in error, or left alone. */
  reason?: string
  /** The error code of an object in error, when it says more than PLAN_ERROR (e.g. LDAP_ALREADY_EXISTS). */
  code?: string
  /** The ids an ambiguous key matched. */
  matches?: string[]
  /** 1-based position of the source row. */
  row?: number
}

export interface ThresholdVerdict {
  maxDeletes: number | null
  maxDeletePercent: number | null
  /** Deletes, disables and de-provisioning moves in the plan. */
  removals: number
  /** Objects in scope before the sync. */
  scopeSize: number
  percent: number
  exceeded: boolean
  /** Why the plan is over a threshold, with the numbers. */
  message?: string
}

/** The plan of one sync node: every object's action with before/after, counts, and the threshold verdict. */
export interface Plan {
  format: 'syncgraph-plan'
  version: 1
  nodeId: string
  /** The node type that made it (`ldap.sync`), whose driver applies it. */
  type: string
  createdAt: string
  /** Where it applies, without secrets (e.g. `{ url, base, filter }`). */
  target: Record<string, unknown>
  counts: Record<SyncAction, number>
  thresholds: ThresholdVerdict
  items: PlanItem[]
}

export type Outcome = 'planned' | 'applied' | 'unchanged' | 'failed' | 'skipped'

/** One object's result: a row on a sync node's `results` port. */
export interface ResultRow {
  [field: string]: unknown
  key: Record<string, unknown>
  dn: string
  newDn: string | null
  action: SyncAction
  changed: string[]
  /** The changed attributes' values before (null for a create) and after (null for a delete). */
  before: Record<string, SyncValue[]> | null
  after: Record<string, SyncValue[]> | null
  outcome: Outcome
  error: { code: string; message: string } | null
}
