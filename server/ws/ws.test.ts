import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createServices } from '../services.ts'
import {
  generatorGraph,
  login,
  tempDir,
  testOptions,
  testServer,
  ADMIN_PASSWORD,
} from '../testing/harness.ts'
import { openSocket } from '../testing/ws-client.ts'

async function startRun(server: { url: string; cookie: string }, graph: unknown): Promise<string> {
  const res = await fetch(`${server.url}/api/runs`, {
    method: 'POST',
    headers: { cookie: server.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ graph }),
  })
  if (res.status !== 202) throw new Error(`${res.status} ${await res.text()}`)
  return ((await res.json()) as { id: string }).id
}

describe('WebSocket /api/ws', () => {
  it('answers 401 without a session and 403 from another origin', async () => {
    const server = await testServer(await tempDir())
    const url = `${server.url.replace('http', 'ws')}/api/ws`
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers })
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
        ws.on('open', () => resolve(101))
        ws.on('error', () => undefined)
      })
    expect(await status({})).toBe(401)
    expect(await status({ cookie: 'sg_session=forged' })).toBe(401)
    expect(await status({ cookie: server.cookie, origin: 'https://evil.example' })).toBe(403)
    expect(await status({ cookie: server.cookie })).toBe(101)
  })

  it('sends a snapshot, then coalesced progress at least 4 times a second, then finished', async () => {
    const server = await testServer(await tempDir(), { progressIntervalMs: 200 })
    // ~2 s of moving rows: 400 batches of 500 with 5 ms between them.
    const id = await startRun(server, generatorGraph(200_000, { batchSize: 500, delayMs: 5 }))
    const socket = await openSocket(server.url, server.cookie)
    socket.send({ type: 'subscribe', runId: id })
    const snapshot = await socket.next('snapshot')
    expect(snapshot.run).toMatchObject({ id, status: expect.stringMatching(/queued|running/) })
    const finished = await socket.next('finished', undefined, 60_000)
    expect(finished).toMatchObject({
      runId: id,
      status: 'succeeded',
      summary: { status: 'succeeded', nodes: { sink: { rowsIn: 200_000 } } },
    })
    const progress = socket.messages.filter((m) => m.type === 'progress')
    expect(socket.messages[0]!.type).toBe('snapshot')
    expect(socket.messages.at(-1)!.type).toBe('finished')
    // Never one per row or per batch: 400 batches, a handful of messages a second.
    expect(progress.length).toBeLessThan(100)
    const span = (progress.at(-1)!.receivedAt - progress[0]!.receivedAt) / 1000
    expect(span).toBeGreaterThan(1)
    expect(progress.length / span).toBeGreaterThanOrEqual(4)
    // Counters only move forward.
    const counts = progress.map((m) => (m.type === 'progress' ? (m.snapshot.nodes.src?.rowsOut ?? 0) : 0))
    expect(counts).toEqual([...counts].sort((a, b) => a - b))
    socket.ws.close()
  })

  it('keeps answering requests and sending progress while a run never waits on I/O', async () => {
    const server = await testServer(await tempDir(), { progressIntervalMs: 100 })
    // A generator and a filter on this thread: nothing in the run waits on I/O or a timer.
    // 3M rows: long enough on an idle machine to see the counters move several times.
    const base = generatorGraph(3_000_000, { batchSize: 1000 })
    const graph = {
      ...base,
      nodes: [...base.nodes, { id: 'keep', type: 'filter', config: { expression: 'group < 5' } }],
      edges: [
        { from: 'src', to: 'keep' },
        { from: 'keep', to: 'sink' },
      ],
    }
    const socket = await openSocket(server.url, server.cookie)
    const id = await startRun(server, graph)
    socket.send({ type: 'subscribe', runId: id })
    await socket.next('snapshot')
    const answered: { ms: number; status: string }[] = []
    for (;;) {
      const t0 = performance.now()
      const res = await fetch(`${server.url}/api/runs/${id}`, { headers: { cookie: server.cookie } })
      const { status } = (await res.json()) as { status: string }
      answered.push({ ms: performance.now() - t0, status })
      if (status !== 'queued' && status !== 'running') break
    }
    const finished = await socket.next('finished')
    expect(finished).toMatchObject({
      status: 'succeeded',
      summary: { nodes: { sink: { rowsIn: 2_142_858 } } },
    })
    // A held event loop answers nothing until the run ends (0 mid-run); how many get in depends on
    // the machine's load, so the bar is low.
    const midRun = answered.filter((a) => a.status === 'running')
    expect(midRun.length).toBeGreaterThanOrEqual(2)
    const progress = socket.messages.filter((m) => m.type === 'progress')
    const finishedAt = socket.messages.find((m) => m.type === 'finished')!.receivedAt
    const span = (finishedAt - socket.messages[0]!.receivedAt) / 1000
    expect(progress.length / span, `${progress.length} in ${span} s`).toBeGreaterThanOrEqual(4)
    const moving = progress.map((m) => (m.type === 'progress' ? (m.snapshot.nodes.sink?.rowsIn ?? 0) : 0))
    expect(new Set(moving).size).toBeGreaterThan(3)
    socket.ws.close()
  })

  it('sends log lines, answers a finished run with snapshot + finished, and unknown runs with an error', async () => {
    const server = await testServer(await tempDir())
    const failing = {
      syncgraph: 1,
      settings: { onRowError: 'skip', workers: 0, batchSize: 100 },
      nodes: [
        { id: 'src', type: 'test.generate', config: { count: 300, delayMs: 300 } },
        { id: 'check', type: 'filter', config: { expression: '$number(name) > 0' } },
        { id: 'sink', type: 'test.discard', config: {} },
      ],
      edges: [
        { from: 'src', to: 'check' },
        { from: 'check', to: 'sink' },
      ],
    }
    const socket = await openSocket(server.url, server.cookie)
    const id = await startRun(server, failing)
    socket.send({ type: 'subscribe', runId: id })
    const log = await socket.next('log', (m) => m.runId === id)
    expect(log).toMatchObject({ level: 'warn', nodeId: 'check', message: expect.stringContaining('skipped') })
    await socket.next('finished', (m) => m.runId === id)

    const again = await openSocket(server.url, server.cookie)
    again.send({ type: 'subscribe', runId: id })
    expect(await again.next('snapshot')).toMatchObject({ run: { id, status: 'succeeded' } })
    expect(await again.next('finished')).toMatchObject({
      runId: id,
      status: 'succeeded',
      summary: { nodes: { check: { rowsRejected: 300 } } },
    })
    again.send({ type: 'subscribe', runId: 'nope' })
    expect(await again.next('error')).toEqual(
      expect.objectContaining({ runId: 'nope', message: 'no run with id "nope"' }),
    )
    again.send({ type: 'dance' })
    expect(await again.next('error', (m) => m.runId === undefined)).toMatchObject({
      message: expect.stringContaining('unknown message'),
    })
    socket.ws.close()
    again.ws.close()
  })

  it('a client that stops reading during a 1M-row run neither slows the run nor grows server memory', async () => {
    const soft = 256 * 1024
    const server = await testServer(await tempDir(), {
      progressIntervalMs: 50,
      hub: { softBufferBytes: soft, maxBufferBytes: 4 * 1024 * 1024, maxStallMs: 500 },
    })
    const call = (path: string, init: RequestInit = {}) =>
      fetch(server.url + path, { ...init, headers: { cookie: server.cookie, ...init.headers } })
    // 1M rows in 2,000 batches, each logging a 64 KB line: 128 MB that a watcher who stops reading
    // would be owed, far more than the kernel's socket buffers (a few MB) absorb, so the hub's own
    // limits are what keeps it bounded.
    // A 1 ms pause per batch makes the run last seconds on any machine, so the watcher is surely
    // subscribed (and paused) while most of it is still to come.
    const graph = generatorGraph(1_000_000, { batchSize: 500, logBytes: 64 * 1024, delayMs: 1 })
    const memory = () => {
      let peak = process.memoryUsage().rss
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
      return () => (clearInterval(timer), peak)
    }
    const finish = async (id: string) => {
      for (;;) {
        const run = (await (await call(`/api/runs/${id}`)).json()) as {
          status: string
          durationMs: number
          nodes: Record<string, { rowsIn: number; rowsOut: number }>
        }
        if (run.status !== 'queued' && run.status !== 'running') return run
        await new Promise((r) => setTimeout(r, 50))
      }
    }

    const baselinePeak = memory()
    const baseline = await finish(await startRun(server, graph))
    const basePeak = baselinePeak()
    expect(baseline.status).toBe('succeeded')

    const stalled = await openSocket(server.url, server.cookie)
    const stalledPeak = memory()
    const id = await startRun(server, graph)
    stalled.send({ type: 'subscribe', runId: id })
    await stalled.next('snapshot')
    stalled.ws.pause()
    const run = await finish(id)
    const peak = stalledPeak()
    expect(run).toMatchObject({
      status: 'succeeded',
      nodes: { src: { rowsOut: 1_000_000 }, sink: { rowsIn: 1_000_000 } },
    })
    // The client really backed up (the hub saw its buffer pass the soft limit and held it back)…
    const stats = server.services.hub.stats
    expect(stats.maxBufferedBytes).toBeGreaterThan(soft)
    expect(stats.heldBack).toBeGreaterThan(0)
    expect(stats.droppedLogs).toBeGreaterThan(0)
    // …yet its unsent bytes stayed near the soft limit (one 64 KB line past it at most), the run kept
    // its pace, and the process did not grow by anything like the 128 MB it was owed.
    expect(stats.maxBufferedBytes).toBeLessThan(soft + 2 * 70 * 1024)
    expect(run.durationMs, `baseline ${baseline.durationMs} ms`).toBeLessThan(baseline.durationMs * 1.5 + 500)
    expect((peak - basePeak) / 1024 / 1024).toBeLessThan(40)
    // Stalled longer than maxStallMs: disconnected by the server (the client sees it once it reads again).
    const until = Date.now() + 5000
    while (stats.disconnectedSlow === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    expect(stats.disconnectedSlow).toBe(1)
    expect(server.services.hub.size).toBe(0)
    stalled.ws.resume()
    expect(await stalled.closed).toBe(1006)
  })
})

describe('restart', () => {
  it('marks runs that were in flight when the server process died as interrupted', async () => {
    const dataDir = await tempDir()
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('../testing/serve-child.ts', import.meta.url).pathname, dataDir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          const line = String(chunk).trim()
          if (line.startsWith('http')) resolve(line)
        })
        child.once('exit', (code) => reject(new Error(`child exited ${code}`)))
      })
      const cookie = await login(
        { request: (path, init) => fetch(url + path, init) },
        'admin',
        ADMIN_PASSWORD,
      )
      const server = { url, cookie }
      const slow = generatorGraph(1_000_000, { batchSize: 100, delayMs: 10 })
      const running = await startRun(server, slow)
      const queued = [await startRun(server, slow), await startRun(server, slow)]
      const deadline = Date.now() + 10_000
      for (;;) {
        const run = (await (await fetch(`${url}/api/runs/${running}`, { headers: { cookie } })).json()) as {
          status: string
          nodes: Record<string, { rowsOut: number }>
        }
        if (run.status === 'running' && (run.nodes.src?.rowsOut ?? 0) > 0) break
        if (Date.now() > deadline) throw new Error('the run did not start')
        await new Promise((r) => setTimeout(r, 50))
      }
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
      const services = await createServices(testOptions(dataDir))
      try {
        expect(services.interrupted).toBe(3)
        for (const id of [running, ...queued]) expect(services.runs.get(id).status).toBe('interrupted')
        expect(services.runs.get(running).finishedAt).toEqual(expect.any(String))
      } finally {
        await services.close()
      }
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('a graceful stop stores runs in flight as interrupted', async () => {
    const dataDir = await tempDir()
    const first = await createServices(testOptions(dataDir))
    const id = first.runs.submit({
      graph: (await import('../../engine/index.ts')).graphSchema.parse(
        generatorGraph(1_000_000, { batchSize: 100, delayMs: 10 }),
      ),
    })
    await new Promise((r) => setTimeout(r, 200))
    await first.close()
    const second = await createServices(testOptions(dataDir))
    expect(second.runs.get(id).status).toBe('interrupted')
    expect(second.interrupted).toBe(0)
    await second.close()
  })
})
