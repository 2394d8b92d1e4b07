import { useCallback, useEffect, useState } from 'react'
import { errorText } from '../../api/client.ts'
import {
  isPending,
  plansApi,
  type ApprovalRequest,
  type PlanView,
  type RunWithMode,
} from '../../api/plans.ts'
import type { Row } from '../../api/types.ts'
import { formatDate, formatDuration, formatNumber } from '../../lib/files.ts'
import { DataTable, inferColumns } from '../../panel/data-table.tsx'
import { StatsCells, StatsHead, StatusBadge } from '../../panel/bottom-panels.tsx'
import { Dialog } from '../../ui/dialog.tsx'
import { Icon } from '../../ui/icons.tsx'
import { notify } from '../../ui/toasts.tsx'
import { isTerminal, useLiveRun } from './live-run.ts'
import { ACTION_LABELS, PlanPanel, changeCount, describeCounts } from './plan-view.tsx'

const runHref = (id: string) => `#/runs/${encodeURIComponent(id)}`
const graphHref = (id: string) => `#/graphs/${encodeURIComponent(id)}`

/** A run's page (`#/runs/<id>`): status, timings, per-node stats, errors, rejected rows, and for plan runs the plan with Apply. */
export function RunDetailScreen({ runId }: { runId: string }) {
  const { run, error } = useLiveRun(runId)
  const [rejectedOf, setRejectedOf] = useState<string | null>(null)

  if (error && !run)
    return (
      <main className="page run-page">
        <h1>Run {runId.slice(0, 8)}</h1>
        <div className="notice notice-error" role="alert">
          Cannot show this run: {error}
        </div>
        <p>
          <a href="#/">Back to graphs</a>
        </p>
      </main>
    )
  if (!run)
    return (
      <div className="splash" aria-busy="true">
        <span className="spinner" /> Loading run…
      </div>
    )

  const done = isTerminal(run.status)
  const title = run.mode === 'plan' ? 'Plan' : run.mode === 'apply' ? 'Apply' : 'Run'
  return (
    <main className="page run-page" aria-labelledby="run-title">
      <div className="page-head">
        <h1 id="run-title">
          {title} <span className="mono">{run.id.slice(0, 8)}</span>
        </h1>
        <StatusBadge status={run.status} />
        <span className="badge" data-testid="run-mode">
          {run.mode === 'run' ? 'run' : run.mode === 'plan' ? 'plan mode' : 'apply'}
        </span>
        <div className="grow" />
        {!done && (
          <button
            className="btn btn-danger"
            onClick={() => plansApi.cancel(run.id).catch((e) => notify.error(e))}
          >
            <Icon name="stop" /> Cancel
          </button>
        )}
        {run.graphId && (
          <a className="btn" href={graphHref(run.graphId)}>
            <Icon name="graph" /> Open graph
          </a>
        )}
      </div>
      <dl className="run-facts">
        <div>
          <dt>Graph</dt>
          <dd>{run.graphId ? <a href={graphHref(run.graphId)}>{run.graphName}</a> : run.graphName}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDate(run.createdAt)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatDate(run.startedAt)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{formatDate(run.finishedAt)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd data-testid="run-duration">{formatDuration(run.durationMs)}</dd>
        </div>
        {run.planRunId && (
          <div>
            <dt>Applies the plan of</dt>
            <dd>
              <a href={runHref(run.planRunId)}>run {run.planRunId.slice(0, 8)}</a>
            </dd>
          </div>
        )}
      </dl>

      {run.errors.length > 0 && (
        <section className="section" aria-labelledby="errors-title">
          <h2 id="errors-title">Errors</h2>
          <ul className="error-list" aria-label="Run errors">
            {run.errors.map((e, i) => (
              <li key={i}>
                <Icon name="error" size={14} />
                <span className="mono faint">{e.code}</span>
                {e.nodeId &&
                  (run.graphId ? (
                    <a className="mono" href={graphHref(run.graphId)} title={`Open the graph at ${e.nodeId}`}>
                      {e.nodeId}
                    </a>
                  ) : (
                    <span className="mono">{e.nodeId}</span>
                  ))}
                {e.row !== undefined && <span className="faint">row {e.row}</span>}
                <span>{e.message}</span>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section className="section" aria-labelledby="nodes-title">
        <h2 id="nodes-title">Nodes</h2>
        <NodeStatsTable run={run} onRejected={setRejectedOf} />
      </section>

      {rejectedOf && <RejectedRows runId={run.id} nodeId={rejectedOf} onClose={() => setRejectedOf(null)} />}

      {run.mode !== 'run' && (
        <section className="section" aria-labelledby="plan-title">
          <h2 id="plan-title">{run.mode === 'plan' ? 'Plan' : 'Applied plan'}</h2>
          {!done && (
            <div className="empty">
              <span className="spinner" /> The plan is stored when the run ends…
            </div>
          )}
          {done && run.mode === 'plan' && run.status !== 'succeeded' && (
            <div className="notice notice-warning">
              The plan run {run.status}; it stored no plan to review. See the errors above.
            </div>
          )}
          {done && (run.mode === 'apply' || run.status === 'succeeded') && <PlanWithApply run={run} />}
        </section>
      )}
    </main>
  )
}

function NodeStatsTable({ run, onRejected }: { run: RunWithMode; onRejected: (nodeId: string) => void }) {
  const entries = Object.entries(run.nodes)
  if (entries.length === 0) return <div className="empty">No node has started yet.</div>
  return (
    <div className="card">
      <table className="table" aria-label="Rows per node">
        <StatsHead />
        <tbody>
          {entries.map(([id, s]) => (
            <tr key={id} data-testid={`node-row-${id}`}>
              <td className="mono">{id}</td>
              <StatsCells id={id} stats={s} onRejected={onRejected} />
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function RejectedRows({ runId, nodeId, onClose }: { runId: string; nodeId: string; onClose: () => void }) {
  const [rows, setRows] = useState<Row[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    setRows(null)
    plansApi
      .rejected(runId, nodeId)
      .then((r) => setRows(r.rows))
      .catch((e) => setError(errorText(e)))
  }, [runId, nodeId])
  return (
    <section className="section" aria-labelledby="rejected-title">
      <div className="page-head">
        <h2 id="rejected-title">
          Rejected rows of <span className="mono">{nodeId}</span>
        </h2>
        <div className="grow" />
        <button className="btn btn-sm" onClick={onClose}>
          Close
        </button>
      </div>
      {error && <div className="notice notice-error">{error}</div>}
      {rows && rows.length === 0 && <div className="empty">No rejected rows kept for this node.</div>}
      {rows && rows.length > 0 && (
        <DataTable label={`Rejected rows of ${nodeId}`} columns={inferColumns(rows)} rows={rows} />
      )}
    </section>
  )
}

/** Why Apply cannot run now, or null when it can. */
function applyBlocker(
  run: RunWithMode,
  view: PlanView | null,
): { reason: string; link?: { href: string; text: string } } | null {
  if (run.mode !== 'plan') return { reason: 'Only a plan run can be applied.' }
  if (run.status !== 'succeeded')
    return { reason: `The plan run ${run.status}; only a plan run that succeeded can be applied.` }
  if (view === null) return { reason: 'Loading the plan…' }
  const applied = view.appliedBy.find((a) => ['queued', 'running', 'succeeded'].includes(a.status))
  if (applied)
    return {
      reason: `This plan was applied already (${applied.status}).`,
      link: { href: runHref(applied.id), text: `Open apply run ${applied.id.slice(0, 8)}` },
    }
  if (view.stale)
    return {
      reason: 'The graph changed since this plan was made; make a new plan.',
      ...(run.graphId ? { link: { href: graphHref(run.graphId), text: 'Open the graph' } } : {}),
    }
  const over = view.nodes.filter((n) => n.thresholds.exceeded)
  if (over.length > 0)
    return {
      reason: `Over a threshold: ${over.map((n) => `${n.nodeId}: ${n.thresholds.message ?? 'too many removals'}`).join('; ')}`,
    }
  if (changeCount(view.nodes) === 0) return { reason: 'Nothing to apply: the plan has no changes.' }
  return null
}

/** The plan of a plan or apply run, and for a plan run the Apply button with its conditions. */
function PlanWithApply({ run }: { run: RunWithMode }) {
  const [view, setView] = useState<PlanView | null>(null)
  const [confirm, setConfirm] = useState(false)
  const [busy, setBusy] = useState(false)
  const [applyRunId, setApplyRunId] = useState<string | null>(null)
  const [planKey, setPlanKey] = useState(0)
  const [approval, setApproval] = useState<{ required: boolean; request: ApprovalRequest | null } | null>(
    null,
  )
  const { run: applyRun } = useLiveRun(applyRunId)
  const applyDone = applyRun !== null && isTerminal(applyRun.status)

  const checkApproval = useCallback(() => {
    if (run.mode !== 'plan' || !run.graphId) {
      setApproval({ required: false, request: null })
      return
    }
    const graphId = run.graphId
    Promise.all([plansApi.approvalRules(), plansApi.approvals({ jobId: graphId, limit: 50 })])
      .then(([{ rules }, { approvals }]) =>
        setApproval({
          required: rules.some((r) => r.jobKind === 'graph' && r.jobId === graphId),
          request:
            approvals.find((a) => a.planRunId === run.id && (a.status === 'pending' || a.runId !== null)) ??
            null,
        }),
      )
      .catch(() => setApproval({ required: false, request: null }))
  }, [run.id, run.mode, run.graphId])
  useEffect(checkApproval, [checkApproval])

  useEffect(() => {
    if (!applyDone || !applyRun) return
    if (applyRun.status === 'succeeded') notify.success('The plan was applied')
    else notify.error(new Error(`The apply run ${applyRun.status}`))
    setPlanKey((k) => k + 1)
  }, [applyDone])

  const blocker = applyBlocker(run, view)
  const pendingRequest = approval?.request?.status === 'pending' ? approval.request : null

  const apply = async () => {
    setBusy(true)
    try {
      const reply = await plansApi.apply(run.id)
      setConfirm(false)
      if (isPending(reply)) {
        notify.info('The request to apply this plan waits for an approver')
        checkApproval()
      } else {
        setApplyRunId(reply.id)
      }
    } catch (e) {
      notify.error(e)
      setConfirm(false)
      setPlanKey((k) => k + 1)
    } finally {
      setBusy(false)
    }
  }

  const applyBar =
    run.mode !== 'plan' ? null : (
      <div className="apply-bar" data-testid="apply-bar">
        {approval?.required && !blocker ? (
          <>
            <button className="btn btn-primary" disabled title="Applying this graph needs approval">
              <Icon name="play" /> Apply
            </button>
            {pendingRequest ? (
              <span className="reason" data-testid="apply-reason">
                A request to apply this plan waits for approval. <a href="#/approvals">Open approvals</a>
              </span>
            ) : (
              <>
                <span className="reason" data-testid="apply-reason">
                  Applying this graph needs approval by another user. <a href="#/approvals">Approvals</a>
                </span>
                <button className="btn" onClick={() => setConfirm(true)}>
                  Request approval
                </button>
              </>
            )}
          </>
        ) : (
          <>
            <button
              className="btn btn-primary"
              disabled={blocker !== null || applyRunId !== null}
              onClick={() => setConfirm(true)}
              aria-describedby="apply-reason"
            >
              <Icon name="play" /> Apply
            </button>
            {blocker ? (
              <span className="reason" id="apply-reason" data-testid="apply-reason">
                {blocker.reason} {blocker.link && <a href={blocker.link.href}>{blocker.link.text}</a>}
              </span>
            ) : (
              view &&
              !applyRunId && (
                <span className="reason" id="apply-reason" data-testid="apply-reason">
                  Applies exactly this plan: {describeCounts(view.nodes)}.
                </span>
              )
            )}
          </>
        )}
        {applyRunId && (
          <span className="reason" data-testid="apply-run">
            Apply run <a href={runHref(applyRunId)}>{applyRunId.slice(0, 8)}</a>{' '}
            <StatusBadge status={applyRun?.status ?? 'queued'} />
            {applyRun &&
              Object.entries(applyRun.nodes)
                .filter(([, s]) => s.type.endsWith('.sync'))
                .map(([id, s]) => (
                  <span key={id} className="muted">
                    {' '}
                    · {id}: {formatNumber(s.rowsOut)} result rows
                  </span>
                ))}
          </span>
        )}
      </div>
    )

  const counts = view ? describeCounts(view.nodes) : ''
  const target = view?.nodes.map((n) => `${n.nodeId} (${n.type})`).join(', ')
  return (
    <>
      {applyBar}
      <PlanPanel key={planKey} source={{ kind: 'run', runId: run.id }} onLoaded={setView} />
      <Dialog
        title={approval?.required ? 'Request approval to apply' : 'Apply this plan?'}
        open={confirm}
        onClose={() => setConfirm(false)}
        onSubmit={apply}
        busy={busy}
        danger={(view?.nodes ?? []).some((n) => (n.counts.delete ?? 0) > 0)}
        submitLabel={approval?.required ? 'Request approval' : 'Apply'}
      >
        <p data-testid="apply-summary">
          Apply exactly this plan to {target}: <strong>{counts}</strong>.
        </p>
        {view && (
          <ul className="faint">
            {view.nodes.map((n) => (
              <li key={n.nodeId}>
                {n.nodeId}:{' '}
                {Object.entries(n.counts)
                  .filter(([, c]) => c > 0)
                  .map(([a, c]) => `${ACTION_LABELS[a as keyof typeof ACTION_LABELS]} ${formatNumber(c)}`)
                  .join(', ')}
              </li>
            ))}
          </ul>
        )}
        {approval?.required && <p>An approver other than you must approve before anything is written.</p>}
      </Dialog>
    </>
  )
}
