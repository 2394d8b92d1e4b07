import { mkdirSync, realpathSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type Database from 'better-sqlite3'
import { createConnectionResolver, createFileResolver, type Catalog } from '../engine/index.ts'
import { catalog as defaultCatalog } from '../nodes/index.ts'
import { ensureAdmin } from './auth/bootstrap.ts'
import { defaultPasswordCost, type PasswordCost } from './auth/passwords.ts'
import { LoginLimiter } from './auth/rate-limit.ts'
import { createSecretBox, loadSecretKey } from './connections/secret-box.ts'
import { ConnectionStore } from './connections/store.ts'
import { createConnectionTester, type ConnectionTester } from './connections/tester.ts'
import { openDatabase, type Db } from './db/client.ts'
import { GraphStore } from './graphs/store.ts'
import { consoleLogger, type Logger } from './logger.ts'
import { createRunEnvironment, type RunEnvironment } from './run-environment.ts'
import { RunManager } from './runs/manager.ts'
import { defaultHubOptions, RunHub, type HubOptions } from './ws/hub.ts'

export interface ServerOptions {
  dataDir: string
  /** Default: DATA_DIR/files. */
  filesDir?: string
  catalog?: Catalog
  /** Runs executing at once (SYNCGRAPH_MAX_RUNS). */
  maxRuns?: number
  /** The first admin's password (SYNCGRAPH_ADMIN_PASSWORD); generated and printed when unset. */
  adminPassword?: string
  /** SYNCGRAPH_SECRET_KEY; without it a key file in dataDir is used. */
  secretKey?: string
  passwordCost?: PasswordCost
  log?: Logger
  /** Where the generated admin password is printed (stdout). */
  print?: (line: string) => void
  /** Folder of the built editor (dist/editor); served when it exists. */
  editorDir?: string
  progressIntervalMs?: number
  persistIntervalMs?: number
  hub?: Partial<HubOptions>
  /** Worker threads of the shared pool (default: one per core). */
  workers?: number
  maxUploadBytes?: number
  previewTimeoutMs?: number
  /** Environment that inline `{ "$env": … }` connection values may read (default: process.env minus Syncgraph's own secrets). */
  env?: Record<string, string | undefined>
  testConnection?: ConnectionTester
}

/** Everything the routes use, built once per server. */
export interface Services {
  options: ServerOptions
  db: Db
  sqlite: Database.Database
  dataDir: string
  filesDir: string
  log: Logger
  env: RunEnvironment
  graphs: GraphStore
  connections: ConnectionStore
  testConnection: ConnectionTester
  runs: RunManager
  hub: RunHub
  limiter: LoginLimiter
  passwordCost: PasswordCost
  /** Runs found in flight at start and marked interrupted. */
  interrupted: number
  close(): Promise<void>
}

const PRIVATE_ENV = new Set(['SYNCGRAPH_SECRET_KEY', 'SYNCGRAPH_ADMIN_PASSWORD'])

export async function createServices(options: ServerOptions): Promise<Services> {
  const log = options.log ?? consoleLogger
  const dataDir = resolve(options.dataDir)
  mkdirSync(dataDir, { recursive: true })
  const filesDir = realpathSync(mkdirp(resolve(options.filesDir ?? join(dataDir, 'files'))))
  const { db, sqlite } = openDatabase(join(dataDir, 'syncgraph.db'))
  const box = createSecretBox(loadSecretKey({ dataDir, fromEnv: options.secretKey, warn: log.warn }))
  const connections = new ConnectionStore(db, box)
  const files = createFileResolver({ baseDir: filesDir, roots: [filesDir] })
  const processEnv =
    options.env ?? Object.fromEntries(Object.entries(process.env).filter(([k]) => !PRIVATE_ENV.has(k)))
  const env = createRunEnvironment({
    catalog: options.catalog ?? defaultCatalog,
    files,
    connections: createConnectionResolver({
      named: async (name) => connections.resolve(name),
      env: processEnv,
    }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  })
  const runs = new RunManager({
    db,
    env,
    log,
    maxRuns: options.maxRuns ?? 2,
    ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
    ...(options.persistIntervalMs === undefined ? {} : { persistIntervalMs: options.persistIntervalMs }),
  })
  const interrupted = runs.markInterrupted()
  if (interrupted > 0)
    log.warn(`${interrupted} run(s) were in flight when the server stopped; marked interrupted`)
  const hub = new RunHub(runs, { ...defaultHubOptions, ...options.hub })
  const passwordCost = options.passwordCost ?? defaultPasswordCost
  const generated = await ensureAdmin(db, options.adminPassword, passwordCost)
  if (generated !== undefined) {
    ;(options.print ?? ((line) => process.stdout.write(`${line}\n`)))(
      `Created user "admin" with password: ${generated}\nIt is shown only this once; change it after signing in.`,
    )
  }
  return {
    options,
    db,
    sqlite,
    dataDir,
    filesDir,
    log,
    env,
    graphs: new GraphStore(db),
    connections,
    testConnection: options.testConnection ?? createConnectionTester(files),
    runs,
    hub,
    limiter: new LoginLimiter(),
    passwordCost,
    interrupted,
    async close() {
      hub.close()
      await runs.close()
      await env.close()
      sqlite.close()
    },
  }
}

function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true })
  return path
}
