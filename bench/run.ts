import { spawn } from 'node:child_process'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { dataDir, ensureBenchData } from './generate.ts'

/**
 * `npm run bench [-- --rows N] [--cases a,b]`: the same work done by a Syncgraph graph and by a
 * hand-written single-threaded script, each case in its own process (so peak RSS is per case).
 */
interface CaseResult {
  case: string
  status: string
  message?: string
  seconds: number
  cpuSeconds: number
  rows: number
  salarySum: number
  maxRssMb: number
}

const allCases = [
  'baseline',
  'syncgraph',
  'syncgraph-1thread',
  'syncgraph-trivial',
  'syncgraph-trivial-1thread',
] as const
const descriptions: Record<string, string> = {
  baseline: 'hand-written Node script (csv-parse, Map join, better-sqlite3)',
  syncgraph: 'graph, JSONata expressions, worker pool (auto)',
  'syncgraph-trivial': 'graph, trivial expressions, worker pool (auto)',
  'syncgraph-1thread': 'graph, JSONata expressions, workers: 0 (all on the main thread)',
  'syncgraph-trivial-1thread': 'graph, trivial expressions, workers: 0 (the engine and nodes alone)',
}

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    cases: { type: 'string', default: allCases.join(',') },
  },
})
const rows = Number(values.rows)
if (!Number.isInteger(rows) || rows < 1)
  throw new Error(`--rows takes a positive whole number, got ${values.rows}`)
const cases = values.cases.split(',').filter((c) => c !== '')
for (const c of cases)
  if (!(allCases as readonly string[]).includes(c))
    throw new Error(`unknown case ${c}; cases: ${allCases.join(', ')}`)

const data = await ensureBenchData(rows)
console.log(
  `Node ${process.version}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, load average (1 min) ${loadavg()[0]!.toFixed(1)}`,
)
console.log(
  `Data: ${data.peopleRows.toLocaleString('en-US')} people, ${data.costCenterRows.toLocaleString('en-US')} cost centers\n`,
)

const results: CaseResult[] = []
for (const name of cases) {
  process.stdout.write(`running ${name}… `)
  const result = await runCase(name)
  results.push(result)
  console.log(
    `${result.seconds.toFixed(2)} s${result.status === 'succeeded' ? '' : ` (${result.status}: ${result.message})`}`,
  )
}

console.log(`load average (1 min) at the end: ${loadavg()[0]!.toFixed(1)}`)

const baseline = results.find((r) => r.case === 'baseline')
const header = [
  'case',
  'seconds',
  'input rows/s',
  'rows written',
  'peak RSS MB',
  'ratio vs baseline',
  'CPU s',
  'CPU ratio',
]
const table = results.map((r) =>
  r.status !== 'succeeded'
    ? [r.case, r.status, '–', '–', '–', '–', '–', '–']
    : [
        r.case,
        r.seconds.toFixed(2),
        Math.round(rows / r.seconds).toLocaleString('en-US'),
        r.rows.toLocaleString('en-US'),
        r.maxRssMb.toFixed(0),
        baseline === undefined ? '–' : (r.seconds / baseline.seconds).toFixed(2),
        r.cpuSeconds.toFixed(2),
        baseline === undefined ? '–' : (r.cpuSeconds / baseline.cpuSeconds).toFixed(2),
      ],
)
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)))
const line = (cells: string[]) =>
  `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
console.log(
  `\n${line(header)}\n|${widths.map((w, i) => (i === 0 ? ':' : '-').padEnd(w + 1, '-') + (i === 0 ? '-' : ':')).join('|')}|`,
)
for (const row of table) console.log(line(row))
console.log()
for (const r of results) console.log(`${r.case}: ${descriptions[r.case]}`)

const written = new Set(
  results.filter((r) => r.status === 'succeeded').map((r) => `${r.rows}/${r.salarySum}`),
)
const failed = results.filter((r) => r.status !== 'succeeded')
if (written.size > 1 || failed.length > 0) {
  console.error(
    `\nOUTPUTS DISAGREE: ${results.map((r) => `${r.case} ${r.status} ${r.rows} rows, salary total ${r.salarySum}`).join('; ')}`,
  )
  process.exitCode = 1
} else {
  console.log(
    `\nAll outputs agree: ${results[0]?.rows.toLocaleString('en-US')} rows in SQLite, same salary total.`,
  )
}

function runCase(name: string): Promise<CaseResult> {
  const script = fileURLToPath(new URL('./case.ts', import.meta.url))
  const args = [
    '--import',
    'tsx',
    script,
    '--case',
    name,
    '--people',
    data.people,
    '--centers',
    data.costCenters,
    '--database',
    join(dataDir, `out-${name}.db`),
  ]
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? ''
      try {
        resolve(JSON.parse(last) as CaseResult)
      } catch {
        reject(new Error(`case ${name} exited with ${code} and printed: ${out}`))
      }
    })
  })
}
