import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import type { WorkerReply, WorkerTask } from './worker-task.ts'

/** A pool of worker threads for CPU-heavy per-row nodes. */
export interface WorkerPool {
  readonly threads: number
  run(task: WorkerTask, signal: AbortSignal): Promise<WorkerReply>
  close(): Promise<void>
}

/** Threads for `settings.workers`: `auto` sizes the pool to the cores. */
export function poolSize(workers: 'auto' | number): number {
  return workers === 'auto' ? availableParallelism() : workers
}

/**
 * From source, the worker entry is worker.mjs, which registers the TypeScript loader in the thread;
 * from the compiled build (`npm run build`), the thread loads the compiled worker-task.js itself.
 */
function workerEntry(): { filename: string; name?: string } {
  if (import.meta.url.endsWith('.js'))
    return { filename: new URL('./worker-task.js', import.meta.url).href, name: 'runWorkerTask' }
  return { filename: new URL('./worker.mjs', import.meta.url).href }
}

export function createWorkerPool(threads: number): WorkerPool {
  const piscina = new Piscina({
    ...workerEntry(),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 30_000,
  })
  return {
    threads,
    run: (task, signal) => piscina.run(task, { signal }) as Promise<WorkerReply>,
    close: () => piscina.destroy(),
  }
}
