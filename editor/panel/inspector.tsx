import { useCallback, useEffect, useMemo, useState } from 'react'
import { api } from '../api/client.ts'
import type { Connection, FileInfo, Issue } from '../api/types.ts'
import { upstreamColumns, useEditor } from '../store/editor-store.ts'
import type { OnRowError, SgNode } from '../store/graph-model.ts'
import { categoryIcon, Icon } from '../ui/icons.tsx'
import { notify } from '../ui/toasts.tsx'
import { ConnectSection } from './connect-section.tsx'
import { SchemaForm, type FormContext } from './schema-form.tsx'

const emptyIssues: Issue[] = []

/** Files and stored connections, fetched once per editor session for pickers. */
function useResources() {
  const [files, setFiles] = useState<FileInfo[]>([])
  const [connections, setConnections] = useState<Connection[]>([])
  const refreshFiles = useCallback(() => {
    api
      .listFiles()
      .then((r) => setFiles(r.files))
      .catch(() => undefined)
  }, [])
  useEffect(() => {
    refreshFiles()
    api
      .listConnections()
      .then((r) => setConnections(r.connections))
      .catch(() => undefined)
  }, [refreshFiles])
  return { files, connections, refreshFiles }
}

/** The side panel of the selected node: identity, row-error policy, issues and the generated config form. */
export function NodeInspector({
  nodeId,
  onPreview,
}: {
  nodeId: string
  onPreview: (nodeId: string) => void
}) {
  const data = useEditor((s) => s.nodes.find((n) => n.id === nodeId)?.data)
  if (!data) return null
  return <NodeInspectorBody node={{ id: nodeId, data }} onPreview={onPreview} />
}

function NodeInspectorBody({
  node,
  onPreview,
}: {
  node: Pick<SgNode, 'id' | 'data'>
  onPreview: (nodeId: string) => void
}) {
  const info = useEditor((s) => s.catalog[node.data.type])
  const issues = useEditor((s) => s.issuesByNode[node.id] ?? emptyIssues)
  const expressions = useEditor((s) => s.expressions)
  const columns = useEditor((s) => s.columns)
  const edges = useEditor((s) => s.edges)
  const graphPolicy = useEditor((s) => s.meta.settings.onRowError ?? 'fail')
  const updateConfig = useEditor((s) => s.updateConfig)
  const updateNode = useEditor((s) => s.updateNode)
  const renameNode = useEditor((s) => s.renameNode)
  const deleteNode = useEditor((s) => s.deleteNode)
  const { files, connections, refreshFiles } = useResources()
  const [idDraft, setIdDraft] = useState(node.id)
  const [idError, setIdError] = useState<string | null>(null)
  useEffect(() => {
    setIdDraft(node.id)
    setIdError(null)
  }, [node.id])

  const context = useMemo<FormContext>(
    () => ({
      nodeId: node.id,
      nodeType: node.data.type,
      issues,
      columnsFor: (port) => upstreamColumns(useEditor.getState(), node.id, port),
      compiledAt: (path) => expressions.find((e) => e.nodeId === node.id && e.path === path)?.compiled,
      files,
      connections,
      onUpload: async (file) => {
        try {
          await api.uploadFile(file.name, file)
          refreshFiles()
          notify.success(`Uploaded ${file.name}`)
          return file.name
        } catch (e) {
          notify.error(e)
          return undefined
        }
      },
    }),
    // columns and edges are read through getState; listed so pickers refresh when they change
    [node.id, node.data.type, issues, expressions, files, connections, refreshFiles, columns, edges],
  )

  const onChange = useCallback(
    (config: Record<string, unknown>, field: string) => updateConfig(node.id, config, field),
    [node.id, updateConfig],
  )

  const general = issues.filter((i) => !i.path)
  const pathIssues = issues.filter((i) => i.path)
  return (
    <section className="inspector" aria-label={`Settings of ${node.id}`}>
      <div className="inspector-head">
        <span className={`sg-node-icon cat-${info?.category ?? 'other'}`} aria-hidden="true">
          <Icon name={categoryIcon[info?.category ?? ''] ?? 'graph'} size={14} />
        </span>
        <div className="grow">
          <h2>{info?.title ?? node.data.type}</h2>
          <div className="faint mono">
            {node.data.type} v{info?.version ?? '?'}
          </div>
        </div>
        <button
          className="btn btn-sm"
          onClick={() => onPreview(node.id)}
          title="Preview this node's output (P)"
        >
          <Icon name="table" size={14} /> Preview
        </button>
        <button
          className="btn btn-ghost btn-icon btn-danger"
          aria-label={`Delete node ${node.id}`}
          onClick={() => deleteNode(node.id)}
        >
          <Icon name="trash" />
        </button>
      </div>
      {info?.description && <p className="inspector-desc muted">{info.description}</p>}
      {info?.holdsData && (
        <div className="notice">
          <Icon name="warning" size={14} /> Holds data in memory: {info.holdsData}
        </div>
      )}

      {(general.length > 0 || pathIssues.length > 0) && (
        <ul className="issue-list" aria-label="Issues of this node">
          {[...general, ...pathIssues].map((issue, i) => (
            <li key={i} className={issue.severity}>
              <Icon name={issue.severity === 'error' ? 'error' : 'warning'} size={14} />
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  if (!issue.path) return
                  const el = document.querySelector<HTMLElement>(`[data-path="${CSS.escape(issue.path)}"]`)
                  el?.scrollIntoView({ block: 'center' })
                  el?.querySelector<HTMLElement>('input, select, textarea, [contenteditable]')?.focus()
                }}
              >
                {issue.message}
              </button>
            </li>
          ))}
        </ul>
      )}

      <section className="inspector-section" aria-label="Node">
        <div className="field-row">
          <label className="field">
            <span className="field-label">Id</span>
            <input
              className="input mono"
              value={idDraft}
              aria-invalid={idError !== null}
              onChange={(e) => setIdDraft(e.target.value)}
              onBlur={() => {
                const problem = renameNode(node.id, idDraft.trim())
                setIdError(problem ?? null)
              }}
              onKeyDown={(e) => {
                if (e.key === 'Enter') (e.target as HTMLInputElement).blur()
              }}
            />
          </label>
          <label className="field">
            <span className="field-label">Label</span>
            <input
              className="input"
              placeholder={info?.title}
              value={node.data.label ?? ''}
              onChange={(e) => updateNode(node.id, { label: e.target.value || undefined })}
            />
          </label>
        </div>
        {idError && <div className="field-error">{idError}</div>}
        {info?.rowErrors && (
          <label className="field">
            <span className="field-label">When a row fails</span>
            <select
              className="select"
              value={node.data.onRowError ?? ''}
              onChange={(e) =>
                updateNode(node.id, { onRowError: (e.target.value || undefined) as OnRowError | undefined })
              }
            >
              <option value="">Graph default ({graphPolicy})</option>
              <option value="fail">Fail the run</option>
              <option value="skip">Skip the row</option>
              <option value="route">Send it to the “rejected” output</option>
            </select>
          </label>
        )}
      </section>

      <ConnectSection nodeId={node.id} />

      <section className="inspector-section" aria-label="Configuration">
        <h3 className="section-title">Configuration</h3>
        {info ? (
          <SchemaForm
            key={node.id}
            schema={info.configSchema}
            value={node.data.config}
            context={context}
            onChange={onChange}
          />
        ) : (
          <p className="field-error">
            This node type is not in the catalog; its config cannot be edited here.
          </p>
        )}
      </section>
    </section>
  )
}

/** The side panel when nothing is selected: the graph's name, description, settings and parameters. */
export function GraphInspector() {
  const meta = useEditor((s) => s.meta)
  const setMeta = useEditor((s) => s.setMeta)
  const issues = useEditor((s) => s.issues)
  const settings = meta.settings
  const graphIssues = issues.filter((i) => !i.nodeId)
  return (
    <section className="inspector" aria-label="Graph settings">
      <div className="inspector-head">
        <div className="grow">
          <h2>Graph</h2>
          <div className="faint">Select a node to edit its settings.</div>
        </div>
      </div>
      {graphIssues.length > 0 && (
        <ul className="issue-list" aria-label="Issues of the graph">
          {graphIssues.map((issue, i) => (
            <li key={i} className={issue.severity}>
              <Icon name={issue.severity === 'error' ? 'error' : 'warning'} size={14} /> {issue.message}
            </li>
          ))}
        </ul>
      )}
      <section className="inspector-section">
        <label className="field">
          <span className="field-label">Name</span>
          <input className="input" value={meta.name} onChange={(e) => setMeta({ name: e.target.value })} />
        </label>
        <label className="field">
          <span className="field-label">Description</span>
          <textarea
            className="textarea"
            rows={3}
            value={meta.description ?? ''}
            onChange={(e) => setMeta({ description: e.target.value || undefined })}
          />
        </label>
      </section>
      <section className="inspector-section">
        <h3 className="section-title">Run settings</h3>
        <div className="field-row">
          <label className="field">
            <span className="field-label">Batch size</span>
            <input
              className="input"
              type="number"
              min={1}
              placeholder="5000"
              value={settings.batchSize ?? ''}
              onChange={(e) =>
                setMeta({
                  settings: {
                    ...settings,
                    batchSize: e.target.value === '' ? undefined : Number(e.target.value),
                  },
                })
              }
            />
          </label>
          <label className="field">
            <span className="field-label">When a row fails</span>
            <select
              className="select"
              value={settings.onRowError ?? 'fail'}
              onChange={(e) =>
                setMeta({ settings: { ...settings, onRowError: e.target.value as OnRowError } })
              }
            >
              <option value="fail">Fail the run</option>
              <option value="skip">Skip the row</option>
              <option value="route">Route to “rejected”</option>
            </select>
          </label>
        </div>
      </section>
      {Object.keys(meta.params).length > 0 && (
        <section className="inspector-section">
          <h3 className="section-title">Parameters</h3>
          <table className="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Default</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(meta.params).map(([name, p]) => (
                <tr key={name}>
                  <td className="mono">{name}</td>
                  <td>{p.type}</td>
                  <td className="mono">{p.default === undefined ? '—' : JSON.stringify(p.default)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </section>
  )
}
