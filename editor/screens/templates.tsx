import { useEffect, useState } from 'react'
import { api, errorText } from '../api/client.ts'
import type { TemplateParam, TemplateSummary } from '../api/types.ts'
import { navigate } from '../lib/router.ts'
import { Dialog } from '../ui/dialog.tsx'
import { Icon } from '../ui/icons.tsx'
import { notify } from '../ui/toasts.tsx'
import { ErrorNotice } from '../ui/status.tsx'
import { TextField } from '../ui/text-field.tsx'

/** The templates gallery: each template with its parameters, and create-from-template. */
export function TemplateGallery() {
  const [templates, setTemplates] = useState<TemplateSummary[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [search, setSearch] = useState('')
  const [using, setUsing] = useState<TemplateSummary | null>(null)

  useEffect(() => {
    api
      .listTemplates()
      .then((r) => setTemplates(r.templates))
      .catch((e) => setError(errorText(e)))
  }, [])

  const q = search.trim().toLowerCase()
  const shown = templates?.filter(
    (t) => !q || t.name.toLowerCase().includes(q) || (t.description ?? '').toLowerCase().includes(q),
  )

  return (
    <main className="page" aria-labelledby="templates-title">
      <div className="page-head">
        <h1 id="templates-title">Templates</h1>
        <div className="searchbox">
          <Icon name="search" />
          <input
            className="input"
            type="search"
            placeholder="Search templates"
            aria-label="Search templates"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
      </div>
      <ErrorNotice error={error} />
      {shown?.length === 0 && (
        <div className="empty card">
          {q
            ? `No template matches “${search}”.`
            : 'No templates yet. Open a graph and choose “Save as template”.'}
        </div>
      )}
      <ul className="gallery" aria-label="Templates">
        {shown?.map((t) => (
          <li key={t.id} className="gallery-card">
            <div className="gallery-card-head">
              <Icon name="template" />
              <h2>{t.name}</h2>
            </div>
            <p className="muted">{t.description || 'No description.'}</p>
            <div className="gallery-params">
              {Object.entries(t.params).map(([name, p]) => (
                <span
                  key={name}
                  className="badge"
                  title={`${p.type}${p.default !== undefined ? `, default ${JSON.stringify(p.default)}` : ''}`}
                >
                  {p.title ?? name}
                </span>
              ))}
              {Object.keys(t.params).length === 0 && <span className="faint">No parameters</span>}
            </div>
            <div className="row">
              <div className="grow" />
              <button
                className="btn btn-primary btn-sm"
                onClick={() => setUsing(t)}
                aria-label={`Use template ${t.name}`}
              >
                <Icon name="plus" size={14} /> Use template
              </button>
            </div>
          </li>
        ))}
      </ul>
      {using && <InstantiateDialog template={using} onClose={() => setUsing(null)} />}
    </main>
  )
}

/** An input for one template or graph parameter, by its type. */
export function ParamInput({
  id,
  name,
  param,
  value,
  onChange,
}: {
  id: string
  name: string
  param: TemplateParam
  value: unknown
  onChange: (v: unknown) => void
}) {
  switch (param.type) {
    case 'boolean':
      return (
        <label className="switch">
          <input
            id={id}
            type="checkbox"
            role="switch"
            checked={value === true}
            onChange={(e) => onChange(e.target.checked)}
          />
          <span className="muted">{value === true ? 'On' : 'Off'}</span>
        </label>
      )
    case 'number':
      return (
        <input
          id={id}
          className="input"
          type="number"
          value={typeof value === 'number' ? value : ''}
          onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
        />
      )
    case 'enum':
      return (
        <select
          id={id}
          className="select"
          value={value === undefined ? '' : String(value)}
          onChange={(e) => onChange(param.values?.find((v) => String(v) === e.target.value))}
        >
          <option value="">— choose —</option>
          {(param.values ?? []).map((v) => (
            <option key={String(v)} value={String(v)}>
              {String(v)}
            </option>
          ))}
        </select>
      )
    default:
      return (
        <input
          id={id}
          className={`input${param.type === 'path' ? ' mono' : ''}`}
          placeholder={
            param.type === 'path' ? 'file path' : param.type === 'connection' ? 'connection name' : name
          }
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
        />
      )
  }
}

function InstantiateDialog({ template, onClose }: { template: TemplateSummary; onClose: () => void }) {
  const [name, setName] = useState(template.name)
  const [values, setValues] = useState<Record<string, unknown>>(() =>
    Object.fromEntries(
      Object.entries(template.params).flatMap(([k, p]) => (p.default === undefined ? [] : [[k, p.default]])),
    ),
  )
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const submit = async () => {
    setBusy(true)
    setError(null)
    try {
      const { id } = await api.instantiateTemplate(template.id, name.trim() || template.name, values)
      notify.success(`Created “${name.trim() || template.name}”`)
      navigate(`/graphs/${id}`)
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(false)
    }
  }
  return (
    <Dialog
      title={`New graph from “${template.name}”`}
      open
      onClose={onClose}
      onSubmit={submit}
      submitLabel="Create graph"
      busy={busy}
    >
      <TextField label="Graph name" value={name} onChange={setName} required autoFocus />
      {Object.entries(template.params).map(([key, p]) => {
        const id = `param-${key}`
        return (
          <div className="field" key={key}>
            <label className="field-label" htmlFor={id}>
              {p.title ?? key} <span className="faint mono">{p.type}</span>
            </label>
            <ParamInput
              id={id}
              name={key}
              param={p}
              value={values[key]}
              onChange={(v) => setValues({ ...values, [key]: v })}
            />
            {p.description && <div className="field-help">{p.description}</div>}
          </div>
        )
      })}
      <ErrorNotice error={error} />
    </Dialog>
  )
}
