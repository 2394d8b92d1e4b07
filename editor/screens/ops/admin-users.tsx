import { useCallback, useEffect, useState } from 'react'
import { errorText } from '../../api/client.ts'
import { ROLES, usersApi, type ManagedUser, type Role } from '../../api/users.ts'
import { ROLE_SUMMARY } from '../../../engine/access.ts'
import { formatDate } from '../../lib/files.ts'
import { NewButton, RowAction } from '../../ui/buttons.tsx'
import { Dialog } from '../../ui/dialog.tsx'
import { notify } from '../../ui/toasts.tsx'
import '../../styles/jobs.css'
import { ErrorNotice } from '../../ui/status.tsx'
import { TextField } from '../../ui/text-field.tsx'
import { ActionsHeader } from '../../ui/table.tsx'

type Pending =
  | { kind: 'create' }
  | { kind: 'password'; user: ManagedUser }
  | { kind: 'delete'; user: ManagedUser }
  | { kind: 'disable'; user: ManagedUser }
  | { kind: 'role'; user: ManagedUser; role: Role }
  | null

const MIN_PASSWORD = 12

/** Users administration: list, create, change role, disable/enable, reset password, delete. */
export function UsersAdmin() {
  const [users, setUsers] = useState<ManagedUser[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [pending, setPending] = useState<Pending>(null)
  const [busy, setBusy] = useState(false)
  const [formError, setFormError] = useState<string | null>(null)
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [role, setRole] = useState<Role>('operator')

  const load = useCallback(() => {
    usersApi
      .list()
      .then((r) => {
        setUsers(r.users)
        setError(null)
      })
      .catch((e) => setError(errorText(e)))
  }, [])
  useEffect(load, [load])

  const open = (next: Pending) => {
    setPending(next)
    setFormError(null)
    setUsername('')
    setPassword('')
    setRole('operator')
  }
  const close = () => setPending(null)

  const submit = async () => {
    if (pending === null) return
    if ((pending.kind === 'create' || pending.kind === 'password') && password.length < MIN_PASSWORD) {
      setFormError(`The password needs at least ${MIN_PASSWORD} characters`)
      return
    }
    setBusy(true)
    setFormError(null)
    try {
      switch (pending.kind) {
        case 'create':
          await usersApi.create({ username: username.trim(), password, role })
          notify.success(`Created ${username.trim()} (${role})`)
          break
        case 'password':
          await usersApi.resetPassword(pending.user.id, password)
          notify.success(`New password set for ${pending.user.username}; their sessions ended`)
          break
        case 'delete':
          await usersApi.remove(pending.user.id)
          notify.success(`Deleted ${pending.user.username}`)
          break
        case 'disable':
          await usersApi.update(pending.user.id, { disabled: true })
          notify.success(`Disabled ${pending.user.username}; their sessions ended`)
          break
        case 'role':
          await usersApi.update(pending.user.id, { role: pending.role })
          notify.success(`${pending.user.username} is now ${pending.role}`)
          break
        default: {
          const never: never = pending
          throw new Error(`unknown action ${String(never)}`)
        }
      }
      setPending(null)
      load()
    } catch (e) {
      setFormError(errorText(e))
    } finally {
      setBusy(false)
    }
  }

  const enable = async (user: ManagedUser) => {
    try {
      await usersApi.update(user.id, { disabled: false })
      notify.success(`Enabled ${user.username}`)
      load()
    } catch (e) {
      notify.error(e)
    }
  }

  if (error)
    return (
      <section aria-label="Users">
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      </section>
    )

  const title =
    pending === null
      ? ''
      : pending.kind === 'create'
        ? 'New user'
        : pending.kind === 'password'
          ? `Reset the password of ${pending.user.username}`
          : pending.kind === 'delete'
            ? `Delete ${pending.user.username}`
            : pending.kind === 'disable'
              ? `Disable ${pending.user.username}`
              : `Make ${pending.user.username} ${pending.role}`

  return (
    <section aria-label="Users" className="card sg-card">
      <div className="row">
        <h2 className="grow">Users and roles</h2>
        <NewButton label="New user" onClick={() => open({ kind: 'create' })} />
      </div>
      <ul className="muted">
        {ROLES.map((r) => (
          <li key={r}>
            <strong>{r}</strong>: {ROLE_SUMMARY[r]}
          </li>
        ))}
      </ul>
      {users === null ? (
        <div className="empty">Loading…</div>
      ) : (
        <table className="table list-table" aria-label="Users">
          <thead>
            <tr>
              <th>User</th>
              <th>Role</th>
              <th>Status</th>
              <th>Created</th>
              <ActionsHeader />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.username}</td>
                <td>
                  <select
                    className="select"
                    aria-label={`Role of ${u.username}`}
                    value={u.role}
                    onChange={(e) => open({ kind: 'role', user: u, role: e.target.value as Role })}
                  >
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  {u.disabled ? (
                    <span className="badge badge-danger">disabled</span>
                  ) : (
                    <span className="badge badge-success">active</span>
                  )}
                </td>
                <td className="muted">{formatDate(u.createdAt)}</td>
                <td className="actions">
                  {u.disabled ? (
                    <button
                      className="btn btn-ghost btn-sm"
                      aria-label={`Enable ${u.username}`}
                      onClick={() => void enable(u)}
                    >
                      Enable
                    </button>
                  ) : (
                    <button
                      className="btn btn-ghost btn-sm"
                      aria-label={`Disable ${u.username}`}
                      onClick={() => open({ kind: 'disable', user: u })}
                    >
                      Disable
                    </button>
                  )}
                  <RowAction
                    label={`Reset the password of ${u.username}`}
                    icon="edit"
                    text="Password"
                    onClick={() => open({ kind: 'password', user: u })}
                  />
                  <RowAction
                    label={`Delete ${u.username}`}
                    icon="trash"
                    danger
                    onClick={() => open({ kind: 'delete', user: u })}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <Dialog
        title={title}
        open={pending !== null}
        onClose={close}
        onSubmit={submit}
        busy={busy}
        danger={pending?.kind === 'delete' || pending?.kind === 'disable'}
        submitLabel={
          pending?.kind === 'create'
            ? 'Create'
            : pending?.kind === 'password'
              ? 'Set password'
              : pending?.kind === 'delete'
                ? 'Delete'
                : pending?.kind === 'disable'
                  ? 'Disable'
                  : 'Change role'
        }
        submitDisabled={pending?.kind === 'create' && username.trim() === ''}
      >
        {pending?.kind === 'create' && (
          <>
            <TextField
              label="User name"
              value={username}
              onChange={setUsername}
              autoComplete="off"
              autoFocus
              required
            />
            <label className="field">
              <span className="field-label">Role</span>
              <select className="select" value={role} onChange={(e) => setRole(e.target.value as Role)}>
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
              <span className="field-help">{ROLE_SUMMARY[role]}</span>
            </label>
          </>
        )}
        {(pending?.kind === 'create' || pending?.kind === 'password') && (
          <label className="field">
            <span className="field-label">{pending.kind === 'create' ? 'Password' : 'New password'}</span>
            <input
              className="input"
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="new-password"
              autoFocus={pending.kind === 'password'}
              required
            />
            <span className="field-help">
              At least {MIN_PASSWORD} characters.
              {pending.kind === 'password' && ' The user is signed out everywhere.'}
            </span>
          </label>
        )}
        {pending?.kind === 'delete' && (
          <p>
            Delete <strong>{pending.user.username}</strong>? They are signed out at once. What they created
            stays, visible to roles that see everything. This cannot be undone.
          </p>
        )}
        {pending?.kind === 'disable' && (
          <p>
            Disable <strong>{pending.user.username}</strong>? They are signed out at once and cannot sign in
            until enabled again.
          </p>
        )}
        {pending?.kind === 'role' && (
          <p>
            Make <strong>{pending.user.username}</strong> {pending.role}: {ROLE_SUMMARY[pending.role]}.
          </p>
        )}
        <ErrorNotice error={formError} />
      </Dialog>
    </section>
  )
}
