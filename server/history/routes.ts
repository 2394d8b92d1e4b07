import { stringify } from 'csv-stringify/sync'
import { Hono } from 'hono'
import { stream } from 'hono/streaming'
import { z } from 'zod'
import type { AppEnv } from '../http/env.ts'
import { validate } from '../http/validate.ts'
import { component, type RouteDoc } from '../openapi/document.ts'
import { historyEntry, historyFilter, historyQuery, type HistoryEntry, type HistoryStore } from './store.ts'

component(historyEntry, 'HistoryEntry')

export const historyDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/history',
    summary:
      'Every change a sync applied or tried, per object, newest first: run, time, who started it, node, action, key/DN, attributes before/after, outcome. Filter by q (key/DN substring), runId, graphId, nodeId, action, outcome and time (from, to); page with offset/limit',
    query: historyQuery,
    response: z.object({
      total: z.number(),
      retentionDays: z.number().describe('Entries older than this many days are purged'),
      entries: z.array(historyEntry),
    }),
  },
  {
    method: 'get',
    path: '/api/history.csv',
    summary:
      "The history entries the same filters select, as CSV (streamed; cells a spreadsheet would run as a formula are prefixed with ')",
    query: historyFilter,
    rawResponse: 'text/csv',
  },
]

const HEADER = [
  'id',
  'at',
  'runId',
  'graphId',
  'graphName',
  'startedBy',
  'nodeId',
  'nodeType',
  'action',
  'dn',
  'newDn',
  'key',
  'changed',
  'before',
  'after',
  'outcome',
  'error',
]

/** A spreadsheet may run a cell that starts with one of these as a formula (CSV injection). */
const FORMULA = /^[=+\-@\t\r]/
const cell = (value: unknown): string => {
  const text =
    typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value)
  return FORMULA.test(text) ? `'${text}` : text
}

const line = (e: HistoryEntry) =>
  [
    e.id,
    e.at,
    e.runId,
    e.graphId,
    e.graphName,
    e.startedByName ?? e.startedBy ?? 'schedule',
    e.nodeId,
    e.nodeType,
    e.action,
    e.dn,
    e.newDn,
    e.key,
    e.changed.join(' '),
    e.before,
    e.after,
    e.outcome,
    e.error?.message,
  ].map(cell)

export function historyRoutes(deps: { store: HistoryStore; retentionDays: number }) {
  const { store } = deps
  return new Hono<AppEnv>()
    .get('/history', validate('query', historyQuery), (c) => {
      const { offset, limit, ...filter } = c.req.valid('query')
      return c.json({
        ...store.list(filter, { offset: offset ?? 0, limit: limit ?? 100 }),
        retentionDays: deps.retentionDays,
      })
    })
    .get('/history.csv', validate('query', historyFilter), (c) => {
      const filter = c.req.valid('query')
      c.header('content-type', 'text/csv; charset=utf-8')
      c.header('content-disposition', 'attachment; filename="history.csv"')
      return stream(c, async (out) => {
        await out.write(stringify([HEADER]))
        for (const page of store.iterate(filter)) {
          if (out.aborted) return
          await out.write(stringify(page.map(line)))
        }
      })
    })
}
