import type { Catalog, RunSettings } from './define-node.ts'
import { serializeError, type SerializedError } from './errors.ts'
import { processBatch } from './row-batch.ts'
import type { Row } from './types.ts'

/** Plain data in: which declaration, its config, and the batch (STYLE.md §12). */
export interface WorkerTask {
  catalogModule: string
  type: string
  config: unknown
  settings: RunSettings
  batch: Row[]
}

export interface WorkerReply {
  outputs: Record<string, Row[]>
  failures: { index: number; error: SerializedError }[]
  busyMs: number
}

const catalogs = new Map<string, Promise<Catalog>>()
const states = new Map<string, Promise<unknown>>()

function loadCatalog(moduleUrl: string): Promise<Catalog> {
  let loaded = catalogs.get(moduleUrl)
  if (loaded === undefined) {
    loaded = import(moduleUrl).then((mod: { catalog?: Catalog }) => {
      if (mod.catalog === undefined) throw new Error(`${moduleUrl} exports no catalog`)
      return mod.catalog
    })
    catalogs.set(moduleUrl, loaded)
  }
  return loaded
}

/** Run one batch of a per-row node on this worker thread; per-run state is cached by config. */
export async function runWorkerTask(task: WorkerTask): Promise<WorkerReply> {
  const started = performance.now()
  const catalog = await loadCatalog(task.catalogModule)
  const definition = catalog.get(task.type)
  if (definition?.rows === undefined) throw new Error(`Node type ${task.type} has no row processor`)
  const key = `${task.type}\u0000${JSON.stringify(task.config)}\u0000${JSON.stringify(task.settings)}`
  let state = states.get(key)
  if (state === undefined) {
    if (states.size > 256) states.clear()
    state = Promise.resolve(definition.rows.prepare(task.config, task.settings))
    states.set(key, state)
  }
  const result = await processBatch(definition.rows, await state, task.batch)
  return {
    outputs: result.outputs,
    failures: result.failures.map((f) => ({ index: f.index, error: serializeError(f.error) })),
    busyMs: performance.now() - started,
  }
}
