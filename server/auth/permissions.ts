import { createMiddleware } from 'hono/factory'
import type { AppEnv, SessionUser } from '../http/env.ts'
import { ROLE_PERMISSIONS, type Permission } from '../../engine/access.ts'
import { ApiError } from '../http/errors.ts'

export { PERMISSIONS, ROLE_PERMISSIONS, type Permission } from '../../engine/access.ts'

export function can(user: Pick<SessionUser, 'role'>, permission: Permission): boolean {
  return ROLE_PERMISSIONS[user.role].includes(permission)
}

export function permissionsOf(user: Pick<SessionUser, 'role'>): Permission[] {
  return [...ROLE_PERMISSIONS[user.role]]
}

/** 403 naming the permission the user's role lacks. */
export function forbidden(
  user: Pick<SessionUser, 'role'>,
  permission: Permission,
  action?: string,
): ApiError {
  return new ApiError(
    403,
    'FORBIDDEN',
    `${action === undefined ? 'This' : action} needs the "${permission}" permission, which the ${user.role} role does not have`,
    { permission, role: user.role },
  )
}

export function assertPermission(user: SessionUser, permission: Permission, action?: string): void {
  if (!can(user, permission)) throw forbidden(user, permission, action)
}

/** Route middleware: 403 unless the signed-in user's role has every one of `permissions`. */
export function requirePermission(...permissions: Permission[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const user = c.get('user')
    for (const permission of permissions) assertPermission(user, permission)
    await next()
  })
}

/** Whether the user may see an object created by `ownerId` (null: the scheduler, or unknown). */
export function canAccess(user: SessionUser, ownerId: string | null | undefined): boolean {
  return ownerId === user.id || can(user, 'view-any')
}

/**
 * Owner-only access: a user without `view-any` sees and acts only on what they created. An object the
 * user may not see answers 404, exactly as one that does not exist.
 */
export function assertCanAccess(
  user: SessionUser,
  row: { createdBy: string | null } | { ownerId: string | null },
  what: string,
  id: string,
): void {
  const owner = 'createdBy' in row ? row.createdBy : row.ownerId
  if (!canAccess(user, owner)) throw new ApiError(404, 'NOT_FOUND', `No ${what} with id "${id}"`)
}

/** The user id lists are narrowed to: undefined when the user may see everyone's objects. */
export function ownerFilter(user: SessionUser): string | undefined {
  return can(user, 'view-any') ? undefined : user.id
}
