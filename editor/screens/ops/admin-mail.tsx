import { useEffect, useState } from 'react'
import { errorText } from '../../api/client.ts'
import { jobsApi, type NotificationSettings, type SmtpInput } from '../../api/jobs.ts'
import { notify } from '../../ui/toasts.tsx'
import '../../styles/jobs.css'
import { ErrorNotice, PendingSection } from '../../ui/status.tsx'
import { TextField } from '../../ui/text-field.tsx'

type PasswordAction = 'keep' | 'set' | 'remove'

/**
 * The mail server notifications are sent through, and the base of the links in messages. The SMTP
 * password is write-only: the server stores it encrypted and only says whether one is set.
 */
export function MailAdmin() {
  const [settings, setSettings] = useState<NotificationSettings | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [linkBaseUrl, setLinkBaseUrl] = useState('')
  const [host, setHost] = useState('')
  const [port, setPort] = useState('587')
  const [secure, setSecure] = useState(false)
  const [username, setUsername] = useState('')
  const [from, setFrom] = useState('')
  const [passwordAction, setPasswordAction] = useState<PasswordAction>('keep')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [formError, setFormError] = useState<string | null>(null)

  const show = (s: NotificationSettings) => {
    setSettings(s)
    setLinkBaseUrl(s.linkBaseUrl)
    setHost(s.smtp?.host ?? '')
    setPort(String(s.smtp?.port ?? 587))
    setSecure(s.smtp?.secure ?? false)
    setUsername(s.smtp?.username ?? '')
    setFrom(s.smtp?.from ?? '')
    setPasswordAction(s.smtp?.hasPassword ? 'keep' : 'set')
    setPassword('')
  }

  useEffect(() => {
    jobsApi
      .notificationSettings()
      .then(show)
      .catch((e) => setError(errorText(e)))
  }, [])

  const save = async (removeSmtp = false) => {
    setBusy(true)
    setFormError(null)
    try {
      let smtp: SmtpInput | null | undefined
      if (removeSmtp) smtp = null
      else if (host.trim() !== '') {
        smtp = {
          host: host.trim(),
          port: Number(port),
          secure,
          from: from.trim(),
          ...(username.trim() === '' ? {} : { username: username.trim() }),
          ...(passwordAction === 'remove'
            ? { password: null }
            : passwordAction === 'set' && password !== ''
              ? { password }
              : {}),
        }
      }
      const saved = await jobsApi.saveNotificationSettings({
        linkBaseUrl: linkBaseUrl.trim(),
        ...(smtp === undefined ? {} : { smtp }),
      })
      show(saved)
      notify.success(removeSmtp ? 'Mail server removed' : 'Mail settings saved')
    } catch (e) {
      setFormError(errorText(e))
    } finally {
      setBusy(false)
    }
  }

  if (error || settings === null) return <PendingSection label="Mail" error={error} />

  const hasPassword = settings.smtp?.hasPassword ?? false
  return (
    <section aria-label="Mail" className="card sg-card sg-narrow">
      <h2>Mail server</h2>
      <p className="muted">
        Notification rules on graphs and collections send their e-mails through this SMTP server.
      </p>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault()
          void save()
        }}
      >
        <div className="sg-form-grid">
          <TextField label="Host" value={host} onChange={setHost} placeholder="smtp.example.com" />
          <label className="field">
            <span className="field-label">Port</span>
            <input
              className="input"
              type="number"
              min={1}
              max={65535}
              value={port}
              onChange={(e) => setPort(e.target.value)}
            />
          </label>
          <TextField label="User name" value={username} onChange={setUsername} autoComplete="off" />
          <div className="field">
            <label className="field-label" htmlFor="smtp-password">
              Password{' '}
              {hasPassword ? (
                <span className="badge badge-success">stored, encrypted</span>
              ) : (
                <span className="badge">none</span>
              )}
            </label>
            {hasPassword && (
              <select
                className="select"
                aria-label="Password change"
                value={passwordAction}
                onChange={(e) => setPasswordAction(e.target.value as PasswordAction)}
              >
                <option value="keep">Keep the stored password</option>
                <option value="set">Replace it</option>
                <option value="remove">Remove it</option>
              </select>
            )}
            {passwordAction === 'set' && (
              <input
                id="smtp-password"
                className="input"
                type="password"
                autoComplete="new-password"
                placeholder={hasPassword ? 'new password' : 'optional'}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
            <span className="field-help">Write-only: never shown again once saved.</span>
          </div>
          <TextField
            label="Sender"
            value={from}
            onChange={setFrom}
            placeholder="Syncgraph <sync@example.com>"
          />
          <TextField
            label="Link base URL"
            value={linkBaseUrl}
            onChange={setLinkBaseUrl}
            placeholder="https://syncgraph.example.com"
            help="Messages link to runs under this address."
          />
        </div>
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            checked={secure}
            onChange={(e) => setSecure(e.target.checked)}
          />
          TLS from the first byte (usually port 465); otherwise STARTTLS when the server offers it
        </label>
        <ErrorNotice error={formError} />
        <div className="row">
          <button className="btn btn-primary" type="submit" disabled={busy}>
            {busy && <span className="spinner" aria-hidden="true" />} Save
          </button>
          {settings.smtp && (
            <button className="btn btn-danger" type="button" disabled={busy} onClick={() => void save(true)}>
              Remove mail server
            </button>
          )}
        </div>
        <p className="field-help">
          There is no “send test” yet: the API has no test endpoint. Add an e-mail rule to a graph and run it;
          its delivery (sent or failed, with the SMTP error) is recorded.
        </p>
      </form>
    </section>
  )
}
