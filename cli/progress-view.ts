import { createLogUpdate } from 'log-update'
import { WRITE_OUTCOMES, type RunEvent, type RunSnapshot, type RunSummary } from '../engine/index.ts'

/** Renders a run's progress on a stream (stderr): a redrawing table on a TTY, periodic lines otherwise. */
export interface ProgressView {
  onEvent(event: RunEvent): void
  /** Draw the final per-node table and the outcome; stops redrawing. */
  finish(summary: RunSummary): void
  /** Print a line above the live display. */
  note(line: string): void
}

export interface ProgressViewOptions {
  stream: NodeJS.WriteStream
  /** Redraw in place (a terminal) or print plain lines (a pipe, a log file, CI). */
  tty: boolean
  /** Minimum time between plain progress lines. */
  plainIntervalMs?: number
  /** Print info and debug logs too, not only warnings. */
  verbose?: boolean
}

export function createProgressView(options: ProgressViewOptions): ProgressView {
  const { stream } = options
  const verbose = options.verbose ?? false
  const showLog = (level: string) => verbose || level === 'warn'
  if (options.tty) {
    const draw = createLogUpdate(stream)
    let last: RunSnapshot | undefined
    const redraw = () => {
      if (last !== undefined)
        draw(`${formatNodeTable(last)}\n${formatElapsed(last.elapsedMs)} ${last.status}…`)
    }
    return {
      onEvent(event) {
        if (event.type === 'progress') {
          last = event.snapshot
          redraw()
        } else if (event.type === 'log' && showLog(event.level)) {
          draw.clear()
          stream.write(`${formatLog(event)}\n`)
          redraw()
        }
      },
      note(line) {
        draw.clear()
        stream.write(`${line}\n`)
        redraw()
      },
      finish(summary) {
        draw(formatNodeTable(summary))
        draw.done()
        stream.write(`${formatOutcome(summary)}\n`)
      },
    }
  }
  const interval = options.plainIntervalMs ?? 2000
  let lastLine = -Infinity
  return {
    onEvent(event) {
      if (event.type === 'progress') {
        const now = performance.now()
        if (now - lastLine < interval) return
        lastLine = now
        stream.write(`${formatProgressLine(event.snapshot)}\n`)
      } else if (event.type === 'log' && showLog(event.level)) {
        stream.write(`${formatLog(event)}\n`)
      }
    },
    note(line) {
      stream.write(`${line}\n`)
    },
    finish(summary) {
      stream.write(`${formatNodeTable(summary)}\n${formatOutcome(summary)}\n`)
    },
  }
}

const columns = ['node', 'type', 'status', 'rows in', 'rows out', 'rejected', 'rows/s'] as const

/** One row per node: rows in / out / rejected, rows per second and status. */
export function formatNodeTable(snapshot: RunSnapshot): string {
  const rows = Object.entries(snapshot.nodes).map(([id, n]) => [
    id,
    n.type,
    n.status,
    count(n.rowsIn),
    count(n.rowsOut),
    count(n.rowsRejected),
    count(n.rowsPerSec),
  ])
  const widths = columns.map((title, c) => Math.max(title.length, ...rows.map((r) => r[c]!.length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd()
  return [line(columns), ...rows.map(line)].join('\n')
}

/** `[4.0s] running · people 120,000 out · active 118,000 in 60,000 out · …` */
export function formatProgressLine(snapshot: RunSnapshot): string {
  const parts = Object.entries(snapshot.nodes).map(([id, n]) => {
    const bits: string[] = []
    if (n.rowsIn > 0) bits.push(`${count(n.rowsIn)} in`)
    if (n.rowsOut > 0 || n.rowsIn === 0) bits.push(`${count(n.rowsOut)} out`)
    if (n.rowsRejected > 0) bits.push(`${count(n.rowsRejected)} rejected`)
    const state = n.status === 'running' ? '' : ` (${n.status})`
    return `${id} ${bits.join(' ')}${state}`
  })
  return [`${formatElapsed(snapshot.elapsedMs)} ${snapshot.status}`, ...parts].join(' · ')
}

/** The last lines: the outcome, and the errors that explain it. */
export function formatOutcome(summary: RunSummary): string {
  const seconds = (summary.durationMs / 1000).toFixed(2)
  const rejected = Object.values(summary.nodes).reduce((sum, n) => sum + n.rowsRejected, 0)
  const failedWrites = Object.values(summary.nodes).reduce((sum, n) => sum + (n.outcomes?.failed ?? 0), 0)
  const lines: string[] = []
  switch (summary.status) {
    case 'succeeded': {
      // Failed writes under onRowError skip/route: the run went on, but it is not a plain success.
      const failed = failedWrites > 0 ? ` with ${count(failedWrites)} failed write(s)` : ''
      const others = rejected - failedWrites
      lines.push(
        `Run succeeded${failed} in ${seconds} s${others > 0 ? `; ${count(others)}${failed === '' ? '' : ' other'} row(s) rejected` : ''}`,
      )
      break
    }
    case 'failed':
      lines.push(`Run failed after ${seconds} s`)
      break
    case 'cancelled':
      lines.push(`Run cancelled after ${seconds} s`)
      break
    case 'queued':
    case 'running':
      lines.push(`Run ${summary.status}`)
      break
    default: {
      const never: never = summary.status
      lines.push(`Run ${String(never)}`)
    }
  }
  for (const [id, n] of Object.entries(summary.nodes)) {
    if (n.outcomes === undefined) continue
    const parts = WRITE_OUTCOMES.filter((o) => (n.outcomes?.[o] ?? 0) > 0).map(
      (o) => `${count(n.outcomes![o]!)} ${o}`,
    )
    lines.push(`  ${id} (${n.type}): ${parts.join(', ') || 'nothing to write'}`)
  }
  const shown = summary.errors.slice(0, 10)
  for (const error of shown) lines.push(`  ${error.code}: ${error.message}`)
  if (summary.errors.length > shown.length)
    lines.push(`  … and ${summary.errors.length - shown.length} more error(s)`)
  return lines.join('\n')
}

function formatLog(event: Extract<RunEvent, { type: 'log' }>): string {
  return `${event.level}${event.nodeId === undefined ? '' : ` [${event.nodeId}]`}: ${event.message}`
}

function formatElapsed(ms: number): string {
  return `[${(ms / 1000).toFixed(1)}s]`
}

function count(n: number): string {
  return n.toLocaleString('en-US')
}
