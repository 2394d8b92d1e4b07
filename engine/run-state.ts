import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * Values nodes keep from one successful run of a graph to the next (a SQL read's watermark), by
 * `<nodeId>/<key>`. The host gives one store per graph: the CLI a JSON file beside the graph file.
 */
export interface RunStateStore {
  load(): Promise<Record<string, unknown>>
  /** Merge `values` over what is kept; called only after a run succeeded. */
  save(values: Record<string, unknown>): Promise<void>
}

/** A node's view of the store: what the last successful run kept; `set` is kept only if this run succeeds. */
export interface NodeRunState {
  get(key: string): unknown
  set(key: string, value: unknown): void
}

/** A store in a JSON file, replaced atomically (write to a temp file, then rename). */
export function createFileStateStore(path: string): RunStateStore {
  const load = async (): Promise<Record<string, unknown>> => {
    try {
      const parsed: unknown = JSON.parse(await readFile(path, 'utf8'))
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : {}
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return {}
      throw error
    }
  }
  return {
    load,
    async save(values) {
      const next = { ...(await load()), ...values }
      await mkdir(dirname(path), { recursive: true })
      const temp = `${path}.${process.pid}.tmp`
      await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`)
      await rename(temp, path)
    },
  }
}

/** A store in memory (tests, previews). */
export function createMemoryStateStore(initial: Record<string, unknown> = {}): RunStateStore & {
  values: Record<string, unknown>
} {
  const store = {
    values: { ...initial },
    load: async () => ({ ...store.values }),
    save: async (values: Record<string, unknown>) => {
      store.values = { ...store.values, ...values }
    },
  }
  return store
}
