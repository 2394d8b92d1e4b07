import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { analyzeGraph, createConnectionResolver, createMemoryStateStore } from '../engine/index.ts'
import { tempDir } from '../test/helpers.ts'
import { firstError, runTest, testCatalog } from './test-kit.ts'

async function peopleDb(count = 3): Promise<string> {
  const dir = await tempDir()
  const db = new Database(join(dir, 'hr.db'))
  db.exec('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, salary REAL, dept TEXT)')
  const insert = db.prepare('INSERT INTO people VALUES (?, ?, ?, ?)')
  db.transaction(() => {
    for (let i = 1; i <= count; i++) insert.run(i, `person ${i}`, 1000 * i + 0.5, i % 2 === 0 ? 'even' : null)
  })()
  db.close()
  return dir
}

async function readSql(dir: string, config: Record<string, unknown>, settings: Record<string, unknown> = {}) {
  const { summary, rows } = await runTest(
    {
      nodes: [
        {
          id: 'src',
          type: 'sql.read',
          config: { connection: { driver: 'sqlite', path: 'hr.db' }, ...config },
        },
        { id: 'sink', type: 'test.collect' },
      ],
      edges: [{ from: 'src', to: 'sink' }],
      settings,
    },
    dir,
  )
  return { summary, rows: rows('sink'), error: firstError(summary, dir) }
}

describe('sql.read', () => {
  it('reads a whole table with its value types', async () => {
    const { summary, rows } = await readSql(await peopleDb(), { table: 'people' })
    expect(summary.status).toBe('succeeded')
    expect(rows).toEqual([
      { id: 1, name: 'person 1', salary: 1000.5, dept: null },
      { id: 2, name: 'person 2', salary: 2000.5, dept: 'even' },
      { id: 3, name: 'person 3', salary: 3000.5, dept: null },
    ])
  })

  it('reads a BLOB as base64 text, as every other driver reads binary', async () => {
    const dir = await tempDir()
    const db = new Database(join(dir, 'hr.db'))
    db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, data BLOB, note BLOB)')
    db.prepare('INSERT INTO photos VALUES (?, ?, ?)').run(
      1,
      Buffer.from([0, 1, 2, 254, 255]),
      'text in a BLOB',
    )
    db.prepare('INSERT INTO photos VALUES (?, ?, ?)').run(2, null, Buffer.alloc(0))
    db.close()
    const { rows } = await readSql(dir, { table: 'photos' })
    // Only stored bytes become base64; text stays text (SQLite types the value, not the column).
    expect(rows).toEqual([
      { id: 1, data: 'AAEC/v8=', note: 'text in a BLOB' },
      { id: 2, data: null, note: '' },
    ])
  })

  it('runs a query with parameters', async () => {
    const { rows } = await readSql(await peopleDb(10), {
      query: 'SELECT id, name FROM people WHERE salary > ? AND dept = ? ORDER BY id DESC',
      params: [5000, 'even'],
    })
    expect(rows).toEqual([
      { id: 10, name: 'person 10' },
      { id: 8, name: 'person 8' },
      { id: 6, name: 'person 6' },
    ])
  })

  it('treats a hostile parameter as a value', async () => {
    const dir = await peopleDb()
    const { rows } = await readSql(dir, {
      query: 'SELECT * FROM people WHERE name = ?',
      params: ["' OR 1=1; DROP TABLE people; --"],
    })
    expect(rows).toEqual([])
    expect((await readSql(dir, { table: 'people' })).rows).toHaveLength(3)
  })

  it('streams a large table in batches of batchSize', async () => {
    const { summary, rows } = await readSql(await peopleDb(2500), { table: 'people' }, { batchSize: 1000 })
    expect(rows).toHaveLength(2500)
    expect(summary.nodes.src).toMatchObject({ rowsOut: 2500, batches: 3 })
  })

  it('reads a table whose name needs quoting', async () => {
    const dir = await tempDir()
    const db = new Database(join(dir, 'hr.db'))
    db.exec(`CREATE TABLE "odd ""name""; --" (v TEXT)`)
    db.prepare(`INSERT INTO "odd ""name""; --" VALUES (?)`).run('ok')
    db.close()
    expect((await readSql(dir, { table: 'odd "name"; --' })).rows).toEqual([{ v: 'ok' }])
  })

  it('refuses an unknown table, listing the tables there are', async () => {
    const { summary, error } = await readSql(await peopleDb(), { table: 'people; DROP TABLE people' })
    expect(summary.errors[0]).toMatchObject({ code: 'TABLE_NOT_FOUND', field: 'table' })
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (sql.read) table: no table or view "people; DROP TABLE people" in hr.db; it has: people"`,
    )
  })

  it('reports a bad query naming the field', async () => {
    const { summary, error } = await readSql(await peopleDb(), { query: 'SELEC * FROM people' })
    expect(summary.errors[0]).toMatchObject({ code: 'SQL_QUERY_FAILED', field: 'query' })
    expect(error).toMatchInlineSnapshot(`"Node "src" (sql.read) query: near "SELEC": syntax error"`)
  })

  it('refuses a statement that returns no rows', async () => {
    const { error } = await readSql(await peopleDb(), { query: 'DELETE FROM people' })
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (sql.read) query: the statement returns no rows; use a SELECT"`,
    )
  })

  it('reports a missing database file without creating it', async () => {
    const dir = await tempDir()
    const { summary, error } = await readSql(dir, { table: 'people' })
    expect(summary.errors[0]).toMatchObject({ code: 'FILE_NOT_FOUND', field: 'connection.path' })
    expect(error).toMatchInlineSnapshot(`"Node "src" (sql.read) connection.path: file not found: hr.db"`)
    await expect(import('node:fs/promises').then((fs) => fs.access(join(dir, 'hr.db')))).rejects.toThrow()
  })

  it('reports a file that is not a database', async () => {
    const dir = await tempDir()
    await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'hr.db'), 'id,name\n1,Ann\n'))
    const { summary, error } = await readSql(dir, { table: 'people' })
    expect(summary.errors[0]!.code).toBe('NOT_A_DATABASE')
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (sql.read) connection.path: cannot open hr.db: file is not a database"`,
    )
  })

  it('refuses unknown drivers, unreachable servers, and stored connections outside the server', async () => {
    const dir = await tempDir()
    const named = async (name: string) =>
      name === 'warehouse'
        ? { driver: 'db2', host: 'db' }
        : name === 'down'
          ? { driver: 'postgres', host: '127.0.0.1', port: 1, user: 'sync' }
          : undefined
    const run = (connection: unknown) =>
      runTest(
        {
          nodes: [
            { id: 'src', type: 'sql.read', config: { connection, table: 't' } },
            { id: 'sink', type: 'test.collect' },
          ],
          edges: [{ from: 'src', to: 'sink' }],
        },
        dir,
        { connections: createConnectionResolver({ named }) },
      )
    expect(firstError((await run('warehouse')).summary)).toMatchInlineSnapshot(
      `"Node "src" (sql.read) connection.driver: unknown driver "db2"; expected one of: sqlite, postgres, mysql, mssql, oracle"`,
    )
    expect(firstError((await run('down')).summary)).toMatchInlineSnapshot(
      `"Node "src" (sql.read) connection: cannot connect to postgres://sync@127.0.0.1:1/: connect ECONNREFUSED 127.0.0.1:1"`,
    )
    expect(firstError((await run('nope')).summary)).toMatchInlineSnapshot(
      `"Node "src" (sql.read) connection: no stored connection is named "nope""`,
    )
    const withoutServer = await runTest(
      {
        nodes: [
          { id: 'src', type: 'sql.read', config: { connection: 'hr-database', table: 't' } },
          { id: 'sink', type: 'test.collect' },
        ],
        edges: [{ from: 'src', to: 'sink' }],
      },
      dir,
    )
    expect(firstError(withoutServer.summary)).toMatchInlineSnapshot(
      `"Node "src" (sql.read) connection: "hr-database" names a stored connection, but stored connections exist only on the server; give the connection inline"`,
    )
  })

  it('needs exactly one of table and query', () => {
    const graph = (config: Record<string, unknown>) => ({
      syncgraph: 1,
      nodes: [
        {
          id: 'src',
          type: 'sql.read',
          config: { connection: { driver: 'sqlite', path: 'x.db' }, ...config },
        },
      ],
    })
    expect(analyzeGraph(graph({}), testCatalog).issues).toMatchInlineSnapshot(`
      [
        {
          "code": "invalid-config",
          "message": "set either table (read a whole table) or query (a SELECT statement)",
          "nodeId": "src",
          "path": "$.table",
          "severity": "error",
        },
      ]
    `)
    expect(analyzeGraph(graph({ table: 't', query: 'SELECT 1' }), testCatalog).issues).toMatchInlineSnapshot(`
      [
        {
          "code": "invalid-config",
          "message": "set table or query, not both",
          "nodeId": "src",
          "path": "$.query",
          "severity": "error",
        },
      ]
    `)
    expect(analyzeGraph(graph({ table: 't' }), testCatalog).issues).toEqual([])
  })

  it('stops the cursor when the run is cancelled', async () => {
    const dir = await peopleDb(20_000)
    const controller = new AbortController()
    const { summary, rows } = await runTest(
      {
        nodes: [
          {
            id: 'src',
            type: 'sql.read',
            config: { connection: { driver: 'sqlite', path: 'hr.db' }, table: 'people' },
          },
          { id: 'sink', type: 'test.collect', config: { delayMs: 5 } },
        ],
        edges: [{ from: 'src', to: 'sink' }],
        settings: { batchSize: 100, queueDepth: 1 },
      },
      dir,
      { signal: controller.signal, onBatch: (nodeId) => nodeId === 'src' && controller.abort() },
    )
    expect(summary.status).toBe('cancelled')
    expect(rows('sink').length).toBeLessThan(1000)
  })

  it('reads a WAL database that sql.write fills in the same run', async () => {
    const dir = await peopleDb(3000)
    const wal = new Database(join(dir, 'hr.db'))
    wal.pragma('journal_mode = WAL')
    wal.close()
    const { summary } = await runTest(
      {
        nodes: [
          {
            id: 'src',
            type: 'sql.read',
            config: { connection: { driver: 'sqlite', path: 'hr.db' }, table: 'people' },
          },
          {
            id: 'copy',
            type: 'sql.write',
            config: {
              connection: { driver: 'sqlite', path: 'hr.db' },
              table: 'people_copy',
              createTable: true,
              key: ['id'],
            },
          },
        ],
        edges: [{ from: 'src', to: 'copy' }],
        settings: { batchSize: 500 },
      },
      dir,
    )
    expect(summary.status).toBe('succeeded')
    const db = new Database(join(dir, 'hr.db'), { readonly: true })
    expect(db.prepare('SELECT count(*) AS n FROM people_copy').get()).toEqual({ n: 3000 })
    db.close()
  })

  it('reads incrementally from a watermark kept per graph, advanced only after a successful run', async () => {
    const dir = await peopleDb(3)
    const state = createMemoryStateStore()
    const run = (extra: Record<string, unknown> = {}) =>
      runTest(
        {
          nodes: [
            {
              id: 'src',
              type: 'sql.read',
              config: {
                connection: { driver: 'sqlite', path: 'hr.db' },
                query: 'SELECT id, name FROM people WHERE name <> ?',
                params: ['nobody'],
                watermark: 'id',
                ...extra,
              },
            },
            { id: 'sink', type: 'test.collect' },
          ],
          edges: [{ from: 'src', to: 'sink' }],
        },
        dir,
        { state },
      )
    expect((await run()).rows('sink').map((r) => r.id)).toEqual([1, 2, 3])
    const db = new Database(join(dir, 'hr.db'))
    db.exec("INSERT INTO people VALUES (4, 'person 4', 1, NULL), (5, 'person 5', 1, NULL)")
    db.close()
    expect((await run()).rows('sink').map((r) => r.id)).toEqual([4, 5])
    expect(state.values).toEqual({ 'src/watermark': { column: 'id', value: 5 } })
    // A run without a state store cannot remember where it stopped, and says so.
    const { summary } = await runTest(
      {
        nodes: [
          {
            id: 'src',
            type: 'sql.read',
            config: { connection: { driver: 'sqlite', path: 'hr.db' }, table: 'people', watermark: 'id' },
          },
          { id: 'sink', type: 'test.collect' },
        ],
        edges: [{ from: 'src', to: 'sink' }],
      },
      dir,
    )
    expect(summary.errors[0]?.code).toBe('WATERMARK_NO_STATE')
  })
})
