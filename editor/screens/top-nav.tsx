import type { User } from '../api/types.ts'
import { Icon, type IconName } from '../ui/icons.tsx'

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

/** The operations screens (issue 8), in the order an operator reads them. */
const OPS_LINKS: { path: string; label: string; icon: IconName; admin?: boolean; need?: string }[] = [
  // Installation-wide views need view-any (server/auth/guards.ts).
  { path: 'dashboard', label: 'Dashboard', icon: 'table', need: 'view-any' },
  { path: 'collections', label: 'Collections', icon: 'layout' },
  { path: 'schedules', label: 'Schedules', icon: 'history' },
  { path: 'approvals', label: 'Approvals', icon: 'check' },
  { path: 'history', label: 'History', icon: 'file', need: 'view-any' },
  { path: 'admin', label: 'Admin', icon: 'settings', admin: true },
]

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
        {OPS_LINKS.filter(
          (link) =>
            (link.admin !== true || user.role === 'admin') &&
            (link.need === undefined || (user.permissions ?? []).includes(link.need)),
        ).map((link) => (
          <a key={link.path} href={`#/${link.path}`} aria-current={active === link.path ? 'page' : undefined}>
            <Icon name={link.icon} /> {link.label}
          </a>
        ))}
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
