import { afterAll, beforeAll, expect, it } from 'vitest'
import { createMemoryStateStore, type Row, type RunSummary } from '../../engine/index.ts'
import { applyPlanDocument, planGraph, type PlanDocument } from '../../engine/sync/index.ts'
import { syncDrivers } from '../../nodes/index.ts'
import type { SqlConnector } from '../../nodes/sql/types.ts'
import { firstError, runTest, testCatalog, type TestGraph } from '../../nodes/test-kit.ts'
import { tempDir } from '../helpers.ts'
import { open, uniqueTable, type Connection } from './services.ts'
import { sqlSyncSuite } from './sync-suite.ts'

/** What differs between databases in the shared live suite. */
export interface Flavor {
  connection: Connection
  /** DDL of a table with every type the mapping covers; `id` is the primary key, `name` NOT NULL. */
  typedTable(table: string): string
  /** A typed row read back after writing TYPED_ROW. */
  typedExpected: Row
  /** DDL of a small table: id (integer primary key), name (text, NOT NULL), dept (text), active (boolean). */
  peopleTable(table: string): string
  /** How the database reads back `active` true. */
  activeTrue: unknown
  /** How the database reads back `id` 1. */
  one: unknown
}

/** A row with a hostile string, unicode, null, a float, a boolean, a date, a timestamp, bytes (base64) and an array. */
export const TYPED_ROW: Row = {
  id: 1,
  name: "Zoë 😀 '; DROP TABLE x; --\ttab\nline\\slash",
  score: 1.5,
  active: true,
  born: '2024-01-02',
  seen: '2024-01-02T03:04:05.678',
  data: Buffer.from([0, 1, 2, 254, 255]).toString('base64'),
  tags: ['a', 'b'],
  note: null,
}

function graph(
  nodes: TestGraph['nodes'],
  edges: TestGraph['edges'],
  settings: Record<string, unknown> = {},
): TestGraph {
  return { nodes, edges, settings }
}

/** Run `rows → <node> → collect` (plus `rejected` when routed). */
async function through(
  node: TestGraph['nodes'][number],
  rows: Row[],
  settings: Record<string, unknown> = {},
): Promise<{ summary: RunSummary; results: Row[]; rejected: Row[]; error: string }> {
  const routed = node.onRowError === 'route'
  const { summary, rows: got } = await runTest(
    graph(
      [
        { id: 'src', type: 'test.values', config: { rows } },
        node,
        { id: 'out', type: 'test.collect' },
        ...(routed ? [{ id: 'bad', type: 'test.collect' }] : []),
      ],
      [
        { from: 'src', to: node.id },
        { from: node.id, fromPort: 'results', to: 'out' },
        ...(routed ? [{ from: node.id, fromPort: 'rejected', to: 'bad' }] : []),
      ],
      settings,
    ),
    await tempDir(),
  )
  return { summary, results: got('out'), rejected: got('bad'), error: firstError(summary) }
}

/** Run `sql.read → collect`. */
async function read(config: Record<string, unknown>, settings: Record<string, unknown> = {}) {
  const { summary, rows } = await runTest(
    graph(
      [
        { id: 'r', type: 'sql.read', config },
        { id: 'out', type: 'test.collect' },
      ],
      [{ from: 'r', to: 'out' }],
      settings,
    ),
    await tempDir(),
  )
  return { summary, rows: rows('out'), error: firstError(summary) }
}

/** The write, upsert, read, reject and sync behaviour every client-server driver must show. */
export function liveSqlSuite(flavor: Flavor): void {
  const connection = flavor.connection
  let db: SqlConnector
  const dropped: string[] = []
  const table = async (name: string, ddl: (t: string) => string) => {
    const t = uniqueTable(name)
    await db.execute(ddl(t))
    dropped.push(t)
    return t
  }
  const q = (name: string) => db.dialect.quoteIdent(name)
  const all = async (sql: string): Promise<Row[]> => {
    const out: Row[] = []
    for await (const batch of db.query(sql, [], 1000, new AbortController().signal)) out.push(...batch)
    return out
  }
  const people = async (t: string): Promise<Row[]> =>
    (
      await all(
        `SELECT ${['id', 'name', 'dept', 'active'].map(q).join(', ')} FROM ${q(t)} ORDER BY ${q('id')}`,
      )
    ).map((r) => ({ ...r, id: Number(r.id) }))

  beforeAll(() => {
    db = open(connection)
  })
  afterAll(async () => {
    for (const t of dropped) await db.execute(`DROP TABLE ${q(t)}`).catch(() => undefined)
    await db.close()
  })

  it('inserts through the bulk path and reads back with the documented type mapping', async () => {
    const t = await table('typed', flavor.typedTable)
    const second = { ...TYPED_ROW, id: 2, name: 'plain', active: false, tags: null, data: null }
    const write = await through(
      { id: 'w', type: 'sql.write', config: { connection, table: t } },
      [TYPED_ROW, second, { id: 3, name: '' }],
      { batchSize: 2 },
    )
    expect(write.error).toBe('no error (status succeeded)')
    expect(write.results.map((r) => r._action)).toEqual(['insert', 'insert', 'insert'])
    const back = await read({ connection, query: `SELECT * FROM ${q(t)} ORDER BY ${q('id')}` })
    expect(back.summary.status).toBe('succeeded')
    expect(back.rows[0]).toEqual(flavor.typedExpected)
    expect(back.rows[1]).toMatchObject({ name: 'plain', tags: null, data: null })
    expect(back.rows[2]).toMatchObject({ name: '', score: null, active: null, born: null })
  })

  it('streams a large table in batches through a cursor', async () => {
    const t = await table('stream', flavor.peopleTable)
    const rows = Array.from({ length: 12_345 }, (_, i) => ({
      id: i + 1,
      name: `n${i}`,
      dept: 'd',
      active: i % 2 === 0,
    }))
    const write = await through({ id: 'w', type: 'sql.write', config: { connection, table: t } }, rows)
    expect(write.summary.nodes.w).toMatchObject({ rowsIn: 12_345, rowsOut: 12_345 })
    const back = await read({ connection, table: t }, { batchSize: 1000 })
    expect(back.summary.nodes.r).toMatchObject({ rowsOut: 12_345, batches: 13 })
    expect(back.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(rows.map((r) => r.id))
  })

  it('upserts idempotently: a repeated key in one batch is written once, the last row winning', async () => {
    const t = await table('upsert', flavor.peopleTable)
    const config = { connection, table: t, mode: 'upsert', key: ['id'] }
    const input = [
      { id: 1, name: 'Ann', dept: 'HR' },
      { id: 2, name: 'Bob', dept: 'IT' },
      { id: 1, name: 'Ann B', dept: 'HR' },
    ]
    for (let i = 0; i < 2; i++) {
      const run = await through({ id: 'w', type: 'sql.write', config }, input)
      expect(run.error).toBe('no error (status succeeded)')
      expect(run.results.map((r) => r._action)).toEqual(['upsert', 'upsert', 'upsert'])
    }
    expect(await people(t)).toEqual([
      { id: 1, name: 'Ann B', dept: 'HR', active: null },
      { id: 2, name: 'Bob', dept: 'IT', active: null },
    ])
  })

  it('updates and deletes by key, saying which rows matched nothing', async () => {
    const t = await table('upd', flavor.peopleTable)
    await through({ id: 'w', type: 'sql.write', config: { connection, table: t } }, [
      { id: 1, name: 'Ann', dept: 'HR' },
      { id: 2, name: 'Bob', dept: 'IT' },
    ])
    const update = await through(
      { id: 'w', type: 'sql.write', config: { connection, table: t, mode: 'update', key: ['id'] } },
      [
        { id: 1, dept: 'Sales' },
        { id: 9, dept: 'Nowhere' },
      ],
    )
    expect(update.results.map((r) => [r.id, r._action])).toEqual([
      [1, 'update'],
      [9, 'none'],
    ])
    const remove = await through(
      { id: 'w', type: 'sql.write', config: { connection, table: t, mode: 'delete', key: ['id'] } },
      [{ id: 2 }, { id: 8 }],
    )
    expect(remove.results.map((r) => [r.id, r._action])).toEqual([
      [2, 'delete'],
      [8, 'none'],
    ])
    expect(await people(t)).toEqual([{ id: 1, name: 'Ann', dept: 'Sales', active: null }])
  })

  it('routes a bad row with its reason and keeps the good rows of its batch', async () => {
    const t = await table('route', flavor.peopleTable)
    const run = await through(
      { id: 'w', type: 'sql.write', config: { connection, table: t }, onRowError: 'route' },
      [
        { id: 1, name: 'Ann' },
        { id: 2, name: null },
        { id: 1, name: 'Ann again' },
        { id: 3, name: 'Cid' },
      ],
    )
    expect(run.summary.status).toBe('succeeded')
    expect(run.rejected.map((r) => [r.id, (r._error as { code: string }).code])).toEqual([
      [2, 'SQL_CONSTRAINT'],
      [1, 'SQL_CONSTRAINT'],
    ])
    expect((await people(t)).map((r) => r.name)).toEqual(['Ann', 'Cid'])
  })

  it('with onRowError fail, a bad row leaves nothing of its batch and names its position', async () => {
    const t = await table('fail', flavor.peopleTable)
    const run = await through({ id: 'w', type: 'sql.write', config: { connection, table: t } }, [
      { id: 1, name: 'Ann' },
      { id: 2, name: 'Bob' },
      { id: 1, name: 'duplicate' },
    ])
    expect(run.summary.status).toBe('failed')
    expect(run.summary.errors[0]).toMatchObject({ code: 'SQL_CONSTRAINT', row: 3 })
    expect(await people(t)).toEqual([])
  })

  it('never runs identifiers from the config or the rows as SQL', async () => {
    const t = await table('hostile', flavor.peopleTable)
    const hostileTable = await through(
      { id: 'w', type: 'sql.write', config: { connection, table: `${t}"; DROP TABLE ${t}; --` } },
      [{ id: 1, name: 'x' }],
    )
    expect(hostileTable.summary.errors[0]?.code).toBe('TABLE_NOT_FOUND')
    const hostileField = await through({ id: 'w', type: 'sql.write', config: { connection, table: t } }, [
      { id: 1, name: 'x', 'name"; DROP TABLE x; --': 1 },
    ])
    expect(hostileField.summary.errors[0]?.code).toBe('SQL_UNKNOWN_COLUMN')
    const hostileRead = await read({ connection, table: `${t}; DROP TABLE ${t}` })
    expect(hostileRead.summary.errors[0]?.code).toBe('TABLE_NOT_FOUND')
    expect(await people(t)).toEqual([])
  })

  it('creates a missing table from the first batch', async () => {
    const t = uniqueTable('created')
    dropped.push(t)
    const run = await through(
      {
        id: 'w',
        type: 'sql.write',
        config: { connection, table: t, mode: 'upsert', key: ['id'], createTable: true },
      },
      [
        { id: 1, name: 'Ann', score: 1.5, active: true },
        { id: 2, name: null, score: 2, active: false },
      ],
    )
    expect(run.error).toBe('no error (status succeeded)')
    const info = await db.describeTable(t)
    expect(info?.uniqueKeys[0]).toEqual(['id'])
    expect(
      (await all(`SELECT * FROM ${q(t)} ORDER BY ${q('id')}`)).map((r) => [Number(r.id), r.name, r.score]),
    ).toEqual([
      [1, 'Ann', 1.5],
      [2, null, 2],
    ])
  })

  it('keeps an incremental read watermark per graph, advanced only after a successful run', async () => {
    const t = await table('wm', flavor.peopleTable)
    await through({ id: 'w', type: 'sql.write', config: { connection, table: t } }, [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ])
    const dir = await tempDir()
    const state = createMemoryStateStore()
    const incremental = (failAfter: boolean) =>
      runTest(
        graph(
          [
            { id: 'r', type: 'sql.read', config: { connection, table: t, watermark: 'id' } },
            { id: 'out', type: 'test.collect' },
            ...(failAfter
              ? [{ id: 'boom', type: 'map', config: { expression: '$error("downstream failed")' } }]
              : []),
          ],
          [{ from: 'r', to: 'out' }, ...(failAfter ? [{ from: 'r', to: 'boom' }] : [])],
        ),
        dir,
        { state },
      )
    const first = await incremental(false)
    expect(first.rows('out').map((r) => Number(r.id))).toEqual([1, 2])
    await through({ id: 'w', type: 'sql.write', config: { connection, table: t } }, [{ id: 3, name: 'c' }])
    const failed = await incremental(true)
    expect(failed.summary.status).toBe('failed')
    const again = await incremental(false)
    expect(again.rows('out').map((r) => Number(r.id))).toEqual([3])
    const nothing = await incremental(false)
    expect(nothing.rows('out')).toEqual([])
    expect(state.values).toEqual({ 'r/watermark': { column: 'id', value: 3 } })
  })

  const syncGraph = (config: Record<string, unknown>, rows: Row[]): TestGraph =>
    graph(
      [
        { id: 'src', type: 'test.values', config: { rows } },
        { id: 'sync', type: 'sql.sync', config: { connection, ...config } },
        { id: 'out', type: 'test.collect' },
      ],
      [
        { from: 'src', to: 'sync' },
        { from: 'sync', fromPort: 'results', to: 'out' },
      ],
    )
  const sync = async (config: Record<string, unknown>, rows: Row[]) => {
    const { summary, rows: got } = await runTest(syncGraph(config, rows), await tempDir())
    return { summary, results: got('out'), error: firstError(summary) }
  }
  const outcome = (results: Row[]) =>
    results.map(
      (r) =>
        `${JSON.stringify(r.key)} ${String(r.action)} ${String(r.outcome)} ${(r.changed as string[]).join(',')}`,
    )

  it('sql.sync creates, updates changed columns only, and deletes within its scope', async () => {
    const t = await table('sync', flavor.peopleTable)
    await through({ id: 'w', type: 'sql.write', config: { connection, table: t } }, [
      { id: 1, name: 'Ann', dept: 'HR', active: true },
      { id: 2, name: 'Bob', dept: 'HR', active: true },
      { id: 3, name: 'Cid', dept: 'HR', active: true },
      { id: 100, name: 'Outsider', dept: 'IT', active: true },
    ])
    const config = { table: t, key: ['id'], scope: { dept: 'HR' }, deprovision: { action: 'delete' } }
    // ids as text and active as 1: compared by column type, so no spurious update.
    const source = [
      { id: '1', name: 'Ann', active: 1 },
      { id: 2, name: 'Robert', active: true },
      { id: 4, name: 'Dee', active: false },
    ]
    const first = await sync(config, source)
    expect(first.error).toBe('no error (status succeeded)')
    expect(outcome(first.results)).toEqual([
      '{"id":"1"} none unchanged ',
      '{"id":2} update applied name',
      '{"id":4} create applied dept,id,name,active',
      `{"id":${JSON.stringify(flavor.one)}} delete applied `,
    ])
    expect(await people(t)).toEqual([
      { id: 1, name: 'Ann', dept: 'HR', active: flavor.activeTrue },
      { id: 2, name: 'Robert', dept: 'HR', active: flavor.activeTrue },
      { id: 4, name: 'Dee', dept: 'HR', active: expect.anything() },
      { id: 100, name: 'Outsider', dept: 'IT', active: flavor.activeTrue },
    ])
    const second = await sync(config, source)
    expect(second.results.every((r) => r.action === 'none')).toBe(true)
  })

  it('sql.sync flags rows that left the source, refuses a plan over a threshold, and plans without writing', async () => {
    const t = await table('flag', flavor.peopleTable)
    await through({ id: 'w', type: 'sql.write', config: { connection, table: t } }, [
      { id: 1, name: 'Ann', dept: 'HR', active: true },
      { id: 2, name: 'Bob', dept: 'HR', active: true },
      { id: 3, name: 'Cid', dept: 'HR', active: true },
    ])
    const config = {
      table: t,
      key: ['id'],
      columns: { name: 'name' },
      deprovision: { action: 'flag', set: { active: false } },
    }
    const over = await sync({ ...config, maxDeletes: 1 }, [{ id: 1, name: 'Ann' }])
    expect(over.summary.status).toBe('failed')
    expect(over.summary.errors[0]).toMatchObject({ code: 'THRESHOLD_EXCEEDED', field: 'maxDeletes' })
    expect(over.error).toContain(
      'de-provisions (deletes, disables or moves) 2 of 3 objects in scope (66.67%)',
    )
    const planned = await sync({ ...config, mode: 'plan' }, [{ id: 1, name: 'Ann' }])
    expect(planned.results.map((r) => [r.action, r.outcome, r.after])).toEqual([
      ['none', 'unchanged', null],
      ['disable', 'planned', { active: [false] }],
      ['disable', 'planned', { active: [false] }],
    ])
    expect((await people(t)).map((r) => r.active)).toEqual([
      flavor.activeTrue,
      flavor.activeTrue,
      flavor.activeTrue,
    ])
    const applied = await sync({ ...config, maxDeletePercent: 70 }, [{ id: 1, name: 'Ann' }])
    expect(applied.error).toBe('no error (status succeeded)')
    expect((await people(t)).map((r) => r.active === flavor.activeTrue)).toEqual([true, false, false])
  })

  it('sql.sync applies a plan document as planned', async () => {
    const t = await table('doc', flavor.peopleTable)
    const config = { table: t, key: ['id'] }
    await through({ id: 'w', type: 'sql.write', config: { connection, table: t } }, [
      { id: 1, name: 'Ann' },
      { id: 3, name: 'Cid' },
    ])

    const g = {
      syncgraph: 1,
      ...syncGraph(config, [
        { id: 1, name: 'Ann 2' },
        { id: 5, name: 'Eve' },
      ]),
    }
    const document: PlanDocument = await planGraph(g, { catalog: testCatalog, drivers: syncDrivers })
    expect(document.plans[0]?.counts).toMatchObject({ update: 1, create: 1, none: 1 })
    expect((await people(t)).map((r) => r.name)).toEqual(['Ann', 'Cid'])
    const applied = await applyPlanDocument(document, g, { catalog: testCatalog, drivers: syncDrivers })
    expect(applied).toMatchObject({ writes: 2, failed: 0 })
    expect((await people(t)).map((r) => r.name)).toEqual(['Ann 2', 'Cid', 'Eve'])
  })

  sqlSyncSuite({ connection, db: () => db, dropped })
}
