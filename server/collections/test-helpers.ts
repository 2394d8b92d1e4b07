import { createApp } from '../app.ts'
import { createServices, type ServerOptions } from '../services.ts'
import { ADMIN_PASSWORD, generatorGraph, login, testOptions, type TestApp } from '../testing/harness.ts'

/** Graph documents for job tests: one that writes `count` rows, one that fails on its first row. */
export const okGraph = (name: string, count = 100) => ({ ...generatorGraph(count), name })

export const slowGraph = (name: string) => ({
  ...generatorGraph(1_000_000, { batchSize: 100, delayMs: 5 }),
  name,
})

export const failingGraph = (name: string) => ({
  syncgraph: 1,
  name,
  settings: { onRowError: 'fail', workers: 0 },
  nodes: [
    { id: 'src', type: 'test.values', config: { rows: [{ i: 0, bad: true }] } },
    { id: 'check', type: 'test.fail', config: {} },
    { id: 'sink', type: 'test.discard', config: {} },
  ],
  edges: [
    { from: 'src', to: 'check' },
    { from: 'check', to: 'sink' },
  ],
})

/** A graph whose generator's row count is the parameter `n`. */
export const paramGraph = (name: string) => ({
  ...generatorGraph(0),
  name,
  params: { n: { type: 'number', default: 5 } },
  nodes: [
    { id: 'src', type: 'test.generate', config: { count: { $param: 'n' } } },
    { id: 'sink', type: 'test.discard', config: {} },
  ],
})

export async function createGraph(call: TestApp['call'], graph: unknown): Promise<string> {
  const res = await call('POST', '/api/graphs', { graph })
  if (res.status !== 201) throw new Error(`create graph: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { id: string }).id
}

export async function json<T = Record<string, unknown>>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T
}

/** Poll a collection run until it has ended. */
export async function waitForCollectionRun(
  call: TestApp['call'],
  id: string,
  timeoutMs = 60_000,
): Promise<Record<string, unknown> & { status: string; steps: Record<string, unknown>[] }> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const run = await json<Record<string, unknown> & { status: string; steps: Record<string, unknown>[] }>(
      call('GET', `/api/collection-runs/${id}`),
    )
    if (run.status !== 'queued' && run.status !== 'running') return run
    if (Date.now() > until) throw new Error(`collection run ${id} still ${run.status}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Services and app on `dataDir`, signed in as admin; the caller closes them (to restart on the same data). */
export async function appOn(dataDir: string, overrides: Partial<ServerOptions> = {}) {
  const services = await createServices(testOptions(dataDir, overrides))
  const { app } = createApp(services)
  const cookie = await login(app, 'admin', ADMIN_PASSWORD)
  const call: TestApp['call'] = async (method, path, body) =>
    app.request(path, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  return { services, call }
}
