import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  analyzeGraph,
  GraphError,
  packageRoot,
  serializeError,
  SyncgraphError,
  type Issue,
  type RunEvent,
  type RunSummary,
  WRITE_OUTCOMES,
} from '../engine/index.ts'
import { SYNC_ACTIONS, type PlanDocument } from '../engine/sync/index.ts'
import { catalog } from '../nodes/index.ts'
import { jsonataCheck } from './jsonata-check.ts'
import { createProgressView } from './progress-view.ts'
import { GraphFileError, readGraphFile, runGraphFile } from './run-file.ts'
import { applyPlanFile, planGraphFile, writePlanFile } from './sync-file.ts'

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
  plan <graph.json> [--param k=v]… [--out plan.json] [--json]
                                             Compute the plan of every sync node (what each would
                                             create, update, rename, move, de-provision) and write
                                             the plan document to --out (stdout without it);
                                             nothing is written to any destination
  apply <plan.json> [--graph graph.json] [--json]
                                             Apply exactly that plan; refused (exit 2) when the
                                             graph changed since, or (exit 1) when a plan is over a
                                             threshold, both before any write
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
        return await planCommand(oneFile(command, rest), parseParams(values.param ?? []), values, io)
      case 'apply':
        if ((values.param ?? []).length > 0)
          throw new UsageError('apply takes no --param: the plan holds the values it was made with')
        return await applyCommand(oneFile(command, rest, 'plan file'), values, io)
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
      graph: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
}

function oneFile(command: string, rest: string[], what = 'graph file'): string {
  const placeholder =
    what === 'graph file' ? '<graph.json>' : what === 'plan file' ? '<plan.json>' : '<folder>'
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

/** Log lines of a plan or apply: warnings and errors always, info with --verbose. */
function syncLog(io: CliIo, verbose: boolean) {
  return (event: RunEvent) => {
    if (event.type !== 'log') return
    if (event.level === 'debug' || (event.level === 'info' && !verbose)) return
    io.stderr.write(
      `  ${event.level} ${event.nodeId === undefined ? '' : `(node "${event.nodeId}") `}${event.message}\n`,
    )
  }
}

/** A failure while planning or applying (unreachable server, bad credentials, failed upstream run): exit 1. */
function syncFailure(command: string, error: unknown, json: boolean | undefined, io: CliIo): number {
  if (!(error instanceof SyncgraphError) || error instanceof GraphError) throw error
  const place = error.nodeId === undefined ? '' : ` (node "${error.nodeId}")`
  io.stderr.write(`syncgraph ${command}${place}: ${error.code}: ${error.message}\n`)
  if (json) io.stdout.write(`${JSON.stringify({ status: 'failed', errors: [serializeError(error)] })}\n`)
  return EXIT_RUN_FAILED
}

/** `  node "dir" (ldap.sync): 3 create, 1 update, 10 none`, one line per plan, with threshold verdicts. */
export function describePlanDocument(document: PlanDocument): string {
  if (document.plans.length === 0) return '  the graph has no sync node: nothing to plan'
  return document.plans
    .map((plan) => {
      const counts = SYNC_ACTIONS.filter((a) => plan.counts[a] > 0)
        .map((a) => `${plan.counts[a]} ${a}`)
        .join(', ')
      const unwritable = plan.counts.error + plan.counts.ambiguous
      const failures = plan.items.filter((i) => i.action === 'error' || i.action === 'ambiguous')
      const line = [
        `  node "${plan.nodeId}" (${plan.type}): ${counts || 'nothing in scope'}`,
        ...(unwritable === 0
          ? []
          : [
              `    ${unwritable} object(s) cannot be written (planned failures; under onRowError "fail" apply writes nothing):`,
              ...failures
                .slice(0, 10)
                .map(
                  (i) =>
                    `      ${i.row === undefined ? '' : `row ${i.row} `}${i.newDn ?? (i.dn || JSON.stringify(i.key))}: ${i.reason ?? i.action}`,
                ),
              ...(failures.length > 10 ? [`      … and ${failures.length - 10} more`] : []),
            ]),
      ].join('\n')
      return plan.thresholds.exceeded
        ? `${line}\n    over a threshold, apply will refuse: ${plan.thresholds.message ?? ''}`
        : line
    })
    .join('\n')
}

async function planCommand(
  file: string,
  params: Record<string, string>,
  flags: { out?: string; json?: boolean; verbose?: boolean },
  io: CliIo,
): Promise<number> {
  let document: PlanDocument
  try {
    document = await planGraphFile(file, {
      params,
      onEvent: syncLog(io, flags.verbose ?? false),
      onIssues: (issues) => io.stderr.write(`${formatIssues(issues)}\n`),
    })
  } catch (error) {
    return syncFailure('plan', error, flags.json, io)
  }
  io.stderr.write(`Plan of "${document.graphName}" (${file}):\n${describePlanDocument(document)}\n`)
  if (flags.out === undefined) {
    io.stdout.write(`${JSON.stringify(document, null, 2)}\n`)
    return EXIT_OK
  }
  await writePlanFile(flags.out, document)
  io.stderr.write(`Wrote ${flags.out}; apply it with: syncgraph apply ${flags.out}\n`)
  if (flags.json) io.stdout.write(`${JSON.stringify(planSummary(document, flags.out))}\n`)
  return EXIT_OK
}

/** The `plan --out … --json` summary: counts and threshold verdict per sync node. */
function planSummary(document: PlanDocument, out: string) {
  return {
    status: 'planned',
    out,
    graphHash: document.graphHash,
    nodes: Object.fromEntries(
      document.plans.map((p) => [p.nodeId, { type: p.type, counts: p.counts, thresholds: p.thresholds }]),
    ),
  }
}

async function applyCommand(
  file: string,
  flags: { graph?: string; json?: boolean; verbose?: boolean },
  io: CliIo,
): Promise<number> {
  let applied: Awaited<ReturnType<typeof applyPlanFile>>
  try {
    applied = await applyPlanFile(file, {
      ...(flags.graph === undefined ? {} : { graphFile: flags.graph }),
      onEvent: syncLog(io, flags.verbose ?? false),
      onIssues: (issues) => io.stderr.write(`${formatIssues(issues)}\n`),
    })
  } catch (error) {
    if (error instanceof GraphError && error.code === 'PLAN_STALE') {
      throw new GraphError('PLAN_STALE', `${file}: ${error.message}; nothing was written`)
    }
    return syncFailure('apply', error, flags.json, io)
  }
  const nodes = Object.fromEntries(
    Object.entries(applied.outcomes).map(([id, outcomes]) => [id, { outcomes }]),
  )
  const lines = Object.entries(applied.outcomes).map(
    ([id, outcomes]) =>
      `  node "${id}": ${
        WRITE_OUTCOMES.filter((o) => (outcomes[o] ?? 0) > 0)
          .map((o) => `${outcomes[o]} ${o}`)
          .join(', ') || 'nothing to do'
      }`,
  )
  const failures = Object.values(applied.results)
    .flat()
    .filter((r) => r.outcome === 'failed')
  const shown = failures
    .slice(0, 20)
    .map((r) => `    failed ${r.action} ${r.dn}: ${r.error?.code ?? ''} ${r.error?.message ?? ''}`)
  if (failures.length > shown.length) shown.push(`    … and ${failures.length - shown.length} more`)
  // Under onRowError skip/route failed writes are counted, never shown as a plain success.
  const outcome =
    applied.status === 'failed'
      ? 'Apply failed (onRowError "fail" stopped at the first failed write):'
      : applied.failed > 0
        ? `Applied with ${applied.failed} failed write(s)`
        : 'Applied'
  io.stderr.write(
    `${outcome} ${file} to "${applied.document.graphName}" (${applied.writes} write(s)):\n${[...lines, ...shown].join('\n')}\n`,
  )
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify({ status: applied.status, writes: applied.writes, failed: applied.failed, nodes, failures })}\n`,
    )
  }
  return applied.status === 'failed' ? EXIT_RUN_FAILED : EXIT_OK
}

/** The `--json` summary (DESIGN.md §5). */
export function jsonSummary(summary: RunSummary) {
  return {
    status: summary.status,
    durationMs: summary.durationMs,
    nodes: Object.fromEntries(
      Object.entries(summary.nodes).map(([id, n]) => [
        id,
        {
          rowsIn: n.rowsIn,
          rowsOut: n.rowsOut,
          rowsRejected: n.rowsRejected,
          errors: n.errors,
          ...(n.outcomes === undefined ? {} : { outcomes: n.outcomes }),
        },
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
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
    version?: string
  }
  return pkg.version ?? 'unknown'
}
