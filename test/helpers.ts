import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import {
  createFileResolver,
  runGraph,
  type Catalog,
  type RunOptions,
  type RunSummary,
} from '../engine/index.ts'
import { catalog as defaultCatalog } from '../nodes/index.ts'

const made: string[] = []

/** A fresh temp folder, removed after the current test. */
export async function tempDir(prefix = 'syncgraph-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

/** Run a graph with the real catalog, file paths resolved against `baseDir`. */
export function runInDir(
  graph: unknown,
  baseDir: string,
  options: Partial<RunOptions> & { catalog?: Catalog } = {},
): Promise<RunSummary> {
  return runGraph(graph, {
    catalog: defaultCatalog,
    files: createFileResolver({ baseDir }),
    progressIntervalMs: 50,
    ...options,
  })
}
