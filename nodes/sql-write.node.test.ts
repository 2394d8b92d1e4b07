import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { analyzeGraph } from '../engine/index.ts'
import { tempDir } from '../test/helpers.ts'
import { firstError, runTest, testCatalog, type TestGraph } from './test-kit.ts'

type Row = Record<string, unknown>

async function dbWith(sql: string): Promise<string> {
  const dir = await tempDir()
  const db = new Database(join(dir, 'out.db'))
  db.exec(sql)
  db.close()
  return dir
}

function select(dir: string, sql: string): unknown[] {
  const db = new Database(join(dir, 'out.db'), { readonly: true })
  try {
    return db.prepare(sql).all()
  } finally {
    db.close()
  }
}

async function write(
  dir: string,
  input: Row[],
  config: Record<string, unknown>,
  settings: Record<string, unknown> = {},
  onRowError?: 'fail' | 'skip' | 'route',
) {
  const graph: TestGraph = {
    nodes: [
      { id: 'src', type: 'test.values', config: { rows: input } },
      {
        id: 'w',
        type: 'sql.write',
        config: { connection: { driver: 'sqlite', path: 'out.db' }, ...config },
        ...(onRowError === undefined ? {} : { onRowError }),
      },
      { id: 'results', type: 'test.collect' },
      ...(onRowError === 'route' ? [{ id: 'rejected', type: 'test.collect' }] : []),
    ],
    edges: [
      { from: 'src', to: 'w' },
      { from: 'w', fromPort: 'results', to: 'results' },
      ...(onRowError === 'route' ? [{ from: 'w', fromPort: 'rejected', to: 'rejected' }] : []),
    ],
    settings,
  }
  const { summary, rows } = await runTest(graph, dir)
  return { summary, results: rows('results'), rejected: rows('rejected'), error: firstError(summary, dir) }
}

const PEOPLE = 'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, active INTEGER, tags TEXT)'

describe('sql.write', () => {
  it('inserts rows, converting booleans, arrays and objects', async () => {
    const dir = await dbWith(PEOPLE)
    const { summary, results } = await write(
      dir,
      [
        { id: 1, name: 'Ann', active: true, tags: ['a', 'b'] },
        { id: 2, name: 'Bob', active: false, tags: { x: 1 } },
        { id: 3, name: 'Cid' },
      ],
      { table: 'people' },
    )
    expect(summary.status).toBe('succeeded')
    expect(summary.nodes.w).toMatchObject({ rowsIn: 3, rowsOut: 3, rowsRejected: 0 })
    expect(select(dir, 'SELECT * FROM people ORDER BY id')).toEqual([
      { id: 1, name: 'Ann', active: 1, tags: '["a","b"]' },
      { id: 2, name: 'Bob', active: 0, tags: '{"x":1}' },
      { id: 3, name: 'Cid', active: null, tags: null },
    ])
    expect(results.map((r) => [r.id, r._action])).toEqual([
      [1, 'insert'],
      [2, 'insert'],
      [3, 'insert'],
    ])
  })

  it('upserts by key: inserts new rows and updates existing ones', async () => {
    const dir = await dbWith(`${PEOPLE}; INSERT INTO people VALUES (1, 'Ann', 1, 'keep')`)
    const { summary } = await write(
      dir,
      [
        { id: 1, name: 'Ann Lee' },
        { id: 2, name: 'Bob' },
      ],
      { table: 'people', mode: 'upsert', key: ['id'] },
    )
    expect(summary.status).toBe('succeeded')
    expect(select(dir, 'SELECT * FROM people ORDER BY id')).toEqual([
      { id: 1, name: 'Ann Lee', active: 1, tags: 'keep' },
      { id: 2, name: 'Bob', active: null, tags: null },
    ])
  })

  it('decodes base64 text into a BLOB column, so sql.read → sql.write copies bytes as on every driver', async () => {
    const dir = await dbWith('CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB, name TEXT)')
    const bytes = Buffer.from([0, 1, 2, 254, 255])
    const { summary } = await write(
      dir,
      [
        { id: 1, data: bytes.toString('base64'), name: 'AAEC/v8=' },
        { id: 2, data: null, name: null },
      ],
      { table: 'files' },
    )
    expect(summary.status).toBe('succeeded')
    // The BLOB column holds the bytes; the TEXT column keeps its text as it came.
    expect(select(dir, 'SELECT id, data, name FROM files ORDER BY id')).toEqual([
      { id: 1, data: bytes, name: 'AAEC/v8=' },
      { id: 2, data: null, name: null },
    ])
  })

  it('copies 64-bit integers exactly: sql.read gives text past ±2^53, sql.write stores integers, never REAL', async () => {
    // Before: 9007199254740993 came back as 9007199254740992 and ±2^63 were written back as REAL.
    const dir = await dbWith(
      `CREATE TABLE src (id INTEGER PRIMARY KEY, n INTEGER);
       INSERT INTO src VALUES (1, 9007199254740993), (2, 9223372036854775807), (3, -9223372036854775808), (4, 42), (5, -9007199254740993);
       CREATE TABLE dst (id INTEGER PRIMARY KEY, n INTEGER)`,
    )
    const { summary, rows } = await runTest(
      {
        nodes: [
          {
            id: 'r',
            type: 'sql.read',
            config: { connection: { driver: 'sqlite', path: 'out.db' }, table: 'src' },
          },
          { id: 'seen', type: 'test.collect' },
          {
            id: 'w',
            type: 'sql.write',
            config: { connection: { driver: 'sqlite', path: 'out.db' }, table: 'dst' },
          },
        ],
        edges: [
          { from: 'r', to: 'seen' },
          { from: 'r', to: 'w' },
        ],
      },
      dir,
    )
    expect(summary.status).toBe('succeeded')
    expect(rows('seen')).toEqual([
      { id: 1, n: '9007199254740993' },
      { id: 2, n: '9223372036854775807' },
      { id: 3, n: '-9223372036854775808' },
      { id: 4, n: 42 },
      { id: 5, n: '-9007199254740993' },
    ])
    expect(select(dir, 'SELECT id, typeof(n) AS type, CAST(n AS TEXT) AS n FROM dst ORDER BY id')).toEqual([
      { id: 1, type: 'integer', n: '9007199254740993' },
      { id: 2, type: 'integer', n: '9223372036854775807' },
      { id: 3, type: 'integer', n: '-9223372036854775808' },
      { id: 4, type: 'integer', n: '42' },
      { id: 5, type: 'integer', n: '-9007199254740993' },
    ])
  })

  it('binds whole numbers past ±2^53 as 64-bit integers, not as REAL', async () => {
    const dir = await dbWith('CREATE TABLE big (id INTEGER PRIMARY KEY, n)')
    const { summary } = await write(
      dir,
      [
        { id: 1, n: -(2 ** 63) },
        { id: 2, n: 2 ** 60 },
        { id: 3, n: 2 ** 63 },
        { id: 4, n: 1.5 },
      ],
      {
        table: 'big',
      },
    )
    expect(summary.status).toBe('succeeded')
    expect(select(dir, 'SELECT typeof(n) AS type, CAST(n AS TEXT) AS n FROM big ORDER BY id')).toEqual([
      { type: 'integer', n: '-9223372036854775808' },
      { type: 'integer', n: '1152921504606846976' },
      // 2^63 does not fit a 64-bit integer: it stays a REAL.
      { type: 'real', n: '9.2233720368547758e+18' },
      { type: 'real', n: '1.5' },
    ])
  })

  it('upserts on a composite unique index', async () => {
    const dir = await dbWith(
      "CREATE TABLE m (a TEXT, b TEXT, v INTEGER, UNIQUE (a, b)); INSERT INTO m VALUES ('x', 'y', 1)",
    )
    await write(
      dir,
      [
        { b: 'y', a: 'x', v: 2 },
        { a: 'x', b: 'z', v: 3 },
      ],
      { table: 'm', mode: 'upsert', key: ['b', 'a'] },
    )
    expect(select(dir, 'SELECT * FROM m ORDER BY b')).toEqual([
      { a: 'x', b: 'y', v: 2 },
      { a: 'x', b: 'z', v: 3 },
    ])
  })

  it('replaces whole rows by key: columns not given fall back to their default', async () => {
    const dir = await dbWith(`${PEOPLE}; INSERT INTO people VALUES (1, 'Ann', 1, 'old')`)
    await write(
      dir,
      [
        { id: 1, name: 'Ann Lee' },
        { id: 2, name: 'Bob' },
      ],
      { table: 'people', mode: 'replace', key: ['id'] },
    )
    expect(select(dir, 'SELECT * FROM people ORDER BY id')).toEqual([
      { id: 1, name: 'Ann Lee', active: null, tags: null },
      { id: 2, name: 'Bob', active: null, tags: null },
    ])
  })

  it('updates and deletes by key, marking rows that matched nothing', async () => {
    const dir = await dbWith(`${PEOPLE}; INSERT INTO people VALUES (1, 'Ann', 1, NULL), (2, 'Bob', 1, NULL)`)
    const updated = await write(
      dir,
      [
        { id: 1, active: false },
        { id: 9, active: false },
      ],
      { table: 'people', mode: 'update', key: ['id'] },
    )
    expect(updated.results.map((r) => [r.id, r._action])).toEqual([
      [1, 'update'],
      [9, 'none'],
    ])
    expect(updated.summary.nodes.w!.rowsOut).toBe(2)
    expect(select(dir, 'SELECT id, name, active FROM people ORDER BY id')).toEqual([
      { id: 1, name: 'Ann', active: 0 },
      { id: 2, name: 'Bob', active: 1 },
    ])
    const deleted = await write(dir, [{ id: 2 }, { id: 3 }], { table: 'people', mode: 'delete', key: ['id'] })
    expect(deleted.results.map((r) => r._action)).toEqual(['delete', 'none'])
    expect(select(dir, 'SELECT id FROM people')).toEqual([{ id: 1 }])
  })

  it('creates the table from the first batch, with the key as primary key', async () => {
    const dir = await tempDir()
    const { summary } = await write(
      dir,
      [
        { uid: 'ann', salary: 50000, ratio: 0.5, active: true, note: null },
        { uid: 'bob', salary: 60000, ratio: 1.5, active: false, note: 'x' },
      ],
      { table: 'accounts', createTable: true, key: ['uid'] },
    )
    expect(summary.status).toBe('succeeded')
    expect(select(dir, "SELECT sql FROM sqlite_schema WHERE name = 'accounts'")).toMatchInlineSnapshot(`
      [
        {
          "sql": "CREATE TABLE "accounts" ("uid" TEXT, "salary" INTEGER, "ratio" REAL, "active" INTEGER, "note" TEXT, PRIMARY KEY ("uid"))",
        },
      ]
    `)
    expect(select(dir, 'SELECT * FROM accounts ORDER BY uid')).toEqual([
      { uid: 'ann', salary: 50000, ratio: 0.5, active: 1, note: null },
      { uid: 'bob', salary: 60000, ratio: 1.5, active: 0, note: 'x' },
    ])
    // An existing table is used as it is.
    const again = await write(dir, [{ uid: 'cid', salary: 1 }], {
      table: 'accounts',
      createTable: true,
      mode: 'upsert',
      key: ['uid'],
    })
    expect(again.summary.status).toBe('succeeded')
    expect(select(dir, 'SELECT count(*) AS n FROM accounts')).toEqual([{ n: 3 }])
  })

  it('writes many batches, one transaction each', async () => {
    const dir = await dbWith(PEOPLE)
    const input = Array.from({ length: 2500 }, (_, i) => ({ id: i + 1, name: `p${i}` }))
    const { summary } = await write(dir, input, { table: 'people' }, { batchSize: 1000 })
    expect(summary.nodes.w).toMatchObject({ rowsIn: 2500, rowsOut: 2500, batches: 3 })
    expect(select(dir, 'SELECT count(*) AS n FROM people')).toEqual([{ n: 2500 }])
  })

  it('stores a hostile table name and value literally', async () => {
    const hostile = "'; DROP TABLE x; --"
    const dir = await dbWith(`CREATE TABLE x (v TEXT); CREATE TABLE "${hostile}" ("${hostile}" TEXT)`)
    const { summary } = await write(dir, [{ [hostile]: hostile }], { table: hostile })
    expect(summary.status).toBe('succeeded')
    expect(select(dir, `SELECT * FROM "${hostile}"`)).toEqual([{ [hostile]: hostile }])
    expect(select(dir, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")).toEqual([
      { name: hostile },
      { name: 'x' },
    ])
  })

  it('refuses a field that is not a column, naming node, field and column', async () => {
    const dir = await dbWith(PEOPLE)
    const { summary, error } = await write(
      dir,
      [{ id: 1, name: 'Ann', 'name"; DROP TABLE people; --': 'x' }],
      {
        table: 'people',
      },
    )
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]).toMatchObject({ code: 'SQL_UNKNOWN_COLUMN', nodeId: 'w', field: 'table' })
    expect(error).toMatchInlineSnapshot(
      `"Node "w" (sql.write) table: table "people" has no column "name"; DROP TABLE people; --" (a field of the input rows); its columns: id, name, active, tags. Drop or rename the field with a map node."`,
    )
    expect(select(dir, 'SELECT count(*) AS n FROM people')).toEqual([{ n: 0 }])
  })

  it('refuses a key column the table does not have', async () => {
    const { summary, error } = await write(await dbWith(PEOPLE), [{ id: 1 }], {
      table: 'people',
      mode: 'update',
      key: ['uid'],
    })
    expect(summary.errors[0]).toMatchObject({ code: 'SQL_UNKNOWN_COLUMN', field: 'key' })
    expect(error).toMatchInlineSnapshot(
      `"Node "w" (sql.write) key: table "people" has no column "uid"; its columns: id, name, active, tags"`,
    )
  })

  it('refuses an upsert whose key is not unique in the table', async () => {
    const { summary, error } = await write(await dbWith(PEOPLE), [{ id: 1, name: 'x' }], {
      table: 'people',
      mode: 'upsert',
      key: ['name'],
    })
    expect(summary.errors[0]!.code).toBe('SQL_KEY_NOT_UNIQUE')
    expect(error).toMatchInlineSnapshot(
      `"Node "w" (sql.write) key: upsert needs a primary key or unique index on (name) in table "people"; its unique keys: (id)"`,
    )
  })

  it('refuses a missing table unless createTable is set', async () => {
    const { summary, error } = await write(await dbWith(PEOPLE), [{ id: 1 }], { table: 'staff' })
    expect(summary.errors[0]).toMatchObject({ code: 'TABLE_NOT_FOUND', field: 'table' })
    expect(error).toMatchInlineSnapshot(
      `"Node "w" (sql.write) table: no table "staff" in out.db (it has: people); create it first or set createTable"`,
    )
  })

  it('needs a key for every mode but insert', () => {
    const analysis = analyzeGraph(
      {
        syncgraph: 1,
        nodes: [
          { id: 'src', type: 'test.values', config: { rows: [{ id: 1 }] } },
          {
            id: 'w',
            type: 'sql.write',
            config: { connection: { driver: 'sqlite', path: 'x.db' }, table: 't', mode: 'upsert' },
          },
        ],
        edges: [{ from: 'src', to: 'w' }],
      },
      testCatalog,
    )
    expect(analysis.issues).toMatchInlineSnapshot(`
      [
        {
          "code": "invalid-config",
          "message": "mode "upsert" needs a key: the column(s) that identify a row, e.g. ["id"]",
          "nodeId": "w",
          "path": "$.key",
          "severity": "error",
        },
      ]
    `)
  })

  it('routes a row the database refuses and writes the rest of its batch', async () => {
    const dir = await dbWith(`${PEOPLE}; INSERT INTO people VALUES (2, 'Existing', 1, NULL)`)
    const { summary, rejected, results } = await write(
      dir,
      [
        { id: 1, name: 'Ann' },
        { id: 2, name: 'Duplicate' },
        { id: 3, name: null },
        { id: 4, name: 'Dee' },
      ],
      { table: 'people' },
      {},
      'route',
    )
    expect(summary.status).toBe('succeeded')
    expect(summary.nodes.w).toMatchObject({ rowsIn: 4, rowsOut: 2, rowsRejected: 2 })
    expect(select(dir, 'SELECT id, name FROM people ORDER BY id')).toEqual([
      { id: 1, name: 'Ann' },
      { id: 2, name: 'Existing' },
      { id: 4, name: 'Dee' },
    ])
    expect(results.map((r) => r.id)).toEqual([1, 4])
    expect(rejected).toMatchInlineSnapshot(`
      [
        {
          "_error": {
            "code": "SQL_CONSTRAINT",
            "message": "UNIQUE constraint failed: people.id",
          },
          "id": 2,
          "name": "Duplicate",
        },
        {
          "_error": {
            "code": "SQL_CONSTRAINT",
            "message": "NOT NULL constraint failed: people.name",
          },
          "id": 3,
          "name": null,
        },
      ]
    `)
  })

  it('skips refused rows with onRowError skip', async () => {
    const dir = await dbWith(PEOPLE)
    const { summary } = await write(
      dir,
      [
        { id: 1, name: 'Ann' },
        { id: 1, name: 'Again' },
      ],
      { table: 'people' },
      {},
      'skip',
    )
    expect(summary.status).toBe('succeeded')
    expect(summary.nodes.w).toMatchObject({ rowsOut: 1, rowsRejected: 1 })
    expect(select(dir, 'SELECT name FROM people')).toEqual([{ name: 'Ann' }])
  })

  it('with onRowError fail, keeps nothing of the failing batch (earlier batches stay)', async () => {
    const dir = await dbWith(PEOPLE)
    const input = [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c' },
      { id: 4, name: null },
      { id: 5, name: 'e' },
    ]
    const { summary, error } = await write(dir, input, { table: 'people' }, { batchSize: 2 })
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]).toMatchObject({ code: 'SQL_CONSTRAINT', nodeId: 'w', row: 4 })
    expect(error).toMatchInlineSnapshot(
      `"Node "w" (sql.write) row 4: NOT NULL constraint failed: people.name"`,
    )
    expect(select(dir, 'SELECT id FROM people ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }])
  })

  it('rejects rows with an empty key before writing', async () => {
    const dir = await dbWith(`${PEOPLE}; INSERT INTO people VALUES (1, 'Ann', 1, NULL)`)
    const { summary, rejected } = await write(
      dir,
      [
        { id: null, name: 'nobody' },
        { id: 1, name: 'Ann Lee' },
      ],
      { table: 'people', mode: 'upsert', key: ['id'] },
      {},
      'route',
    )
    expect(summary.nodes.w).toMatchObject({ rowsOut: 1, rowsRejected: 1 })
    expect(rejected).toEqual([
      { id: null, name: 'nobody', _error: { code: 'SQL_KEY_EMPTY', message: 'key column "id" is empty' } },
    ])
    expect(select(dir, 'SELECT name FROM people')).toEqual([{ name: 'Ann Lee' }])
  })

  it('reports a database folder that does not exist', async () => {
    const dir = await tempDir()
    const { summary } = await write(dir, [{ id: 1 }], {
      connection: { driver: 'sqlite', path: 'no/such/out.db' },
      table: 't',
    })
    expect(summary.errors[0]).toMatchObject({ code: 'FOLDER_NOT_FOUND', field: 'connection.path' })
    expect(firstError(summary, dir)).toMatchInlineSnapshot(
      `"Node "w" (sql.write) connection.path: the folder of no/such/out.db does not exist"`,
    )
  })
})
