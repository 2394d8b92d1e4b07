import { getConnInfo } from '@hono/node-server/conninfo'
import { eq } from 'drizzle-orm'
import { Hono, type Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { z } from 'zod'
import type { Db } from '../db/client.ts'
import { users } from '../db/schema.ts'
import type { AppEnv } from '../http/env.ts'
import { ApiError } from '../http/errors.ts'
import { validate } from '../http/validate.ts'
import type { RouteDoc } from '../openapi/document.ts'
import { hashPassword, verifyPassword, type PasswordCost } from './passwords.ts'
import { PERMISSIONS, permissionsOf } from './permissions.ts'
import type { LoginLimiter } from './rate-limit.ts'
import {
  createSession,
  deleteOtherSessions,
  deleteSession,
  SESSION_COOKIE,
  SESSION_TTL_MS,
} from './sessions.ts'

export const loginBody = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1000),
})
export const passwordBody = z.object({
  currentPassword: z.string().min(1).max(1000),
  newPassword: z.string().min(12, 'use at least 12 characters').max(1000),
})
export const userSchema = z.object({ id: z.string(), username: z.string(), role: z.string() })
/** The signed-in user and what their role allows. */
const userReply = z.object({
  user: userSchema.extend({
    permissions: z.array(z.enum(PERMISSIONS)).describe('What the role allows; the editor hides the rest'),
  }),
})

export const authDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/api/auth/login',
    summary: 'Sign in; sets the session cookie (a disabled user gets the same 401 as a wrong password)',
    body: loginBody,
    response: userReply,
    public: true,
  },
  { method: 'post', path: '/api/auth/logout', summary: 'Sign out', response: z.object({ ok: z.boolean() }) },
  {
    method: 'get',
    path: '/api/auth/me',
    summary: 'The signed-in user with the permissions of their role',
    response: userReply,
  },
  {
    method: 'post',
    path: '/api/auth/password',
    summary: 'Change the password',
    body: passwordBody,
    response: z.object({ ok: z.boolean() }),
  },
]

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'local'
  }
}

export function authRoutes(deps: { db: Db; limiter: LoginLimiter; passwordCost: PasswordCost }) {
  const { db, limiter } = deps
  /** A hash to verify against when the user does not exist, so timing does not reveal usernames. */
  let dummyHash: Promise<string> | undefined
  return new Hono<AppEnv>()
    .post('/login', validate('json', loginBody), async (c) => {
      const { username, password } = c.req.valid('json')
      const key = `${username.toLowerCase()}\u0000${clientAddress(c)}`
      const wait = limiter.retryAfter(key)
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000)
        throw new ApiError(
          429,
          'TOO_MANY_ATTEMPTS',
          `Too many failed sign-ins; try again in ${seconds} s`,
          undefined,
          {
            'Retry-After': String(seconds),
          },
        )
      }
      const user = db.select().from(users).where(eq(users.username, username)).get()
      dummyHash ??= hashPassword('not a password', deps.passwordCost)
      const ok = await verifyPassword(password, user === undefined ? await dummyHash : user.passwordHash)
      // A disabled user gets the same answer as a wrong password.
      if (user === undefined || !ok || user.disabled) {
        limiter.fail(key)
        throw new ApiError(401, 'INVALID_CREDENTIALS', 'Wrong username or password')
      }
      limiter.succeed(key)
      const session = createSession(db, user.id)
      setCookie(c, SESSION_COOKIE, session.token, {
        httpOnly: true,
        sameSite: 'Lax',
        path: '/',
        secure: new URL(c.req.url).protocol === 'https:',
        maxAge: Math.floor(SESSION_TTL_MS / 1000),
      })
      return c.json({
        user: { id: user.id, username: user.username, role: user.role, permissions: permissionsOf(user) },
      })
    })
    .post('/logout', (c) => {
      const token = getCookie(c, SESSION_COOKIE)
      if (token !== undefined) deleteSession(db, token)
      deleteCookie(c, SESSION_COOKIE, { path: '/' })
      return c.json({ ok: true })
    })
    .get('/me', (c) => c.json({ user: { ...c.get('user'), permissions: permissionsOf(c.get('user')) } }))
    .post('/password', validate('json', passwordBody), async (c) => {
      const { currentPassword, newPassword } = c.req.valid('json')
      const me = c.get('user')
      const row = db.select().from(users).where(eq(users.id, me.id)).get()
      if (row === undefined || !(await verifyPassword(currentPassword, row.passwordHash))) {
        throw new ApiError(403, 'INVALID_CREDENTIALS', 'The current password is wrong')
      }
      const passwordHash = await hashPassword(newPassword, deps.passwordCost)
      db.update(users).set({ passwordHash, passwordChangedAt: new Date() }).where(eq(users.id, me.id)).run()
      deleteOtherSessions(db, me.id, getCookie(c, SESSION_COOKIE) ?? '')
      return c.json({ ok: true })
    })
}
