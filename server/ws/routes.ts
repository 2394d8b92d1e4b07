import type { UpgradeWebSocket } from 'hono/ws'
import type { WebSocket } from 'ws'
import type { RunHub } from './hub.ts'

/** `/api/ws`: the session middleware has already run; the hub takes the socket from here. */
export function wsHandler(upgradeWebSocket: UpgradeWebSocket<WebSocket>, hub: RunHub) {
  return upgradeWebSocket(() => {
    let handlers: ReturnType<RunHub['connect']> | undefined
    return {
      onOpen: (_event, ws) => {
        const raw = ws.raw!
        handlers = hub.connect({
          send: (data) => raw.send(data),
          get bufferedAmount() {
            return raw.bufferedAmount
          },
          close: (code, reason) => raw.close(code, reason),
          terminate: () => raw.terminate(),
        })
      },
      onMessage: (event) => handlers?.message(typeof event.data === 'string' ? event.data : ''),
      onClose: () => handlers?.close(),
      onError: () => handlers?.close(),
    }
  })
}
