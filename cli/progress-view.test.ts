import { PassThrough } from 'node:stream'
import { expect, test } from 'vitest'
import type { NodeStats, RunSummary } from '../engine/index.ts'
import { createProgressView, formatNodeTable, formatOutcome, formatProgressLine } from './progress-view.ts'

const stats = (over: Partial<NodeStats>): NodeStats => ({
  type: 'filter',
  status: 'running',
  rowsIn: 0,
  rowsOut: 0,
  rowsRejected: 0,
  errors: 0,
  batches: 0,
  busyMs: 0,
  rowsPerSec: 0,
  ...over,
})

const summary: RunSummary = {
  runId: 'r1',
  status: 'failed',
  elapsedMs: 4200,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:04.200Z',
  durationMs: 4200,
  edges: [],
  nodes: {
    people: stats({ type: 'csv.read', status: 'succeeded', rowsOut: 120000, rowsPerSec: 28571 }),
    active: stats({
      status: 'failed',
      rowsIn: 120000,
      rowsOut: 60000,
      rowsRejected: 1,
      errors: 1,
      rowsPerSec: 28571,
    }),
  },
  errors: [
    {
      code: 'D3030',
      message: 'Node "active" (filter) row 7: Unable to cast value to a number: "x"',
      nodeId: 'active',
      row: 7,
    },
  ],
}

test('the per-node table, the periodic line and the outcome', () => {
  expect(formatNodeTable(summary)).toMatchInlineSnapshot(`
    "node    type      status     rows in  rows out  rejected  rows/s
    people  csv.read  succeeded        0   120,000         0  28,571
    active  filter    failed     120,000    60,000         1  28,571"
  `)
  expect(formatProgressLine({ ...summary, status: 'running' })).toMatchInlineSnapshot(
    `"[4.2s] running · people 120,000 out (succeeded) · active 120,000 in 60,000 out 1 rejected (failed)"`,
  )
  expect(formatOutcome(summary)).toMatchInlineSnapshot(`
    "Run failed after 4.20 s
      D3030: Node "active" (filter) row 7: Unable to cast value to a number: "x""
  `)
  expect(formatOutcome({ ...summary, status: 'succeeded', errors: [] })).toMatchInlineSnapshot(
    `"Run succeeded in 4.20 s; 1 row(s) rejected"`,
  )
})

test('without a terminal, progress lines come at most once per interval, then the table and outcome', () => {
  const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream
  let text = ''
  ;(stream as unknown as PassThrough).setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
  const view = createProgressView({ stream, tty: false, plainIntervalMs: 60_000 })
  const snapshot = { ...summary, status: 'running' as const }
  view.onEvent({ type: 'progress', snapshot })
  view.onEvent({ type: 'progress', snapshot })
  view.onEvent({
    type: 'log',
    runId: 'r1',
    level: 'warn',
    nodeId: 'active',
    message: 'skipped: row 3',
    time: '',
  })
  view.onEvent({ type: 'log', runId: 'r1', level: 'info', nodeId: 'active', message: 'not shown', time: '' })
  view.finish(summary)
  expect(text.split('\n').filter((l) => l.startsWith('[')).length).toBe(1)
  expect(text).toContain('warn [active]: skipped: row 3\n')
  expect(text).not.toContain('not shown')
  expect(text).toContain('Run failed after 4.20 s')
})
