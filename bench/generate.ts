import { once } from 'node:events'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdir, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where generated data lives (gitignored); files are reused when present. */
export const dataDir = fileURLToPath(new URL('./.data/', import.meta.url))

export interface BenchData {
  people: string
  costCenters: string
  peopleRows: number
  costCenterRows: number
}

const firstNames =
  'Ada Alan Grace Edsger Barbara Ken Dennis Linus Margaret Donald Frances John Radia Tim Sophie Niklaus Hedy Guido Anita Bjarne Katherine James Shafi Leslie Mary Vint Adele Robert Karen Whitfield'.split(
    ' ',
  )
const lastNames =
  'Lovelace Turing Hopper Dijkstra Liskov Thompson Ritchie Torvalds Hamilton Knuth Allen McCarthy Perlman Berners-Lee Wilson Wirth Lamarr Rossum Borg Stroustrup Johnson Gosling Goldwasser Lamport Jackson Cerf Goldberg Kahn Jones Diffie'.split(
    ' ',
  )
const departments = 'Engineering Finance Sales Marketing Legal Support Research Operations HR IT'.split(' ')
const regions = 'EMEA NA LATAM APAC ANZ MEA'.split(' ')

/** mulberry32: a small deterministic PRNG, so every machine generates the same rows. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function costCenterId(n: number): string {
  return `CC${String(n).padStart(6, '0')}`
}

/**
 * People rows `id,first,last,department,cost_center,salary`: salary uniform in 20000–79999 (about
 * half at 50000 or more); cost centers drawn from 5% more ids than exist, so about 95% join.
 */
async function writePeople(path: string, rows: number, costCenters: number): Promise<void> {
  const random = prng(20260101)
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!
  await writeLines(path, 'id,first,last,department,cost_center,salary', rows, (i) => {
    const cc = costCenterId(1 + Math.floor(random() * Math.ceil(costCenters * 1.05)))
    const salary = 20000 + Math.floor(random() * 60000)
    return `${i + 1},${pick(firstNames)},${pick(lastNames)},${pick(departments)},${cc},${salary}`
  })
}

/** Cost center rows `cost_center,name,region`. */
async function writeCostCenters(path: string, rows: number): Promise<void> {
  const random = prng(7)
  await writeLines(path, 'cost_center,name,region', rows, (i) => {
    const region = regions[Math.floor(random() * regions.length)]!
    return `${costCenterId(i + 1)},Cost center ${i + 1},${region}`
  })
}

async function writeLines(
  path: string,
  header: string,
  rows: number,
  line: (i: number) => string,
): Promise<void> {
  const partial = `${path}.partial`
  const out = createWriteStream(partial)
  let chunk = `${header}\n`
  for (let i = 0; i < rows; i++) {
    chunk += `${line(i)}\n`
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain')
      chunk = ''
    }
  }
  out.end(chunk)
  await once(out, 'finish')
  await rename(partial, path)
}

/** Generate (or reuse) the people and cost-center files for `peopleRows` people (cost centers: a tenth). */
export async function ensureBenchData(peopleRows: number): Promise<BenchData> {
  await mkdir(dataDir, { recursive: true })
  const costCenterRows = Math.max(1, Math.round(peopleRows / 10))
  const people = join(dataDir, `people-${peopleRows}.csv`)
  const costCenters = join(dataDir, `cost-centers-${costCenterRows}.csv`)
  if (!existsSync(people)) await writePeople(people, peopleRows, costCenterRows)
  if (!existsSync(costCenters)) await writeCostCenters(costCenters, costCenterRows)
  return { people, costCenters, peopleRows, costCenterRows }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--rows')
  const rows = at === -1 ? 1_000_000 : Number(process.argv[at + 1])
  const data = await ensureBenchData(rows)
  console.log(`${data.people} (${data.peopleRows} rows)\n${data.costCenters} (${data.costCenterRows} rows)`)
}
