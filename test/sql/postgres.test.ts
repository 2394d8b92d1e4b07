import { expect, it } from 'vitest'
import { tempDir } from '../helpers.ts'
import { runTest } from '../../nodes/test-kit.ts'
import { describeWithDatabase, open, testDatabase, uniqueTable } from './services.ts'
import { liveSqlSuite, TYPED_ROW } from './suite.ts'

const { connection: POSTGRES, settings, where, missing } = await testDatabase('postgres')

describeWithDatabase(`PostgreSQL drivers against the ${where}`, missing, () => {
  liveSqlSuite({
    connection: POSTGRES,
    typedTable: (t) =>
      `CREATE TABLE "${t}" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score DOUBLE PRECISION, active BOOLEAN, born DATE, seen TIMESTAMP(3), data BYTEA, tags JSONB, note TEXT)`,
    typedExpected: { ...TYPED_ROW, tags: ['a', 'b'] },
    peopleTable: (t) =>
      `CREATE TABLE "${t}" (id BIGINT PRIMARY KEY, name TEXT NOT NULL, dept TEXT, active BOOLEAN)`,
    activeTrue: true,
    one: 3,
  })

  it('closes its pool on success and on failure', async () => {
    const db = open(POSTGRES)
    const t = uniqueTable('pool')
    // A connection URL's application_name wins over the pool's: count only this test's sessions.
    const connection = {
      driver: 'postgres',
      url: `postgres://${encodeURIComponent(settings.user)}${settings.password === undefined ? '' : `:${encodeURIComponent(settings.password)}`}@${settings.host}:${settings.port}/${settings.database}?application_name=${t}`,
    }
    try {
      await db.execute(`CREATE TABLE "${t}" (id INTEGER PRIMARY KEY)`)
      const count = async () => {
        let n = -1
        for await (const batch of db.query(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
          [t],
          10,
          new AbortController().signal,
        )) {
          n = Number(batch[0]!.n)
        }
        return n
      }
      // A backend leaves pg_stat_activity a moment after its client closed: wait (bounded) for that.
      const sessions = async () => {
        let n = await count()
        for (let tries = 0; n > 0 && tries < 100; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 100))
          n = await count()
        }
        return n
      }
      const outcomes: string[] = []
      for (const rows of [[{ id: 1 }], [{ id: 1 }]]) {
        const { summary } = await runTest(
          {
            nodes: [
              { id: 'src', type: 'test.values', config: { rows } },
              { id: 'w', type: 'sql.write', config: { connection, table: t } },
            ],
            edges: [{ from: 'src', to: 'w' }],
          },
          await tempDir(),
        )
        outcomes.push(`${summary.status} ${await sessions()}`)
      }
      // The second run fails on the duplicate key; both leave no session open.
      expect(outcomes).toEqual(['succeeded 0', 'failed 0'])
    } finally {
      await db.execute(`DROP TABLE IF EXISTS "${t}"`)
      await db.close()
    }
  })
})
