import { useEffect, useState } from 'react'
import { api, onUnauthorized, sessionHint } from './api/client.ts'
import type { User } from './api/types.ts'
import { usePermissions } from './lib/permissions.ts'
import { navigate, useRoute } from './lib/router.ts'
import { EditorScreen } from './screens/editor-screen.tsx'
import { GraphList } from './screens/graph-list.tsx'
import { LoginScreen } from './screens/login.tsx'
import { TemplateGallery } from './screens/templates.tsx'
import { AdminScreen } from './screens/ops/admin.tsx'
import { ApprovalsScreen } from './screens/ops/approvals.tsx'
import { CollectionsScreen } from './screens/ops/collections.tsx'
import { DashboardScreen } from './screens/ops/dashboard.tsx'
import { HistoryScreen } from './screens/ops/history.tsx'
import { RunDetailScreen } from './screens/ops/run-detail.tsx'
import { RunsListScreen } from './screens/ops/runs-list.tsx'
import { SchedulesScreen } from './screens/ops/schedules.tsx'
import { TopNav } from './screens/top-nav.tsx'
import { Toasts } from './ui/toasts.tsx'

type Session = { state: 'loading' } | { state: 'anonymous' } | { state: 'signed-in'; user: User }

/** The shell: the session decides between the login page and the screens; the hash decides the screen. */
export function App() {
  const [session, setSession] = useState<Session>({ state: 'loading' })
  const route = useRoute()
  const signedIn = (user: User) => {
    usePermissions.getState().set(user.permissions ?? [])
    setSession({ state: 'signed-in', user })
  }

  useEffect(() => {
    const off = onUnauthorized(() => setSession({ state: 'anonymous' }))
    if (!sessionHint.get()) {
      setSession({ state: 'anonymous' })
      return off
    }
    api
      .me()
      .then(({ user }) => signedIn(user))
      .catch(() => setSession({ state: 'anonymous' }))
    return off
  }, [])

  if (session.state === 'loading') {
    return (
      <div className="splash" aria-busy="true">
        <span className="spinner" /> Loading Syncgraph…
      </div>
    )
  }
  if (session.state === 'anonymous') {
    return (
      <>
        <LoginScreen onSignedIn={signedIn} />
        <Toasts />
      </>
    )
  }

  const signOut = () => {
    api
      .logout()
      .catch(() => undefined)
      .finally(() => {
        setSession({ state: 'anonymous' })
        navigate('/', { force: true })
      })
  }

  const [first, second] = route.parts
  let screen
  if (first === 'graphs' && second) screen = <EditorScreen key={second} graphId={second} />
  else if (first === 'templates') screen = <TemplateGallery />
  else if (first === 'dashboard') screen = <DashboardScreen />
  else if (first === 'collections') screen = <CollectionsScreen id={second} />
  else if (first === 'schedules') screen = <SchedulesScreen />
  else if (first === 'approvals') screen = <ApprovalsScreen />
  else if (first === 'history') screen = <HistoryScreen />
  else if (first === 'runs' && second) screen = <RunDetailScreen key={second} runId={second} />
  else if (first === 'runs' && !second) screen = <RunsListScreen />
  else if (first === 'admin') screen = <AdminScreen section={second} />
  else screen = <GraphList />

  return (
    <div className="app">
      {first === 'graphs' && second ? null : (
        <TopNav user={session.user} onSignOut={signOut} active={first ?? 'graphs'} />
      )}
      {screen}
      <Toasts />
    </div>
  )
}
