import { createContext, lazy, memo, Suspense, useContext, useId, useState, type ReactNode } from 'react'
import type { Connection, FileInfo, Issue, JsonSchema } from '../api/types.ts'
import { Icon } from '../ui/icons.tsx'
import { fieldKind, fieldMessage, fieldTitle, isParamRef, pathString, resolveSchema } from './schema.ts'
import { useUpstreamSample } from './upstream.ts'

// CodeMirror and the JSONata interpreter load with the first expression field shown, not with the app.
const JsonataEditor = lazy(() => import('./jsonata-editor.tsx').then((m) => ({ default: m.JsonataEditor })))
const JsonataLive = lazy(() => import('./jsonata-live.tsx').then((m) => ({ default: m.JsonataLive })))

/** What every field of a node's form may need: its issues, upstream columns, files and connections. */
export interface FormContext {
  nodeId: string
  nodeType: string
  issues: readonly Issue[]
  columnsFor(port: string): string[] | undefined
  /** Whether the expression at a config path runs compiled (true), interpreted (false) or is not known yet. */
  compiledAt?(path: string): boolean | undefined
  files: FileInfo[]
  connections: Connection[]
  onUpload(file: File): Promise<string | undefined>
}

const Ctx = createContext<FormContext | null>(null)
const useForm = () => useContext(Ctx)!

interface FieldProps {
  name: string
  schema: JsonSchema
  value: unknown
  path: (string | number)[]
  required: boolean
  onChange: (value: unknown) => void
}

/** A config form generated from a node's JSON Schema. */
export const SchemaForm = memo(function SchemaForm(props: {
  schema: JsonSchema
  value: Record<string, unknown>
  context: FormContext
  onChange: (value: Record<string, unknown>, field: string) => void
}) {
  const [showAdvanced, setShowAdvanced] = useState(false)
  const entries = Object.entries(props.schema.properties ?? {})
  const required = new Set(props.schema.required ?? [])
  const basic = entries.filter(([, s]) => !s['x-ui']?.advanced)
  const advanced = entries.filter(([, s]) => s['x-ui']?.advanced)
  const render = ([key, schema]: [string, JsonSchema]) => (
    <SchemaField
      key={key}
      name={key}
      schema={schema}
      value={props.value[key]}
      path={[key]}
      required={required.has(key)}
      onChange={(v) => {
        const next = { ...props.value }
        if (v === undefined) delete next[key]
        else next[key] = v
        props.onChange(next, key)
      }}
    />
  )
  return (
    <Ctx.Provider value={props.context}>
      <div className="schema-form">
        {entries.length === 0 && <p className="faint">This node has no settings.</p>}
        {basic.map(render)}
        {advanced.length > 0 && (
          <>
            <button
              type="button"
              className="btn btn-ghost btn-sm advanced-toggle"
              aria-expanded={showAdvanced}
              onClick={() => setShowAdvanced(!showAdvanced)}
            >
              <Icon name={showAdvanced ? 'chevronDown' : 'chevron'} size={12} /> Advanced ({advanced.length})
            </button>
            {showAdvanced && advanced.map(render)}
          </>
        )}
      </div>
    </Ctx.Provider>
  )
})

function FieldShell(props: {
  id: string
  label: string
  required: boolean
  schema: JsonSchema
  path: (string | number)[]
  children: ReactNode
  inline?: boolean
  labelFor?: boolean
  extra?: ReactNode
}) {
  const { issues } = useForm()
  const at = pathString(props.path)
  const mine = issues.filter((i) => i.path === at)
  const Label = props.labelFor === false ? 'span' : 'label'
  return (
    <div className={`field${props.inline ? ' field-inline' : ''}`} data-path={at}>
      {!props.inline && (
        <div className="field-label-row">
          <Label
            className="field-label"
            {...(props.labelFor === false ? { id: `${props.id}-label` } : { htmlFor: props.id })}
          >
            {props.label}
          </Label>
          {/* Outside the label, so the accessible name is the title alone; controls carry aria-required. */}
          {props.required && (
            <span className="required" aria-hidden="true" title="Required">
              *
            </span>
          )}
          {props.extra}
        </div>
      )}
      {props.children}
      {props.schema.description && !props.inline && (
        <div className="field-help" id={`${props.id}-help`}>
          {renderDescription(props.schema.description)}
        </div>
      )}
      {mine.map((issue, i) => (
        <div
          key={i}
          className={issue.severity === 'error' ? 'field-error' : 'field-warning'}
          role={issue.severity === 'error' ? 'alert' : undefined}
        >
          {fieldMessage(issue.message)}
        </div>
      ))}
    </div>
  )
}

/** Descriptions use `code` spans; show them as code. */
function renderDescription(text: string): ReactNode {
  return text
    .split(/(`[^`]+`)/g)
    .map((part, i) =>
      part.startsWith('`') && part.endsWith('`') ? <code key={i}>{part.slice(1, -1)}</code> : part,
    )
}

function SchemaField(props: FieldProps) {
  const { schema } = resolveSchema(props.schema)
  const id = useId()
  const label = fieldTitle(props.name, schema)
  const { issues } = useForm()
  const invalid = issues.some((i) => i.path === pathString(props.path) && i.severity === 'error')

  if (isParamRef(props.value)) {
    return (
      <FieldShell
        id={id}
        label={label}
        required={props.required}
        schema={schema}
        path={props.path}
        labelFor={false}
      >
        <div className="param-ref" role="group" aria-labelledby={`${id}-label`}>
          <span className="badge badge-accent">parameter</span>
          <code>{props.value.$param}</code>
          <div className="grow" />
          <button type="button" className="btn btn-sm" onClick={() => props.onChange(schema.default)}>
            Use a fixed value
          </button>
        </div>
      </FieldShell>
    )
  }

  const common = { id, label, required: props.required, schema, path: props.path }
  const kind = fieldKind(schema)
  switch (kind) {
    case 'code':
      return <CodeField {...props} schema={schema} id={id} label={label} invalid={invalid} />
    case 'boolean': {
      const checked = typeof props.value === 'boolean' ? props.value : schema.default === true
      return (
        <FieldShell {...common} labelFor={false}>
          <label className="switch">
            <input
              id={id}
              type="checkbox"
              role="switch"
              aria-labelledby={`${id}-label`}
              checked={checked}
              onChange={(e) => props.onChange(e.target.checked)}
            />
            <span className="muted">{checked ? 'On' : 'Off'}</span>
          </label>
        </FieldShell>
      )
    }
    case 'enum': {
      const options = schema.enum ?? [schema.const]
      const value = props.value ?? schema.default
      return (
        <FieldShell {...common}>
          <select
            id={id}
            className="select"
            aria-invalid={invalid}
            aria-required={props.required}
            value={value === undefined ? '' : JSON.stringify(value)}
            onChange={(e) => props.onChange(e.target.value === '' ? undefined : JSON.parse(e.target.value))}
          >
            {(value === undefined || !props.required) && (
              <option value="">
                {schema.default === undefined ? '— choose —' : `Default (${String(schema.default)})`}
              </option>
            )}
            {options.map((o) => (
              <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
                {String(o)}
              </option>
            ))}
          </select>
        </FieldShell>
      )
    }
    case 'number':
      return (
        <FieldShell {...common}>
          <input
            id={id}
            className="input"
            type="number"
            aria-invalid={invalid}
            aria-required={props.required}
            step={schema.type === 'integer' ? 1 : 'any'}
            min={schema.minimum !== undefined && schema.minimum > -1e15 ? schema.minimum : undefined}
            max={schema.maximum !== undefined && schema.maximum < 1e15 ? schema.maximum : undefined}
            placeholder={schema.default === undefined ? '' : String(schema.default)}
            value={typeof props.value === 'number' ? props.value : ''}
            onChange={(e) => props.onChange(e.target.value === '' ? undefined : Number(e.target.value))}
          />
        </FieldShell>
      )
    case 'column':
      return (
        <FieldShell {...common}>
          <ColumnInput
            id={id}
            required={props.required}
            port={schema['x-ui']?.port ?? 'in'}
            value={props.value}
            invalid={invalid}
            onChange={props.onChange}
          />
        </FieldShell>
      )
    case 'columns':
      return (
        <FieldShell {...common} labelFor={false}>
          <ColumnList id={id} schema={schema} value={props.value} onChange={props.onChange} />
        </FieldShell>
      )
    case 'file':
      return (
        <FieldShell {...common}>
          <FileInput
            id={id}
            required={props.required}
            mode={schema['x-ui']?.mode ?? 'read'}
            value={props.value}
            invalid={invalid}
            onChange={props.onChange}
          />
        </FieldShell>
      )
    case 'connection':
      return (
        <FieldShell {...common}>
          <ConnectionInput id={id} required={props.required} value={props.value} onChange={props.onChange} />
        </FieldShell>
      )
    case 'secret':
      return (
        <FieldShell {...common} labelFor={false}>
          <SecretInput id={id} value={props.value} onChange={props.onChange} />
        </FieldShell>
      )
    case 'keyPairs':
      return (
        <FieldShell {...common} labelFor={false}>
          <KeyPairs id={id} value={props.value} onChange={props.onChange} />
        </FieldShell>
      )
    case 'objectList':
      return <ObjectList {...props} schema={schema} id={id} label={label} />
    case 'list':
      return (
        <FieldShell {...common} labelFor={false}>
          <StringList
            id={id}
            value={props.value}
            numeric={schema.items?.type !== 'string'}
            onChange={props.onChange}
          />
        </FieldShell>
      )
    case 'object':
      return (
        <fieldset className="field-group" data-path={pathString(props.path)}>
          <legend>{label}</legend>
          {Object.entries(schema.properties ?? {}).map(([key, sub]) => {
            const obj = (
              typeof props.value === 'object' && props.value !== null ? props.value : {}
            ) as Record<string, unknown>
            return (
              <SchemaField
                key={key}
                name={key}
                schema={sub}
                value={obj[key]}
                path={[...props.path, key]}
                required={(schema.required ?? []).includes(key)}
                onChange={(v) => {
                  const next = { ...obj }
                  if (v === undefined) delete next[key]
                  else next[key] = v
                  props.onChange(Object.keys(next).length ? next : undefined)
                }}
              />
            )
          })}
        </fieldset>
      )
    case 'string':
      return (
        <FieldShell {...common}>
          <input
            id={id}
            className="input"
            aria-invalid={invalid}
            aria-required={props.required}
            placeholder={schema.default === undefined ? '' : String(schema.default)}
            value={typeof props.value === 'string' ? props.value : ''}
            onChange={(e) => props.onChange(e.target.value === '' ? undefined : e.target.value)}
          />
        </FieldShell>
      )
    case 'json':
      return (
        <FieldShell {...common}>
          <JsonInput id={id} required={props.required} value={props.value} onChange={props.onChange} />
        </FieldShell>
      )
    default: {
      const never: never = kind
      return never
    }
  }
}

/** Which path the engine takes for this expression: compiled to JavaScript, or the slower interpreter. */
function ExpressionPath(props: { compiled: boolean | undefined }) {
  if (props.compiled === undefined) return null
  return (
    <div
      className={`expression-path ${props.compiled ? 'compiled' : 'interpreted'}`}
      data-testid="expression-path"
      title={
        props.compiled
          ? 'Runs compiled to JavaScript, many times faster than the interpreter'
          : 'Uses a part of JSONata the compiler does not cover, so it runs on the jsonata interpreter (slower, spread over worker threads)'
      }
    >
      {props.compiled ? 'Compiled' : 'Interpreted'}
    </div>
  )
}

function CodeField(props: FieldProps & { id: string; label: string; invalid: boolean }) {
  const form = useForm()
  const port = props.schema['x-ui']?.port ?? 'in'
  const sample = useUpstreamSample(form.nodeId, port)
  const known = form.columnsFor(port)
  const fromSample = sample.result?.columns.map((c) => c.name)
  const fields = known ?? fromSample ?? []
  const value = typeof props.value === 'string' ? props.value : ''
  const mode =
    form.nodeType === 'filter' || /filter/.test(form.nodeType)
      ? 'filter'
      : form.nodeType === 'map'
        ? 'map'
        : 'value'
  return (
    <FieldShell
      id={props.id}
      label={props.label}
      required={props.required}
      schema={props.schema}
      path={props.path}
    >
      <Suspense fallback={<div className="input mono jsonata-loading">{value || ' '}</div>}>
        <JsonataEditor
          id={props.id}
          label={props.label}
          value={value}
          fields={fields}
          invalid={props.invalid}
          required={props.required}
          placeholder={
            mode === 'filter'
              ? 'e.g. status = "active"'
              : mode === 'map'
                ? 'e.g. { "uid": $lowercase(login) }'
                : ''
          }
          describedBy={`${props.id}-help`}
          onChange={(v) => props.onChange(v === '' ? undefined : v)}
        />
      </Suspense>
      {fields.length > 0 && (
        <div className="field-help">
          Fields:{' '}
          {fields
            .slice(0, 12)
            .map((f) => <code key={f}>{f}</code>)
            .reduce<ReactNode[]>((acc, el, i) => (i ? [...acc, ' ', el] : [el]), [])}
          {fields.length > 12 ? ` +${fields.length - 12}` : ''} · <kbd>Ctrl</kbd>+<kbd>Space</kbd> completes
        </div>
      )}
      <Suspense fallback={null}>
        <JsonataLive expression={value} sample={sample} mode={mode} />
      </Suspense>
      <ExpressionPath compiled={value === '' ? undefined : form.compiledAt?.(pathString(props.path))} />
    </FieldShell>
  )
}

/**
 * Columns arriving on a port: what validation knows, else (a CSV file's header is not known before
 * reading it) the columns of sample rows upstream. Undefined while unknown.
 */
function useColumns(port: string): string[] | undefined {
  const { columnsFor, nodeId } = useForm()
  const known = columnsFor(port)
  const sample = useUpstreamSample(nodeId, port, 20, known === undefined)
  if (known) return known
  const result = sample.result
  return result && result.rows.length > 0 ? result.columns.map((c) => c.name) : undefined
}

function ColumnInput(props: {
  id: string
  required: boolean
  port: string
  value: unknown
  invalid: boolean
  onChange: (v: unknown) => void
}) {
  const columns = useColumns(props.port)
  const value = typeof props.value === 'string' ? props.value : ''
  const listId = `${props.id}-columns`
  const unknownValue = columns !== undefined && value !== '' && !columns.includes(value)
  if (columns && columns.length > 0 && !unknownValue) {
    return (
      <select
        id={props.id}
        className="select"
        aria-invalid={props.invalid}
        aria-required={props.required}
        value={value}
        onChange={(e) => props.onChange(e.target.value || undefined)}
      >
        <option value="">— column of “{props.port}” —</option>
        {columns.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    )
  }
  return (
    <>
      <input
        id={props.id}
        className="input"
        list={listId}
        aria-invalid={props.invalid || unknownValue}
        aria-required={props.required}
        placeholder={columns === undefined ? 'Column name (columns upstream unknown)' : 'Column name'}
        value={value}
        onChange={(e) => props.onChange(e.target.value || undefined)}
      />
      <datalist id={listId}>
        {columns?.map((c) => (
          <option key={c} value={c} />
        ))}
      </datalist>
      {unknownValue && (
        <div className="field-warning">
          “{value}” does not reach the “{props.port}” input
        </div>
      )}
    </>
  )
}

function ColumnList(props: {
  id: string
  schema: JsonSchema
  value: unknown
  onChange: (v: unknown) => void
}) {
  const port = props.schema['x-ui']?.port ?? props.schema.items?.['x-ui']?.port ?? 'in'
  const columns = useColumns(port) ?? []
  const list = Array.isArray(props.value) ? (props.value as string[]) : []
  const [draft, setDraft] = useState('')
  const add = (name: string) => {
    if (!name || list.includes(name)) return
    props.onChange([...list, name])
    setDraft('')
  }
  return (
    <div className="chips" role="group" aria-labelledby={`${props.id}-label`}>
      {list.map((c, i) => (
        <span key={c} className="chip">
          {c}
          <button
            type="button"
            aria-label={`Remove ${c}`}
            onClick={() => props.onChange(list.length > 1 ? list.filter((_, j) => j !== i) : undefined)}
          >
            <Icon name="close" size={10} />
          </button>
        </span>
      ))}
      <input
        className="input chip-input"
        list={`${props.id}-list`}
        aria-label="Add a column"
        placeholder="Add column…"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault()
            add(draft.trim())
          }
        }}
        onBlur={() => add(draft.trim())}
      />
      <datalist id={`${props.id}-list`}>
        {columns
          .filter((c) => !list.includes(c))
          .map((c) => (
            <option key={c} value={c} />
          ))}
      </datalist>
    </div>
  )
}

function FileInput(props: {
  id: string
  required: boolean
  mode: 'read' | 'write'
  value: unknown
  invalid: boolean
  onChange: (v: unknown) => void
}) {
  const { files, onUpload } = useForm()
  const value = typeof props.value === 'string' ? props.value : ''
  return (
    <div className="row">
      <input
        id={props.id}
        className="input mono"
        list={`${props.id}-files`}
        aria-invalid={props.invalid}
        aria-required={props.required}
        placeholder={props.mode === 'read' ? 'File to read, e.g. people.csv' : 'File to write, e.g. out.csv'}
        value={value}
        onChange={(e) => props.onChange(e.target.value || undefined)}
      />
      <datalist id={`${props.id}-files`}>
        {files.map((f) => (
          <option key={f.name} value={f.name}>
            {`${f.name} (${Math.ceil(f.size / 1024)} KB)`}
          </option>
        ))}
      </datalist>
      {props.mode === 'read' && (
        <label className="btn btn-icon" title="Upload a file" aria-label="Upload a file">
          <Icon name="upload" />
          <input
            type="file"
            hidden
            onChange={async (e) => {
              const file = e.target.files?.[0]
              e.target.value = ''
              if (!file) return
              const name = await onUpload(file)
              if (name) props.onChange(name)
            }}
          />
        </label>
      )}
    </div>
  )
}

function ConnectionInput(props: {
  id: string
  required: boolean
  value: unknown
  onChange: (v: unknown) => void
}) {
  const { connections } = useForm()
  const inline = typeof props.value === 'object' && props.value !== null
  const [mode, setMode] = useState<'stored' | 'inline'>(inline ? 'inline' : 'stored')
  return (
    <div className="stack">
      <div className="segmented" role="radiogroup" aria-label="Connection source">
        <button type="button" role="radio" aria-checked={mode === 'stored'} onClick={() => setMode('stored')}>
          Stored connection
        </button>
        <button type="button" role="radio" aria-checked={mode === 'inline'} onClick={() => setMode('inline')}>
          Inline settings
        </button>
      </div>
      {mode === 'stored' ? (
        <select
          id={props.id}
          className="select"
          aria-required={props.required}
          value={typeof props.value === 'string' ? props.value : ''}
          onChange={(e) => props.onChange(e.target.value || undefined)}
        >
          <option value="">
            {connections.length ? '— choose a connection —' : 'No stored connections yet'}
          </option>
          {connections.map((c) => (
            <option key={c.id} value={c.name}>
              {c.name} ({c.driver ?? c.kind})
            </option>
          ))}
        </select>
      ) : (
        <JsonInput
          id={props.id}
          required={props.required}
          value={inline ? props.value : undefined}
          onChange={props.onChange}
          placeholder='{ "driver": "sqlite", "database": "hr.db" }'
        />
      )}
    </div>
  )
}

function SecretInput(props: { id: string; value: unknown; onChange: (v: unknown) => void }) {
  const env = typeof props.value === 'object' && props.value !== null && '$env' in props.value
  const [mode, setMode] = useState<'env' | 'literal'>(env || props.value === undefined ? 'env' : 'literal')
  const envName = env ? String((props.value as { $env: unknown }).$env) : ''
  return (
    <div className="stack">
      <div className="segmented" role="radiogroup" aria-label="Secret source">
        <button type="button" role="radio" aria-checked={mode === 'env'} onClick={() => setMode('env')}>
          Environment variable
        </button>
        <button
          type="button"
          role="radio"
          aria-checked={mode === 'literal'}
          onClick={() => setMode('literal')}
        >
          Value
        </button>
      </div>
      {mode === 'env' ? (
        <input
          className="input mono"
          aria-labelledby={`${props.id}-label`}
          placeholder="VARIABLE_NAME"
          value={envName}
          onChange={(e) => props.onChange(e.target.value ? { $env: e.target.value } : undefined)}
        />
      ) : (
        <>
          <input
            className="input"
            type="password"
            autoComplete="new-password"
            aria-labelledby={`${props.id}-label`}
            value={typeof props.value === 'string' ? props.value : ''}
            onChange={(e) => props.onChange(e.target.value || undefined)}
          />
          <div className="field-warning">
            A value is stored in the graph document; prefer an environment variable.
          </div>
        </>
      )}
    </div>
  )
}

function KeyPairs(props: { id: string; value: unknown; onChange: (v: unknown) => void }) {
  const obj =
    typeof props.value === 'object' && props.value !== null ? (props.value as Record<string, unknown>) : {}
  const entries = Object.entries(obj)
  const write = (list: [string, unknown][]) =>
    props.onChange(list.length ? Object.fromEntries(list) : undefined)
  return (
    <div className="pairs" role="group" aria-labelledby={`${props.id}-label`}>
      {entries.map(([k, v], i) => (
        <div className="row" key={i}>
          <input
            className="input"
            aria-label="Name"
            value={k}
            onChange={(e) => write(entries.map((p, j) => (j === i ? [e.target.value, p[1]] : p)))}
          />
          <input
            className="input"
            aria-label={`Value of ${k}`}
            value={String(v ?? '')}
            onChange={(e) => write(entries.map((p, j) => (j === i ? [p[0], e.target.value] : p)))}
          />
          <button
            type="button"
            className="btn btn-ghost btn-icon"
            aria-label={`Remove ${k}`}
            onClick={() => write(entries.filter((_, j) => j !== i))}
          >
            <Icon name="trash" size={14} />
          </button>
        </div>
      ))}
      <button
        type="button"
        className="btn btn-sm"
        onClick={() => write([...entries, [`key${entries.length + 1}`, '']])}
      >
        <Icon name="plus" size={12} /> Add
      </button>
    </div>
  )
}

function StringList(props: { id: string; value: unknown; numeric: boolean; onChange: (v: unknown) => void }) {
  const list = Array.isArray(props.value) ? props.value : []
  const write = (next: unknown[]) => props.onChange(next.length ? next : undefined)
  return (
    <div className="stack" role="group" aria-labelledby={`${props.id}-label`}>
      {list.map((item, i) => (
        <div className="row" key={i}>
          <input
            className="input"
            aria-label={`Item ${i + 1}`}
            type={props.numeric ? 'number' : 'text'}
            value={String(item ?? '')}
            onChange={(e) =>
              write(
                list.map((v, j) => (j === i ? (props.numeric ? Number(e.target.value) : e.target.value) : v)),
              )
            }
          />
          <button
            type="button"
            className="btn btn-ghost btn-icon"
            aria-label={`Remove item ${i + 1}`}
            onClick={() => write(list.filter((_, j) => j !== i))}
          >
            <Icon name="trash" size={14} />
          </button>
        </div>
      ))}
      <button
        type="button"
        className="btn btn-sm"
        style={{ alignSelf: 'flex-start' }}
        onClick={() => write([...list, props.numeric ? 0 : ''])}
      >
        <Icon name="plus" size={12} /> Add item
      </button>
    </div>
  )
}

function ObjectList(props: FieldProps & { id: string; label: string }) {
  const items = resolveSchema(props.schema.items ?? {}).schema
  const list = Array.isArray(props.value) ? (props.value as Record<string, unknown>[]) : []
  const required = new Set(items.required ?? [])
  const write = (next: Record<string, unknown>[]) => props.onChange(next.length ? next : undefined)
  const itemTitle = items.title ?? 'item'
  return (
    <fieldset className="field-group" data-path={pathString(props.path)}>
      <legend>
        {props.label}
        {props.required && (
          <span className="required" aria-hidden="true">
            {' '}
            *
          </span>
        )}
      </legend>
      {props.schema.description && (
        <div className="field-help">{renderDescription(props.schema.description)}</div>
      )}
      <FieldShell id={props.id} label="" required={false} schema={{}} path={props.path} inline>
        {null}
      </FieldShell>
      {list.map((item, i) => (
        <div className="list-item" key={i} role="group" aria-label={`${props.label} ${i + 1}`}>
          <div className="list-item-fields">
            {Object.entries(items.properties ?? {}).map(([key, sub]) => (
              <SchemaField
                key={key}
                name={key}
                schema={sub}
                value={item[key]}
                path={[...props.path, i, key]}
                required={required.has(key)}
                onChange={(v) => {
                  const next = { ...item }
                  if (v === undefined) delete next[key]
                  else next[key] = v
                  write(list.map((x, j) => (j === i ? next : x)))
                }}
              />
            ))}
          </div>
          <button
            type="button"
            className="btn btn-ghost btn-icon"
            aria-label={`Remove ${props.label} ${i + 1}`}
            onClick={() => write(list.filter((_, j) => j !== i))}
          >
            <Icon name="trash" size={14} />
          </button>
        </div>
      ))}
      <button
        type="button"
        className="btn btn-sm"
        style={{ alignSelf: 'flex-start' }}
        onClick={() => write([...list, {}])}
      >
        <Icon name="plus" size={12} /> Add {itemTitle === 'item' ? 'item' : itemTitle.toLowerCase()}
      </button>
    </fieldset>
  )
}

function JsonInput(props: {
  id: string
  required?: boolean
  value: unknown
  onChange: (v: unknown) => void
  placeholder?: string
}) {
  const [text, setText] = useState(props.value === undefined ? '' : JSON.stringify(props.value, null, 2))
  const [error, setError] = useState<string | null>(null)
  return (
    <>
      <textarea
        id={props.id}
        className="textarea mono"
        rows={4}
        placeholder={props.placeholder}
        aria-invalid={error !== null}
        aria-required={props.required}
        value={text}
        onChange={(e) => {
          setText(e.target.value)
          if (e.target.value.trim() === '') {
            setError(null)
            props.onChange(undefined)
            return
          }
          try {
            props.onChange(JSON.parse(e.target.value))
            setError(null)
          } catch {
            setError('Not valid JSON yet')
          }
        }}
      />
      {error && <div className="field-warning">{error}</div>}
    </>
  )
}
