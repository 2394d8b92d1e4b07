/**
 * A 1M-row run watched by 10 WebSocket clients versus none (issue 3: ≤ 5% throughput cost).
 * The server runs in its own process, as in production; the clients live in this one. Rounds
 * alternate the order (none/watched, watched/none) so drift on a shared machine hits both alike;
 * besides wall time, the server process's CPU time per run is read from /proc (Linux), which other
 * processes on the machine disturb far less.
 *
 *   npm run bench:ws -- [--rows 1000000] [--rounds 15] [--clients 10]
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
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
const ROUNDS = arg('rounds', 15)
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

  /** CPU time (user + system, ms) the server process used so far, or NaN where /proc is missing. */
  const serverCpuMs = (): number => {
    try {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
    } catch {
      return Number.NaN
    }
  }

  /** The hub's own time fanning messages out so far (ms), asked of the server with SIGUSR2. */
  const hubBusyMs = () =>
    new Promise<number>((resolve) => {
      const onData = (chunk: Buffer) => {
        const line = String(chunk)
          .split('\n')
          .find((l) => l.startsWith('hub '))
        if (line === undefined) return
        child.stdout.off('data', onData)
        resolve((JSON.parse(line.slice(4)) as { busyMs: number }).busyMs)
      }
      child.stdout.on('data', onData)
      child.kill('SIGUSR2')
    })

  const runOnce = async (
    clients: number,
  ): Promise<{ ms: number; cpuMs: number; hubMs: number; messages: number }> => {
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
    const hubBefore = await hubBusyMs()
    const cpuBefore = serverCpuMs()
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
        const cpuMs = serverCpuMs() - cpuBefore
        if (run.status !== 'succeeded') throw new Error(`run ${run.status}`)
        for (const ws of sockets) ws.close()
        const hubMs = (await hubBusyMs()) - hubBefore
        return { ms: run.durationMs, cpuMs, hubMs, messages }
      }
      // Polling costs the server a little CPU; both variants poll alike.
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  await runOnce(0) // warm-up
  await runOnce(CLIENTS)
  const none: { ms: number; cpuMs: number; hubMs: number }[] = []
  const watched: { ms: number; cpuMs: number; hubMs: number }[] = []
  let messages = 0
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, CLIENTS] : [CLIENTS, 0]
    for (const clients of order) {
      const r = await runOnce(clients)
      if (clients === 0) none.push(r)
      else {
        watched.push(r)
        messages += r.messages
      }
    }
    const a = none.at(-1)!
    const b = watched.at(-1)!
    process.stderr.write(
      `round ${round + 1}: none ${a.ms} ms (cpu ${a.cpuMs}), ${CLIENTS} clients ${b.ms} ms (cpu ${b.cpuMs}, hub ${b.hubMs.toFixed(1)} ms)\n`,
    )
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
  const cost = (a: number, b: number) => Math.round(((b - a) / a) * 1000) / 10
  const a = median(none.map((r) => r.ms))
  const b = median(watched.map((r) => r.ms))
  const ca = median(none.map((r) => r.cpuMs))
  const cb = median(watched.map((r) => r.cpuMs))
  const result = {
    rows: ROWS,
    rounds: ROUNDS,
    clients: CLIENTS,
    medianMsNoClients: a,
    medianMsWithClients: b,
    rowsPerSecNoClients: Math.round(ROWS / (a / 1000)),
    rowsPerSecWithClients: Math.round(ROWS / (b / 1000)),
    throughputCostPercent: cost(a, b),
    medianServerCpuMsNoClients: ca,
    medianServerCpuMsWithClients: cb,
    serverCpuCostPercent: cost(ca, cb),
    // Each round's watched run against the unwatched run next to it, then the median of those.
    pairedWallCostPercent: cost(1, median(watched.map((r, i) => r.ms / none[i]!.ms))),
    pairedCpuCostPercent: cost(1, median(watched.map((r, i) => r.cpuMs / none[i]!.cpuMs))),
    messagesPerClientPerRun: Math.round(messages / ROUNDS / CLIENTS),
    // The hub's own work per watched run (serialising, fanning out, socket writes) over the run's CPU time.
    medianHubMsPerWatchedRun: Math.round(median(watched.map((r) => r.hubMs)) * 10) / 10,
    hubShareOfServerCpuPercent: Math.round(median(watched.map((r) => (r.hubMs / r.cpuMs) * 100)) * 100) / 100,
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
} finally {
  child.kill('SIGTERM')
  await rm(dataDir, { recursive: true, force: true })
}
