import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, hostname, totalmem, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  createCatalog,
  createFileResolver,
  defineNode,
  rows as rowsPort,
  runGraph,
  type Row,
} from '../engine/index.ts'
import { definitions } from '../nodes/index.ts'
import { openMysql } from '../nodes/sql/mysql.ts'
import { openPostgres } from '../nodes/sql/postgres.ts'
import { z } from 'zod'
import {
  describeServer,
  runDirFor,
  settingsFromUrl,
  sharedDatabase,
  STANDARD,
  stopDatabases,
  type DatabaseKind,
} from '../test/databases.ts'

/**
 * `npm run bench:sql [-- --rows N] [--cases a,b]`: N rows into SQLite, PostgreSQL and MariaDB through
 * `sql.write` (insert mode, default batch size), each against the database's own bulk loader on the
 * same rows in the same run (`sqlite3 .import`, `psql \copy`, `LOAD DATA LOCAL INFILE`). Every case
 * runs in its own process into a fresh table with a primary key, so peak RSS is per case.
 * The `mariadb-upsert…` cases time `mode: upsert` on key `id`: into the empty table (`new`, every row
 * inserted) or into the table already holding the rows (`again`, every row's name changed), on the
 * primary key alone (ON DUPLICATE KEY UPDATE) or with a second unique index on `email` (`unique`:
 * SELECT + UPDATE + INSERT by the key).
 */

// The servers of test/databases.ts: PG_URL / MYSQL_URL, else the standard services on loopback, else
// private ones the parent process starts in temp folders (and hands to every case through those vars).
const PG = process.env.PG_URL ? settingsFromUrl(process.env.PG_URL, 'postgres') : STANDARD.postgres
const MARIA = process.env.MYSQL_URL ? settingsFromUrl(process.env.MYSQL_URL, 'mariadb') : STANDARD.mariadb
if (PG.password !== undefined && PG.password !== '') process.env.PGPASSWORD = PG.password
const COLUMNS = ['id', 'uid', 'name', 'email', 'dept', 'salary', 'active', 'hired'] as const

function row(i: number, changed = false): Row {
  return {
    id: i + 1,
    uid: `u${i}`,
    name: `Person ${i} Lastname${changed ? ' (changed)' : ''}`,
    email: `person.${i}@example.com`,
    dept: `D${i % 97}`,
    salary: 30_000 + (i % 70_000) + 0.5,
    active: i % 3 !== 0,
    hired: `20${10 + (i % 15)}-0${1 + (i % 9)}-1${i % 10}`,
  }
}

const DDL: Record<string, (t: string) => string> = {
  sqlite: (t) =>
    `CREATE TABLE "${t}" (id INTEGER PRIMARY KEY, uid TEXT, name TEXT, email TEXT, dept TEXT, salary REAL, active INTEGER, hired TEXT)`,
  postgres: (t) =>
    `CREATE TABLE "${t}" (id BIGINT PRIMARY KEY, uid TEXT, name TEXT, email TEXT, dept TEXT, salary DOUBLE PRECISION, active BOOLEAN, hired DATE)`,
  mysql: (t) =>
    `CREATE TABLE \`${t}\` (id BIGINT PRIMARY KEY, uid VARCHAR(40), name VARCHAR(100), email VARCHAR(100), dept VARCHAR(10), salary DOUBLE, active BOOLEAN, hired DATE)`,
}

const cases = [
  'sqlite-sql.write',
  'sqlite-.import',
  'postgres-sql.write',
  'postgres-\\copy',
  'mariadb-sql.write',
  'mariadb-LOAD DATA',
  'mariadb-upsert new',
  'mariadb-upsert again',
  'mariadb-upsert unique new',
  'mariadb-upsert unique again',
] as const
type Case = (typeof cases)[number]

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    cases: { type: 'string' },
    child: { type: 'string' },
    dir: { type: 'string' },
  },
})
const N = Number(values.rows)

/** The bench's source: N generated rows in batches, no file parsing in the measurement. */
const generated = defineNode({
  type: 'bench.rows',
  version: 1,
  title: 'Generated rows',
  category: 'source',
  description: 'N generated rows.',
  inputs: {},
  outputs: { out: rowsPort() },
  config: z.object({ rows: z.number().int(), changed: z.boolean().default(false) }).strict(),
  async *run({ config, settings }) {
    for (let start = 0; start < config.rows; start += settings.batchSize) {
      const batch: Row[] = []
      for (let i = start; i < Math.min(config.rows, start + settings.batchSize); i++)
        batch.push(row(i, config.changed))
      yield { out: batch }
    }
  },
})

async function prepare(
  driver: 'sqlite' | 'postgres' | 'mysql',
  table: string,
  dir: string,
  unique = false,
): Promise<void> {
  if (driver === 'sqlite') {
    execFileSync('sqlite3', [join(dir, 'bench.db'), DDL.sqlite!(table)])
    return
  }
  const c = driver === 'postgres' ? openPostgres(PG) : openMysql(MARIA)
  try {
    const ddl = DDL[driver]!(table)
    await c.execute(unique ? ddl.replace(/\)$/, ', UNIQUE KEY email_uq (email))') : ddl)
  } finally {
    await c.close()
  }
}

async function drop(driver: 'postgres' | 'mysql', table: string): Promise<number> {
  const c = driver === 'postgres' ? openPostgres(PG) : openMysql(MARIA)
  try {
    let count = 0
    for await (const batch of c.query(
      `SELECT count(*) AS n FROM ${c.dialect.quoteIdent(table)}`,
      [],
      1,
      new AbortController().signal,
    ))
      count = Number(batch[0]!.n)
    await c.execute(`DROP TABLE ${c.dialect.quoteIdent(table)}`)
    return count
  } finally {
    await c.close()
  }
}

/** Run a loader under /usr/bin/time; its own peak RSS in KB (the client process, not the server's). */
function timed(command: string, args: string[]): number {
  const result = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M', command, ...args], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`)
  return Number(/MAXRSS (\d+)/.exec(result.stderr)?.[1] ?? NaN)
}

/** One case, in this (child) process; prints seconds as JSON. */
async function runChild(name: Case, dir: string): Promise<void> {
  const table = `bench_${process.pid}`
  const driver = name.startsWith('sqlite') ? 'sqlite' : name.startsWith('postgres') ? 'postgres' : 'mysql'
  const upsert = name.startsWith('mariadb-upsert')
  await prepare(driver, table, dir, name.includes(' unique'))
  const connection =
    driver === 'sqlite'
      ? { driver: 'sqlite', path: 'bench.db' }
      : driver === 'postgres'
        ? { driver: 'postgres', ...PG }
        : { driver: 'mysql', ...MARIA }
  const write = (config: Record<string, unknown>, changed = false) =>
    runGraph(
      {
        syncgraph: 1,
        name: 'bench',
        settings: { workers: 0 },
        nodes: [
          { id: 'src', type: 'bench.rows', config: { rows: N, changed } },
          { id: 'w', type: 'sql.write', config: { connection, table, ...config } },
        ],
        edges: [{ from: 'src', to: 'w' }],
      },
      { catalog: createCatalog([...definitions, generated]), files: createFileResolver({ baseDir: dir }) },
    )
  // `again`: the rows are in the table before the clock starts (inserted, not timed).
  if (upsert && name.endsWith(' again') && (await write({})).status !== 'succeeded') {
    throw new Error('could not fill the table before the upsert')
  }
  const csv = join(dir, 'rows.csv')
  const started = performance.now()
  let loaderRss: number | undefined
  let ok = true
  let message = ''
  if (name.endsWith('sql.write') || upsert) {
    const summary = await write(upsert ? { mode: 'upsert', key: ['id'] } : {}, upsert)
    ok = summary.status === 'succeeded'
    message = summary.errors[0]?.message ?? ''
  } else if (driver === 'sqlite') {
    loaderRss = timed('sqlite3', [join(dir, 'bench.db'), '.mode csv', `.import --skip 1 ${csv} ${table}`])
  } else if (driver === 'postgres') {
    loaderRss = timed('psql', [
      '-h',
      PG.host,
      '-p',
      String(PG.port),
      '-U',
      PG.user,
      '-d',
      PG.database,
      '-q',
      '-c',
      `\\copy "${table}" FROM '${csv}' WITH (FORMAT csv, HEADER)`,
    ])
  } else {
    loaderRss = timed('mysql', [
      '--local-infile=1',
      '-h',
      MARIA.host,
      '-P',
      String(MARIA.port),
      '-u',
      MARIA.user,
      ...(MARIA.password ? [`--password=${MARIA.password}`] : []),
      MARIA.database,
      '-e',
      `LOAD DATA LOCAL INFILE '${csv}' INTO TABLE \`${table}\` FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' IGNORE 1 LINES`,
    ])
  }
  const seconds = (performance.now() - started) / 1000
  let count = N
  if (driver === 'sqlite') {
    count = Number(
      execFileSync('sqlite3', [join(dir, 'bench.db'), `SELECT count(*) FROM "${table}"`])
        .toString()
        .trim(),
    )
    rmSync(join(dir, 'bench.db'), { force: true })
    rmSync(join(dir, 'bench.db-wal'), { force: true })
    rmSync(join(dir, 'bench.db-shm'), { force: true })
  } else {
    count = await drop(driver, table)
  }
  console.log(
    JSON.stringify({
      ok: ok && count === N,
      message: message || (count === N ? '' : `${count} rows loaded`),
      seconds,
      loaderRss,
    }),
  )
}

async function main(): Promise<void> {
  if (values.child !== undefined) return runChild(values.child as Case, values.dir!)
  const wanted = (values.cases?.split(',') ?? [...cases]) as Case[]
  const dir = mkdtempSync(join(tmpdir(), 'syncgraph-bench-sql-'))
  // Private servers (if any) live in this run folder: stopped at the end, or by its reaper on Ctrl-C.
  const databases = runDirFor()
  try {
    for (const kind of ['postgres', 'mariadb'] as const satisfies DatabaseKind[]) {
      if (!wanted.some((c) => c.startsWith(kind))) continue
      const choice = await sharedDatabase(databases, kind)
      if (choice.missing !== undefined) throw new Error(choice.missing)
      const { server } = choice
      const { user, password, host, port, database } = server.settings
      const auth = `${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}`
      process.env[kind === 'postgres' ? 'PG_URL' : 'MYSQL_URL'] =
        `${kind === 'postgres' ? 'postgres' : 'mysql'}://${auth}@${host}:${port}/${database}`
      console.error(describeServer(server))
    }
    // The loaders' input: the same rows as CSV (booleans as 1/0 so every loader takes them).
    const lines = [COLUMNS.join(',')]
    for (let i = 0; i < N; i++) {
      const r = row(i)
      lines.push(COLUMNS.map((c) => (c === 'active' ? (r[c] ? '1' : '0') : String(r[c]))).join(','))
    }
    writeFileSync(join(dir, 'rows.csv'), `${lines.join('\n')}\n`)
    const self = fileURLToPath(import.meta.url)
    const results: {
      case: Case
      seconds: number
      rowsPerSec: number
      maxRssMb: number
      ok: boolean
      message: string
    }[] = []
    for (const name of wanted) {
      // /usr/bin/time reports the peak RSS of the case's process tree leader and waited-for children.
      const child = spawnSync(
        '/usr/bin/time',
        [
          '-f',
          'MAXRSS %M',
          process.execPath,
          '--import',
          'tsx',
          self,
          '--rows',
          String(N),
          '--child',
          name,
          '--dir',
          dir,
        ],
        { encoding: 'utf8', maxBuffer: 1 << 26 },
      )
      const rss = /MAXRSS (\d+)/.exec(child.stderr)?.[1]
      const out = child.stdout.trim().split('\n').at(-1) ?? '{}'
      let parsed: { ok?: boolean; message?: string; seconds?: number; loaderRss?: number } = {}
      try {
        parsed = JSON.parse(out) as typeof parsed
      } catch {
        parsed = { ok: false, message: child.stderr.slice(-500) }
      }
      const seconds = parsed.seconds ?? NaN
      const result = {
        case: name,
        seconds: Math.round(seconds * 100) / 100,
        rowsPerSec: Math.round(N / seconds),
        // A loader case reports the loader's own peak (the node process around it only waits).
        maxRssMb: Math.round((parsed.loaderRss ?? (rss === undefined ? NaN : Number(rss))) / 1024),
        ok: parsed.ok === true,
        message: parsed.message ?? '',
      }
      results.push(result)
      console.error(
        `${name}: ${result.seconds}s, ${result.rowsPerSec} rows/s, ${result.maxRssMb} MB${result.ok ? '' : ` FAILED ${result.message}`}`,
      )
    }
    console.log(
      `\n${new Date().toISOString()} · ${hostname()} · ${cpus().length}× ${cpus()[0]?.model ?? '?'} · ${Math.round(totalmem() / 2 ** 30)} GB · Node ${process.version} · ${N} rows\n`,
    )
    console.log('| case | seconds | rows/s | peak RSS (MB) | ok |')
    console.log('|---|---:|---:|---:|---|')
    for (const r of results)
      console.log(
        `| ${r.case} | ${r.seconds} | ${r.rowsPerSec.toLocaleString('en-US')} | ${r.maxRssMb} | ${r.ok ? 'yes' : `no: ${r.message}`} |`,
      )
  } finally {
    await stopDatabases(databases)
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
