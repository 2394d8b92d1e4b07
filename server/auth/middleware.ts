import { getCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import type { Db } from '../db/client.ts'
import type { AppEnv } from '../http/env.ts'
import { ApiError } from '../http/errors.ts'
import { findSessionUser, SESSION_COOKIE } from './sessions.ts'

/** Paths under /api that answer without a session. */
const PUBLIC = new Set(['/api/health', '/api/auth/login'])

/** Every other /api route and the WebSocket need a valid session cookie (401 otherwise). */
export function requireSession(db: Db) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (PUBLIC.has(c.req.path)) return next()
    const token = getCookie(c, SESSION_COOKIE)
    const user = token === undefined ? undefined : findSessionUser(db, token)
    if (user === undefined)
      throw new ApiError(401, 'UNAUTHENTICATED', 'Sign in first: this route needs a session')
    c.set('user', user)
    await next()
  })
}
