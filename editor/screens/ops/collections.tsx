import { useCallback, useEffect, useState } from 'react'
import { errorText } from '../../api/client.ts'
import { jobsApi, type Collection, type CollectionTemplate } from '../../api/jobs.ts'
import { describeCadence } from '../../lib/cadence.ts'
import { formatDate } from '../../lib/files.ts'
import { useCan } from '../../lib/permissions.ts'
import { navigate } from '../../lib/router.ts'
import { NewButton, RowAction } from '../../ui/buttons.tsx'
import { Dialog } from '../../ui/dialog.tsx'
import { notify } from '../../ui/toasts.tsx'
import { CollectionDetail } from './collection-detail.tsx'
import { CollectionEditorDialog } from './collection-editor.tsx'
import { announceRun, NextRun } from './job-parts.tsx'
import { ErrorNotice } from '../../ui/status.tsx'
import { TextField } from '../../ui/text-field.tsx'
import { ActionsHeader } from '../../ui/table.tsx'

/** `#/collections` lists collections and collection templates; `#/collections/<id>` shows one. */
export function CollectionsScreen({ id }: { id?: string | undefined }) {
  return id ? <CollectionDetail key={id} id={id} /> : <CollectionList />
}

type Pending =
  | { kind: 'create' }
  | { kind: 'delete'; collection: Collection }
  | { kind: 'instantiate'; template: CollectionTemplate }
  | { kind: 'delete-template'; template: CollectionTemplate }
  | null

function CollectionList() {
  const [collections, setCollections] = useState<Collection[] | null>(null)
  const [templates, setTemplates] = useState<CollectionTemplate[]>([])
  const [error, setError] = useState<string | null>(null)
  const [pending, setPending] = useState<Pending>(null)
  const [name, setName] = useState('')
  const [busy, setBusy] = useState(false)
  const canCreate = useCan('create')
  const canRun = useCan('run')
  const canDelete = useCan('delete')

  const load = useCallback(() => {
    Promise.all([jobsApi.listCollections(), jobsApi.listCollectionTemplates()])
      .then(([c, t]) => {
        setCollections(c.collections)
        setTemplates(t.templates)
        setError(null)
      })
      .catch((e) => setError(errorText(e)))
  }, [])
  useEffect(load, [load])

  const run = async (collection: Collection) => {
    try {
      announceRun(collection.name, await jobsApi.runCollection(collection.id))
      navigate(`/collections/${encodeURIComponent(collection.id)}`)
    } catch (e) {
      notify.error(e)
    }
  }

  const act = async () => {
    if (pending === null || pending.kind === 'create') return
    setBusy(true)
    try {
      if (pending.kind === 'delete') {
        await jobsApi.deleteCollection(pending.collection.id)
        notify.success(`Deleted “${pending.collection.name}”`)
      } else if (pending.kind === 'delete-template') {
        await jobsApi.deleteCollectionTemplate(pending.template.id)
        notify.success(`Deleted the template “${pending.template.name}”`)
      } else {
        const created = await jobsApi.instantiateCollectionTemplate(pending.template.id, name.trim())
        notify.success(`Created “${created.name}”`)
        navigate(`/collections/${encodeURIComponent(created.id)}`)
      }
      setPending(null)
      load()
    } catch (e) {
      notify.error(e)
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="page" aria-labelledby="collections-title">
      <div className="page-head">
        <h1 id="collections-title">Collections</h1>
        <span className="muted">Graphs run one after another as one job.</span>
        <div className="grow" />
        {canCreate && <NewButton label="New collection" onClick={() => setPending({ kind: 'create' })} />}
      </div>
      <ErrorNotice error={error} />
      {collections === null && !error && <div className="empty">Loading…</div>}
      {collections !== null && collections.length === 0 && (
        <div className="empty card">
          <div className="stack" style={{ alignItems: 'center' }}>
            <strong>No collections yet</strong>
            <span>A collection runs several graphs in order, each with its parameter values.</span>
          </div>
        </div>
      )}
      {collections !== null && collections.length > 0 && (
        <div className="card">
          <table className="table list-table" aria-label="Collections">
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Steps</th>
                <th>Schedule</th>
                <th>Next run</th>
                <th>Updated</th>
                <ActionsHeader />
              </tr>
            </thead>
            <tbody>
              {collections.map((c) => (
                <tr key={c.id}>
                  <td>
                    <a className="row-link" href={`#/collections/${encodeURIComponent(c.id)}`}>
                      {c.name}
                    </a>
                    {c.description && <div className="muted ellipsis">{c.description}</div>}
                  </td>
                  <td className="num">{c.steps.length}</td>
                  <td className="muted">
                    {c.schedule ? (
                      <>
                        {describeCadence(c.schedule)}
                        {!c.schedule.enabled && <span className="badge">disabled</span>}
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>
                    <NextRun at={c.nextRunAt} />
                  </td>
                  <td className="muted">{formatDate(c.updatedAt)}</td>
                  <td className="actions">
                    {canRun && (
                      <RowAction
                        label={`Run ${c.name} now`}
                        icon="play"
                        text="Run now"
                        onClick={() => void run(c)}
                      />
                    )}
                    {canDelete && (
                      <RowAction
                        label={`Delete ${c.name}`}
                        icon="trash"
                        danger
                        onClick={() => setPending({ kind: 'delete', collection: c })}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <section className="sg-section" aria-labelledby="collection-templates-title">
        <h2 id="collection-templates-title">Collection templates</h2>
        {templates.length === 0 ? (
          <p className="muted">
            None yet. Open a collection and choose “Save as template” to keep its steps, failure actions and
            schedule for reuse.
          </p>
        ) : (
          <div className="card">
            <table className="table list-table" aria-label="Collection templates">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Steps</th>
                  <th>Schedule</th>
                  <ActionsHeader />
                </tr>
              </thead>
              <tbody>
                {templates.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <strong>{t.name}</strong>
                      {t.description && <div className="muted ellipsis">{t.description}</div>}
                    </td>
                    <td className="muted">{t.steps.length} steps</td>
                    <td className="muted">{t.schedule ? describeCadence(t.schedule) : '—'}</td>
                    <td className="actions">
                      {canCreate && (
                        <RowAction
                          label={`New collection from ${t.name}`}
                          icon="plus"
                          text="Use"
                          onClick={() => {
                            setName(t.name)
                            setPending({ kind: 'instantiate', template: t })
                          }}
                        />
                      )}
                      {canDelete && (
                        <RowAction
                          label={`Delete template ${t.name}`}
                          icon="trash"
                          danger
                          onClick={() => setPending({ kind: 'delete-template', template: t })}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {pending?.kind === 'create' && (
        <CollectionEditorDialog
          existing={null}
          onClose={() => setPending(null)}
          onSaved={(c) => {
            setPending(null)
            navigate(`/collections/${encodeURIComponent(c.id)}`)
          }}
        />
      )}
      <Dialog
        title={
          pending?.kind === 'instantiate'
            ? 'New collection from template'
            : pending?.kind === 'delete-template'
              ? 'Delete collection template'
              : 'Delete collection'
        }
        open={pending !== null && pending.kind !== 'create'}
        onClose={() => setPending(null)}
        onSubmit={act}
        busy={busy}
        danger={pending?.kind === 'delete' || pending?.kind === 'delete-template'}
        submitLabel={pending?.kind === 'instantiate' ? 'Create collection' : 'Delete'}
        submitDisabled={pending?.kind === 'instantiate' && name.trim() === ''}
      >
        {pending?.kind === 'instantiate' ? (
          <TextField
            label="Name"
            value={name}
            onChange={setName}
            autoFocus
            required
            help="The new collection gets the template’s steps and schedule."
          />
        ) : pending?.kind === 'delete' ? (
          <p>
            Delete <strong>{pending.collection.name}</strong> and its schedule? Its past runs stay in the
            history. This cannot be undone.
          </p>
        ) : pending?.kind === 'delete-template' ? (
          <p>
            Delete the template <strong>{pending.template.name}</strong>? Collections made from it are kept.
          </p>
        ) : null}
      </Dialog>
    </main>
  )
}
