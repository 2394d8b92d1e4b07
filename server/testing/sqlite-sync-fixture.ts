import Database from 'better-sqlite3'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * A SQLite "directory" and two CSV feeds for tests that need real sync history without a directory
 * server: `csv.read` → `sql.sync` graphs that create, update, disable (flag) and delete rows.
 *
 * people: HR 1 Ann, 2 Bob, 3 Cid; IT 10 Dan, 11 Eve. hr.csv updates Ann's title, keeps Bob, creates Dee
 * and Fay, and Cid (gone) is flagged inactive (`disable`); it.csv updates Dan, creates Gus, and Eve is
 * deleted. Together: created 3, updated 2, disabled 1, deleted 1.
 */
export const SQLITE_SYNC_TOTALS = { created: 3, updated: 2, disabled: 1, deleted: 1 }

export function writeSqliteSyncFiles(filesDir: string, db = 'directory.db'): void {
  const sqlite = new Database(join(filesDir, db))
  try {
    sqlite.exec(
      'create table people (id integer primary key, name text, dept text, title text, active integer not null default 1)',
    )
    const insert = sqlite.prepare('insert into people (id, name, dept, title) values (?, ?, ?, ?)')
    for (const row of [
      [1, 'Ann', 'HR', 'Staff'],
      [2, 'Bob', 'HR', 'Staff'],
      [3, 'Cid', 'HR', 'Staff'],
      [10, 'Dan', 'IT', 'Support'],
      [11, 'Eve', 'IT', 'Support'],
    ])
      insert.run(...row)
  } finally {
    sqlite.close()
  }
  writeFileSync(
    join(filesDir, 'hr.csv'),
    'id,name,title\n1,Ann,Manager\n2,Bob,Staff\n4,Dee,Staff\n5,Fay,Analyst\n',
  )
  writeFileSync(join(filesDir, 'it.csv'), 'id,name,title\n10,Dan,Engineer\n12,Gus,Support\n')
}

/** A `csv.read` → `sql.sync` graph over one department of the people table. */
export function sqliteSyncGraph(
  name: string,
  feed: 'hr' | 'it',
  options: { db?: string; path?: string } = {},
): Record<string, unknown> {
  return {
    syncgraph: 1,
    name,
    nodes: [
      {
        id: 'feed',
        type: 'csv.read',
        config: { path: options.path ?? `${feed}.csv` },
        position: { x: 0, y: 0 },
      },
      {
        id: 'people',
        type: 'sql.sync',
        config: {
          connection: { driver: 'sqlite', path: options.db ?? 'directory.db' },
          table: 'people',
          key: ['id'],
          scope: { dept: feed === 'hr' ? 'HR' : 'IT' },
          deprovision: feed === 'hr' ? { action: 'flag', set: { active: 0 } } : { action: 'delete' },
        },
        position: { x: 280, y: 0 },
      },
    ],
    edges: [{ from: 'feed', to: 'people' }],
  }
}
