import { expect, it } from 'vitest'
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

  it('refuses an upsert when another unique index could take the ON DUPLICATE KEY, naming it', async () => {
    const db = open(MARIADB)
    const t = uniqueTable('dupkey')
    try {
      await db.execute(
        `CREATE TABLE \`${t}\` (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, name TEXT, CONSTRAINT email_uq UNIQUE (email))`,
      )
      await db.execute(`INSERT INTO \`${t}\` VALUES (1, 'a@example.com', 'Ann')`)
      const upsert = async (mode: string) => {
        const dir = await tempDir()
        const { summary } = await runTest(
          {
            nodes: [
              // A new id with Ann's email: ON DUPLICATE KEY UPDATE would rename Ann.
              {
                id: 'src',
                type: 'test.values',
                config: { rows: [{ id: 2, email: 'a@example.com', name: 'Bob' }] },
              },
              { id: 'w', type: 'sql.write', config: { connection: MARIADB, table: t, mode, key: ['id'] } },
            ],
            edges: [{ from: 'src', to: 'w' }],
          },
          dir,
        )
        return { status: summary.status, code: summary.errors[0]?.code, message: firstError(summary) }
      }
      const refused = await upsert('upsert')
      expect(refused.status).toBe('failed')
      expect(refused.code).toBe('SQL_UPSERT_AMBIGUOUS')
      expect(refused.message.replaceAll(t, '<table>')).toMatchInlineSnapshot(
        `"Node "w" (sql.write) mode: upsert on MySQL/MariaDB is INSERT … ON DUPLICATE KEY UPDATE, which fires on any unique index, not only the key (id); table "<table>" also has unique index "email_uq" (email), so a row with a new key but a taken email would overwrite that other row. Use mode "replace" or sql.sync (both match rows on the key only and report such a row as a constraint violation), or drop the other unique index."`,
      )
      // replace matches on the key only: the collision is a constraint error, Ann is untouched.
      const replaced = await upsert('replace')
      expect(replaced).toMatchObject({ status: 'failed', code: 'SQL_CONSTRAINT' })
      const rows: unknown[] = []
      for await (const batch of db.query(
        `SELECT * FROM \`${t}\` ORDER BY id`,
        [],
        10,
        new AbortController().signal,
      ))
        rows.push(...batch)
      expect(rows).toEqual([{ id: 1, email: 'a@example.com', name: 'Ann' }])
    } finally {
      await db.execute(`DROP TABLE IF EXISTS \`${t}\``)
      await db.close()
    }
  })
})
