import { useCallback, useEffect, useRef, useState } from 'react'
import { api, errorText } from '../api/client.ts'
import type { GraphSummary } from '../api/types.ts'
import { parseGraph } from '../../engine/graph.ts'
import { downloadJson, formatDate, graphFileName } from '../lib/files.ts'
import { useCan } from '../lib/permissions.ts'
import { navigate } from '../lib/router.ts'
import { Dialog } from '../ui/dialog.tsx'
import { Icon } from '../ui/icons.tsx'
import { notify } from '../ui/toasts.tsx'
import { GraphJobDialog, type GraphJobAction } from './ops/graph-jobs.tsx'
import { NextRun } from './ops/job-parts.tsx'

type Pending =
  | { kind: 'create' }
  | { kind: 'rename'; graph: GraphSummary }
  | { kind: 'duplicate'; graph: GraphSummary }
  | { kind: 'delete'; graph: GraphSummary }
  | null

/** The graphs screen: search, create, rename, duplicate, delete, import and export. */
export function GraphList() {
  const [graphs, setGraphs] = useState<GraphSummary[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [search, setSearch] = useState('')
  const [pending, setPending] = useState<Pending>(null)
  const [name, setName] = useState('')
  const [busy, setBusy] = useState(false)
  const [jobAction, setJobAction] = useState<GraphJobAction | null>(null)
  const fileInput = useRef<HTMLInputElement>(null)
  // Controls the signed-in user's role lacks are not shown (the server would refuse them anyway).
  const canCreate = useCan('create')
  const canEdit = useCan('edit')
  const canDelete = useCan('delete')
  const canRun = useCan('run')

  const load = useCallback((text: string) => {
    api
      .listGraphs(text)
      .then(({ graphs }) => {
        setGraphs(graphs)
        setError(null)
      })
      .catch((e) => setError(errorText(e)))
  }, [])

  useEffect(() => {
    const timer = setTimeout(() => load(search), search ? 200 : 0)
    return () => clearTimeout(timer)
  }, [search, load])

  const open = (p: Pending) => {
    setPending(p)
    if (p?.kind === 'create') setName('')
    if (p?.kind === 'rename') setName(p.graph.name)
    if (p?.kind === 'duplicate') setName(`${p.graph.name} (copy)`)
  }

  const act = async () => {
    if (!pending) return
    setBusy(true)
    try {
      if (pending.kind === 'create') {
        const created = await api.createGraph({
          syncgraph: 1,
          name: name.trim() || 'Untitled graph',
          nodes: [],
          edges: [],
        })
        navigate(`/graphs/${created.id}`)
      } else if (pending.kind === 'rename') {
        const stored = await api.getGraph(pending.graph.id)
        await api.saveGraph(stored.id, { ...stored.graph, name: name.trim() }, stored.revision)
        notify.success(`Renamed to “${name.trim()}”`)
      } else if (pending.kind === 'duplicate') {
        await api.duplicateGraph(pending.graph.id, name.trim())
        notify.success(`Duplicated as “${name.trim()}”`)
      } else {
        await api.deleteGraph(pending.graph.id)
        notify.success(`Deleted “${pending.graph.name}”`)
      }
      setPending(null)
      load(search)
    } catch (e) {
      notify.error(e)
    } finally {
      setBusy(false)
    }
  }

  const exportGraph = async (graph: GraphSummary) => {
    try {
      const stored = await api.getGraph(graph.id)
      downloadJson(graphFileName(stored.graph.name ?? graph.name), stored.graph)
    } catch (e) {
      notify.error(e)
    }
  }

  const importFile = async (file: File) => {
    try {
      let doc: unknown
      try {
        doc = JSON.parse(await file.text())
      } catch {
        throw new Error(`${file.name} is not JSON`)
      }
      const parsed = parseGraph(doc)
      if (!parsed.ok) {
        const first = parsed.issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`)
        throw new Error(`${file.name} is not a Syncgraph graph (${first.join('; ')})`)
      }
      const created = await api.createGraph(doc as never)
      notify.success(`Imported “${created.graph.name ?? file.name}”`)
      navigate(`/graphs/${created.id}`)
    } catch (e) {
      notify.error(e)
    }
  }

  const title =
    pending?.kind === 'create'
      ? 'New graph'
      : pending?.kind === 'rename'
        ? 'Rename graph'
        : pending?.kind === 'duplicate'
          ? 'Duplicate graph'
          : 'Delete graph'

  return (
    <main className="page" aria-labelledby="graphs-title">
      <div className="page-head">
        <h1 id="graphs-title">Graphs</h1>
        <div className="searchbox">
          <Icon name="search" />
          <input
            className="input"
            type="search"
            placeholder="Search graphs"
            aria-label="Search graphs"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <div className="grow" />
        {canCreate && (
          <button className="btn" onClick={() => fileInput.current?.click()}>
            <Icon name="upload" /> Import JSON
          </button>
        )}
        <input
          ref={fileInput}
          type="file"
          accept=".json,application/json"
          hidden
          aria-label="Graph file to import"
          data-testid="import-file"
          onChange={(e) => {
            const file = e.target.files?.[0]
            if (file) void importFile(file)
            e.target.value = ''
          }}
        />
        {canCreate && (
          <button className="btn btn-primary" onClick={() => open({ kind: 'create' })}>
            <Icon name="plus" /> New graph
          </button>
        )}
      </div>

      {error && (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      )}
      {graphs === null && !error && <div className="empty">Loading…</div>}
      {graphs !== null && graphs.length === 0 && (
        <div className="empty card">
          {search ? (
            <>No graph matches “{search}”.</>
          ) : (
            <div className="stack" style={{ alignItems: 'center' }}>
              <strong>No graphs yet</strong>
              <span>Create one, import a JSON document, or start from a template.</span>
              <div className="row">
                {canCreate && (
                  <button className="btn btn-primary" onClick={() => open({ kind: 'create' })}>
                    <Icon name="plus" /> New graph
                  </button>
                )}
                <a className="btn" href="#/templates">
                  <Icon name="template" /> Browse templates
                </a>
              </div>
            </div>
          )}
        </div>
      )}
      {graphs !== null && graphs.length > 0 && (
        <div className="card">
          <table className="table list-table" aria-label="Graphs">
            <thead>
              <tr>
                <th>Name</th>
                <th>Description</th>
                <th className="num">Revision</th>
                <th>Updated</th>
                <th>Next run</th>
                <th>
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {graphs.map((g) => (
                <tr key={g.id}>
                  <td>
                    <a className="row-link" href={`#/graphs/${encodeURIComponent(g.id)}`}>
                      {g.name}
                    </a>
                  </td>
                  <td className="muted ellipsis">{g.description ?? ''}</td>
                  <td className="num">{g.revision}</td>
                  <td className="muted">{formatDate(g.updatedAt)}</td>
                  <td>
                    <NextRun at={g.nextRunAt} />
                  </td>
                  <td className="actions">
                    {canEdit && (
                      <button
                        className="btn btn-ghost btn-sm"
                        aria-label={`Rename ${g.name}`}
                        onClick={() => open({ kind: 'rename', graph: g })}
                      >
                        <Icon name="edit" size={14} /> Rename
                      </button>
                    )}
                    {canCreate && (
                      <button
                        className="btn btn-ghost btn-sm"
                        aria-label={`Duplicate ${g.name}`}
                        onClick={() => open({ kind: 'duplicate', graph: g })}
                      >
                        <Icon name="copy" size={14} /> Duplicate
                      </button>
                    )}
                    {canRun && (
                      <button
                        className="btn btn-ghost btn-sm"
                        aria-label={`Schedule ${g.name}`}
                        onClick={() => setJobAction({ kind: 'schedule', graph: g })}
                      >
                        <Icon name="history" size={14} /> Schedule
                      </button>
                    )}
                    {canRun && (
                      <button
                        className="btn btn-ghost btn-sm"
                        aria-label={`Notifications of ${g.name}`}
                        onClick={() => setJobAction({ kind: 'notifications', graph: g })}
                      >
                        <Icon name="warning" size={14} /> Notify
                      </button>
                    )}
                    <button
                      className="btn btn-ghost btn-sm"
                      aria-label={`Export ${g.name}`}
                      onClick={() => void exportGraph(g)}
                    >
                      <Icon name="download" size={14} /> Export
                    </button>
                    {canDelete && (
                      <button
                        className="btn btn-ghost btn-sm btn-danger"
                        aria-label={`Delete ${g.name}`}
                        onClick={() => open({ kind: 'delete', graph: g })}
                      >
                        <Icon name="trash" size={14} />
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {jobAction && (
        <GraphJobDialog action={jobAction} onClose={() => setJobAction(null)} onSaved={() => load(search)} />
      )}
      <Dialog
        title={title}
        open={pending !== null}
        onClose={() => setPending(null)}
        onSubmit={act}
        busy={busy}
        danger={pending?.kind === 'delete'}
        submitLabel={
          pending?.kind === 'delete'
            ? 'Delete'
            : pending?.kind === 'create'
              ? 'Create'
              : pending?.kind === 'rename'
                ? 'Rename'
                : 'Duplicate'
        }
        submitDisabled={pending?.kind !== 'delete' && name.trim() === ''}
      >
        {pending?.kind === 'delete' ? (
          <p>
            Delete <strong>{pending.graph.name}</strong> and its revisions? Its run history stays available.
            This cannot be undone.
          </p>
        ) : (
          <label className="field">
            <span className="field-label">Name</span>
            <input
              className="input"
              value={name}
              onChange={(e) => setName(e.target.value)}
              autoFocus
              required
            />
          </label>
        )}
      </Dialog>
    </main>
  )
}
