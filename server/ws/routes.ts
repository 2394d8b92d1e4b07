import type { Context } from 'hono'
import type { UpgradeWebSocket } from 'hono/ws'
import type { WebSocket } from 'ws'
import { eq } from 'drizzle-orm'
import { canViewRun } from '../auth/guards.ts'
import { users } from '../db/schema.ts'
import type { Db } from '../db/client.ts'
import type { AppEnv } from '../http/env.ts'
import type { RunHub } from './hub.ts'

/**
 * `/api/ws`: the session middleware has already run; the hub takes the socket from here. A user sees
 * only the runs they may view (owner-only without view-any): any other run id answers like an unknown one.
 */
export function wsHandler(upgradeWebSocket: UpgradeWebSocket<WebSocket>, hub: RunHub, db: Db) {
  return upgradeWebSocket((c: Context<AppEnv>) => {
    const { id } = c.get('user')
    // The user as they are now: a role change applies at once, a disabled or deleted user sees nothing.
    const canView = (runId: string) => {
      const user = db
        .select({ id: users.id, username: users.username, role: users.role, disabled: users.disabled })
        .from(users)
        .where(eq(users.id, id))
        .get()
      return user !== undefined && !user.disabled && canViewRun(db, user, runId)
    }
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
          { canView },
        )
      },
      onMessage: (event) => handlers?.message(typeof event.data === 'string' ? event.data : ''),
      onClose: () => handlers?.close(),
      onError: () => handlers?.close(),
    }
  })
}
