import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createCatalog, type RunOptions, type RunSummary } from '../engine/index.ts'
import { collect, collected, values } from '../engine/testing/test-nodes.ts'
import { runInDir } from '../test/helpers.ts'
import { definitions } from './index.ts'

/** The real node types plus the engine's in-memory source (`test.values`) and sink (`test.collect`). */
export const testCatalog = createCatalog([...definitions, values, collect])

export interface TestGraph {
  nodes: {
    id: string
    type: string
    config?: Record<string, unknown>
    onRowError?: 'fail' | 'skip' | 'route'
  }[]
  edges?: { from: string; to: string; fromPort?: string; toPort?: string }[]
  settings?: Record<string, unknown>
}

/** Run a graph in `dir` on this thread; returns the summary and what each `test.collect` node received. */
export async function runTest(
  graph: TestGraph,
  dir: string,
  options: Partial<RunOptions> = {},
): Promise<{ summary: RunSummary; rows: (id: string) => Record<string, unknown>[] }> {
  collected.clear()
  const summary = await runInDir(
    { syncgraph: 1, ...graph, settings: { workers: 0, ...graph.settings } },
    dir,
    { catalog: testCatalog, ...options },
  )
  return { summary, rows: (id) => collected.get(id) ?? [] }
}

/** The first error of a run as the summary reports it, with the temp folder shown as `<dir>`. */
export function firstError(summary: RunSummary, dir?: string): string {
  const message = summary.errors[0]?.message ?? `no error (status ${summary.status})`
  return dir === undefined ? message : message.replaceAll(dir, '<dir>')
}

/** Write a file in `dir` and return its name. */
export async function fileIn(dir: string, name: string, content: string | Buffer): Promise<string> {
  await writeFile(join(dir, name), content)
  return name
}
