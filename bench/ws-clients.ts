/**
 * A 1M-row run watched by 10 WebSocket clients versus none (issue 3: ≤ 5% throughput cost).
 * The server runs in its own process, as in production; the clients live in this one.
 *
 *   node --import tsx bench/ws-clients.ts [--rows 1000000] [--rounds 5] [--clients 10]
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { ADMIN_PASSWORD } from '../server/testing/options.ts'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const ROWS = arg('rows', 1_000_000)
const ROUNDS = arg('rounds', 5)
const CLIENTS = arg('clients', 10)

const graph = {
  syncgraph: 1,
  name: 'ws bench',
  settings: { batchSize: 5000, workers: 0 },
  nodes: [
    { id: 'src', type: 'test.generate', config: { count: ROWS } },
    { id: 'keep', type: 'filter', config: { expression: 'group < 5' } },
    {
      id: 'shape',
      type: 'map',
      config: { expression: '{ "id": id, "name": $uppercase(name), "g": group * 2 }' },
    },
    { id: 'sink', type: 'test.discard', config: {} },
  ],
  edges: [
    { from: 'src', to: 'keep' },
    { from: 'keep', to: 'shape' },
    { from: 'shape', to: 'sink' },
  ],
}

const dataDir = await mkdtemp(join(tmpdir(), 'syncgraph-bench-'))
const child = spawn(
  process.execPath,
  ['--import', 'tsx', new URL('../server/testing/serve-child.ts', import.meta.url).pathname, dataDir, '200'],
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
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)))
  })
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  })
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!

  const runOnce = async (clients: number): Promise<{ ms: number; messages: number }> => {
    const sockets = await Promise.all(
      Array.from({ length: clients }, () => {
        const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws`, { headers: { cookie } })
        return new Promise<WebSocket>((resolve, reject) => {
          ws.once('open', () => resolve(ws))
          ws.once('error', reject)
        })
      }),
    )
    let messages = 0
    for (const ws of sockets) ws.on('message', () => (messages += 1))
    const res = await fetch(`${url}/api/runs`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ graph }),
    })
    const { id } = (await res.json()) as { id: string }
    for (const ws of sockets) ws.send(JSON.stringify({ type: 'subscribe', runId: id }))
    for (;;) {
      const run = (await (await fetch(`${url}/api/runs/${id}`, { headers: { cookie } })).json()) as {
        status: string
        durationMs: number
      }
      if (run.status !== 'queued' && run.status !== 'running') {
        if (run.status !== 'succeeded') throw new Error(`run ${run.status}`)
        for (const ws of sockets) ws.close()
        return { ms: run.durationMs, messages }
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  await runOnce(0) // warm-up
  const none: number[] = []
  const watched: number[] = []
  let messages = 0
  for (let round = 0; round < ROUNDS; round++) {
    none.push((await runOnce(0)).ms)
    const r = await runOnce(CLIENTS)
    watched.push(r.ms)
    messages += r.messages
    process.stderr.write(
      `round ${round + 1}: none ${none.at(-1)} ms, ${CLIENTS} clients ${r.ms} ms (${r.messages} messages)\n`,
    )
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const a = median(none)
  const b = median(watched)
  const result = {
    rows: ROWS,
    rounds: ROUNDS,
    clients: CLIENTS,
    medianMsNoClients: a,
    medianMsWithClients: b,
    rowsPerSecNoClients: Math.round(ROWS / (a / 1000)),
    rowsPerSecWithClients: Math.round(ROWS / (b / 1000)),
    throughputCostPercent: Math.round(((b - a) / a) * 1000) / 10,
    messagesPerClientPerRun: Math.round(messages / ROUNDS / CLIENTS),
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
} finally {
  child.kill('SIGTERM')
  await rm(dataDir, { recursive: true, force: true })
}
