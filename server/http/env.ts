import type { Role } from '../../engine/access.ts'

export { ROLES, type Role } from '../../engine/access.ts'

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
