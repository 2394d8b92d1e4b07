import type { RunRecord } from '../../engine/ws-messages.ts'
import type { RunManager } from '../runs/manager.ts'

const ENDED = new Set(['succeeded', 'failed', 'cancelled', 'interrupted'])

/** Resolves with the stored run once it has ended (at once when it already has). */
export function runEnded(runs: RunManager, id: string): Promise<RunRecord> {
  return new Promise((resolve) => {
    const stop = runs.listen((notice) => {
      if (notice.type === 'finished' && notice.runId === id) {
        stop()
        resolve(runs.get(id))
      }
    })
    const now = runs.get(id)
    if (ENDED.has(now.status)) {
      stop()
      resolve(now)
    }
  })
}
