import { useMemo, useState } from 'react'
import { api } from '../api/client.ts'
import type { JsonSchema, TemplateParam, TemplateParamType } from '../api/types.ts'
import { configLeaves, fieldKind, isParamRef, pathString, resolveSchema } from '../panel/schema.ts'
import { currentDocument, useEditor } from '../store/editor-store.ts'
import { Dialog } from '../ui/dialog.tsx'
import { notify } from '../ui/toasts.tsx'
import { TextField } from '../ui/text-field.tsx'

interface Candidate {
  key: string
  nodeId: string
  path: string
  value: unknown
  schema: JsonSchema | undefined
}

interface Choice {
  on: boolean
  name: string
  title: string
  type: TemplateParamType
  defaultText: string
}

function schemaAt(schema: JsonSchema | undefined, path: (string | number)[]): JsonSchema | undefined {
  let s = schema
  for (const key of path) {
    if (!s) return undefined
    s = resolveSchema(s).schema
    s = typeof key === 'number' ? s.items : s.properties?.[key]
  }
  return s ? resolveSchema(s).schema : undefined
}

function guessType(value: unknown, schema: JsonSchema | undefined): TemplateParamType {
  const kind = schema ? fieldKind(schema) : undefined
  if (kind === 'file') return 'path'
  if (kind === 'connection') return 'connection'
  if (kind === 'enum') return 'enum'
  if (typeof value === 'number') return 'number'
  if (typeof value === 'boolean') return 'boolean'
  return 'string'
}

const camel = (text: string) =>
  text
    .replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))
    .replace(/^[^A-Za-z_]+/, '')
    .replace(/^./, (c) => c.toLowerCase()) || 'param'

function parseDefault(text: string, type: TemplateParamType): unknown {
  if (text === '') return undefined
  if (type === 'number') return Number(text)
  if (type === 'boolean') return text === 'true'
  return text
}

/** Save the graph as a template: pick config values that become typed parameters, with titles and defaults. */
export function SaveTemplateDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const graphName = useEditor((s) => s.meta.name)
  const [name, setName] = useState('')
  const [description, setDescription] = useState('')
  const [choices, setChoices] = useState<Record<string, Choice>>({})
  const [busy, setBusy] = useState(false)

  const candidates = useMemo<Candidate[]>(() => {
    if (!open) return []
    const s = useEditor.getState()
    return s.nodes.flatMap((n) =>
      configLeaves(n.data.config)
        .filter((leaf) => leaf.path.length > 0 && !isParamRef(leaf.value))
        .map((leaf) => ({
          key: `${n.id}${pathString(leaf.path).slice(1)}`,
          nodeId: n.id,
          path: pathString(leaf.path),
          value: leaf.value,
          schema: schemaAt(s.catalog[n.data.type]?.configSchema, leaf.path),
        })),
    )
  }, [open])

  const choiceOf = (c: Candidate): Choice =>
    choices[c.key] ?? {
      on: false,
      name: camel(`${c.nodeId} ${c.path.replace(/^\$\.?/, '')}`),
      title: c.schema?.title ?? c.path.replace(/^\$\.?/, ''),
      type: guessType(c.value, c.schema),
      defaultText: typeof c.value === 'string' ? c.value : JSON.stringify(c.value),
    }
  const update = (c: Candidate, patch: Partial<Choice>) =>
    setChoices({ ...choices, [c.key]: { ...choiceOf(c), ...patch } })

  const picked = candidates.filter((c) => choiceOf(c).on)
  const badName = picked.find((c) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(choiceOf(c).name))

  const submit = async () => {
    setBusy(true)
    try {
      const params: Record<string, TemplateParam & { targets: { nodeId: string; path: string }[] }> = {}
      for (const c of picked) {
        const ch = choiceOf(c)
        const existing = params[ch.name]
        if (existing) {
          existing.targets.push({ nodeId: c.nodeId, path: c.path })
          continue
        }
        const def = parseDefault(ch.defaultText, ch.type)
        const values =
          ch.type === 'enum'
            ? (c.schema?.enum?.filter(
                (v): v is string | number => typeof v === 'string' || typeof v === 'number',
              ) ?? [])
            : undefined
        params[ch.name] = {
          type: ch.type,
          ...(ch.title ? { title: ch.title } : {}),
          ...(def === undefined ? {} : { default: def }),
          ...(values ? { values } : {}),
          targets: [{ nodeId: c.nodeId, path: c.path }],
        }
      }
      await api.createTemplate({
        name: name.trim() || graphName,
        ...(description.trim() ? { description: description.trim() } : {}),
        graph: currentDocument(),
        params,
      })
      notify.success(`Saved template “${name.trim() || graphName}”`)
      setChoices({})
      onClose()
    } catch (e) {
      notify.error(e)
    } finally {
      setBusy(false)
    }
  }

  return (
    <Dialog
      title="Save as template"
      open={open}
      onClose={onClose}
      onSubmit={submit}
      submitLabel={`Save template${picked.length ? ` with ${picked.length} parameter${picked.length === 1 ? '' : 's'}` : ''}`}
      submitDisabled={badName !== undefined}
      busy={busy}
      wide
    >
      <div className="field-row">
        <TextField label="Template name" value={name} onChange={setName} placeholder={graphName} autoFocus />
        <TextField label="Description" value={description} onChange={setDescription} />
      </div>
      <div>
        <h3>Parameters</h3>
        <p className="muted">
          Tick the config values people fill in when they create a graph from this template. Give two values
          the same parameter name to set both at once.
        </p>
      </div>
      {candidates.length === 0 ? (
        <div className="empty">No config values to turn into parameters.</div>
      ) : (
        <div className="data-table-wrap template-params">
          <table className="table" aria-label="Config values">
            <thead>
              <tr>
                <th>Parameter</th>
                <th>Node · field</th>
                <th>Name</th>
                <th>Title</th>
                <th>Type</th>
                <th>Default</th>
              </tr>
            </thead>
            <tbody>
              {candidates.map((c) => {
                const ch = choiceOf(c)
                const label = `${c.nodeId} ${c.path}`
                return (
                  <tr key={c.key} className={ch.on ? 'picked' : undefined}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Make ${label} a parameter`}
                        checked={ch.on}
                        onChange={(e) => update(c, { on: e.target.checked })}
                      />
                    </td>
                    <td className="mono">
                      {c.nodeId} <span className="faint">{c.path}</span>
                    </td>
                    <td>
                      <input
                        className="input input-sm mono"
                        aria-label={`Parameter name for ${label}`}
                        disabled={!ch.on}
                        value={ch.name}
                        aria-invalid={ch.on && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(ch.name)}
                        onChange={(e) => update(c, { name: e.target.value })}
                      />
                    </td>
                    <td>
                      <input
                        className="input input-sm"
                        aria-label={`Title for ${label}`}
                        disabled={!ch.on}
                        value={ch.title}
                        onChange={(e) => update(c, { title: e.target.value })}
                      />
                    </td>
                    <td>
                      <select
                        className="select input-sm"
                        aria-label={`Type for ${label}`}
                        disabled={!ch.on}
                        value={ch.type}
                        onChange={(e) => update(c, { type: e.target.value as TemplateParamType })}
                      >
                        {(['string', 'number', 'boolean', 'enum', 'path', 'connection'] as const).map((t) => (
                          <option key={t} value={t}>
                            {t}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <input
                        className="input input-sm mono"
                        aria-label={`Default for ${label}`}
                        disabled={!ch.on}
                        value={ch.defaultText}
                        onChange={(e) => update(c, { defaultText: e.target.value })}
                      />
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      {badName && (
        <div className="field-error">
          Parameter names start with a letter or _ and have letters, digits and _ only.
        </div>
      )}
    </Dialog>
  )
}
