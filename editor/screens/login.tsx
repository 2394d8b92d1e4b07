import { useState, type FormEvent } from 'react'
import { api, errorText } from '../api/client.ts'
import type { User } from '../api/types.ts'
import { Brand } from './top-nav.tsx'
import { ErrorNotice } from '../ui/status.tsx'
import { TextField } from '../ui/text-field.tsx'

export function LoginScreen({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const [username, setUsername] = useState('admin')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const { user } = await api.login(username, password)
      onSignedIn(user)
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <Brand />
        <h1 id="login-title">Sign in</h1>
        <p className="muted">Build, run and reuse synchronization graphs.</p>
        <TextField
          label="Username"
          value={username}
          onChange={setUsername}
          name="username"
          autoComplete="username"
          required
        />
        <TextField
          label="Password"
          value={password}
          onChange={setPassword}
          name="password"
          type="password"
          autoComplete="current-password"
          autoFocus
          required
        />
        <ErrorNotice error={error} />
        <button className="btn btn-primary" type="submit" disabled={busy}>
          {busy && <span className="spinner" aria-hidden="true" />} Sign in
        </button>
      </form>
    </main>
  )
}
