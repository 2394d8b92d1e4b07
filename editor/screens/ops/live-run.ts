import { useEffect, useState } from 'react'
import { errorText } from '../../api/client.ts'
import { plansApi, type RunWithMode } from '../../api/plans.ts'
import { runSocket } from '../../api/ws.ts'

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'interrupted'])

export const isTerminal = (status: string | undefined): boolean =>
  status !== undefined && TERMINAL.has(status)

/**
 * A stored run, kept current while it goes: progress and the finish arrive over the WebSocket
 * (`editor/api/ws.ts`); when it ends, the stored record is read again. Polls while the socket is silent.
 */
export function useLiveRun(runId: string | null): { run: RunWithMode | null; error: string | null } {
  const [run, setRun] = useState<RunWithMode | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    setRun(null)
    setError(null)
    if (runId === null) return
    let stopped = false
    let finished = false
    let lastMessage = Date.now()
    const load = () =>
      plansApi
        .run(runId)
        .then((r) => {
          if (stopped) return
          setRun(r)
          setError(null)
          if (isTerminal(r.status)) {
            finished = true
            cleanup()
          }
        })
        .catch((e) => !stopped && setError(errorText(e)))

    const unsubscribe = runSocket.subscribe(runId, (message) => {
      lastMessage = Date.now()
      if (finished) return
      if (message.type === 'progress') {
        const s = message.snapshot
        // The engine may be done before the server has stored the run (and its plan): the stored
        // record, read on "finished", is what says a run has ended.
        setRun((r) =>
          r === null
            ? r
            : {
                ...r,
                status: isTerminal(s.status) ? 'running' : s.status,
                nodes: s.nodes,
                edges: s.edges,
                durationMs: s.elapsedMs,
              },
        )
      } else if (message.type === 'snapshot' || message.type === 'finished') {
        const status = message.type === 'snapshot' ? message.run.status : message.status
        if (isTerminal(status)) void load()
        else if (message.type === 'snapshot') setRun((r) => (r === null ? r : { ...r, ...message.run }))
      }
    })
    const poll = setInterval(() => {
      if (!finished && Date.now() - lastMessage > 2000) void load()
    }, 1000)
    let subscribed = true
    function cleanup() {
      clearInterval(poll)
      if (subscribed) unsubscribe()
      subscribed = false
    }
    void load()
    return () => {
      stopped = true
      cleanup()
    }
  }, [runId])

  return { run, error }
}
