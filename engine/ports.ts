/**
 * The one port-type registry, used by the validator and by the editor's `isValidConnection`
 * (baklavajs keeps one registry for both; so do we).
 */
export const portTypes = {
  /** Any stream of rows. */
  rows: { title: 'Rows', accepts: ['rows', 'results', 'rejected'] },
  /** Rows describing what a destination or sync did to each object (key, action, outcome, error). */
  results: { title: 'Results', accepts: ['results'] },
  /** Rows a node could not process, each with `_error: {code, message}`. */
  rejected: { title: 'Rejected rows', accepts: ['rejected'] },
} as const satisfies Record<string, { title: string; accepts: readonly string[] }>

export type PortType = keyof typeof portTypes

export interface PortSpec {
  type: PortType
  title?: string
  /** An input that may stay unconnected. Outputs are always optional. */
  optional?: boolean
  /** An input that accepts several edges (their batches interleave). */
  multiple?: boolean
}

export const rows = (spec: Omit<PortSpec, 'type'> = {}): PortSpec => ({ type: 'rows', ...spec })
export const results = (spec: Omit<PortSpec, 'type'> = {}): PortSpec => ({ type: 'results', ...spec })

/** The name of the port every row-failing node gains when `onRowError` is `route`. */
export const REJECTED_PORT = 'rejected'

/** Whether an output of type `from` may feed an input of type `to`; the reason when not. */
export function checkPortTypes(from: PortType, to: PortType): { ok: true } | { ok: false; reason: string } {
  const accepts: readonly string[] = portTypes[to].accepts
  if (accepts.includes(from)) return { ok: true }
  return {
    ok: false,
    reason: `a ${portTypes[from].title.toLowerCase()} output cannot feed a ${portTypes[to].title.toLowerCase()} input`,
  }
}
