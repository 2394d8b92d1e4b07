import { useEffect, useState } from 'react'
import { api, errorText } from '../../api/client.ts'
import { jobsApi, type Collection, type OnFailure } from '../../api/jobs.ts'
import type { GraphSummary, ParamSpec } from '../../api/types.ts'
import { Dialog } from '../../ui/dialog.tsx'
import { Icon } from '../../ui/icons.tsx'
import { notify } from '../../ui/toasts.tsx'
import { ParamInput } from '../templates.tsx'
import { ErrorNotice } from '../../ui/status.tsx'
import { TextField } from '../../ui/text-field.tsx'

interface DraftStep {
  key: number
  graphId: string
  params: Record<string, unknown>
  onFailure: OnFailure
}

let nextKey = 1

/** Create or edit a collection: its name and its ordered steps (graph, parameter values, on failure). */
export function CollectionEditorDialog(props: {
  existing: Collection | null
  onClose: () => void
  onSaved: (collection: Collection) => void
}) {
  const [name, setName] = useState(props.existing?.name ?? '')
  const [description, setDescription] = useState(props.existing?.description ?? '')
  const [steps, setSteps] = useState<DraftStep[]>(
    () =>
      props.existing?.steps.map((s) => ({
        key: nextKey++,
        graphId: s.graphId,
        params: s.params,
        onFailure: s.onFailure,
      })) ?? [],
  )
  const [graphs, setGraphs] = useState<GraphSummary[] | null>(null)
  const [params, setParams] = useState<Record<string, Record<string, ParamSpec>>>({})
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    api
      .listGraphs()
      .then(({ graphs }) => setGraphs(graphs))
      .catch((e) => setError(errorText(e)))
  }, [])

  // Each chosen graph's parameters, fetched once, drive the step's parameter form.
  const graphIds = [...new Set(steps.map((s) => s.graphId).filter(Boolean))].join(',')
  useEffect(() => {
    for (const id of graphIds.split(',').filter(Boolean)) {
      if (params[id] !== undefined) continue
      api
        .getGraph(id)
        .then((stored) => setParams((p) => ({ ...p, [id]: stored.graph.params ?? {} })))
        .catch(() => setParams((p) => ({ ...p, [id]: {} })))
    }
  }, [graphIds, params])

  const update = (key: number, change: Partial<DraftStep>) =>
    setSteps(steps.map((s) => (s.key === key ? { ...s, ...change } : s)))
  const move = (index: number, by: -1 | 1) => {
    const next = [...steps]
    const [step] = next.splice(index, 1)
    if (step) next.splice(index + by, 0, step)
    setSteps(next)
  }
  const addStep = () =>
    setSteps([...steps, { key: nextKey++, graphId: graphs?.[0]?.id ?? '', params: {}, onFailure: 'abort' }])

  const submit = async () => {
    setBusy(true)
    setError(null)
    try {
      const body = {
        name: name.trim(),
        description: description.trim(),
        steps: steps.map((s) => ({
          graphId: s.graphId,
          params: Object.fromEntries(Object.entries(s.params).filter(([, v]) => v !== undefined && v !== '')),
          onFailure: s.onFailure,
        })),
      }
      const saved = props.existing
        ? await jobsApi.saveCollection(props.existing.id, body)
        : await jobsApi.createCollection(body)
      notify.success(`Collection “${saved.name}” saved`)
      props.onSaved(saved)
    } catch (e) {
      setError(errorText(e))
    } finally {
      setBusy(false)
    }
  }

  const graphName = (id: string) => graphs?.find((g) => g.id === id)?.name ?? id

  return (
    <Dialog
      title={props.existing ? 'Edit collection' : 'New collection'}
      open
      wide
      onClose={props.onClose}
      onSubmit={submit}
      submitLabel={props.existing ? 'Save' : 'Create collection'}
      busy={busy}
      submitDisabled={name.trim() === '' || steps.length === 0 || steps.some((s) => s.graphId === '')}
    >
      <div className="sg-form-grid">
        <TextField label="Name" value={name} onChange={setName} autoFocus required />
        <TextField label="Description" value={description} onChange={setDescription} />
      </div>
      <div className="stack">
        <div className="row">
          <h3 className="grow">Steps, run in this order</h3>
          <button type="button" className="btn" onClick={addStep} disabled={!graphs || graphs.length === 0}>
            <Icon name="plus" /> Add step
          </button>
        </div>
        {graphs !== null && graphs.length === 0 && (
          <p className="muted">There are no graphs yet: create one on the Graphs page first.</p>
        )}
        {steps.length === 0 && graphs !== null && graphs.length > 0 && (
          <p className="muted">Add the graphs this collection runs, one step each.</p>
        )}
        <ol className="sg-steps" aria-label="Steps">
          {steps.map((step, index) => {
            const label = `Step ${index + 1}`
            const specs = params[step.graphId] ?? {}
            return (
              <li key={step.key} className="sg-step" aria-label={label}>
                <div className="row">
                  <span className="sg-step-index">{index + 1}</span>
                  <select
                    className="select grow"
                    aria-label={`${label} graph`}
                    value={step.graphId}
                    onChange={(e) => update(step.key, { graphId: e.target.value, params: {} })}
                  >
                    {step.graphId === '' && <option value="">— choose a graph —</option>}
                    {graphs?.every((g) => g.id !== step.graphId) && step.graphId !== '' && (
                      <option value={step.graphId}>{graphName(step.graphId)} (missing)</option>
                    )}
                    {(graphs ?? []).map((g) => (
                      <option key={g.id} value={g.id}>
                        {g.name}
                      </option>
                    ))}
                  </select>
                  <select
                    className="select"
                    style={{ width: 'auto' }}
                    aria-label={`${label} on failure`}
                    value={step.onFailure}
                    onChange={(e) => update(step.key, { onFailure: e.target.value as OnFailure })}
                  >
                    <option value="abort">On failure: stop the collection</option>
                    <option value="continue">On failure: continue with the next step</option>
                  </select>
                  <button
                    type="button"
                    className="btn btn-ghost btn-icon"
                    aria-label={`Move ${label.toLowerCase()} up`}
                    disabled={index === 0}
                    onClick={() => move(index, -1)}
                  >
                    <Icon name="chevron" style={{ transform: 'rotate(-90deg)' }} />
                  </button>
                  <button
                    type="button"
                    className="btn btn-ghost btn-icon"
                    aria-label={`Move ${label.toLowerCase()} down`}
                    disabled={index === steps.length - 1}
                    onClick={() => move(index, 1)}
                  >
                    <Icon name="chevronDown" />
                  </button>
                  <button
                    type="button"
                    className="btn btn-ghost btn-icon btn-danger"
                    aria-label={`Remove ${label.toLowerCase()}`}
                    onClick={() => setSteps(steps.filter((s) => s.key !== step.key))}
                  >
                    <Icon name="trash" />
                  </button>
                </div>
                {Object.keys(specs).length > 0 && (
                  <div className="sg-form-grid sg-step-params">
                    {Object.entries(specs).map(([key, spec]) => {
                      const id = `step-${step.key}-param-${key}`
                      return (
                        <div className="field" key={key}>
                          <label className="field-label" htmlFor={id}>
                            {spec.title ?? key} <span className="faint mono">{spec.type}</span>
                          </label>
                          <ParamInput
                            id={id}
                            name={key}
                            param={spec}
                            value={step.params[key] ?? spec.default}
                            onChange={(v) => update(step.key, { params: { ...step.params, [key]: v } })}
                          />
                          {spec.description && <div className="field-help">{spec.description}</div>}
                        </div>
                      )
                    })}
                  </div>
                )}
              </li>
            )
          })}
        </ol>
      </div>
      <ErrorNotice error={error} />
    </Dialog>
  )
}
