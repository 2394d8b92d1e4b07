import type { Context } from 'hono'
import type { UpgradeWebSocket } from 'hono/ws'
import type { WebSocket } from 'ws'
import { getCookie } from 'hono/cookie'
import { canViewRun } from '../auth/guards.ts'
import { findSessionUser, SESSION_COOKIE } from '../auth/sessions.ts'
import type { Db } from '../db/client.ts'
import type { AppEnv } from '../http/env.ts'
import type { RunHub } from './hub.ts'

/**
 * `/api/ws`: the session middleware has already run; the hub takes the socket from here. A user sees
 * only the runs they may view (owner-only without view-any): any other run id answers like an unknown one.
 */
export function wsHandler(upgradeWebSocket: UpgradeWebSocket<WebSocket>, hub: RunHub, db: Db) {
  return upgradeWebSocket((c: Context<AppEnv>) => {
    // The session as it is now: a role change applies at once; sign-out, a disabled or deleted user,
    // or a password reset ends it, and the hub then closes the socket.
    const token = getCookie(c, SESSION_COOKIE) ?? ''
    const current = () => findSessionUser(db, token)
    const canView = (runId: string) => {
      const user = current()
      return user !== undefined && canViewRun(db, user, runId)
    }
    const signedIn = () => current() !== undefined
    let handlers: ReturnType<RunHub['connect']> | undefined
    return {
      onOpen: (_event, ws) => {
        const raw = ws.raw!
        handlers = hub.connect(
          {
            send: (data) => raw.send(data),
            get bufferedAmount() {
              return raw.bufferedAmount
            },
            close: (code, reason) => raw.close(code, reason),
            terminate: () => raw.terminate(),
          },
          { canView, signedIn },
        )
      },
      onMessage: (event) => handlers?.message(typeof event.data === 'string' ? event.data : ''),
      onClose: () => handlers?.close(),
      onError: () => handlers?.close(),
    }
  })
}
