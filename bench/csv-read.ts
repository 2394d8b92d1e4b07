import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { mkdir, open, rename } from 'node:fs/promises'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parse } from 'csv-parse'
import { fileChunks, readCsv } from '../nodes/csv/reader.ts'
import { rowBuilder } from '../nodes/row-builder.ts'
import { dataDir, ensureBenchData } from './generate.ts'

/**
 * `npm run bench:csv [-- --rows N --rounds R]`: csv.read's reader (`nodes/csv/reader.ts`) next to
 * csv-parse configured as csv.read used it (arrays turned into rows by `rowBuilder`) and csv-parse
 * giving objects, on the HR people file (no quotes) and on a variant whose name field is quoted and
 * holds the delimiter. Each case runs in its own process (peak RSS is its own), rounds interleave
 * the cases so a change in machine load hits them alike; the table shows medians.
 */

const cases = ['csv-parse-objects', 'csv-parse-arrays', 'reader'] as const
type Case = (typeof cases)[number]
const files = ['plain', 'quoted'] as const
type File = (typeof files)[number]

const descriptions: Record<Case, string> = {
  'csv-parse-objects': 'csv-parse with `columns: true` (objects)',
  'csv-parse-arrays': 'csv-parse arrays + rowBuilder (csv.read before)',
  reader: 'nodes/csv/reader.ts readCsv (csv.read now)',
}

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
    case: { type: 'string' },
    file: { type: 'string' },
  },
})
const count = Number(args.rows)

/** The people file with `"last, first"` as one quoted field holding the delimiter and a doubled quote. */
async function quotedVariant(people: string): Promise<string> {
  const path = join(dataDir, `people-quoted-${count}.csv`)
  if (existsSync(path)) return path
  await mkdir(dataDir, { recursive: true })
  const out = createWriteStream(`${path}.partial`)
  let rest = ''
  let first = true
  for await (const chunk of createReadStream(people, { encoding: 'utf8' })) {
    const lines = (rest + (chunk as string)).split('\n')
    rest = lines.pop()!
    const text = lines
      .map((line) => {
        if (first) {
          first = false
          return 'id,name,department,cost_center,salary'
        }
        const [id, fn, ln, dept, cc, salary] = line.split(',')
        return `${id},"${ln}, ${fn} ""${fn!.slice(0, 2)}""",${dept},${cc},${salary}`
      })
      .join('\n')
    if (!out.write(`${text}\n`)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  await rename(`${path}.partial`, path)
  return path
}

async function runCase(name: Case, path: string): Promise<number> {
  let rows = 0
  const handle = await open(path, 'r')
  try {
    if (name === 'reader') {
      const batches = readCsv(fileChunks(handle), {
        dialect: { delimiter: ',', quote: '"', relaxQuotes: false },
        encoding: 'utf8',
        header: true,
        batchSize: 5000,
      })
      for await (const batch of batches) rows += batch.rows.length
      return rows
    }
    const objects = name === 'csv-parse-objects'
    const parser = parse({
      delimiter: ',',
      quote: '"',
      escape: '"',
      encoding: 'utf8',
      bom: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      ...(objects ? { columns: true } : {}),
    })
    handle.createReadStream({ autoClose: false, highWaterMark: 256 * 1024 }).pipe(parser)
    let build: ((values: readonly unknown[]) => unknown) | undefined
    for await (const record of parser) {
      if (objects) rows++
      else if (build === undefined) build = rowBuilder(record as string[])
      else if (build(record as string[]) !== undefined) rows++
    }
    return rows
  } finally {
    await handle.close()
  }
}

if (args.case !== undefined) {
  const started = performance.now()
  const cpu = process.cpuUsage()
  const rows = await runCase(args.case as Case, args.file!)
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpu)
  console.log(
    JSON.stringify({
      rows,
      seconds,
      // CPU time of the reading alone (start-up left out), all threads: steadier than wall time on a shared machine.
      cpuSeconds: (used.user + used.system) / 1e6,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  )
} else {
  const data = await ensureBenchData(count)
  const paths: Record<File, string> = { plain: data.people, quoted: await quotedVariant(data.people) }
  const rounds = Number(args.rounds)
  const results = new Map<string, { rows: number; seconds: number; cpuSeconds: number; maxRssMb: number }[]>()
  const load = loadavg()[0]!
  for (let round = 0; round < rounds; round++) {
    for (const file of files) {
      for (const name of cases) {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', fileURLToPath(import.meta.url), '--case', name, '--file', paths[file]],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        )
        let out = ''
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
        const [code] = (await once(child, 'exit')) as [number]
        if (code !== 0) throw new Error(`${name} on ${file} exited with ${code}`)
        const key = `${file}\u0000${name}`
        results.set(key, [...(results.get(key) ?? []), JSON.parse(out.trim().split('\n').at(-1)!)])
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  console.log(
    `${new Date().toISOString()}, ${cpus().length} cores / ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${load.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end, ${count.toLocaleString('en-US')} rows, ${rounds} interleaved rounds (medians)\n`,
  )
  console.log('| file | case | rows | seconds | rows/s | CPU s | peak RSS MB |')
  console.log('| :--- | :--- | ---: | ---: | ---: | ---: | ---: |')
  for (const file of files) {
    for (const name of cases) {
      const runs = results.get(`${file}\u0000${name}`)!
      const seconds = median(runs.map((r) => r.seconds))
      const rows = runs[0]!.rows
      if (runs.some((r) => r.rows !== rows)) throw new Error(`${name} on ${file}: row counts differ`)
      console.log(
        `| ${file} | ${descriptions[name]} | ${rows.toLocaleString('en-US')} | ${seconds.toFixed(2)} | ${Math.round(rows / seconds).toLocaleString('en-US')} | ${median(runs.map((r) => r.cpuSeconds)).toFixed(2)} | ${Math.round(median(runs.map((r) => r.maxRssMb)))} |`,
      )
    }
  }
}
