import { afterAll, describe, expect, it } from 'vitest'
import type { Row } from '../../engine/index.ts'
import { firstError, runTest } from '../../nodes/test-kit.ts'
import { tempDir } from '../helpers.ts'
import { describeWithDatabase, open, testDatabase, uniqueTable } from './services.ts'
import { liveSqlSuite, TYPED_ROW } from './suite.ts'

const { connection: MARIADB, where, missing } = await testDatabase('mariadb')

describeWithDatabase(`MySQL driver against the ${where}`, missing, () => {
  liveSqlSuite({
    connection: MARIADB,
    typedTable: (t) =>
      `CREATE TABLE \`${t}\` (id INT PRIMARY KEY, name TEXT NOT NULL, score DOUBLE, active BOOLEAN, born DATE, seen DATETIME(3), data BLOB, tags TEXT, note TEXT) CHARACTER SET utf8mb4`,
    typedExpected: { ...TYPED_ROW, seen: '2024-01-02 03:04:05.678', tags: '["a","b"]' },
    peopleTable: (t) =>
      `CREATE TABLE \`${t}\` (id BIGINT PRIMARY KEY, name VARCHAR(200) NOT NULL, dept VARCHAR(50), active BOOLEAN) CHARACTER SET utf8mb4`,
    activeTrue: true,
    one: 3,
  })

  describe('upsert on a table with a second unique index (email) matches on the key alone', () => {
    const db = open(MARIADB)
    const tables: string[] = []
    afterAll(async () => {
      for (const t of tables) await db.execute(`DROP TABLE IF EXISTS \`${t}\``)
      await db.close()
    })
    const usersTable = async (keyType = 'INT') => {
      const t = uniqueTable('dupkey')
      tables.push(t)
      await db.execute(
        `CREATE TABLE \`${t}\` (id ${keyType} PRIMARY KEY, email VARCHAR(100) NOT NULL, name TEXT, CONSTRAINT email_uq UNIQUE (email)) CHARACTER SET utf8mb4`,
      )
      await db.execute(`INSERT INTO \`${t}\` VALUES (1, 'a@example.com', 'Ann'), (3, 'c@example.com', 'Cat')`)
      return t
    }
    const contents = async (t: string): Promise<Row[]> => {
      const rows: Row[] = []
      for await (const batch of db.query(
        `SELECT * FROM \`${t}\` ORDER BY id`,
        [],
        100,
        new AbortController().signal,
      ))
        rows.push(...batch)
      return rows
    }
    const upsert = async (
      table: string,
      rows: Row[],
      onRowError: 'fail' | 'skip' | 'route' = 'route',
      batchSize = 5000,
    ) => {
      const { summary, rows: got } = await runTest(
        {
          nodes: [
            { id: 'src', type: 'test.values', config: { rows } },
            {
              id: 'w',
              type: 'sql.write',
              config: { connection: MARIADB, table, mode: 'upsert', key: ['id'] },
              onRowError,
            },
            { id: 'out', type: 'test.collect' },
            ...(onRowError === 'route' ? [{ id: 'bad', type: 'test.collect' }] : []),
          ],
          edges: [
            { from: 'src', to: 'w' },
            { from: 'w', fromPort: 'results', to: 'out' },
            ...(onRowError === 'route' ? [{ from: 'w', fromPort: 'rejected', to: 'bad' }] : []),
          ],
          settings: { batchSize },
        },
        await tempDir(),
      )
      return { summary, results: got('out'), rejected: got('bad'), error: firstError(summary) }
    }
    const ann = { id: 1, email: 'a@example.com', name: 'Ann B' }
    const bob = { id: 2, email: 'b@example.com', name: 'Bob' }
    // A new id with Cat's email: ON DUPLICATE KEY UPDATE would have turned Cat into Dan.
    const dan = { id: 4, email: 'c@example.com', name: 'Dan' }

    it("updates by id, inserts new ids, and reports a row taking another row's email, naming the index", async () => {
      const t = await usersTable()
      for (let run = 1; run <= 2; run++) {
        const { summary, results, rejected } = await upsert(t, [ann, bob, dan])
        expect(summary.status, `run ${run}`).toBe('succeeded')
        expect(results.map((r) => [r.id, r._action])).toEqual([
          [1, 'upsert'],
          [2, 'upsert'],
        ])
        expect(rejected).toHaveLength(1)
        expect(rejected[0]).toMatchObject({ id: 4, _error: { code: 'SQL_CONSTRAINT' } })
        expect(String((rejected[0]!._error as { message: string }).message)).toMatch(
          /Duplicate entry 'c@example.com' for key 'email_uq'/,
        )
        expect(summary.nodes.w).toMatchObject({ rowsIn: 3, rowsOut: 2, rowsRejected: 1 })
        expect(await contents(t), `run ${run}`).toEqual([
          { id: 1, email: 'a@example.com', name: 'Ann B' },
          { id: 2, email: 'b@example.com', name: 'Bob' },
          { id: 3, email: 'c@example.com', name: 'Cat' },
        ])
      }
      // An existing row moved onto another row's email is refused the same way.
      const moved = await upsert(t, [{ id: 2, email: 'a@example.com', name: 'Bob' }], 'skip')
      expect(moved.summary.status).toBe('succeeded')
      expect(moved.summary.nodes.w).toMatchObject({ rowsOut: 0, rowsRejected: 1 })
      expect((await contents(t)).map((r) => r.email)).toEqual([
        'a@example.com',
        'b@example.com',
        'c@example.com',
      ])
    })

    it('with onRowError fail, a collision fails the run and keeps nothing of its batch', async () => {
      const t = await usersTable()
      const { summary, error } = await upsert(t, [ann, bob, dan], 'fail')
      expect(summary.status).toBe('failed')
      expect(summary.errors[0]?.code).toBe('SQL_CONSTRAINT')
      expect(error).toMatch(/email_uq/)
      expect(await contents(t)).toEqual([
        { id: 1, email: 'a@example.com', name: 'Ann' },
        { id: 3, email: 'c@example.com', name: 'Cat' },
      ])
    })

    it('swaps in a repeated key of one batch in order (the last row wins), across batches too', async () => {
      const t = await usersTable()
      const rows = [
        { id: 5, email: 'e1@example.com', name: 'first' },
        { id: 1, email: 'a2@example.com', name: 'Ann 2' },
        { id: 5, email: 'e2@example.com', name: 'second' },
        { id: 1, email: 'a@example.com', name: 'Ann 3' },
      ]
      for (const batchSize of [5000, 3]) {
        const { summary, results } = await upsert(t, rows, 'fail', batchSize)
        expect(summary.status).toBe('succeeded')
        expect(results).toHaveLength(4)
        expect(await contents(t)).toEqual([
          { id: 1, email: 'a@example.com', name: 'Ann 3' },
          { id: 3, email: 'c@example.com', name: 'Cat' },
          { id: 5, email: 'e2@example.com', name: 'second' },
        ])
      }
    })

    it('matches keys as the database compares them (case and trailing spaces under a _ci collation)', async () => {
      const t = await usersTable('VARCHAR(20)')
      const { summary } = await upsert(
        t,
        [
          { id: 'new', email: 'n@example.com', name: 'New' },
          { id: '1 ', email: 'a@example.com', name: 'one' },
          { id: '3', email: 'c@example.com', name: 'Cat 2' },
        ],
        'fail',
      )
      expect(summary.status).toBe('succeeded')
      expect(await contents(t)).toEqual([
        { id: '1', email: 'a@example.com', name: 'one' },
        { id: '3', email: 'c@example.com', name: 'Cat 2' },
        { id: 'new', email: 'n@example.com', name: 'New' },
      ])
      // 'NEW' and 'new ' are the same key to the table: both update row 'new', in order.
      const again = await upsert(
        t,
        [
          { id: 'NEW', email: 'n2@example.com', name: 'New 2' },
          { id: 'new ', email: 'n3@example.com', name: 'New 3' },
        ],
        'fail',
      )
      expect(again.summary.status).toBe('succeeded')
      expect((await contents(t)).filter((r) => r.id === 'new')).toEqual([
        { id: 'new', email: 'n3@example.com', name: 'New 3' },
      ])
    })

    it('keeps every type through the multi-row UPDATE … JOIN (a prefix unique index takes this path)', async () => {
      const t = uniqueTable('typedup')
      tables.push(t)
      await db.execute(
        `CREATE TABLE \`${t}\` (id INT PRIMARY KEY, name TEXT NOT NULL, score DOUBLE, active BOOLEAN, born DATE, seen DATETIME(3), data BLOB, tags TEXT, note TEXT, UNIQUE KEY name_uq (name(50))) CHARACTER SET utf8mb4`,
      )
      const second = { ...TYPED_ROW, id: 2, name: 'plain', score: 7, active: false, data: null, tags: null }
      const changed = { ...TYPED_ROW, name: `${String(TYPED_ROW.name)} 2`, score: 2.25, active: false }
      expect((await upsert(t, [second, { ...TYPED_ROW, score: 0 }], 'fail')).error).toBe(
        'no error (status succeeded)',
      )
      // Both rows exist now: the second write updates both through one UPDATE … JOIN.
      expect((await upsert(t, [changed, second], 'fail')).error).toBe('no error (status succeeded)')
      expect(await contents(t)).toEqual([
        {
          ...TYPED_ROW,
          name: changed.name,
          score: 2.25,
          active: false,
          seen: '2024-01-02 03:04:05.678',
          tags: '["a","b"]',
        },
        { ...second, seen: '2024-01-02 03:04:05.678' },
      ])
    })

    it('describes a prefix unique index as partial: no key, but still another unique index', async () => {
      const t = uniqueTable('prefix')
      tables.push(t)
      await db.execute(
        `CREATE TABLE \`${t}\` (id INT PRIMARY KEY, email VARCHAR(100), note TEXT, UNIQUE KEY note_uq (note(20), email))`,
      )
      expect((await db.describeTable(t))?.uniqueIndexes).toEqual([
        { name: 'PRIMARY', columns: ['id'] },
        { name: 'note_uq', columns: ['note', 'email'], partial: true },
      ])
      expect((await db.describeTable(t))?.uniqueKeys).toEqual([['id']])
    })
  })
})
