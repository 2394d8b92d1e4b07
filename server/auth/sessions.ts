import { and, eq, gt, lt } from 'drizzle-orm'
import { createHash, randomBytes } from 'node:crypto'
import type { Db } from '../db/client.ts'
import { sessions, users } from '../db/schema.ts'
import type { SessionUser } from '../http/env.ts'

export const SESSION_COOKIE = 'sg_session'
export const SESSION_TTL_MS = 7 * 24 * 60 * 60_000

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

/** A new session for the user; returns the cookie token (only its hash is stored). */
export function createSession(db: Db, userId: string, now = Date.now()): { token: string; expiresAt: Date } {
  const token = randomBytes(32).toString('base64url')
  const expiresAt = new Date(now + SESSION_TTL_MS)
  db.delete(sessions)
    .where(lt(sessions.expiresAt, new Date(now)))
    .run()
  db.insert(sessions)
    .values({ tokenHash: hashToken(token), userId, expiresAt })
    .run()
  return { token, expiresAt }
}

export function findSessionUser(db: Db, token: string, now = Date.now()): SessionUser | undefined {
  const row = db
    .select({ id: users.id, username: users.username, role: users.role })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.tokenHash, hashToken(token)),
        gt(sessions.expiresAt, new Date(now)),
        eq(users.disabled, false),
      ),
    )
    .get()
  return row
}

export function deleteSession(db: Db, token: string): void {
  db.delete(sessions)
    .where(eq(sessions.tokenHash, hashToken(token)))
    .run()
}

/** Sign the user out everywhere (after a password change), keeping `keepToken`'s session. */
export function deleteOtherSessions(db: Db, userId: string, keepToken: string): void {
  const keep = hashToken(keepToken)
  for (const s of db
    .select({ tokenHash: sessions.tokenHash })
    .from(sessions)
    .where(eq(sessions.userId, userId))
    .all()) {
    if (s.tokenHash !== keep) db.delete(sessions).where(eq(sessions.tokenHash, s.tokenHash)).run()
  }
}
