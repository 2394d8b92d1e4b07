import { rename, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import {
  analyzeGraph,
  createFileResolver,
  GraphError,
  hasErrors,
  type Catalog,
  type Issue,
  type RunEvent,
} from '../engine/index.ts'
import {
  applyPlanDocument,
  parsePlanDocument,
  planGraph,
  type AppliedPlanDocument,
  type PlanDocument,
  type SyncDriver,
} from '../engine/sync/index.ts'
import { catalog as defaultCatalog, syncDrivers } from '../nodes/index.ts'
import { readGraphFile } from './run-file.ts'

export interface SyncFileOptions {
  /** Parameter values as given (`--param k=v` gives strings). */
  params?: Record<string, unknown>
  signal?: AbortSignal
  onEvent?: (event: RunEvent) => void
  /** Warnings found before anything runs (errors throw a GraphError instead). */
  onIssues?: (issues: Issue[]) => void
  catalog?: Catalog
  drivers?: readonly SyncDriver[]
}

async function checkedGraph(
  path: string,
  catalog: Catalog,
  params: Record<string, unknown>,
  onIssues?: (issues: Issue[]) => void,
): Promise<unknown> {
  const graph = await readGraphFile(path)
  const { issues } = analyzeGraph(graph, catalog, { params })
  if (hasErrors(issues)) {
    const errors = issues.filter((i) => i.severity === 'error')
    throw new GraphError('INVALID_GRAPH', `${path}: the graph has ${errors.length} error(s)`, {
      issues: errors,
    })
  }
  if (issues.length > 0) onIssues?.(issues)
  return graph
}

/**
 * `syncgraph plan`: run what feeds the graph's sync nodes and compute each one's plan, writing nothing
 * to any destination. The document records the graph file's absolute path for `applyPlanFile`.
 */
export async function planGraphFile(path: string, options: SyncFileOptions = {}): Promise<PlanDocument> {
  const absolute = resolve(path)
  const catalog = options.catalog ?? defaultCatalog
  const params = options.params ?? {}
  const graph = await checkedGraph(path, catalog, params, options.onIssues)
  const document = await planGraph(graph, {
    catalog,
    drivers: options.drivers ?? syncDrivers,
    params,
    files: createFileResolver({ baseDir: dirname(absolute) }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  })
  return { ...document, graphFile: absolute }
}

/** Write a plan document (owner-only: it holds directory values), replacing the file whole. */
export async function writePlanFile(path: string, document: PlanDocument): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`
  await writeFile(temp, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 })
  await rename(temp, path)
}

export interface AppliedPlanFile extends AppliedPlanDocument {
  document: PlanDocument
  graphFile: string
}

/**
 * `syncgraph apply`: apply a plan file exactly as it is to the graph it was made from (or `graphFile`),
 * with the parameter values it was made with. Throws PLAN_STALE (GraphError) when the graph changed,
 * THRESHOLD_EXCEEDED (ConnectorError) when a plan is over a threshold; both before any write.
 */
export async function applyPlanFile(
  planPath: string,
  options: Omit<SyncFileOptions, 'params'> & { graphFile?: string } = {},
): Promise<AppliedPlanFile> {
  const document = parsePlanDocument(await readGraphFile(planPath))
  const graphFile = options.graphFile ?? document.graphFile
  if (graphFile === undefined) {
    throw new GraphError(
      'PLAN_INVALID',
      `${planPath} does not name its graph file; pass --graph <graph.json>`,
    )
  }
  const catalog = options.catalog ?? defaultCatalog
  const graph = await checkedGraph(graphFile, catalog, document.params, options.onIssues)
  const applied = await applyPlanDocument(document, graph, {
    catalog,
    drivers: options.drivers ?? syncDrivers,
    params: document.params,
    files: createFileResolver({ baseDir: dirname(resolve(graphFile)) }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  })
  return { document, graphFile, ...applied }
}
