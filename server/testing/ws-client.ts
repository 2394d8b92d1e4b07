import WebSocket from 'ws'
import { serverMessageSchema, type ServerMessage } from '../../engine/ws-messages.ts'

export interface TestSocket {
  ws: WebSocket
  messages: (ServerMessage & { receivedAt: number })[]
  send(message: unknown): void
  /** Resolves with the first message (already received or coming) that matches. */
  next<T extends ServerMessage['type']>(
    type: T,
    where?: (m: Extract<ServerMessage, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ServerMessage, { type: T }>>
  closed: Promise<number>
}

/** A real `ws` client with the session cookie; every message is parsed with the shared zod union. */
export async function openSocket(url: string, cookie: string): Promise<TestSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/ws`, { headers: { cookie } })
  const messages: TestSocket['messages'] = []
  const waiters = new Set<() => void>()
  ws.on('message', (data) => {
    messages.push({ ...serverMessageSchema.parse(JSON.parse(String(data))), receivedAt: performance.now() })
    for (const wake of waiters) wake()
  })
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)))
  })
  return {
    ws,
    messages,
    closed,
    send: (message) => ws.send(JSON.stringify(message)),
    next(type, where, timeoutMs = 30_000) {
      type M = Extract<ServerMessage, { type: typeof type }>
      const find = () =>
        messages.find(
          (m) => m.type === type && (where === undefined || where(m as unknown as M)),
        ) as unknown as M | undefined
      return new Promise<M>((resolve, reject) => {
        const check = () => {
          const found = find()
          if (found === undefined) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(
            new Error(
              `no ${type} message within ${timeoutMs} ms; got ${messages.map((m) => m.type).join(', ')}`,
            ),
          )
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
  }
}
