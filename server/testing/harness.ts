import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { createApp } from '../app.ts'
import { memoryLogger } from '../logger.ts'
import { createServer, type RunningServer } from '../main.ts'
import { createServices, type ServerOptions, type Services } from '../services.ts'
import { ADMIN_PASSWORD, testOptions } from './options.ts'

export { ADMIN_PASSWORD, TEST_COST, testOptions } from './options.ts'

const cleanups: (() => Promise<void>)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

export async function tempDir(prefix = 'syncgraph-server-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

export interface TestApp {
  services: Services
  app: ReturnType<typeof createApp>['app']
  dataDir: string
  /** Lines the server logged. */
  logLines: string[]
  /** A request with the admin's session cookie (and JSON body when given). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
  cookie: string
}

/** App on a fresh data folder, signed in as admin; requests go through app.request(), no network. */
export async function testApp(overrides: Partial<ServerOptions> = {}): Promise<TestApp> {
  const dataDir = await tempDir()
  const log = memoryLogger()
  const services = await createServices(testOptions(dataDir, { log, ...overrides }))
  cleanups.push(() => services.close())
  const { app } = createApp(services)
  const cookie = await login(app, 'admin', ADMIN_PASSWORD)
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  return { services, app, dataDir, logLines: log.lines, call, cookie }
}

/** Sign in and return the `cookie` header value. */
export async function login(
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  username: string,
  password: string,
): Promise<string> {
  const res = await app.request('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`)
  const setCookie = res.headers.get('set-cookie') ?? ''
  return setCookie.split(';')[0]!
}

/** A real server on a free port. */
export async function testServer(
  dataDir: string,
  overrides: Partial<ServerOptions> = {},
): Promise<RunningServer & { cookie: string }> {
  const server = await createServer({ ...testOptions(dataDir, overrides), port: 0 })
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await server.close()
  }
  cleanups.push(close)
  const cookie = await login(
    { request: (path, init) => fetch(server.url + path, init) },
    'admin',
    ADMIN_PASSWORD,
  )
  return { ...server, close, cookie }
}

/** A graph: a lazy generator of `count` rows into a sink. */
export function generatorGraph(
  count: number,
  extra: { batchSize?: number; delayMs?: number; sinkDelayMs?: number; logBytes?: number } = {},
) {
  return {
    syncgraph: 1,
    name: `generate ${count}`,
    settings: { batchSize: extra.batchSize ?? 5000, workers: 0 },
    nodes: [
      {
        id: 'src',
        type: 'test.generate',
        config: {
          count,
          ...(extra.delayMs === undefined ? {} : { delayMs: extra.delayMs }),
          ...(extra.logBytes === undefined ? {} : { logBytes: extra.logBytes }),
        },
      },
      {
        id: 'sink',
        type: 'test.discard',
        config: extra.sinkDelayMs === undefined ? {} : { delayMs: extra.sinkDelayMs },
      },
    ],
    edges: [{ from: 'src', to: 'sink' }],
  }
}

/** Poll a run until it leaves queued/running. */
export async function waitForRun(
  call: TestApp['call'],
  id: string,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const run = (await (await call('GET', `/api/runs/${id}`)).json()) as Record<string, unknown>
    if (run.status !== 'queued' && run.status !== 'running') return run
    if (Date.now() > until) throw new Error(`run ${id} still ${String(run.status)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
