import { request } from './client.ts'

/** What an LDAP or SQL write does to an object. */
export const WRITE_ACTIONS = ['create', 'update', 'delete', 'disable', 'move'] as const
export type WriteAction = (typeof WRITE_ACTIONS)[number]

/** One write rule: which objects of which connector may be written, and which attributes (or `*`). */
export interface WriteRule {
  connector: string
  object: string
  attributes: string[] | '*'
  actions?: WriteAction[]
}

/** A role's policy (server/policies/policy.ts); a missing part does not restrict. */
export interface PolicyDocument {
  sources?: { allow: string[] }
  destinations?: { allow: string[] }
  writes?: WriteRule[]
  /** Runs by the role wait for an approver: of jobs that write, or all of them; expiry in hours (24). */
  approval?: { for: 'writes' | 'all'; expiresHours?: number }
}

export type Role = 'admin' | 'designer' | 'operator' | 'viewer'

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
