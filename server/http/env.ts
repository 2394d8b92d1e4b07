import type { UserRow } from '../db/schema.ts'

/** The four roles, weakest last (issue 8 point 5). What each may do is in server/auth/permissions.ts. */
export const ROLES = ['admin', 'designer', 'operator', 'viewer'] as const satisfies readonly UserRow['role'][]
export type Role = UserRow['role']

/** The signed-in user, as handlers see it. */
export interface SessionUser {
  id: string
  username: string
  role: Role
}

/** Hono environment of every /api route: the session middleware sets `user`. */
export interface AppEnv {
  Variables: { user: SessionUser }
}
