import { describe, expect, it } from 'vitest'
import { graphSchema } from '../../engine/index.ts'
import { serverMessageSchema, type ServerMessage } from '../../engine/ws-messages.ts'
import { generatorGraph, testApp } from '../testing/harness.ts'
import { defaultHubOptions, RunHub, type HubOptions, type HubSocket } from './hub.ts'

/** A socket whose unsent byte count the test sets, as a stalled network would. */
class StubSocket implements HubSocket {
  bufferedAmount = 0
  sent: ServerMessage[] = []
  terminated = false
  send(data: string) {
    this.sent.push(serverMessageSchema.parse(JSON.parse(data)))
  }
  close() {
    this.terminated = true
  }
  terminate() {
    this.terminated = true
  }
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function setup(options: Partial<HubOptions> = {}) {
  const t = await testApp()
  const hub = new RunHub(t.services.runs, { ...defaultHubOptions, flushIntervalMs: 10, ...options })
  const slow = graphSchema.parse(generatorGraph(1_000_000, { batchSize: 100, delayMs: 5 }))
  return { ...t, hub, slow }
}

describe('RunHub', () => {
  it('holds a backed-up client to the latest progress per run, then sends only that', async () => {
    const { hub, services, slow } = await setup({
      softBufferBytes: 1000,
      maxBufferBytes: 1_000_000,
      maxStallMs: 60_000,
    })
    const id = services.runs.submit({ graph: slow })
    const socket = new StubSocket()
    const client = hub.connect(socket)
    client.message(JSON.stringify({ type: 'subscribe', runId: id }))
    await tick(200)
    const live = socket.sent.filter((m) => m.type === 'progress').length
    expect(live).toBeGreaterThan(1)
    socket.bufferedAmount = 5000
    const held = socket.sent.length
    await tick(400)
    expect(socket.sent.length).toBe(held)
    const newest = (services.runs.get(id).nodes.src?.rowsOut ?? 0) as number
    socket.bufferedAmount = 0
    // Look at the first flush after the release only: later progress may follow it at any time.
    const until = Date.now() + 1000
    while (socket.sent.length === held && Date.now() < until) await new Promise((r) => setImmediate(r))
    const released = socket.sent.slice(held)
    expect(released.map((m) => m.type)).toEqual(['progress'])
    const first = released[0]!
    expect(first.type === 'progress' && (first.snapshot.nodes.src?.rowsOut ?? 0)).toBeGreaterThanOrEqual(
      newest,
    )
    services.runs.cancel(id)
    await services.runs.idle()
    hub.close()
  })

  it('disconnects a client whose buffer passes the limit, or that stays backed up too long', async () => {
    const { hub, services, slow } = await setup({
      softBufferBytes: 1000,
      maxBufferBytes: 100_000,
      maxStallMs: 300,
    })
    const id = services.runs.submit({ graph: slow })
    const over = new StubSocket()
    const stalled = new StubSocket()
    const fine = new StubSocket()
    for (const s of [over, stalled, fine])
      hub.connect(s).message(JSON.stringify({ type: 'subscribe', runId: id }))
    await tick(100)
    over.bufferedAmount = 200_000
    stalled.bufferedAmount = 5000
    await tick(100)
    expect(over.terminated).toBe(true)
    expect(stalled.terminated).toBe(false)
    await tick(400)
    expect(stalled.terminated).toBe(true)
    expect(fine.terminated).toBe(false)
    expect(hub.size).toBe(1)
    expect(hub.stats.disconnectedSlow).toBe(2)
    services.runs.cancel(id)
    await services.runs.idle()
    hub.close()
  })

  it('stops sending in the middle of a flush when the socket passes the soft limit', async () => {
    const { hub, services } = await setup({ softBufferBytes: 1000, maxStallMs: 60_000 })
    const graph = graphSchema.parse({
      syncgraph: 1,
      settings: { workers: 0 },
      nodes: [
        { id: 'src', type: 'test.generate', config: { count: 10, delayMs: 100 } },
        { id: 'sink', type: 'test.discard', config: {} },
      ],
      edges: [{ from: 'src', to: 'sink' }],
    })
    const id = services.runs.submit({ graph })
    /** Every send stays unsent, as on a client that stopped reading. */
    const socket = new (class extends StubSocket {
      override send(data: string) {
        super.send(data)
        this.bufferedAmount += data.length
      }
    })()
    hub.connect(socket).message(JSON.stringify({ type: 'subscribe', runId: id }))
    socket.bufferedAmount = 0
    socket.sent.length = 0
    for (let i = 0; i < 10; i++) {
      ;(services.runs as unknown as { notify(n: unknown): void }).notify({
        type: 'log',
        runId: id,
        level: 'info',
        message: `line ${i} `.padEnd(400, '.'),
        time: new Date().toISOString(),
      })
    }
    await tick(50)
    // ~500-byte messages against a 1000-byte limit: sending stops at the first one past it.
    const logs = socket.sent.filter((m) => m.type === 'log').length
    expect(logs).toBeGreaterThan(0)
    expect(logs).toBeLessThanOrEqual(3)
    expect(socket.bufferedAmount).toBeLessThan(1000 + 700)
    expect(hub.stats.heldBack).toBeGreaterThan(0)
    expect(hub.stats.maxBufferedBytes).toBeGreaterThan(1000)
    services.runs.cancel(id)
    await services.runs.idle()
    hub.close()
  })

  it('keeps a bounded number of log lines for a backed-up client and says how many it dropped', async () => {
    const { hub, services } = await setup({ softBufferBytes: 1000, maxLogsPerClient: 3, maxStallMs: 60_000 })
    const graph = graphSchema.parse({
      syncgraph: 1,
      settings: { workers: 0 },
      nodes: [
        { id: 'src', type: 'test.generate', config: { count: 10, delayMs: 100 } },
        { id: 'sink', type: 'test.discard', config: {} },
      ],
      edges: [{ from: 'src', to: 'sink' }],
    })
    const id = services.runs.submit({ graph })
    const socket = new StubSocket()
    const client = hub.connect(socket)
    client.message(JSON.stringify({ type: 'subscribe', runId: id }))
    socket.bufferedAmount = 5000
    for (let i = 0; i < 10; i++) {
      ;(services.runs as unknown as { notify(n: unknown): void }).notify({
        type: 'log',
        runId: id,
        level: 'info',
        message: `line ${i}`,
        time: new Date().toISOString(),
      })
    }
    socket.bufferedAmount = 0
    await tick(50)
    const logs = socket.sent.filter((m) => m.type === 'log')
    expect(logs.map((m) => (m.type === 'log' ? [m.message, m.dropped] : []))).toEqual([
      ['line 7', 7],
      ['line 8', undefined],
      ['line 9', undefined],
    ])
    await services.runs.idle()
    hub.close()
  })
})
