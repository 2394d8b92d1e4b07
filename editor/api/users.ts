import { request } from './client.ts'

import { ROLES, type Role } from '../../engine/access.ts'

export { ROLES, type Role }

/** A user as /api/users returns it (never a password hash). */
export interface ManagedUser {
  id: string
  username: string
  role: Role
  disabled: boolean
  permissions: string[]
  createdAt: string
  passwordChangedAt: string | null
}

const enc = encodeURIComponent

/** Users management (needs the manage-users permission). */
export const usersApi = {
  list: () => request<{ users: ManagedUser[] }>('GET', '/users'),
  create: (body: { username: string; password: string; role: Role }) =>
    request<ManagedUser>('POST', '/users', body),
  update: (id: string, change: { role?: Role; disabled?: boolean }) =>
    request<ManagedUser>('PUT', `/users/${enc(id)}`, change),
  resetPassword: (id: string, password: string) =>
    request<{ ok: boolean }>('POST', `/users/${enc(id)}/password`, { password }),
  remove: (id: string) => request<{ ok: boolean }>('DELETE', `/users/${enc(id)}`),
}
