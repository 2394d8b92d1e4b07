import type { Catalog, ConnectionResolver, FileResolver, Graph, WorkerPool } from '../engine/index.ts'
import { createWorkerPool, poolSize } from '../engine/index.ts'

/** What every run and preview on this server shares: the catalog, the files folder, stored connections, one worker pool. */
export interface RunEnvironment {
  catalog: Catalog
  files: FileResolver
  connections: ConnectionResolver
  /** The shared pool for a graph, or undefined when the graph keeps work on one thread. */
  poolFor(graph: Graph): WorkerPool | undefined
  close(): Promise<void>
}

export function createRunEnvironment(options: {
  catalog: Catalog
  files: FileResolver
  connections: ConnectionResolver
  workers?: number
}): RunEnvironment {
  let pool: WorkerPool | undefined
  return {
    catalog: options.catalog,
    files: options.files,
    connections: options.connections,
    poolFor(graph) {
      if (graph.settings.workers === 0 || options.catalog.moduleUrl === undefined) return undefined
      const threads = options.workers ?? poolSize('auto')
      if (threads === 0) return undefined
      pool ??= createWorkerPool(threads)
      return pool
    },
    async close() {
      await pool?.close()
      pool = undefined
    },
  }
}
