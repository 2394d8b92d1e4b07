import type { RunReply } from '../../api/jobs.ts'
import { relativeTime } from '../../lib/cadence.ts'
import { formatDate } from '../../lib/files.ts'
import { notify } from '../../ui/toasts.tsx'
import '../../styles/jobs.css'

/** Tell the person what a run request did: a run started, or a request waits for approval. */
export function announceRun(name: string, reply: RunReply): void {
  if ('approvalId' in reply)
    notify.info(`“${name}” needs approval: the run request waits on the Approvals page`)
  else notify.success(`“${name}” started`)
}

/** The next run of a job, as a date and how far away it is. */
export function NextRun({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="faint">—</span>
  return (
    <span data-testid="next-run">
      {formatDate(at)} <span className="faint sg-nowrap">({relativeTime(at)})</span>
    </span>
  )
}

const statusTone: Record<string, string> = {
  succeeded: 'badge-success',
  failed: 'badge-danger',
  cancelled: 'badge-warning',
  interrupted: 'badge-warning',
  running: 'badge-accent',
  queued: 'badge-accent',
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${statusTone[status] ?? ''}`}>{status}</span>
}
