import { useEffect, useState } from 'react'
import { errorText } from '../../api/client.ts'
import {
  policiesApi,
  WRITE_ACTIONS,
  type PolicyDocument,
  type Role,
  type RolePolicy,
  type WriteAction,
} from '../../api/policies.ts'
import { notify } from '../../ui/toasts.tsx'
import { PendingSection } from '../../ui/status.tsx'
import { ROLE_SUMMARY } from '../../../engine/access.ts'
import '../../styles/jobs.css'

interface RuleDraft {
  connector: string
  object: string
  /** Comma-separated attribute names, or `*`. */
  attributes: string
  actions: WriteAction[]
}

interface Draft {
  restrictSources: boolean
  sources: string[]
  restrictDestinations: boolean
  destinations: string[]
  restrictWrites: boolean
  writes: RuleDraft[]
  /** Approval by policy: off, or which runs need it. */
  approval: 'off' | 'writes' | 'all'
  /** Hours a request waits before it expires; empty: 24. */
  approvalHours: string
}

function draftOf(policy: PolicyDocument | null): Draft {
  return {
    restrictSources: policy?.sources !== undefined,
    sources: policy?.sources?.allow ?? [],
    restrictDestinations: policy?.destinations !== undefined,
    destinations: policy?.destinations?.allow ?? [],
    restrictWrites: policy?.writes !== undefined,
    writes: (policy?.writes ?? []).map((w) => ({
      connector: w.connector,
      object: w.object,
      attributes: w.attributes === '*' ? '*' : w.attributes.join(', '),
      actions: w.actions ?? [...WRITE_ACTIONS],
    })),
    approval: policy?.approval?.for ?? 'off',
    approvalHours: policy?.approval?.expiresHours?.toString() ?? '',
  }
}

/** The policy document a draft stands for, or the first thing wrong with it. */
function documentOf(draft: Draft): PolicyDocument | string {
  const doc: PolicyDocument = {}
  if (draft.restrictSources) doc.sources = { allow: draft.sources }
  if (draft.restrictDestinations) doc.destinations = { allow: draft.destinations }
  if (draft.restrictWrites) {
    doc.writes = []
    for (const [i, rule] of draft.writes.entries()) {
      const object = rule.object.trim()
      if (object === '') return `Write rule ${i + 1}: name the objectClass or table (or * for any)`
      const names = rule.attributes
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== '')
      if (names.length === 0) return `Write rule ${i + 1}: list the attributes that may be written (or *)`
      if (rule.actions.length === 0) return `Write rule ${i + 1}: allow at least one action`
      doc.writes.push({
        connector: rule.connector,
        object,
        attributes: names.includes('*') ? '*' : names,
        ...(rule.actions.length === WRITE_ACTIONS.length ? {} : { actions: rule.actions }),
      })
    }
  }
  if (draft.approval !== 'off') {
    const hours = draft.approvalHours.trim()
    if (hours !== '' && !/^\d+$/.test(hours)) return 'Approval: the expiry is a whole number of hours'
    doc.approval = { for: draft.approval, ...(hours === '' ? {} : { expiresHours: Number(hours) }) }
  }
  return doc
}

const toggle = <T,>(list: readonly T[], value: T, on: boolean): T[] =>
  on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value)

/**
 * Policies per role: which connectors its graphs may read from and write to, and which LDAP object
 * classes / SQL tables and attributes its syncs may write. A graph outside its runner's policy does
 * not run, and validation marks the nodes that break it.
 */
export function PoliciesAdmin() {
  const [policies, setPolicies] = useState<RolePolicy[] | null>(null)
  const [connectors, setConnectors] = useState<string[]>([])
  const [error, setError] = useState<string | null>(null)
  const [role, setRole] = useState<Role>('operator')
  const [draft, setDraft] = useState<Draft>(draftOf(null))
  const [busy, setBusy] = useState(false)
  const [formError, setFormError] = useState<string | null>(null)

  useEffect(() => {
    policiesApi
      .list()
      .then((r) => {
        setPolicies(r.policies)
        setConnectors(r.connectors)
        setDraft(draftOf(r.policies.find((p) => p.role === 'operator')?.policy ?? null))
      })
      .catch((e) => setError(errorText(e)))
  }, [])

  const current = policies?.find((p) => p.role === role)
  const choose = (next: Role) => {
    setRole(next)
    setFormError(null)
    setDraft(draftOf(policies?.find((p) => p.role === next)?.policy ?? null))
  }
  const replace = (saved: RolePolicy) => {
    setPolicies((list) => list?.map((p) => (p.role === saved.role ? saved : p)) ?? null)
    setDraft(draftOf(saved.policy))
  }
  const update = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }))
  const updateRule = (index: number, patch: Partial<RuleDraft>) =>
    setDraft((d) => ({ ...d, writes: d.writes.map((r, i) => (i === index ? { ...r, ...patch } : r)) }))

  const save = async () => {
    const doc = documentOf(draft)
    if (typeof doc === 'string') {
      setFormError(doc)
      return
    }
    setBusy(true)
    setFormError(null)
    try {
      replace(await policiesApi.save(role, doc))
      notify.success(`The ${role} policy is saved`)
    } catch (e) {
      setFormError(errorText(e))
    } finally {
      setBusy(false)
    }
  }

  const remove = async () => {
    setBusy(true)
    setFormError(null)
    try {
      await policiesApi.remove(role)
      replace({ role, policy: null, updatedAt: null, updatedBy: null, updatedByName: null })
      notify.success(`The ${role} policy is removed`)
    } catch (e) {
      setFormError(errorText(e))
    } finally {
      setBusy(false)
    }
  }

  if (error || policies === null) return <PendingSection label="Policies" error={error} />

  const writeConnectors = ['ldap', ...connectors.filter((c) => c === 'sql' || c.startsWith('sql:')), '*']
  const connectorPicker = (
    legend: string,
    restricted: boolean,
    allowed: string[],
    set: (restricted: boolean, allowed: string[]) => void,
  ) => (
    <fieldset className="sg-fieldset" aria-label={legend}>
      <legend className="field-label">{legend}</legend>
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          checked={restricted}
          onChange={(e) => set(e.target.checked, allowed)}
        />
        Only the connectors chosen below
      </label>
      {restricted && (
        <>
          <div className="row" style={{ flexWrap: 'wrap', gap: 6 }}>
            {connectors.map((c) => (
              <label key={c} className="sg-chip">
                <input
                  type="checkbox"
                  checked={allowed.includes(c)}
                  onChange={(e) => set(true, toggle(allowed, c, e.target.checked))}
                />
                {c}
              </label>
            ))}
          </div>
          <span className="field-help">
            {allowed.length === 0
              ? 'None chosen: no node of this kind may run.'
              : '“sql” allows every SQL driver; “sql:postgres” only PostgreSQL.'}
          </span>
        </>
      )}
    </fieldset>
  )

  return (
    <section aria-label="Policies" className="card sg-card">
      <h2>Policies per role</h2>
      <p className="muted">
        What a role’s graphs may read from and write to. A graph outside the policy of the user who runs it
        (for schedules: the job’s owner) does not run, and says which rule it breaks.
      </p>
      <div className="btn-group" role="group" aria-label="Role">
        {policies.map((p) => (
          <button
            key={p.role}
            type="button"
            className={`btn btn-sm${p.role === role ? ' btn-primary' : ''}`}
            aria-pressed={p.role === role}
            title={ROLE_SUMMARY[p.role]}
            onClick={() => choose(p.role)}
          >
            {p.role}
            {p.policy !== null && <span className="badge badge-accent">policy</span>}
          </button>
        ))}
      </div>
      <p className="field-help" aria-live="polite">
        {current?.policy === null || current === undefined
          ? `The ${role} role has no policy: only its permissions restrict it.`
          : `The ${role} policy was saved${current.updatedByName ? ` by ${current.updatedByName}` : ''}${current.updatedAt ? ` on ${new Date(current.updatedAt).toLocaleString()}` : ''}.`}
      </p>
      <form
        className="stack"
        aria-label={`The ${role} policy`}
        onSubmit={(e) => {
          e.preventDefault()
          void save()
        }}
      >
        {connectorPicker('Sources', draft.restrictSources, draft.sources, (r, a) =>
          update({ restrictSources: r, sources: a }),
        )}
        {connectorPicker('Destinations', draft.restrictDestinations, draft.destinations, (r, a) =>
          update({ restrictDestinations: r, destinations: a }),
        )}
        <fieldset className="sg-fieldset" aria-label="Writes">
          <legend className="field-label">LDAP and SQL writes</legend>
          <label className="switch">
            <input
              type="checkbox"
              role="switch"
              checked={draft.restrictWrites}
              onChange={(e) => update({ restrictWrites: e.target.checked })}
            />
            Only the object types and attributes listed below (sql.write, sql.sync, ldap.sync)
          </label>
          {draft.restrictWrites && (
            <>
              {draft.writes.length === 0 && (
                <span className="field-help">No rule: no LDAP or SQL write may run.</span>
              )}
              {draft.writes.map((rule, i) => (
                <div key={i} className="sg-inline-form" role="group" aria-label={`Write rule ${i + 1}`}>
                  <div className="sg-form-grid">
                    <label className="field">
                      <span className="field-label">Connector</span>
                      <select
                        className="select"
                        value={rule.connector}
                        onChange={(e) => updateRule(i, { connector: e.target.value })}
                      >
                        {[...new Set([...writeConnectors, rule.connector])].map((c) => (
                          <option key={c} value={c}>
                            {c === '*' ? 'any' : c}
                          </option>
                        ))}
                      </select>
                    </label>
                    <label className="field">
                      <span className="field-label">objectClass or table</span>
                      <input
                        className="input"
                        value={rule.object}
                        placeholder="person, or people, or *"
                        onChange={(e) => updateRule(i, { object: e.target.value })}
                      />
                    </label>
                    <label className="field">
                      <span className="field-label">Attributes</span>
                      <input
                        className="input"
                        value={rule.attributes}
                        placeholder="mail, title (or *)"
                        onChange={(e) => updateRule(i, { attributes: e.target.value })}
                      />
                    </label>
                  </div>
                  <div className="row" style={{ flexWrap: 'wrap', gap: 6 }}>
                    {WRITE_ACTIONS.map((a) => (
                      <label key={a} className="sg-chip">
                        <input
                          type="checkbox"
                          checked={rule.actions.includes(a)}
                          onChange={(e) =>
                            updateRule(i, { actions: toggle(rule.actions, a, e.target.checked) })
                          }
                        />
                        {a}
                      </label>
                    ))}
                    <button
                      type="button"
                      className="btn btn-ghost btn-sm"
                      onClick={() => update({ writes: draft.writes.filter((_, j) => j !== i) })}
                    >
                      Remove rule
                    </button>
                  </div>
                </div>
              ))}
              <div>
                <button
                  type="button"
                  className="btn btn-sm"
                  onClick={() =>
                    update({
                      writes: [
                        ...draft.writes,
                        { connector: 'ldap', object: '', attributes: '', actions: [...WRITE_ACTIONS] },
                      ],
                    })
                  }
                >
                  Add write rule
                </button>
              </div>
            </>
          )}
        </fieldset>
        <fieldset className="sg-fieldset" aria-label="Approval">
          <legend className="field-label">Approval</legend>
          <label className="field">
            <span className="field-label">Runs by this role wait for an approver</span>
            <select
              className="select"
              value={draft.approval}
              onChange={(e) => update({ approval: e.target.value as Draft['approval'] })}
            >
              <option value="off">never (unless the job has an approval rule)</option>
              <option value="writes">when the graph or collection writes (a destination or sync node)</option>
              <option value="all">always</option>
            </select>
          </label>
          {draft.approval !== 'off' && (
            <label className="field">
              <span className="field-label">A request expires after (hours)</span>
              <input
                className="input"
                inputMode="numeric"
                value={draft.approvalHours}
                placeholder="24"
                onChange={(e) => update({ approvalHours: e.target.value })}
              />
              <span className="field-help">
                Manual and scheduled runs (for schedules: the job owner’s role), copies of graphs included;
                with a sync node the approver reviews the plan. Nobody approves their own request.
              </span>
            </label>
          )}
        </fieldset>
        {formError && (
          <div className="notice notice-error" role="alert">
            {formError}
          </div>
        )}
        <div className="row">
          <button className="btn btn-primary" type="submit" disabled={busy}>
            {busy && <span className="spinner" aria-hidden="true" />} Save {role} policy
          </button>
          {current?.policy !== null && current !== undefined && (
            <button className="btn btn-danger" type="button" disabled={busy} onClick={() => void remove()}>
              Remove policy
            </button>
          )}
        </div>
      </form>
    </section>
  )
}
