import { rm } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { createFileResolver, runGraph } from '../engine/index.ts'
import { catalog } from '../nodes/index.ts'
import { runBaseline } from './baseline.ts'
import { benchGraph } from './graphs.ts'

/**
 * One benchmark case in its own process, so its peak RSS is its own. Prints one JSON line:
 * `{ case, seconds, cpuSeconds, rows, salarySum, maxRssMb }`.
 */
const { values } = parseArgs({
  options: {
    case: { type: 'string' },
    people: { type: 'string' },
    centers: { type: 'string' },
    database: { type: 'string' },
  },
})
const paths = { people: values.people!, costCenters: values.centers!, database: values.database! }
await rm(paths.database, { force: true })
await rm(`${paths.database}-wal`, { force: true })
await rm(`${paths.database}-shm`, { force: true })

const started = performance.now()
let status = 'succeeded'
let message: string | undefined
switch (values.case) {
  case 'baseline':
    await runBaseline(paths)
    break
  case 'syncgraph':
  case 'syncgraph-trivial':
  case 'syncgraph-1thread':
  case 'syncgraph-trivial-1thread': {
    const variant = values.case.includes('trivial') ? 'trivial' : 'jsonata'
    const workers = values.case.endsWith('1thread') ? 0 : 'auto'
    const summary = await runGraph(benchGraph(variant, paths, workers), {
      catalog,
      files: createFileResolver({ baseDir: process.cwd() }),
    })
    status = summary.status
    message = summary.errors[0]?.message
    break
  }
  default:
    throw new Error(`unknown case ${values.case}`)
}
const seconds = (performance.now() - started) / 1000
const usage = process.resourceUsage()
// CPU time of all threads (workers included) since the process started; less sensitive than wall
// time to other load on a shared machine.
const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6
const maxRssMb = usage.maxRSS / 1024

let rows = 0
let salarySum = 0
if (status === 'succeeded') {
  const db = new Database(paths.database, { readonly: true })
  const stats = db.prepare('SELECT COUNT(*) AS rows, TOTAL(salary) AS salarySum FROM people').get() as {
    rows: number
    salarySum: number
  }
  db.close()
  rows = stats.rows
  salarySum = stats.salarySum
}
process.stdout.write(
  `${JSON.stringify({ case: values.case, status, message, seconds, cpuSeconds, rows, salarySum, maxRssMb })}\n`,
)
