import type { User } from '../api/types.ts'
import { Icon } from '../ui/icons.tsx'

export function Brand() {
  return (
    <a className="brand" href="#/" aria-label="Syncgraph home">
      <svg width="20" height="20" viewBox="0 0 16 16" aria-hidden="true">
        <rect width="16" height="16" rx="3.5" fill="var(--accent)" />
        <path
          d="M3.5 4.5h3v2h-3zM9.5 9.5h3v2h-3zM6.5 5.5h1.5a1 1 0 0 1 1 1v3a1 1 0 0 0 1 1"
          stroke="#fff"
          fill="none"
          strokeWidth="1.2"
        />
      </svg>
      <span>Syncgraph</span>
    </a>
  )
}

/** The bar above the list screens. */
export function TopNav({ user, onSignOut, active }: { user: User; onSignOut: () => void; active: string }) {
  return (
    <header className="topnav">
      <Brand />
      <nav aria-label="Main" className="topnav-links">
        <a href="#/" aria-current={active === 'graphs' ? 'page' : undefined}>
          <Icon name="graph" /> Graphs
        </a>
        <a href="#/templates" aria-current={active === 'templates' ? 'page' : undefined}>
          <Icon name="template" /> Templates
        </a>
      </nav>
      <div className="grow" />
      <span className="muted" aria-label="Signed in as">
        {user.username} <span className="badge">{user.role}</span>
      </span>
      <button className="btn btn-ghost" onClick={onSignOut}>
        <Icon name="logout" /> Sign out
      </button>
    </header>
  )
}
