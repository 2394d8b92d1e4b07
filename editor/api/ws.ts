import { serverMessageSchema, type ClientMessage, type ServerMessage } from '../../engine/ws-messages.ts'

type Listener = (message: ServerMessage) => void

/** One WebSocket to /api/ws shared by the app; reconnects and re-subscribes after a drop. */
class RunSocket {
  private socket: WebSocket | null = null
  private readonly listeners = new Map<string, Set<Listener>>()
  private retry = 0
  private timer: ReturnType<typeof setTimeout> | undefined

  subscribe(runId: string, listener: Listener): () => void {
    let set = this.listeners.get(runId)
    if (!set) {
      set = new Set()
      this.listeners.set(runId, set)
      this.send({ type: 'subscribe', runId })
    }
    set.add(listener)
    this.ensure()
    return () => {
      const current = this.listeners.get(runId)
      if (!current) return
      current.delete(listener)
      if (current.size === 0) {
        this.listeners.delete(runId)
        this.send({ type: 'unsubscribe', runId })
      }
    }
  }

  private ensure(): void {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return
    const url = new URL('/api/ws', window.location.href)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    const socket = new WebSocket(url)
    this.socket = socket
    socket.addEventListener('open', () => {
      this.retry = 0
      for (const runId of this.listeners.keys()) this.send({ type: 'subscribe', runId })
    })
    socket.addEventListener('message', (event) => {
      let data: unknown
      try {
        data = JSON.parse(String(event.data))
      } catch {
        return
      }
      const parsed = serverMessageSchema.safeParse(data)
      if (!parsed.success) return
      const message = parsed.data
      const runId = 'runId' in message ? message.runId : undefined
      const targets = runId ? [this.listeners.get(runId)] : [...this.listeners.values()]
      for (const set of targets) for (const listener of set ?? []) listener(message)
    })
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return
      this.socket = null
      if (this.listeners.size === 0) return
      clearTimeout(this.timer)
      this.timer = setTimeout(() => this.ensure(), Math.min(5000, 250 * 2 ** this.retry++))
    })
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message))
  }
}

export const runSocket = new RunSocket()
