import type { NodeStats } from '../api/types.ts'

/**
 * Rows a graph run read and wrote, from its per-node stats: sources (nodes that took no rows in) count
 * what they emitted; writers and syncs (`*.write`, `*.sync`) count what they took in.
 */
export function stepRows(nodes: Record<string, Pick<NodeStats, 'type' | 'rowsIn' | 'rowsOut'>>): {
  read: number
  written: number
} {
  let read = 0
  let written = 0
  for (const stats of Object.values(nodes)) {
    if (stats.rowsIn === 0) read += stats.rowsOut
    if (/\.(write|sync)$/.test(stats.type)) written += stats.rowsIn
  }
  return { read, written }
}
