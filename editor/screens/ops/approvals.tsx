import { useCallback, useEffect, useState } from 'react'
import { api, errorText } from '../../api/client.ts'
import { plansApi, type ApprovalRequest } from '../../api/plans.ts'
import type { User } from '../../api/types.ts'
import { formatDate } from '../../lib/files.ts'
import { lacks, useCan } from '../../lib/permissions.ts'
import { StatusBadge } from '../../panel/bottom-panels.tsx'
import { Icon } from '../../ui/icons.tsx'
import { notify } from '../../ui/toasts.tsx'
import { isTerminal, useLiveRun } from './live-run.ts'
import { PlanPanel } from './plan-view.tsx'
import { ErrorNotice } from '../../ui/status.tsx'
import { TextField } from '../../ui/text-field.tsx'

const runHref = (id: string) => `#/runs/${encodeURIComponent(id)}`
const jobHref = (a: ApprovalRequest) =>
  a.jobKind === 'graph' ? `#/graphs/${encodeURIComponent(a.jobId)}` : '#/collections'

const statusTone: Record<ApprovalRequest['status'], string> = {
  pending: 'badge-accent',
  approved: 'badge-success',
  denied: 'badge-danger',
  expired: 'badge-warning',
}

function ApprovalStatusBadge({ status }: { status: ApprovalRequest['status'] }) {
  return <span className={`badge ${statusTone[status]}`}>{status}</span>
}

/** Approvals (`#/approvals`): pending requests with their plan, Approve / Deny with a comment, and decided requests. */
export function ApprovalsScreen() {
  const [requests, setRequests] = useState<ApprovalRequest[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [me, setMe] = useState<User | null>(null)

  const load = useCallback(() => {
    plansApi
      .approvals({ limit: 200 })
      .then(({ approvals }) => {
        setRequests(approvals)
        setError(null)
      })
      .catch((e) => setError(errorText(e)))
  }, [])
  useEffect(() => {
    load()
    api
      .me()
      .then(({ user }) => setMe(user))
      .catch(() => undefined)
    // New requests (a schedule, a colleague) appear without a reload.
    const timer = setInterval(load, 10_000)
    return () => clearInterval(timer)
  }, [load])

  const pending = requests?.filter((r) => r.status === 'pending') ?? []
  const decided = requests?.filter((r) => r.status !== 'pending') ?? []
  return (
    <main className="page run-page" aria-labelledby="approvals-title">
      <div className="page-head">
        <h1 id="approvals-title">Approvals</h1>
        <div className="grow" />
        <button className="btn" onClick={load}>
          Refresh
        </button>
      </div>
      <ErrorNotice error={error} />
      {requests === null && !error && <div className="empty">Loading…</div>}

      <section aria-labelledby="pending-title">
        <h2 id="pending-title">Waiting for approval ({pending.length})</h2>
        {requests !== null && pending.length === 0 && (
          <div className="empty card">No request waits for approval.</div>
        )}
        <ul className="approval-list">
          {pending.map((r) => (
            <li key={r.id}>
              <PendingRequest request={r} me={me} onDecided={load} />
            </li>
          ))}
        </ul>
      </section>

      <section className="section" aria-labelledby="decided-title">
        <h2 id="decided-title">Decided</h2>
        {requests !== null && decided.length === 0 && (
          <div className="empty card">No decided requests yet.</div>
        )}
        {decided.length > 0 && (
          <div className="card">
            <table className="table list-table" aria-label="Decided requests">
              <thead>
                <tr>
                  <th>Job</th>
                  <th>Status</th>
                  <th>Requested by</th>
                  <th>Requested</th>
                  <th>Decided by</th>
                  <th>Decided</th>
                  <th>Comment</th>
                  <th>Run</th>
                </tr>
              </thead>
              <tbody>
                {decided.map((r) => (
                  <tr key={r.id} data-testid="decided-row">
                    <td>
                      <a className="row-link" href={jobHref(r)}>
                        {r.jobName}
                      </a>
                    </td>
                    <td>
                      <ApprovalStatusBadge status={r.status} />
                    </td>
                    <td>{r.requestedByName ?? (r.trigger === 'schedule' ? 'schedule' : '—')}</td>
                    <td className="muted">{formatDate(r.requestedAt)}</td>
                    <td>{r.decidedByName ?? (r.status === 'expired' ? '(expired)' : '—')}</td>
                    <td className="muted">{formatDate(r.decidedAt)}</td>
                    <td className="ellipsis" title={r.comment}>
                      {r.comment}
                    </td>
                    <td>
                      {r.runId && r.jobKind === 'graph' ? (
                        <a href={runHref(r.runId)}>{r.runId.slice(0, 8)}</a>
                      ) : r.runId ? (
                        <span className="mono">{r.runId.slice(0, 8)}</span>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </main>
  )
}

function PendingRequest({
  request: r,
  me,
  onDecided,
}: {
  request: ApprovalRequest
  me: User | null
  onDecided: () => void
}) {
  const [comment, setComment] = useState('')
  const [busy, setBusy] = useState<'approve' | 'deny' | null>(null)
  const [error, setError] = useState<string | null>(null)
  const { run: planRun } = useLiveRun(r.planRunId)
  const own = me !== null && r.requestedBy === me.id
  // Deciding another user's request takes the approve permission; withdrawing one's own does not.
  const canApprove = useCan('approve')
  const params = Object.entries(r.params)

  const decide = async (how: 'approve' | 'deny') => {
    setBusy(how)
    setError(null)
    try {
      const decided =
        how === 'approve' ? await plansApi.approve(r.id, comment) : await plansApi.deny(r.id, comment)
      notify.success(
        how === 'approve'
          ? `Approved “${r.jobName}”`
          : own
            ? `Withdrew the request`
            : `Denied “${r.jobName}”`,
      )
      if (decided.runId && decided.jobKind === 'graph')
        notify.info(`Started run ${decided.runId.slice(0, 8)}`)
      onDecided()
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(null)
    }
  }

  return (
    <article
      className="approval-card"
      aria-label={`Request to run ${r.jobName}`}
      data-testid="pending-request"
    >
      <div className="plan-head">
        <h3>
          <a className="row-link" href={jobHref(r)}>
            {r.jobName}
          </a>{' '}
          <span className="faint">({r.jobKind})</span>
        </h3>
        <ApprovalStatusBadge status={r.status} />
        {r.planRunId && <span className="badge">plan review</span>}
      </div>
      <dl className="run-facts">
        <div>
          <dt>Requested by</dt>
          <dd>{r.requestedByName ?? (r.trigger === 'schedule' ? 'a schedule' : '—')}</dd>
        </div>
        <div>
          <dt>Requested</dt>
          <dd>{formatDate(r.requestedAt)}</dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>{formatDate(r.expiresAt)}</dd>
        </div>
        <div>
          <dt>Trigger</dt>
          <dd>{r.trigger}</dd>
        </div>
        {params.length > 0 && (
          <div>
            <dt>Parameters</dt>
            <dd className="mono">{params.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}</dd>
          </div>
        )}
        {r.planRunId && (
          <div>
            <dt>Plan run</dt>
            <dd>
              <a href={runHref(r.planRunId)}>{r.planRunId.slice(0, 8)}</a>{' '}
              {planRun && <StatusBadge status={planRun.status} />}
            </dd>
          </div>
        )}
      </dl>
      {r.planRunId && planRun && !isTerminal(planRun.status) && (
        <div className="empty">
          <span className="spinner" /> Computing the plan…
        </div>
      )}
      {r.planRunId && planRun?.status === 'succeeded' && (
        <PlanPanel source={{ kind: 'approval', approvalId: r.id }} />
      )}
      {r.planRunId && planRun && isTerminal(planRun.status) && planRun.status !== 'succeeded' && (
        <div className="notice notice-warning">
          The plan run {planRun.status}: {planRun.errors[0]?.message ?? 'no plan was stored'}. Deny this
          request and ask for a new one.
        </div>
      )}
      {!r.planRunId && (
        <p className="muted">
          Approving runs the {r.jobKind} as it is now{r.jobKind === 'graph' ? '' : ', step by step'}.
        </p>
      )}
      {own && (
        <div className="notice notice-warning">
          <Icon name="warning" size={14} /> You asked for this run: another approver must approve it. You can
          withdraw it.
        </div>
      )}
      <div className="approval-decide">
        <TextField
          label="Comment"
          value={comment}
          onChange={setComment}
          maxLength={2000}
          placeholder="Why you approve or deny (kept with the request)"
        />
        <button
          className="btn btn-primary"
          disabled={!canApprove || busy !== null || (r.planRunId !== null && planRun?.status !== 'succeeded')}
          {...(canApprove ? {} : { title: lacks('approve') })}
          onClick={() => void decide('approve')}
        >
          {busy === 'approve' ? <span className="spinner" aria-hidden="true" /> : <Icon name="check" />}
          {r.planRunId ? 'Approve and apply' : 'Approve'}
        </button>
        <button
          className="btn btn-danger"
          disabled={busy !== null || (!own && !canApprove)}
          onClick={() => void decide('deny')}
        >
          {busy === 'deny' && <span className="spinner" aria-hidden="true" />}
          {own ? 'Withdraw' : 'Deny'}
        </button>
      </div>
      {error && (
        <div className="notice notice-error" role="alert" data-testid="decision-error">
          {error}
        </div>
      )}
    </article>
  )
}
