import { create } from 'zustand'

import type { Permission } from '../../engine/access.ts'

/** The permissions of a role, as GET /api/auth/me lists them (the server decides which a role has). */
export type { Permission }

interface PermissionState {
  permissions: ReadonlySet<string>
  set(permissions: readonly string[]): void
}

/** The signed-in user's permissions: screens hide or disable what the server would refuse. */
export const usePermissions = create<PermissionState>((set) => ({
  permissions: new Set(),
  set: (permissions) => set({ permissions: new Set(permissions) }),
}))

/** Whether the signed-in user's role has `permission`. */
export function useCan(permission: Permission): boolean {
  return usePermissions((s) => s.permissions.has(permission))
}

/** Why a control is disabled, for its title. */
export const lacks = (permission: Permission) => `Your role does not have the “${permission}” permission`
