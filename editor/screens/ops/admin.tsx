import { MailAdmin } from './admin-mail.tsx'
import { PoliciesAdmin } from './admin-policies.tsx'
import { UsersAdmin } from './admin-users.tsx'

const SECTIONS = [
  { id: 'users', label: 'Users', Component: UsersAdmin },
  { id: 'policies', label: 'Policies', Component: PoliciesAdmin },
  { id: 'mail', label: 'Mail', Component: MailAdmin },
] as const

/** Administration (admins only): users and roles, policies per role, and the mail server notifications use. */
export function AdminScreen({ section }: { section: string | undefined }) {
  const current = SECTIONS.find((s) => s.id === section) ?? SECTIONS[0]
  return (
    <main className="page" aria-labelledby="admin-title">
      <div className="page-head">
        <h1 id="admin-title">Administration</h1>
      </div>
      <nav aria-label="Administration sections" className="tabs">
        {SECTIONS.map((s) => (
          <a key={s.id} href={`#/admin/${s.id}`} aria-current={s.id === current.id ? 'page' : undefined}>
            {s.label}
          </a>
        ))}
      </nav>
      <current.Component />
    </main>
  )
}
