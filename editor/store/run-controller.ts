import { api } from '../api/client.ts'
import { runSocket } from '../api/ws.ts'
import type { RunSnapshot } from '../../engine/progress.ts'
import type { RunRecord } from '../../engine/ws-messages.ts'
import { useRun, type RunLog } from './run-store.ts'

const terminal = new Set(['succeeded', 'failed', 'cancelled', 'interrupted'])
/** Above this many nodes the canvas takes counters 5 times a second (at least the 4 promised) instead of every frame. */
export const LARGE_RUN_NODES = 100
const LARGE_RUN_INTERVAL_MS = 200

function recordToSnapshot(run: RunRecord): RunSnapshot & { errors: RunRecord['errors'] } {
  return {
    runId: run.id,
    status: run.status === 'interrupted' ? 'failed' : run.status,
    elapsedMs: run.durationMs ?? 0,
    nodes: run.nodes,
    edges: run.edges,
    errors: run.errors,
  }
}

/**
 * Follow a run over the WebSocket. Messages are coalesced: the store is updated at most once per
 * animation frame, whatever rate the server sends at, and for a graph of more than LARGE_RUN_NODES
 * nodes at most 5 times a second (redrawing hundreds of counters costs the page more than a frame).
 * Polls as a fallback when the socket is silent.
 */
export function followRun(runId: string, onFinished?: () => void): () => void {
  const store = useRun.getState()
  store.start(runId)
  let pending: RunSnapshot | null = null
  let logs: RunLog[] = []
  let frame = 0
  let delay: ReturnType<typeof setTimeout> | undefined
  let lastFlush = 0
  let lastMessage = Date.now()
  let done = false

  const finish = (final: RunSnapshot & { errors?: RunRecord['errors'] }, status: RunRecord['status']) => {
    if (done) return
    done = true
    pending = null
    flush()
    useRun.getState().finish({ ...final, status: status === 'interrupted' ? 'failed' : status })
    if (status === 'interrupted') useRun.setState({ status: 'interrupted' })
    stop()
    onFinished?.()
  }
  const flush = () => {
    frame = 0
    lastFlush = performance.now()
    if (pending) useRun.getState().applySnapshot(pending)
    pending = null
    if (logs.length) useRun.getState().addLogs(logs)
    logs = []
  }
  const schedule = () => {
    if (frame !== 0 || delay !== undefined) return
    const large = pending !== null && Object.keys(pending.nodes).length > LARGE_RUN_NODES
    const wait = large ? lastFlush + LARGE_RUN_INTERVAL_MS - performance.now() : 0
    if (wait <= 0) frame = requestAnimationFrame(flush)
    else
      // Straight from the timer: waiting for a frame as well would slow the rate when frames are slow.
      delay = setTimeout(() => {
        delay = undefined
        flush()
      }, wait)
  }

  const unsubscribe = runSocket.subscribe(runId, (message) => {
    lastMessage = Date.now()
    switch (message.type) {
      case 'snapshot':
        if (terminal.has(message.run.status)) finish(recordToSnapshot(message.run), message.run.status)
        else {
          pending = recordToSnapshot(message.run)
          schedule()
        }
        break
      case 'progress':
        pending = message.snapshot
        schedule()
        break
      case 'log':
        logs.push({
          level: message.level,
          message: message.message,
          time: message.time,
          ...(message.nodeId ? { nodeId: message.nodeId } : {}),
        })
        schedule()
        break
      case 'finished':
        finish(message.summary, message.status)
        break
      case 'error':
        logs.push({ level: 'error', message: message.message, time: new Date().toISOString() })
        schedule()
        break
      default: {
        const never: never = message
        void never
      }
    }
  })

  const poll = setInterval(() => {
    if (done || Date.now() - lastMessage < 2000) return
    api
      .getRun(runId)
      .then((run) => {
        if (terminal.has(run.status)) finish(recordToSnapshot(run), run.status)
        else {
          pending = recordToSnapshot(run)
          schedule()
        }
      })
      .catch(() => undefined)
  }, 1000)

  function stop() {
    clearInterval(poll)
    unsubscribe()
    if (frame) cancelAnimationFrame(frame)
    clearTimeout(delay)
  }
  return () => {
    done = true
    stop()
  }
}
