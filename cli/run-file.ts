import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import {
  analyzeGraph,
  createFileResolver,
  createFileStateStore,
  GraphError,
  hasErrors,
  runGraph,
  type Catalog,
  type Issue,
  type RunEvent,
  type RunSummary,
} from '../engine/index.ts'
import { catalog as defaultCatalog } from '../nodes/index.ts'
import { findJsonSyntaxError } from './json-error.ts'

/** A graph file that cannot be read or is not JSON: nothing ran (exit code 2). */
export class GraphFileError extends Error {
  constructor(
    readonly code: 'GRAPH_FILE_NOT_FOUND' | 'GRAPH_FILE_UNREADABLE' | 'GRAPH_FILE_NOT_JSON',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options)
    this.name = 'GraphFileError'
  }
}

export interface RunGraphFileOptions {
  /** Parameter values as given (`--param k=v` gives strings); the engine coerces them to their types. */
  params?: Record<string, unknown>
  signal?: AbortSignal
  onEvent?: (event: RunEvent) => void
  /** Warnings found before the run starts (errors throw a GraphError instead). */
  onIssues?: (issues: Issue[]) => void
  catalog?: Catalog
  progressIntervalMs?: number
}

/** Read and parse a graph file; a JSON syntax error names the line and column. */
export async function readGraphFile(path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw new GraphFileError('GRAPH_FILE_NOT_FOUND', `${path}: no such file`, { cause: error })
    if (code === 'EISDIR')
      throw new GraphFileError('GRAPH_FILE_UNREADABLE', `${path} is a folder, not a graph file`, {
        cause: error,
      })
    throw new GraphFileError('GRAPH_FILE_UNREADABLE', `${path}: cannot read (${code ?? String(error)})`, {
      cause: error,
    })
  }
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown
  } catch (error) {
    throw new GraphFileError('GRAPH_FILE_NOT_JSON', describeJsonError(path, text, error), { cause: error })
  }
}

/**
 * Run a graph file the way `syncgraph run` does: file paths in node config resolve against the
 * graph file's folder. Throws GraphFileError or GraphError when nothing could run; otherwise
 * resolves with the summary, whatever its status.
 */
export async function runGraphFile(path: string, options: RunGraphFileOptions = {}): Promise<RunSummary> {
  const absolute = resolve(path)
  const graph = await readGraphFile(path)
  const catalog = options.catalog ?? defaultCatalog
  const params = options.params ?? {}
  const { issues } = analyzeGraph(graph, catalog, { params })
  if (hasErrors(issues)) {
    const errors = issues.filter((i) => i.severity === 'error')
    throw new GraphError('INVALID_GRAPH', `${path}: the graph has ${errors.length} error(s)`, {
      issues: errors,
    })
  }
  if (issues.length > 0) options.onIssues?.(issues)
  return runGraph(graph, {
    catalog,
    params,
    files: createFileResolver({ baseDir: dirname(absolute) }),
    // What nodes keep between successful runs (a sql.read watermark) lives beside the graph file.
    state: createFileStateStore(`${absolute}.state.json`),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
  })
}

/** `graph.json:3:17: not valid JSON: expected "," or "}" …`, with the line and a caret under the spot. */
function describeJsonError(path: string, text: string, error: unknown): string {
  if (text.trim() === '') return `${path}: the file is empty; a graph file holds one JSON object`
  const problem = findJsonSyntaxError(text)
  if (problem === undefined)
    return `${path}: not valid JSON: ${error instanceof Error ? error.message : String(error)}`
  const lineStart = problem.offset - (problem.column - 1)
  const lineText = text.slice(lineStart).split('\n')[0]!.replace(/\r$/, '')
  const from = Math.max(0, problem.column - 1 - 60)
  const shown = lineText.slice(from, from + 120)
  return `${path}:${problem.line}:${problem.column}: not valid JSON: ${problem.reason}\n  ${shown}\n  ${' '.repeat(problem.column - 1 - from)}^`
}
