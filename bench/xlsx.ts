import { spawn } from 'node:child_process'
import { copyFile, mkdir, rm, stat } from 'node:fs/promises'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import ExcelJS from 'exceljs'
import { z } from 'zod'
import { createCatalog, createFileResolver, defineNode, rows, runGraph, type Row } from '../engine/index.ts'
import { definitions } from '../nodes/index.ts'

/**
 * `npm run bench:xlsx [-- --rows N]`: reading and writing an .xlsx sheet through excel.read /
 * excel.write next to exceljs's streaming reader and writer alone, in the same run. Each case runs in
 * its own process (so its peak RSS is its own) and prints one JSON line; the parent prints a table.
 */

const cases = ['write-exceljs', 'write-node', 'read-exceljs', 'read-node', 'replace-sheet-node'] as const
type Case = (typeof cases)[number]

const descriptions: Record<Case, string> = {
  'write-exceljs': 'exceljs WorkbookWriter alone: addRow(values).commit() per row, inline strings',
  'write-node': 'graph: generated rows → excel.write (new file, streamed)',
  'read-exceljs': 'exceljs WorkbookReader alone: every row, values to an object',
  'read-node': 'graph: excel.read → counting sink',
  'replace-sheet-node':
    'graph: generated rows → excel.write replacing the sheet of the 100k-row workbook (otherSheets: keep, in memory)',
}

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '100000' }, case: { type: 'string' } },
})
const count = Number(args.rows)
if (!Number.isInteger(count) || count < 1)
  throw new Error(`--rows takes a positive whole number, got ${args.rows}`)
const dataDir = fileURLToPath(new URL('./.data/', import.meta.url))
const source = join(dataDir, `people-${count}.xlsx`)
const COLUMNS = ['id', 'first', 'last', 'department', 'salary', 'hired', 'active'] as const

/** Row i of the data set: text, numbers, an ISO date as text, a boolean. */
function person(i: number): Row {
  return {
    id: i,
    first: `First${i % 997}`,
    last: `Last${i % 1009} Zoë`,
    department: `Dept ${i % 37}`,
    salary: 20_000 + ((i * 7919) % 60_000),
    hired: `20${String(10 + (i % 15)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`,
    active: i % 3 !== 0,
  }
}

/** A source node that generates the same rows the exceljs cases write, batch by batch. */
const generate = defineNode({
  type: 'bench.people',
  version: 1,
  title: 'Generated people',
  category: 'source',
  description: 'Generates `count` people rows for the xlsx benchmark, in batches of settings.batchSize.',
  inputs: {},
  outputs: { out: rows() },
  config: z.object({ count: z.number().int() }),
  async *run({ config, settings }) {
    for (let start = 0; start < config.count; start += settings.batchSize) {
      const end = Math.min(config.count, start + settings.batchSize)
      const batch: Row[] = []
      for (let i = start; i < end; i++) batch.push(person(i))
      yield { out: batch }
    }
  },
})

/** Counts rows and sums salaries, so every read case is checked against the same totals. */
const tally = { rows: 0, salary: 0 }
const sink = defineNode({
  type: 'bench.count',
  version: 1,
  title: 'Count',
  category: 'destination',
  description: 'Counts the rows it receives and sums their salary, for the xlsx benchmark.',
  inputs: { in: rows() },
  outputs: {},
  config: z.object({}),
  async *run({ inputs, countOut }) {
    for await (const batch of inputs.in!) {
      for (const row of batch) tally.salary += row.salary as number
      tally.rows += batch.length
      countOut(batch.length)
    }
  },
})

const catalog = createCatalog([...definitions, generate, sink])

async function runCase(name: Case, dir: string): Promise<{ rows: number; salary: number }> {
  const out = join(dir, `${name}.xlsx`)
  switch (name) {
    case 'write-exceljs': {
      const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
        filename: out,
        useSharedStrings: false,
        useStyles: false,
      })
      const sheet = workbook.addWorksheet('People')
      sheet.addRow([...COLUMNS]).commit()
      let salary = 0
      for (let i = 0; i < count; i++) {
        const row = person(i)
        salary += row.salary as number
        sheet.addRow(COLUMNS.map((c) => row[c]) as ExcelJS.CellValue[]).commit()
      }
      await sheet.commit()
      await workbook.commit()
      return { rows: count, salary }
    }
    case 'write-node':
    case 'replace-sheet-node': {
      if (name === 'replace-sheet-node') await copyFile(source, out)
      const summary = await runGraph(
        {
          syncgraph: 1,
          settings: { workers: 0 },
          nodes: [
            { id: 'people', type: 'bench.people', config: { count } },
            { id: 'xlsx', type: 'excel.write', config: { path: out, sheet: 'People' } },
          ],
          edges: [{ from: 'people', to: 'xlsx' }],
        },
        { catalog, files: createFileResolver({ baseDir: dir }) },
      )
      if (summary.status !== 'succeeded') throw new Error(summary.errors[0]?.message ?? summary.status)
      let salary = 0
      for (let i = 0; i < count; i++) salary += person(i).salary as number
      return { rows: summary.nodes.xlsx!.rowsOut, salary }
    }
    case 'read-exceljs': {
      const reader = new ExcelJS.stream.xlsx.WorkbookReader(source, {
        styles: 'cache',
        sharedStrings: 'cache',
      })
      let rowsRead = 0
      let salary = 0
      let names: string[] | undefined
      for await (const sheet of reader) {
        for await (const row of sheet) {
          const values = row.values as unknown[]
          if (names === undefined) {
            names = values.slice(1).map(String)
            continue
          }
          const object: Row = {}
          for (let c = 0; c < names.length; c++) object[names[c]!] = values[c + 1] ?? null
          salary += object.salary as number
          rowsRead++
        }
      }
      return { rows: rowsRead, salary }
    }
    case 'read-node': {
      const summary = await runGraph(
        {
          syncgraph: 1,
          settings: { workers: 0 },
          nodes: [
            { id: 'xlsx', type: 'excel.read', config: { path: source } },
            { id: 'count', type: 'bench.count' },
          ],
          edges: [{ from: 'xlsx', to: 'count' }],
        },
        { catalog, files: createFileResolver({ baseDir: dir }) },
      )
      if (summary.status !== 'succeeded') throw new Error(summary.errors[0]?.message ?? summary.status)
      return { ...tally }
    }
    default: {
      const never: never = name
      throw new Error(`unknown case ${String(never)}`)
    }
  }
}

if (args.case !== undefined) {
  // Child: one case, one JSON line.
  const name = args.case as Case
  const dir = join(dataDir, `xlsx-${process.pid}`)
  await mkdir(dir, { recursive: true })
  const started = performance.now()
  const result = await runCase(name, dir)
  const seconds = (performance.now() - started) / 1000
  const usage = process.resourceUsage()
  const written = join(dir, `${name}.xlsx`)
  const bytes = await stat(written).then(
    (s) => s.size,
    () => 0,
  )
  if (name === 'write-exceljs') await copyFile(written, source)
  await rm(dir, { recursive: true, force: true })
  process.stdout.write(
    `${JSON.stringify({
      case: name,
      seconds,
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
      rows: result.rows,
      salary: result.salary,
      maxRssMb: usage.maxRSS / 1024,
      fileMb: bytes / 2 ** 20,
    })}\n`,
  )
} else {
  await mkdir(dataDir, { recursive: true })
  console.log(
    `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, load average (1 min) ${loadavg()[0]!.toFixed(1)}`,
  )
  console.log(`${count.toLocaleString('en-US')} rows × ${COLUMNS.length} columns\n`)
  const results: Record<string, unknown>[] = []
  // write-exceljs first: it writes the workbook the read cases read.
  for (const name of cases) {
    const line = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', name, '--rows', String(count)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      )
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.on('exit', (code) =>
        code === 0 ? resolve(out.trim()) : reject(new Error(`${name} exited ${code}`)),
      )
    })
    results.push(JSON.parse(line) as Record<string, unknown>)
  }
  const base = (name: string) => results.find((r) => r.case === name)!
  const fmt = (n: number, digits = 0) =>
    n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  console.log(
    '| case | seconds | rows/s | CPU s | peak RSS MB | file MB | time vs exceljs | CPU vs exceljs |',
  )
  console.log('| :-- | --: | --: | --: | --: | --: | --: | --: |')
  for (const r of results) {
    const name = r.case as string
    const against = name.startsWith('read') ? base('read-exceljs') : base('write-exceljs')
    const ratio = (r.seconds as number) / (against.seconds as number)
    const cpuRatio = (r.cpuSeconds as number) / (against.cpuSeconds as number)
    console.log(
      `| \`${name}\` | ${fmt(r.seconds as number, 2)} | ${fmt((r.rows as number) / (r.seconds as number))} | ${fmt(r.cpuSeconds as number, 2)} | ${fmt(r.maxRssMb as number)} | ${name.startsWith('read') ? '—' : fmt(r.fileMb as number, 1)} | ${fmt(ratio, 2)} | ${fmt(cpuRatio, 2)} |`,
    )
  }
  console.log('')
  for (const name of cases) console.log(`- \`${name}\`: ${descriptions[name]}`)
  const totals = new Set(results.map((r) => `${String(r.rows)}/${String(r.salary)}`))
  console.log(
    totals.size === 1
      ? `\nEvery case handled ${fmt(results[0]!.rows as number)} rows with the same salary total.`
      : `\nMISMATCH: rows/salary totals differ: ${[...totals].join(', ')}`,
  )
  if (totals.size !== 1) process.exitCode = 1
}
