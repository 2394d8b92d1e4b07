import { expect, it } from 'vitest'
import { describeWithDatabase, open, testDatabase, uniqueTable, type Connection } from './services.ts'

/**
 * A query a source runs (sql.read, a sync's read of its target) cannot change the database: otherwise
 * `DELETE … RETURNING` in a sql.read writes where a role's policy allows reading only (issue 8 point 6).
 */
async function drain(iterable: AsyncIterable<unknown[]>): Promise<number> {
  let n = 0
  for await (const batch of iterable) n += batch.length
  return n
}

for (const kind of ['postgres', 'mariadb'] as const) {
  const { connection, where, missing } = await testDatabase(kind)
  const q = (name: string) => (kind === 'postgres' ? `"${name}"` : `\`${name}\``)

  describeWithDatabase(`read queries are read-only on the ${where}`, missing, () => {
    it('a query that writes fails and changes nothing; a plain read still works', async () => {
      const db = open(connection as Connection)
      const t = uniqueTable('ro')
      const signal = new AbortController().signal
      try {
        await db.execute(`CREATE TABLE ${q(t)} (id INTEGER PRIMARY KEY)`)
        await db.execute(`INSERT INTO ${q(t)} (id) VALUES (1), (2)`)
        const writes =
          kind === 'postgres'
            ? [
                `DELETE FROM ${q(t)} RETURNING id`,
                `WITH d AS (DELETE FROM ${q(t)} RETURNING id) SELECT id FROM d`,
              ]
            : [`DELETE FROM ${q(t)} RETURNING id`]
        for (const sql of writes) await expect(drain(db.query(sql, [], 10, signal)), sql).rejects.toThrow()
        expect(await drain(db.query(`SELECT id FROM ${q(t)}`, [], 10, signal))).toBe(2)
      } finally {
        await db.execute(`DROP TABLE IF EXISTS ${q(t)}`).catch(() => undefined)
        await db.close()
      }
    })
  })
}
