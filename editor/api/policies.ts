import type { PolicyDocument, Role } from '../../engine/access.ts'
import { request } from './client.ts'

// The policy document's shape and the write actions, as the server checks them (engine/access.ts).
export { WRITE_ACTIONS, type PolicyDocument, type WriteAction, type WriteRule } from '../../engine/access.ts'
export type { Role }

export interface RolePolicy {
  role: Role
  policy: PolicyDocument | null
  updatedAt: string | null
  updatedBy: string | null
  updatedByName: string | null
}

const enc = encodeURIComponent

/** The policies API: GET /api/policies, GET/PUT/DELETE /api/policies/:role. */
export const policiesApi = {
  list: () => request<{ policies: RolePolicy[]; connectors: string[] }>('GET', '/policies'),
  save: (role: Role, policy: PolicyDocument) => request<RolePolicy>('PUT', `/policies/${enc(role)}`, policy),
  remove: (role: Role) => request<{ ok: boolean }>('DELETE', `/policies/${enc(role)}`),
}
