import { useCallback, useEffect, useState } from 'react'
import { errorText } from '../../api/client.ts'
import {
  jobsApi,
  notifyEvents,
  type JobKind,
  type NotificationDelivery,
  type NotificationRule,
  type NotifyEvent,
} from '../../api/jobs.ts'
import { formatDate } from '../../lib/files.ts'
import { useCan } from '../../lib/permissions.ts'
import { RowAction } from '../../ui/buttons.tsx'
import { CloseFooter, Dialog } from '../../ui/dialog.tsx'
import { Icon } from '../../ui/icons.tsx'
import { notify } from '../../ui/toasts.tsx'
import '../../styles/jobs.css'
import { ErrorNotice } from '../../ui/status.tsx'
import { ActionsHeader } from '../../ui/table.tsx'

const EVENT_LABELS: Record<NotifyEvent, string> = {
  failure: 'On failure',
  threshold: 'Stopped by a threshold',
  changes: 'Changes made',
  always: 'Always',
}

/** The rules that send an e-mail or call a webhook when a run of this graph or collection ends. */
export function NotificationRules({
  kind,
  jobId,
  refreshKey,
}: {
  kind: JobKind
  jobId: string
  /** Reload (rules and deliveries) when this changes, e.g. when a run ends. */
  refreshKey?: string | number
}) {
  const [rules, setRules] = useState<NotificationRule[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [channel, setChannel] = useState<'email' | 'webhook'>('email')
  const [target, setTarget] = useState('')
  const [secret, setSecret] = useState('')
  const [deliveries, setDeliveries] = useState<NotificationDelivery[]>([])
  const [events, setEvents] = useState<NotifyEvent[]>(['failure'])
  const [busy, setBusy] = useState(false)
  const [formError, setFormError] = useState<string | null>(null)
  const canRun = useCan('run')

  const load = useCallback(() => {
    jobsApi
      .notificationRules(kind, jobId)
      .then(({ rules }) => {
        setRules(rules)
        setError(null)
      })
      .catch((e) => setError(errorText(e)))
    jobsApi
      .notificationDeliveries(jobId)
      .then(({ deliveries }) => setDeliveries(deliveries.filter((d) => d.jobKind === kind)))
      .catch(() => undefined)
  }, [kind, jobId])
  useEffect(load, [load, refreshKey])

  const add = async () => {
    setBusy(true)
    setFormError(null)
    try {
      const recipients = target
        .split(/[,;\s]+/)
        .map((s) => s.trim())
        .filter(Boolean)
      await jobsApi.createNotificationRule({
        jobKind: kind,
        jobId,
        channel,
        ...(channel === 'email'
          ? { to: recipients }
          : { url: target.trim(), ...(secret === '' ? {} : { secret }) }),
        on: events,
      })
      setTarget('')
      setSecret('')
      notify.success('Notification rule added')
      load()
    } catch (e) {
      setFormError(errorText(e))
    } finally {
      setBusy(false)
    }
  }

  const remove = async (rule: NotificationRule) => {
    try {
      await jobsApi.deleteNotificationRule(rule.id)
      notify.success('Notification rule removed')
      load()
    } catch (e) {
      notify.error(e)
    }
  }

  const toggle = (event: NotifyEvent) =>
    setEvents(events.includes(event) ? events.filter((e) => e !== event) : [...events, event])

  return (
    <div className="stack">
      <ErrorNotice error={error} />
      {rules !== null && rules.length === 0 && <p className="muted">No notifications yet.</p>}
      {rules !== null && rules.length > 0 && (
        <table className="table list-table" aria-label="Notification rules">
          <thead>
            <tr>
              <th>Channel</th>
              <th>Sent to</th>
              <th>When</th>
              <ActionsHeader />
            </tr>
          </thead>
          <tbody>
            {rules.map((r) => (
              <tr key={r.id}>
                <td>{r.channel === 'email' ? 'E-mail' : 'Webhook'}</td>
                <td className="sg-wrap">
                  <span className="mono">{r.channel === 'email' ? (r.to ?? []).join(', ') : r.url}</span>{' '}
                  {r.signed && <span className="badge badge-success">signed</span>}
                </td>
                <td className="sg-wrap">
                  <span className="row sg-badges">
                    {r.on.map((e) => (
                      <span key={e} className="badge">
                        {EVENT_LABELS[e]}
                      </span>
                    ))}
                  </span>
                </td>
                <td className="actions">
                  {canRun && (
                    <RowAction
                      label={`Remove notification to ${r.channel === 'email' ? (r.to ?? []).join(', ') : r.url}`}
                      icon="trash"
                      danger
                      onClick={() => void remove(r)}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canRun && (
        <div className="sg-inline-form" role="group" aria-label="Add a notification rule">
          <div className="row">
            <select
              className="select"
              style={{ width: 130 }}
              aria-label="Channel"
              value={channel}
              onChange={(e) => setChannel(e.target.value as 'email' | 'webhook')}
            >
              <option value="email">E-mail</option>
              <option value="webhook">Webhook</option>
            </select>
            <input
              className="input"
              aria-label={channel === 'email' ? 'Recipients' : 'Webhook URL'}
              placeholder={
                channel === 'email' ? 'ops@example.com, it@example.com' : 'https://hooks.example.com/sync'
              }
              value={target}
              onChange={(e) => setTarget(e.target.value)}
            />
            <button
              className="btn btn-primary"
              type="button"
              disabled={busy || target.trim() === '' || events.length === 0}
              onClick={() => void add()}
            >
              <Icon name="plus" /> Add rule
            </button>
          </div>
          {channel === 'webhook' && (
            <label className="field">
              <span className="field-label">Signing secret (optional, at least 16 characters)</span>
              <input
                className="input"
                type="password"
                autoComplete="new-password"
                value={secret}
                onChange={(e) => setSecret(e.target.value)}
              />
              <span className="field-help">
                Write-only. Each request then carries an X-Syncgraph-Signature header (HMAC-SHA256).
              </span>
            </label>
          )}
          <div className="row" role="group" aria-label="Notify when">
            {notifyEvents.map((e) => (
              <label key={e} className="sg-chip">
                <input type="checkbox" checked={events.includes(e)} onChange={() => toggle(e)} />
                {EVENT_LABELS[e]}
              </label>
            ))}
          </div>
          <ErrorNotice error={formError} />
        </div>
      )}
      {deliveries.length > 0 && (
        <div className="stack">
          <h3>Recent deliveries</h3>
          <ul className="sg-deliveries" aria-label="Recent deliveries">
            {deliveries.map((d) => (
              <li key={d.id} className="row">
                <span className={`badge ${d.status === 'sent' ? 'badge-success' : 'badge-danger'}`}>
                  {d.status}
                </span>
                <span className="muted">{formatDate(d.at)}</span>
                <span className="ellipsis mono">{d.target}</span>
                <span className="faint">{d.event}</span>
                {d.error && <span className="sg-error-cell">{d.error}</span>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  )
}

/** The notification rules of a graph in a dialog (from the graph list or the editor). */
export function NotificationsDialog(props: {
  kind: JobKind
  jobId: string
  name: string
  onClose: () => void
}) {
  return (
    <Dialog
      title={`Notifications of “${props.name}”`}
      open
      wide
      onClose={props.onClose}
      footer={<CloseFooter onClose={props.onClose} />}
    >
      <p className="muted">
        Send an e-mail (through the mail server set under Admin → Mail) or call a webhook when a run ends.
      </p>
      <NotificationRules kind={props.kind} jobId={props.jobId} />
    </Dialog>
  )
}
