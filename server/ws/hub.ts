import { clientMessageSchema, type ServerMessage } from '../../engine/ws-messages.ts'
import type { RunManager, RunNotice } from '../runs/manager.ts'

/** The part of a WebSocket the hub uses; `bufferedAmount` is what the socket has not yet written. */
export interface HubSocket {
  send(data: string): void
  readonly bufferedAmount: number
  close(code: number, reason: string): void
  /** Drop the connection at once, discarding whatever is still buffered. */
  terminate(): void
}

export interface HubOptions {
  /** How often held-back messages are retried and buffers checked (ms). */
  flushIntervalMs: number
  /** Log lines held per client while it cannot keep up; older ones are dropped and counted. */
  maxLogsPerClient: number
  /** Above this many unsent bytes a client gets nothing new (its progress keeps coalescing). */
  softBufferBytes: number
  /** Above this many unsent bytes a client is disconnected. */
  maxBufferBytes: number
  /** A client that stays above `softBufferBytes` this long is disconnected (ms). */
  maxStallMs: number
  /** Runs one client may watch at once. */
  maxSubscriptions: number
}

export const defaultHubOptions: HubOptions = {
  flushIntervalMs: 100,
  maxLogsPerClient: 100,
  softBufferBytes: 256 * 1024,
  maxBufferBytes: 4 * 1024 * 1024,
  maxStallMs: 30_000,
  maxSubscriptions: 50,
}

/** A message serialised once however many clients receive it. */
class Outgoing {
  private text: string | undefined
  constructor(readonly message: ServerMessage) {}
  get json(): string {
    return (this.text ??= JSON.stringify(this.message))
  }
}

/** How often a client with messages flowing has its session and subscriptions checked again (ms). */
const RECHECK_MS = 1000

interface Client {
  socket: HubSocket
  canView: (runId: string) => boolean
  signedIn: () => boolean
  /** When the session and subscriptions were last checked. */
  checkedAt: number
  runs: Set<string>
  /** Latest progress per run: a client that cannot keep up sees fewer, never older, updates. */
  progress: Map<string, Outgoing>
  logs: Outgoing[]
  droppedLogs: Map<string, number>
  finished: Outgoing[]
  scheduled: boolean
  closed: boolean
  /** When the socket went above the soft limit, while it stays there. */
  stalledSince: number | undefined
}

/**
 * Fans run notices out to WebSocket clients without letting any client slow a run or hold memory:
 * progress is coalesced per client and run, logs beyond a small buffer are dropped, and a client
 * whose socket buffer passes `maxBufferBytes` is disconnected. Notices never wait on a socket.
 */
export class RunHub {
  private readonly clients = new Set<Client>()
  private readonly timer: NodeJS.Timeout
  private readonly stopListening: () => void
  /**
   * Slow clients disconnected, log lines dropped, flushes held back, the most bytes one socket had
   * unsent, and the time (ms) this thread spent fanning messages out (what watchers cost the runs).
   */
  readonly stats = { disconnectedSlow: 0, droppedLogs: 0, heldBack: 0, maxBufferedBytes: 0, busyMs: 0 }

  constructor(
    private readonly runs: RunManager,
    private readonly options: HubOptions = defaultHubOptions,
  ) {
    this.stopListening = runs.listen((notice) => this.timed(() => this.onNotice(notice)))
    this.timer = setInterval(() => {
      this.timed(() => {
        // Only clients with something held back; the others were flushed when their messages came.
        for (const client of this.clients) {
          if (client.progress.size > 0 || client.logs.length > 0 || client.finished.length > 0)
            this.flush(client)
        }
      })
    }, options.flushIntervalMs)
    this.timer.unref()
  }

  get size(): number {
    return this.clients.size
  }

  /** Register a socket; call the returned handlers on each message and on close. */
  /**
   * `canView` decides which runs this client may subscribe to (a refused one answers like an unknown
   * run); while messages flow, both are asked again every second: a subscription the user may no longer
   * view ends, and a socket whose session ended (sign-out, user disabled or deleted) is closed.
   */
  connect(
    socket: HubSocket,
    access: { canView?: (runId: string) => boolean; signedIn?: () => boolean } = {},
  ): { message(text: string): void; close(): void } {
    const client: Client = {
      socket,
      canView: access.canView ?? (() => true),
      signedIn: access.signedIn ?? (() => true),
      checkedAt: Date.now(),
      runs: new Set(),
      progress: new Map(),
      logs: [],
      droppedLogs: new Map(),
      finished: [],
      scheduled: false,
      closed: false,
      stalledSince: undefined,
    }
    this.clients.add(client)
    return {
      message: (text) => this.timed(() => this.onMessage(client, text)),
      close: () => {
        client.closed = true
        this.clients.delete(client)
      },
    }
  }

  close(): void {
    clearInterval(this.timer)
    this.stopListening()
    for (const client of this.clients) client.socket.close(1001, 'server shutting down')
    this.clients.clear()
  }

  private timed(work: () => void): void {
    const t0 = performance.now()
    try {
      work()
    } finally {
      this.stats.busyMs += performance.now() - t0
    }
  }

  private onMessage(client: Client, text: string): void {
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch {
      return this.sendNow(client, { type: 'error', message: 'messages are JSON' })
    }
    const parsed = clientMessageSchema.safeParse(data)
    if (!parsed.success) {
      return this.sendNow(client, {
        type: 'error',
        message: `unknown message: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
      })
    }
    const { runId } = parsed.data
    if (parsed.data.type === 'unsubscribe') {
      client.runs.delete(runId)
      client.progress.delete(runId)
      return
    }
    if (!client.runs.has(runId) && client.runs.size >= this.options.maxSubscriptions) {
      return this.sendNow(client, {
        type: 'error',
        runId,
        message: `watch at most ${this.options.maxSubscriptions} runs at once`,
      })
    }
    if (!client.canView(runId))
      return this.sendNow(client, { type: 'error', runId, message: `no run with id "${runId}"` })
    let run
    try {
      run = this.runs.get(runId)
    } catch {
      return this.sendNow(client, { type: 'error', runId, message: `no run with id "${runId}"` })
    }
    this.sendNow(client, { type: 'snapshot', runId, run })
    if (run.status === 'queued' || run.status === 'running') client.runs.add(runId)
    else
      this.sendNow(client, { type: 'finished', runId, status: run.status, summary: this.runs.summaryOf(run) })
  }

  private onNotice(notice: RunNotice): void {
    let outgoing: Outgoing | undefined
    for (const client of this.clients) {
      if (!client.runs.has(notice.runId)) continue
      outgoing ??= new Outgoing(notice)
      if (notice.type === 'progress') {
        client.progress.set(notice.runId, outgoing)
      } else if (notice.type === 'log') {
        if (client.logs.length >= this.options.maxLogsPerClient) {
          client.logs.shift()
          client.droppedLogs.set(notice.runId, (client.droppedLogs.get(notice.runId) ?? 0) + 1)
          this.stats.droppedLogs += 1
        }
        client.logs.push(outgoing)
      } else {
        client.runs.delete(notice.runId)
        client.finished.push(outgoing)
      }
      this.schedule(client)
    }
  }

  private schedule(client: Client): void {
    if (client.scheduled) return
    client.scheduled = true
    setImmediate(() => {
      client.scheduled = false
      this.timed(() => this.flush(client))
    })
  }

  /** Send what is held for the client, unless its socket is backed up; drop it when far behind. */
  private flush(client: Client): void {
    if (client.closed) return
    const now = Date.now()
    if (now - client.checkedAt >= RECHECK_MS && !this.recheck(client, now)) return
    const buffered = client.socket.bufferedAmount
    if (buffered > this.stats.maxBufferedBytes) this.stats.maxBufferedBytes = buffered
    if (buffered > this.options.softBufferBytes) client.stalledSince ??= now
    else client.stalledSince = undefined
    if (
      buffered > this.options.maxBufferBytes ||
      (client.stalledSince !== undefined && now - client.stalledSince > this.options.maxStallMs)
    ) {
      this.stats.disconnectedSlow += 1
      client.closed = true
      this.clients.delete(client)
      client.socket.terminate()
      return
    }
    if (client.stalledSince !== undefined) {
      this.stats.heldBack += 1
      return
    }
    // Stop at the soft limit mid-way too: what is left waits for the next flush, still bounded.
    const full = () => client.socket.bufferedAmount > this.options.softBufferBytes
    for (const [runId, message] of client.progress) {
      if (full()) return
      client.socket.send(message.json)
      client.progress.delete(runId)
    }
    while (client.logs.length > 0) {
      if (full()) return
      const message = client.logs.shift()!
      const dropped = client.droppedLogs.get(message.message.runId!)
      if (dropped !== undefined && message.message.type === 'log') {
        client.droppedLogs.delete(message.message.runId)
        client.socket.send(JSON.stringify({ ...message.message, dropped }))
      } else client.socket.send(message.json)
    }
    while (client.finished.length > 0) {
      if (full()) return
      client.socket.send(client.finished.shift()!.json)
    }
  }

  /** False when the client's session ended (the socket is closed); drops runs it may no longer view. */
  private recheck(client: Client, now: number): boolean {
    client.checkedAt = now
    if (!client.signedIn()) {
      client.closed = true
      this.clients.delete(client)
      client.socket.close(1008, 'the session ended')
      return false
    }
    for (const runId of new Set([...client.runs, ...client.progress.keys()])) {
      if (client.canView(runId)) continue
      client.runs.delete(runId)
      client.progress.delete(runId)
      client.logs = client.logs.filter((m) => m.message.runId !== runId)
      client.finished = client.finished.filter((m) => m.message.runId !== runId)
      this.sendNow(client, { type: 'error', runId, message: `no run with id "${runId}"` })
    }
    return true
  }

  private sendNow(client: Client, message: ServerMessage): void {
    if (!client.closed) client.socket.send(JSON.stringify(message))
  }
}
