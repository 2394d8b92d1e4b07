import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { chown, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import pg from 'pg'

/**
 * The PostgreSQL and MariaDB servers the tests and benches use (issue 6 point 5). For each kind:
 * `PG_URL` / `MYSQL_URL` when set; else the standard service on 127.0.0.1 (5432 trust auth, 3306 root
 * with an empty password; database `test`) when it answers; else a private server started in a temp
 * folder on a free loopback port, created once per test run and shared by every test file. With
 * `SYNCGRAPH_PRIVATE_DATABASES=1` the standard ports are not probed: a private server is always used.
 *
 * Test files in parallel processes agree through a run folder (`runDirFor`, provided by vitest's
 * globalSetup): the first process to ask takes a lock, decides, and writes `<kind>.json`; the others
 * read it. Private servers run detached from that process and are stopped by `stopDatabases(dir)`
 * (the globalSetup's teardown) when the run ends, or by a reaper when the run's process dies first.
 */

const run = promisify(execFile)

export type DatabaseKind = 'postgres' | 'mariadb'

/** What a connector needs to reach a server: the fields of an inline `connection` (less `driver`). */
export interface DatabaseSettings {
  host: string
  port: number
  user: string
  password?: string
  database: string
}

/** Where the server of one kind is, and who runs it. */
export interface DatabaseServer {
  kind: DatabaseKind
  settings: DatabaseSettings
  source: 'env' | 'standard' | 'private'
  /** A private server's process (group leader) and folder. */
  pid?: number
  dir?: string
}

/** The decision recorded for a run: a server, or why there is none. */
export type DatabaseChoice = { server: DatabaseServer; missing?: undefined } | { missing: string }

const TITLE: Record<DatabaseKind, string> = { postgres: 'PostgreSQL', mariadb: 'MariaDB' }
const ENV: Record<DatabaseKind, string> = { postgres: 'PG_URL', mariadb: 'MYSQL_URL' }

/** The standard services on loopback. */
export const STANDARD: Record<DatabaseKind, DatabaseSettings> = {
  postgres: { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' },
  mariadb: { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' },
}

const PG_BIN = [
  '/usr/lib/postgresql/17/bin',
  '/usr/lib/postgresql/16/bin',
  '/usr/lib/postgresql/15/bin',
].find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')))
const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd'].find((p) => existsSync(p))
const MARIADB_INSTALL_DB = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find((p) =>
  existsSync(p),
)

/** `postgres://user:pass@host:port/db` or `mysql://…` as connection fields. */
export function settingsFromUrl(url: string, kind: DatabaseKind): DatabaseSettings {
  const parsed = new URL(url)
  const password = decodeURIComponent(parsed.password)
  return {
    host: parsed.hostname,
    port: Number(parsed.port || (kind === 'postgres' ? 5432 : 3306)),
    user: decodeURIComponent(parsed.username) || (kind === 'postgres' ? 'postgres' : 'root'),
    ...(password === '' && kind === 'postgres' ? {} : { password }),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'test',
  }
}

/** Why a private server of this kind cannot be started here, or undefined when it can. */
export function privateMissing(kind: DatabaseKind): string | undefined {
  if (kind === 'postgres') {
    return PG_BIN === undefined
      ? 'PostgreSQL is not installed (initdb and postgres under /usr/lib/postgresql/<version>/bin; apt-get install postgresql)'
      : undefined
  }
  if (MARIADBD === undefined || MARIADB_INSTALL_DB === undefined)
    return 'MariaDB is not installed (mariadbd and mariadb-install-db; apt-get install mariadb-server)'
  return undefined
}

/** Why the server cannot be reached (after one short attempt), or undefined when it answers a query. */
export async function probe(kind: DatabaseKind, settings: DatabaseSettings): Promise<string | undefined> {
  try {
    await query(kind, settings, 'SELECT 1')
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message || error.constructor.name : String(error)
  }
}

async function query(kind: DatabaseKind, settings: DatabaseSettings, sql: string): Promise<unknown[]> {
  if (kind === 'postgres') {
    const client = new pg.Client({ ...settings, connectionTimeoutMillis: 5000 })
    // A server that goes away mid-probe must not crash the process.
    client.on('error', () => undefined)
    try {
      await client.connect()
      return (await client.query(sql)).rows
    } finally {
      await client.end().catch(() => undefined)
    }
  }
  const connection = await mysql.createConnection({ ...settings, connectTimeout: 5000 })
  try {
    const [rows] = await connection.query(sql)
    return rows as unknown[]
  } finally {
    await connection.end().catch(() => connection.destroy())
  }
}

/** Whether the process runs (a zombie, exited but not yet reaped, does not). */
export function alive(pid: number): boolean {
  try {
    // A zombie (exited, not yet reaped by its parent) counts as gone.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^\d+ \(.*\) [ZX]/s.test(stat)
  } catch {
    if (existsSync('/proc/self/stat')) return false
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** PostgreSQL refuses to run as root: the unprivileged account to run it as, when we are root. */
function postgresAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n')
  for (const name of ['postgres', 'nobody']) {
    const entry = passwd.find((line) => line.startsWith(`${name}:`))?.split(':')
    if (entry !== undefined) return { uid: Number(entry[2]), gid: Number(entry[3]) }
  }
  throw new Error('running as root, and neither a postgres nor a nobody account exists to run PostgreSQL as')
}

/** Start a detached server writing its output to `log`; the caller stops it with `stopServer`. */
function launch(
  command: string,
  args: string[],
  log: string,
  account?: { uid: number; gid: number },
): number {
  const fd = openSync(log, 'a')
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      ...(account === undefined ? {} : account),
    })
    child.unref()
    if (child.pid === undefined) throw new Error(`could not start ${command}`)
    // The exit is reaped by Node; nothing here waits on it.
    child.on('error', () => undefined)
    return child.pid
  } finally {
    closeSync(fd)
  }
}

async function tail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text.trim().split('\n').slice(-8).join('\n')
}

/** Wait until `ready()` succeeds, failing early when the process exits. */
async function waitReady(
  name: string,
  pid: number,
  log: string,
  ready: () => Promise<unknown>,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    if (!alive(pid)) throw new Error(`${name} exited while starting:\n${await tail(log)}`)
    try {
      await ready()
      return
    } catch (error) {
      last = error
    }
    await sleep(200)
  }
  throw new Error(
    `${name} did not answer within ${timeoutMs / 1000}s (${last instanceof Error ? last.message : String(last)}):\n${await tail(log)}`,
  )
}

/** Record the server's folder, then its process, as soon as each exists, so neither is ever lost. */
export interface PrivateOptions {
  record?(server: { dir: string; pid?: number }): Promise<void>
}

/** Start a private server of this kind in a new temp folder on a free loopback port. */
export async function startPrivate(
  kind: DatabaseKind,
  options: PrivateOptions = {},
): Promise<DatabaseServer> {
  const missing = privateMissing(kind)
  if (missing !== undefined) throw new Error(missing)
  const dir = await mkdtemp(join(tmpdir(), `syncgraph-${kind}-`))
  let pid: number | undefined
  try {
    await options.record?.({ dir })
    const port = await freePort()
    const log = join(dir, 'server.log')
    if (kind === 'postgres') {
      const account = postgresAccount()
      if (account !== undefined) await chown(dir, account.uid, account.gid)
      const data = join(dir, 'data')
      await run(
        join(PG_BIN!, 'initdb'),
        ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'],
        {
          ...(account ?? {}),
          cwd: dir,
          env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
        },
      ).catch((error: { stderr?: string; message: string }) => {
        throw new Error(`initdb failed: ${error.stderr || error.message}`)
      })
      // -F: no fsync (a throw-away server); the socket goes in the temp folder, not /var/run.
      pid = launch(
        join(PG_BIN!, 'postgres'),
        ['-D', data, '-p', String(port), '-k', dir, '-F', '-c', 'listen_addresses=127.0.0.1'],
        log,
        account,
      )
      await options.record?.({ pid, dir })
      const admin = { ...STANDARD.postgres, port, database: 'postgres' }
      await waitReady('postgres', pid, log, () => query('postgres', admin, 'SELECT 1'))
      await query('postgres', admin, 'CREATE DATABASE test')
      return { kind, settings: { ...STANDARD.postgres, port }, source: 'private', pid, dir }
    }
    const data = join(dir, 'data')
    const asRoot = process.getuid?.() === 0 ? ['--user=root'] : []
    await run(
      MARIADB_INSTALL_DB!,
      [
        '--no-defaults',
        `--datadir=${data}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...asRoot,
      ],
      { cwd: dir },
    ).catch((error: { stderr?: string; stdout?: string; message: string }) => {
      throw new Error(`mariadb-install-db failed: ${error.stderr || error.stdout || error.message}`)
    })
    pid = launch(
      MARIADBD!,
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--socket=${join(dir, 'mysqld.sock')}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--pid-file=${join(dir, 'mysqld.pid')}`,
        '--innodb-buffer-pool-size=64M',
        '--skip-log-bin',
        ...asRoot,
      ],
      log,
    )
    await options.record?.({ pid, dir })
    const settings = { ...STANDARD.mariadb, port }
    const admin = { ...settings, database: 'mysql' }
    await waitReady('mariadbd', pid, log, () => query('mariadb', admin, 'SELECT 1'))
    await query('mariadb', admin, 'CREATE DATABASE IF NOT EXISTS test CHARACTER SET utf8mb4')
    return { kind, settings, source: 'private', pid, dir }
  } catch (error) {
    if (pid !== undefined) await stopProcess(kind, pid)
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** PostgreSQL: SIGINT is the fast shutdown (SIGTERM would wait for clients to leave). */
function stopSignal(kind: DatabaseKind): 'INT' | 'TERM' {
  return kind === 'postgres' ? 'INT' : 'TERM'
}

async function stopProcess(kind: DatabaseKind, pid: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      // The server was started detached: its group holds it and its children (PostgreSQL backends).
      process.kill(-pid, sig)
    } catch {
      // Already gone.
    }
  }
  signal(`SIG${stopSignal(kind)}`)
  const deadline = Date.now() + 20_000
  while (alive(pid) && Date.now() < deadline) await sleep(100)
  if (alive(pid)) {
    signal('SIGKILL')
    while (alive(pid) && Date.now() < deadline + 5000) await sleep(100)
  }
}

/** Stop a private server and remove its folder; a server started by someone else is left alone. */
export async function stopServer(server: DatabaseServer): Promise<void> {
  if (server.source !== 'private') return
  if (server.pid !== undefined) await stopProcess(server.kind, server.pid)
  if (server.dir !== undefined) await rm(server.dir, { recursive: true, force: true })
}

/** Whether the standard ports are skipped (`SYNCGRAPH_PRIVATE_DATABASES=1`). */
export const privateForced = process.env.SYNCGRAPH_PRIVATE_DATABASES === '1'

/** Decide for one kind, starting a private server if needed (the caller records and later stops it). */
export async function chooseDatabase(
  kind: DatabaseKind,
  options: { forcePrivate?: boolean } & PrivateOptions = {},
): Promise<DatabaseChoice> {
  const url = process.env[ENV[kind]]
  if (url !== undefined && url !== '')
    return { server: { kind, settings: settingsFromUrl(url, kind), source: 'env' } }
  let why = `${ENV[kind]} is not set`
  if (!(options.forcePrivate ?? privateForced)) {
    const down = await probe(kind, STANDARD[kind])
    if (down === undefined) return { server: { kind, settings: STANDARD[kind], source: 'standard' } }
    why = `the ${TITLE[kind]} on 127.0.0.1:${STANDARD[kind].port} is not reachable (${down})`
  }
  const missing = privateMissing(kind)
  if (missing !== undefined) return { missing: `${why}, and ${missing}` }
  try {
    return { server: await startPrivate(kind, options) }
  } catch (error) {
    return {
      missing: `${why}, and a private ${TITLE[kind]} did not start: ${error instanceof Error ? error.message : String(error)}`,
    }
  }
}

/** Take `<dir>/<name>.lock` (a folder: mkdir is atomic), breaking it when its holder died. */
async function withLock<T>(dir: string, name: string, body: () => Promise<T>): Promise<T> {
  const lock = join(dir, `${name}.lock`)
  const deadline = Date.now() + 180_000
  for (;;) {
    try {
      await mkdir(lock)
      await writeFile(join(lock, 'pid'), String(process.pid))
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => 'NaN'))
      if (Number.isInteger(holder) && !alive(holder)) await rm(lock, { recursive: true, force: true })
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`)
      else await sleep(100)
    }
  }
  try {
    return await body()
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}

/**
 * The server of this kind for everyone sharing the run folder `dir`: the first caller decides (and
 * starts a private server if needed), the others get the same answer.
 */
export async function sharedDatabase(
  dir: string,
  kind: DatabaseKind,
  options: { forcePrivate?: boolean } = {},
): Promise<DatabaseChoice> {
  const file = join(dir, `${kind}.json`)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  return withLock(dir, kind, async () => {
    const recorded = await readFile(file, 'utf8').catch(() => undefined)
    if (recorded !== undefined) return JSON.parse(recorded) as DatabaseChoice
    let stopFile: string | undefined
    const choice = await chooseDatabase(kind, {
      ...options,
      // Recorded as soon as they exist: a run killed while its server starts leaves nothing behind.
      record: async ({ pid, dir: serverDir }) => {
        stopFile = join(dir, `${kind}.${basename(serverDir)}.stop`)
        await writeFile(stopFile, `${pid ?? 0} ${stopSignal(kind)} ${serverDir}\n`)
        await reapWhenOwnerDies(dir)
      },
    })
    // A server that failed to start was stopped and removed already.
    if (choice.missing !== undefined && stopFile !== undefined) await rm(stopFile, { force: true })
    await writeFile(file, JSON.stringify(choice))
    return choice
  })
}

/**
 * The path of a new run folder for `sharedDatabase`, owned by this process or `owner` (see
 * `reapWhenOwnerDies`). Nothing is created until a test asks for a server.
 */
export function runDirFor(owner = process.pid): string {
  return join(tmpdir(), `syncgraph-databases-${owner}-${randomBytes(6).toString('hex')}`)
}

// Waits (detached) for the run folder's owner to exit; if the folder is still there then (the run was
// killed before its teardown), stops the servers listed in `<kind>.stop` and removes everything.
// (dash's kill takes no `--`: `kill -SIG -PGID` signals the process group.)
const REAPER = `
dir=$1; owner=$2
while [ -d "$dir" ] && kill -0 "$owner" 2>/dev/null; do sleep 1; done
[ -d "$dir" ] || exit 0
for f in "$dir"/*.stop; do
  [ -f "$f" ] || continue
  read -r pid sig data < "$f"
  if [ "$pid" -gt 0 ]; then
    kill -"$sig" -"$pid" 2>/dev/null
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 20 ]; do sleep 1; i=$((i+1)); done
    kill -KILL -"$pid" 2>/dev/null
  fi
  rm -rf "$data"
done
rm -rf "$dir"
`

/** Start the reaper of a run folder: private servers outlive no run, however it ends. */
async function reapWhenOwnerDies(dir: string): Promise<void> {
  if (existsSync(join(dir, 'reaper'))) return
  const owner = /syncgraph-databases-(\d+)-/.exec(dir)?.[1] ?? String(process.pid)
  const reaper = spawn('/bin/sh', ['-c', REAPER, 'syncgraph-databases-reaper', dir, owner], {
    detached: true,
    stdio: 'ignore',
  })
  reaper.unref()
  await writeFile(join(dir, 'reaper'), String(reaper.pid ?? ''))
}

/** Stop every private server recorded in the run folder (`<kind>.<folder>.stop`), then remove it. */
export async function stopDatabases(dir: string): Promise<void> {
  const files = await readdir(dir).catch(() => [] as string[])
  for (const file of files.filter((f) => f.endsWith('.stop'))) {
    const kind = file.split('.')[0] as DatabaseKind
    const [pid, , serverDir] = (await readFile(join(dir, file), 'utf8')).trim().split(' ')
    await stopServer({
      kind,
      settings: STANDARD[kind],
      source: 'private',
      ...(Number(pid) > 0 ? { pid: Number(pid) } : {}),
      dir: serverDir,
    })
  }
  await rm(dir, { recursive: true, force: true })
}

/** A short description for suite names and logs, e.g. `MariaDB on 127.0.0.1:40123 (private)`. */
export function describeServer(server: DatabaseServer): string {
  const where = { env: ENV[server.kind], standard: 'standard service', private: 'private, temp folder' }
  return `${TITLE[server.kind]} on ${server.settings.host}:${server.settings.port} (${where[server.source]})`
}
