import { useCallback, useEffect, useRef, useState } from 'react'
import { api, errorText } from '../api/client.ts'
import type { GraphSummary } from '../api/types.ts'
import { parseGraph } from '../../engine/graph.ts'
import { downloadJson, formatDate, graphFileName } from '../lib/files.ts'
import { useCan } from '../lib/permissions.ts'
import { navigate } from '../lib/router.ts'
import { NewButton, RowAction } from '../ui/buttons.tsx'
import { Dialog } from '../ui/dialog.tsx'
import { Icon } from '../ui/icons.tsx'
import { notify } from '../ui/toasts.tsx'
import { GraphJobDialog, type GraphJobAction } from './ops/graph-jobs.tsx'
import { NextRun } from './ops/job-parts.tsx'
import { ErrorNotice } from '../ui/status.tsx'
import { TextField } from '../ui/text-field.tsx'
import { ActionsHeader } from '../ui/table.tsx'

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
        {canCreate && <NewButton label="New graph" onClick={() => open({ kind: 'create' })} />}
      </div>

      <ErrorNotice error={error} />
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
                {canCreate && <NewButton label="New graph" onClick={() => open({ kind: 'create' })} />}
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
                <ActionsHeader />
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
                      <RowAction
                        label={`Rename ${g.name}`}
                        icon="edit"
                        text="Rename"
                        onClick={() => open({ kind: 'rename', graph: g })}
                      />
                    )}
                    {canCreate && (
                      <RowAction
                        label={`Duplicate ${g.name}`}
                        icon="copy"
                        text="Duplicate"
                        onClick={() => open({ kind: 'duplicate', graph: g })}
                      />
                    )}
                    {canRun && (
                      <RowAction
                        label={`Schedule ${g.name}`}
                        icon="history"
                        text="Schedule"
                        onClick={() => setJobAction({ kind: 'schedule', graph: g })}
                      />
                    )}
                    {canRun && (
                      <RowAction
                        label={`Notifications of ${g.name}`}
                        icon="warning"
                        text="Notify"
                        onClick={() => setJobAction({ kind: 'notifications', graph: g })}
                      />
                    )}
                    <RowAction
                      label={`Export ${g.name}`}
                      icon="download"
                      text="Export"
                      onClick={() => void exportGraph(g)}
                    />
                    {canDelete && (
                      <RowAction
                        label={`Delete ${g.name}`}
                        icon="trash"
                        danger
                        onClick={() => open({ kind: 'delete', graph: g })}
                      />
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
          <TextField label="Name" value={name} onChange={setName} autoFocus required />
        )}
      </Dialog>
    </main>
  )
}
