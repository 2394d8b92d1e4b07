import Database from 'better-sqlite3'
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { migrate } from 'drizzle-orm/better-sqlite3/migrator'
import { join } from 'node:path'
import { packageRoot } from '../../engine/index.ts'
import * as schema from './schema.ts'

export type Db = BetterSQLite3Database<typeof schema>

/** Open (or create) the server's SQLite database in WAL mode and apply the committed migrations. */
export function openDatabase(file: string): { db: Db; sqlite: Database.Database } {
  const sqlite = new Database(file)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  const db = drizzle(sqlite, { schema })
  migrate(db, { migrationsFolder: join(packageRoot, 'server', 'db', 'migrations') })
  return { db, sqlite }
}
