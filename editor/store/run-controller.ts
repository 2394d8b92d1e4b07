import { api } from '../api/client.ts'
import { runSocket } from '../api/ws.ts'
import type { RunSnapshot } from '../../engine/progress.ts'
import type { RunRecord } from '../../engine/ws-messages.ts'
import { useRun, type RunLog } from './run-store.ts'

const terminal = new Set(['succeeded', 'failed', 'cancelled', 'interrupted'])

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
 * animation frame, whatever rate the server sends at. Polls as a fallback when the socket is silent.
 */
export function followRun(runId: string, onFinished?: () => void): () => void {
  const store = useRun.getState()
  store.start(runId)
  let pending: RunSnapshot | null = null
  let logs: RunLog[] = []
  let frame = 0
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
    if (pending) useRun.getState().applySnapshot(pending)
    pending = null
    if (logs.length) useRun.getState().addLogs(logs)
    logs = []
  }
  const schedule = () => {
    if (frame === 0) frame = requestAnimationFrame(flush)
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
  }
  return () => {
    done = true
    stop()
  }
}
