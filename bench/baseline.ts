import { createReadStream } from 'node:fs'
import Database from 'better-sqlite3'
import { parse } from 'csv-parse'

/**
 * The benchmark's work written by hand, single-threaded, the way one would without Syncgraph:
 * csv-parse, a plain filter and map, a Map for the join, better-sqlite3 inserts in 10,000-row
 * transactions. Returns the rows written.
 */
export async function runBaseline(paths: {
  people: string
  costCenters: string
  database: string
}): Promise<number> {
  const centers = new Map<string, { name: string; region: string }>()
  for await (const record of createReadStream(paths.costCenters).pipe(parse({ columns: true }))) {
    const r = record as Record<string, string>
    centers.set(r.cost_center!, { name: r.name!, region: r.region! })
  }

  const db = new Database(paths.database)
  db.pragma('journal_mode = WAL')
  db.exec(
    'CREATE TABLE people (uid TEXT, mail TEXT, dept TEXT, cost_center TEXT, salary INTEGER, name TEXT, region TEXT)',
  )
  const insert = db.prepare(
    'INSERT INTO people (uid, mail, dept, cost_center, salary, name, region) VALUES (?, ?, ?, ?, ?, ?, ?)',
  )
  type Out = [string, string, string, string, number, string, string]
  const writeMany = db.transaction((rows: Out[]) => {
    for (const row of rows) insert.run(row)
  })

  let pending: Out[] = []
  let written = 0
  for await (const record of createReadStream(paths.people).pipe(parse({ columns: true }))) {
    const r = record as Record<string, string>
    const salary = Number(r.salary)
    if (!(salary >= 50000)) continue
    const center = centers.get(r.cost_center!)
    if (center === undefined) continue
    const first = r.first!.toLowerCase()
    const last = r.last!.toLowerCase()
    pending.push([
      `${first}.${last}.${r.id}`,
      `${first}.${last}@example.com`,
      r.department!,
      r.cost_center!,
      salary,
      center.name,
      center.region,
    ])
    if (pending.length >= 10_000) {
      writeMany(pending)
      written += pending.length
      pending = []
    }
  }
  writeMany(pending)
  written += pending.length
  db.close()
  return written
}
