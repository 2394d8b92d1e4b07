import { useEffect, useRef, useState } from 'react'
import { jobsApi, type ScheduleView } from '../../api/jobs.ts'
import { notify } from '../../ui/toasts.tsx'
import { NotificationsDialog } from './notification-rules.tsx'
import { ScheduleDialog } from './schedule-dialog.tsx'

/** Which job dialog of a graph is open, from the graph list or the editor. */
export interface GraphJobAction {
  kind: 'schedule' | 'notifications'
  graph: { id: string; name: string }
}

/** The schedule or notification dialog of one graph; the schedule dialog loads the graph's schedule first. */
export function GraphJobDialog({
  action,
  onClose,
  onSaved,
}: {
  action: GraphJobAction
  onClose: () => void
  onSaved?: () => void
}) {
  const [existing, setExisting] = useState<ScheduleView | null | undefined>(undefined)
  const { id, name } = action.graph
  const close = useRef(onClose)
  close.current = onClose
  useEffect(() => {
    if (action.kind !== 'schedule') return
    jobsApi
      .listSchedules()
      .then(({ schedules }) =>
        setExisting(schedules.find((s) => s.jobKind === 'graph' && s.jobId === id) ?? null),
      )
      .catch((e) => {
        notify.error(e)
        close.current()
      })
  }, [action.kind, id])

  if (action.kind === 'notifications')
    return <NotificationsDialog kind="graph" jobId={id} name={name} onClose={onClose} />
  if (existing === undefined) return null
  return (
    <ScheduleDialog
      job={{ kind: 'graph', id, name }}
      existing={existing}
      onClose={onClose}
      onSaved={() => {
        onSaved?.()
        onClose()
      }}
    />
  )
}
