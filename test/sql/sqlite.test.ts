import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { openSqlite } from '../../nodes/sql/sqlite.ts'
import type { SqlConnector } from '../../nodes/sql/types.ts'
import { sqlSyncSuite } from './sync-suite.ts'

describe('sql.sync on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'syncgraph-sqlite-sync-'))
  const path = join(dir, 'sync.db')
  let db: SqlConnector | undefined
  beforeAll(() => {
    db = openSqlite(path, { write: true })
  })
  afterAll(async () => {
    await db?.close()
    rmSync(dir, { recursive: true, force: true })
  })
  sqlSyncSuite({
    connection: { driver: 'sqlite', path },
    db: () => {
      if (db === undefined) throw new Error('the SQLite database is not open')
      return db
    },
    dropped: [],
  })
})
