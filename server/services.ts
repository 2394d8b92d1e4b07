import { mkdirSync, realpathSync } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import type Database from 'better-sqlite3'
import {
  createConnectionResolver,
  createFileResolver,
  createFileStateStore,
  type Catalog,
} from '../engine/index.ts'
import type { SyncDriver } from '../engine/sync/index.ts'
import { catalog as defaultCatalog, syncDrivers } from '../nodes/index.ts'
import { ApprovalService } from './approvals/service.ts'
import { ensureAdmin } from './auth/bootstrap.ts'
import { CollectionRunner } from './collections/runner.ts'
import { CollectionStore } from './collections/store.ts'
import { defaultPasswordCost, type PasswordCost } from './auth/passwords.ts'
import { LoginLimiter } from './auth/rate-limit.ts'
import { createSecretBox, loadSecretKey } from './connections/secret-box.ts'
import { ConnectionStore } from './connections/store.ts'
import { createConnectionTester, type ConnectionTester } from './connections/tester.ts'
import { openDatabase, type Db } from './db/client.ts'
import { GraphStore } from './graphs/store.ts'
import { HistoryRecorder } from './history/recorder.ts'
import { HistoryStore } from './history/store.ts'
import { ApiError } from './http/errors.ts'
import { consoleLogger, type Logger } from './logger.ts'
import { Notifier } from './notifications/notifier.ts'
import { parseWebhookAllowList } from './notifications/webhook.ts'
import { NotificationStore } from './notifications/store.ts'
import { PolicyService } from './policies/service.ts'
import { createRunEnvironment, type RunEnvironment } from './run-environment.ts'
import { RunManager } from './runs/manager.ts'
import { systemClock, type Clock } from './schedules/clock.ts'
import { createJobLauncher, type JobLauncher } from './schedules/jobs.ts'
import { Scheduler } from './schedules/scheduler.ts'
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
  /** Environment that inline `{ "$env": … }` connection values may read (default: `graphEnv` of process.env). */
  env?: Record<string, string | undefined>
  /** Which variables of process.env graphs may read (`SYNCGRAPH_GRAPH_ENV`: names, or prefixes ending in `*`); default none. */
  graphEnv?: readonly string[]
  testConnection?: ConnectionTester
  /** Plan/apply drivers of the sync node types (default: every one Syncgraph ships). */
  syncDrivers?: readonly SyncDriver[]
  /** The scheduler's clock (tests drive a manual one). */
  clock?: Clock
  /** Timeout of one notification delivery (ms). */
  notifyTimeoutMs?: number
  /**
   * Loopback/private ranges (CIDR) and host names webhooks may reach anyway (`SYNCGRAPH_WEBHOOK_ALLOW`);
   * by default they are refused, so a webhook URL cannot probe the server's own network.
   */
  webhookAllow?: readonly string[]
  /** Days the per-object change history is kept (default 90); older entries are purged at start and daily. */
  historyRetentionDays?: number
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
  collections: CollectionStore
  collectionRuns: CollectionRunner
  jobs: JobLauncher
  scheduler: Scheduler
  notifications: NotificationStore
  notifier: Notifier
  approvals: ApprovalService
  policies: PolicyService
  history: HistoryStore
  historyRecorder: HistoryRecorder
  clock: Clock
  limiter: LoginLimiter
  passwordCost: PasswordCost
  /** Runs found in flight at start and marked interrupted. */
  interrupted: number
  close(): Promise<void>
}

const PRIVATE_ENV = new Set(['SYNCGRAPH_SECRET_KEY', 'SYNCGRAPH_ADMIN_PASSWORD'])

/**
 * The environment `{ "$env": … }` values in graphs may read on the server: only the variables the
 * operator names (`SYNCGRAPH_GRAPH_ENV`: names, or prefixes ending in `*`), never Syncgraph's own
 * secrets. Anyone who may run a graph could otherwise send any variable of the server's environment
 * to a host of their choosing inside an inline connection.
 */
export function graphEnvironment(
  env: Record<string, string | undefined>,
  allowed: readonly string[],
): Record<string, string | undefined> {
  const patterns = allowed.map((a) => a.trim()).filter((a) => a !== '')
  const offered = (name: string) =>
    patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p))
  return Object.fromEntries(Object.entries(env).filter(([k]) => !PRIVATE_ENV.has(k) && offered(k)))
}

export async function createServices(options: ServerOptions): Promise<Services> {
  const log = options.log ?? consoleLogger
  const dataDir = resolve(options.dataDir)
  mkdirSync(dataDir, { recursive: true })
  const filesDir = realpathSync(mkdirp(resolve(options.filesDir ?? join(dataDir, 'files'))))
  // Every user reads the files folder and graphs write it: it must not hold the users, sessions and secret key.
  const realDataDir = realpathSync(dataDir)
  if (realDataDir === filesDir || realDataDir.startsWith(filesDir.endsWith(sep) ? filesDir : filesDir + sep))
    throw new Error(
      `FILES_DIR (${filesDir}) must not be DATA_DIR or hold it: DATA_DIR keeps the user database and the secret key`,
    )
  const { db, sqlite } = openDatabase(join(dataDir, 'syncgraph.db'))
  const box = createSecretBox(loadSecretKey({ dataDir, fromEnv: options.secretKey, warn: log.warn }))
  const connections = new ConnectionStore(db, box)
  const files = createFileResolver({ baseDir: filesDir, roots: [filesDir] })
  const processEnv = options.env ?? graphEnvironment(process.env, options.graphEnv ?? [])
  const env = createRunEnvironment({
    catalog: options.catalog ?? defaultCatalog,
    files,
    connections: createConnectionResolver({
      named: async (name) => connections.resolve(name),
      env: processEnv,
      ...(options.env === undefined
        ? {
            envNote:
              '(the server lets graphs read only the variables SYNCGRAPH_GRAPH_ENV names; or store the secret in a connection)',
          }
        : {}),
    }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  })
  const graphs = new GraphStore(db)
  const clock = options.clock ?? systemClock
  const history = new HistoryStore(db)
  const recorder = new HistoryRecorder({
    db,
    store: history,
    catalog: env.catalog,
    clock,
    log,
    retentionDays: options.historyRetentionDays ?? 90,
  })
  const policies = new PolicyService({
    db,
    catalog: env.catalog,
    graphs,
    resolveConnection: (name) => connections.resolve(name),
  })
  const runs = new RunManager({
    db,
    // Every run start path (API, apply, collections, schedules, approvals) goes through submit: one chokepoint.
    authorize: (run) => policies.enforce(run),
    env,
    log,
    maxRuns: options.maxRuns ?? 2,
    drivers: options.syncDrivers ?? syncDrivers,
    onResults: recorder.onResults,
    // One JSON file per stored graph, replaced atomically after each successful run.
    stateFor: (graphId) => createFileStateStore(join(dataDir, 'state', `${graphId}.json`)),
    currentGraph: (id) => {
      try {
        return graphs.get(id).graph
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return undefined
        throw error
      }
    },
    ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
    ...(options.persistIntervalMs === undefined ? {} : { persistIntervalMs: options.persistIntervalMs }),
  })
  const interrupted = runs.markInterrupted()
  if (interrupted > 0)
    log.warn(`${interrupted} run(s) were in flight when the server stopped; marked interrupted`)
  const hub = new RunHub(runs, { ...defaultHubOptions, ...options.hub })
  const collections = new CollectionStore(db, graphs)
  const collectionRuns = new CollectionRunner({ db, store: collections, graphs, runs, log })
  const interruptedCollections = collectionRuns.markInterrupted()
  if (interruptedCollections > 0)
    log.warn(
      `${interruptedCollections} collection run(s) were in flight when the server stopped; marked interrupted`,
    )
  const approvals = new ApprovalService({
    db,
    clock,
    log,
    catalog: env.catalog,
    drivers: options.syncDrivers ?? syncDrivers,
    graphs,
    collections,
    collectionRuns,
    runs,
    policies,
  })
  const jobs = createJobLauncher({ db, graphs, runs, collections, collectionRuns, approvals })
  const scheduler = new Scheduler({ db, clock, launcher: jobs, log })
  const notifications = new NotificationStore(db, box)
  const notifier = new Notifier({
    store: notifications,
    runs,
    collectionRuns,
    catalog: env.catalog,
    log,
    ...(options.notifyTimeoutMs === undefined ? {} : { timeoutMs: options.notifyTimeoutMs }),
    webhookAllow: parseWebhookAllowList(options.webhookAllow),
  })
  const passwordCost = options.passwordCost ?? defaultPasswordCost
  const generated = await ensureAdmin(db, options.adminPassword, passwordCost)
  if (generated !== undefined) {
    ;(options.print ?? ((line) => process.stdout.write(`${line}\n`)))(
      `Created user "admin" with password: ${generated}\nIt is shown only this once; change it after signing in.`,
    )
  }
  recorder.start(runs)
  approvals.start()
  scheduler.start()
  return {
    options,
    db,
    sqlite,
    dataDir,
    filesDir,
    log,
    env,
    graphs,
    connections,
    testConnection: options.testConnection ?? createConnectionTester(files),
    runs,
    hub,
    collections,
    collectionRuns,
    jobs,
    scheduler,
    notifications,
    notifier,
    approvals,
    policies,
    history,
    historyRecorder: recorder,
    clock,
    limiter: new LoginLimiter(),
    passwordCost,
    interrupted,
    async close() {
      scheduler.stop()
      approvals.stop()
      await collectionRuns.close()
      hub.close()
      await runs.close()
      recorder.stop()
      await notifier.close()
      await env.close()
      sqlite.close()
    },
  }
}

function mkdirp(path: string): string {
  mkdirSync(path, { recursive: true })
  return path
}
