import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { analyzeGraph, GraphError, type Issue, type RunSummary } from '../engine/index.ts'
import { catalog } from '../nodes/index.ts'
import { jsonataCheck } from './jsonata-check.ts'
import { createProgressView } from './progress-view.ts'
import { GraphFileError, readGraphFile, runGraphFile } from './run-file.ts'

/** Exit codes (DESIGN.md §5): 0 success, 1 failed or cancelled run, 2 invalid graph, file or arguments. */
export const EXIT_OK = 0
export const EXIT_RUN_FAILED = 1
export const EXIT_INVALID = 2

export interface CliIo {
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
}

const usage = `Usage: syncgraph <command> [options]

Commands:
  run <graph.json> [--param k=v]… [--json]   Run a graph; live progress on stderr
  validate <graph.json> [--param k=v]… [--json]
                                             Print the graph's issues and whether each JSONata
                                             expression runs compiled or interpreted; exit 2 if
                                             any issue is an error
  jsonata-check <suite-dir> [--json]         Run a JSONata test suite folder through the compiler
                                             (with fallback); exit 1 if any case fails
  plan <graph.json> [--out plan.json]        Compute a sync plan (not built yet)
  apply <plan.json>                          Apply a sync plan (not built yet)
  serve [--port N] [--host H] [--data-dir D] [--files-dir F]
                                             Start the server and editor (what npm start runs)

Options:
  -p, --param k=v   Set a graph parameter (repeatable)
      --json        run: print one summary object on stdout ({ "status": "invalid", "errors" }
                    when nothing could run); validate: print { "valid", "issues" }
      --verbose     Also show the nodes' info logs
  -h, --help        Show this help
  -v, --version     Print the version

File paths in node config resolve against the graph file's folder.
Exit codes: 0 success, 1 failed or cancelled run, 2 invalid graph, file or arguments.
`

class UsageError extends Error {}

/** The command line: parse arguments, run the command, return the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    io.stderr.write(
      `syncgraph: ${error instanceof Error ? error.message : String(error)}\nRun "syncgraph --help" for usage.\n`,
    )
    return EXIT_INVALID
  }
  const { values, positionals } = parsed
  if (values.version) {
    io.stdout.write(`${readVersion()}\n`)
    return EXIT_OK
  }
  const [command, ...rest] = positionals
  if (values.help || command === undefined || command === 'help') {
    ;(command === undefined && !values.help ? io.stderr : io.stdout).write(usage)
    return command === undefined && !values.help ? EXIT_INVALID : EXIT_OK
  }
  try {
    switch (command) {
      case 'run':
        return await runCommand(oneFile(command, rest), parseParams(values.param ?? []), values, io)
      case 'validate':
        return await validateCommand(
          oneFile(command, rest),
          parseParams(values.param ?? []),
          values.json ?? false,
          io,
        )
      case 'jsonata-check':
        return await jsonataCheck(oneFile(command, rest, 'suite folder'), values.json ?? false, io.stdout)
      case 'plan':
      case 'apply':
        io.stderr.write(
          `syncgraph ${command}: not built yet (sync plans arrive with the sync nodes, issue 5)\n`,
        )
        return EXIT_INVALID
      case 'serve':
        io.stderr.write('syncgraph serve: start it through bin/syncgraph.js (npx syncgraph serve)\n')
        return EXIT_INVALID
      default:
        throw new UsageError(`unknown command "${command}"`)
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`syncgraph: ${error.message}\nRun "syncgraph --help" for usage.\n`)
      return EXIT_INVALID
    }
    if (error instanceof GraphFileError || error instanceof GraphError) {
      const issues: Issue[] =
        error instanceof GraphError
          ? graphErrorIssues(error)
          : [{ code: error.code, severity: 'error', message: error.message }]
      const listed = error instanceof GraphError && error.issues.length > 0
      io.stderr.write(listed ? `${error.message}:\n${formatIssues(issues)}\n` : `${error.message}\n`)
      if (values.json) {
        const report =
          command === 'validate' ? { valid: false, issues } : { status: 'invalid', errors: issues }
        io.stdout.write(`${JSON.stringify(report)}\n`)
      }
      return EXIT_INVALID
    }
    io.stderr.write(
      `syncgraph: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    return EXIT_RUN_FAILED
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      param: { type: 'string', short: 'p', multiple: true },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
}

function oneFile(command: string, rest: string[], what = 'graph file'): string {
  const placeholder = what === 'graph file' ? '<graph.json>' : '<folder>'
  if (rest.length === 0)
    throw new UsageError(`${command} needs a ${what}: syncgraph ${command} ${placeholder}`)
  if (rest.length > 1)
    throw new UsageError(`${command} takes one ${what}, got ${rest.length}: ${rest.join(' ')}`)
  return rest[0]!
}

/** `--param k=v` values as strings; the engine coerces them to the declared parameter types. */
function parseParams(pairs: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new UsageError(`--param takes name=value, got "${pair}"`)
    const name = pair.slice(0, at)
    if (name in params) throw new UsageError(`--param ${name} is given twice`)
    params[name] = pair.slice(at + 1)
  }
  return params
}

async function runCommand(
  file: string,
  params: Record<string, string>,
  flags: { json?: boolean; verbose?: boolean },
  io: CliIo,
): Promise<number> {
  // A terminal that reports no size (some pseudo-terminals) cannot be redrawn in place.
  const tty = io.stderr.isTTY === true && (io.stderr.rows ?? 0) > 0
  const view = createProgressView({
    stream: io.stderr,
    tty,
    verbose: flags.verbose ?? false,
  })
  const controller = new AbortController()
  let interrupts = 0
  const onSigint = () => {
    interrupts += 1
    if (interrupts > 1) process.exit(130)
    view.note('Cancelling the run… (press Ctrl-C again to quit at once)')
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  process.on('SIGTERM', onSigint)
  let summary: RunSummary
  try {
    summary = await runGraphFile(file, {
      params,
      signal: controller.signal,
      onEvent: (event) => view.onEvent(event),
      onIssues: (issues) => view.note(formatIssues(issues)),
    })
  } finally {
    process.off('SIGINT', onSigint)
    process.off('SIGTERM', onSigint)
  }
  view.finish(summary)
  if (flags.json) io.stdout.write(`${JSON.stringify(jsonSummary(summary))}\n`)
  return summary.status === 'succeeded' ? EXIT_OK : EXIT_RUN_FAILED
}

/** The `--json` summary (DESIGN.md §5). */
export function jsonSummary(summary: RunSummary) {
  return {
    status: summary.status,
    durationMs: summary.durationMs,
    nodes: Object.fromEntries(
      Object.entries(summary.nodes).map(([id, n]) => [
        id,
        { rowsIn: n.rowsIn, rowsOut: n.rowsOut, rowsRejected: n.rowsRejected, errors: n.errors },
      ]),
    ),
    errors: summary.errors,
  }
}

async function validateCommand(
  file: string,
  params: Record<string, string>,
  json: boolean,
  io: CliIo,
): Promise<number> {
  const graph = await readGraphFile(file)
  const { issues, expressions } = analyzeGraph(graph, catalog, { params })
  const errors = issues.filter((i) => i.severity === 'error').length
  if (json) {
    io.stdout.write(`${JSON.stringify({ valid: errors === 0, issues, expressions })}\n`)
    return errors > 0 ? EXIT_INVALID : EXIT_OK
  }
  // Which path each expression takes: compiled to JavaScript, or the jsonata interpreter (slower).
  const paths = expressions.map(
    (e) => `  expression (node "${e.nodeId}" ${e.path}): ${e.compiled ? 'compiled' : 'interpreted'}\n`,
  )
  if (issues.length === 0) {
    io.stdout.write(`${paths.join('')}${file}: valid\n`)
  } else {
    const warnings = issues.length - errors
    io.stdout.write(
      `${formatIssues(issues)}\n${paths.join('')}${file}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`,
    )
  }
  return errors > 0 ? EXIT_INVALID : EXIT_OK
}

/** `error invalid-config  node "read" $.path: message`, one line per issue. */
export function formatIssues(issues: readonly Issue[]): string {
  return issues
    .map((i) => {
      const where = [i.nodeId === undefined ? '' : `node "${i.nodeId}"`, i.path ?? '']
        .filter((s) => s !== '')
        .join(' ')
      return `  ${i.severity} ${i.code}${where === '' ? '' : ` (${where})`}: ${i.message}`
    })
    .join('\n')
}

function graphErrorIssues(error: GraphError): Issue[] {
  if (error.issues.length > 0) return error.issues.map((i) => ({ severity: 'error', ...i }))
  return [{ code: error.code, severity: 'error', message: error.message }]
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: string
  }
  return pkg.version ?? 'unknown'
}
