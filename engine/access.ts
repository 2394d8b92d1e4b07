import { z } from 'zod'

/**
 * Who may do what: the role and permission vocabulary (issue 8 point 5) and the policy document a role
 * may have (issue 8 point 6). Declared once here, like the WebSocket messages in ws-messages.ts, so
 * the database schema, the server's checks and the editor's forms share it; the server decides.
 */

/** The four roles, strongest first. */
export const ROLES = ['admin', 'designer', 'operator', 'viewer'] as const
export type Role = (typeof ROLES)[number]

/** What a role may do. */
export const PERMISSIONS = ['create', 'edit', 'delete', 'run', 'view-any', 'approve', 'manage-users'] as const
export type Permission = (typeof PERMISSIONS)[number]

/**
 * The one role → permissions table (docs/ARCHITECTURE.md "Users, roles and permissions"). A role
 * without `view-any` sees only what its user created, so designers do not change each other's work.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: PERMISSIONS,
  designer: ['create', 'edit', 'delete', 'run'],
  operator: ['run', 'view-any', 'approve'],
  viewer: ['view-any'],
}

/** What each role is for, in a sentence (the admin screen shows it). */
export const ROLE_SUMMARY: Readonly<Record<Role, string>> = {
  admin: 'Everything, including users, policies and mail settings',
  designer: 'Builds graphs, templates, collections and connections, and runs them; sees only their own',
  operator: 'Runs and watches every job, and approves other people’s run requests',
  viewer: 'Reads everything, changes nothing',
}

/**
 * Policy connector names: `csv`, `excel`, `ldap` (LDAP and Active Directory alike), `sql:<driver>`; in
 * a policy, `sql` stands for every SQL driver and `*` for every connector. Other source and destination
 * node types are named by their type id. server/policies/policy.ts checks graphs against a document.
 */
export const SQL_DRIVER_NAMES = ['sqlite', 'postgres', 'mysql', 'mssql', 'oracle'] as const
/** The connector names an editor offers; a policy may also name other node types. */
export const KNOWN_CONNECTORS = [
  'csv',
  'excel',
  'ldap',
  'sql',
  ...SQL_DRIVER_NAMES.map((d) => `sql:${d}` as const),
] as const

/** What a sync or write may do to an object: create it, update it, or de-provision it (delete, disable, move). */
export const WRITE_ACTIONS = ['create', 'update', 'delete', 'disable', 'move'] as const
export type WriteAction = (typeof WRITE_ACTIONS)[number]

const connectorName = z
  .string()
  .regex(
    /^(\*|[A-Za-z0-9_.-]+(:[A-Za-z0-9_*-]+)?)$/,
    'a connector name such as csv, ldap, sql or sql:postgres',
  )
  .max(100)

const connectorRule = z
  .object({
    allow: z
      .array(connectorName)
      .max(100)
      .describe('Connector names; an empty list allows none, `sql` every SQL driver, `*` every connector'),
  })
  .strict()

export const writeRule = z
  .object({
    connector: connectorName.describe('ldap, sql, sql:<driver> or *'),
    object: z
      .string()
      .min(1)
      .max(200)
      .describe('LDAP objectClass or SQL table (case-insensitive); `*` for any'),
    attributes: z
      .union([z.literal('*'), z.array(z.string().min(1).max(200)).max(500)])
      .describe('Attributes (columns) that may be written; `*` for any'),
    actions: z
      .array(z.enum(WRITE_ACTIONS))
      .min(1)
      .optional()
      .describe('What may be done to these objects (default: everything)'),
  })
  .strict()
export type WriteRule = z.infer<typeof writeRule>

/**
 * Runs by users of the role (for schedules: the job's owner) wait for an approver, as if the job had an
 * approval rule with plan review: `writes` for graphs and collections with a destination or sync node,
 * `all` for every run. A property of the role, so a copy of a graph is governed as the original.
 */
export const approvalPolicy = z
  .object({
    for: z
      .enum(['writes', 'all'])
      .describe('writes: runs of jobs with a destination or sync node; all: every run'),
    expiresHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .optional()
      .describe('A pending request not decided within this time expires and is cancelled (default 24)'),
  })
  .strict()
export type ApprovalPolicy = z.infer<typeof approvalPolicy>

/** A role's policy document; a missing part does not restrict. */
export const policyDocument = z
  .object({
    sources: connectorRule.optional().describe('Connectors source nodes may read from'),
    destinations: connectorRule.optional().describe('Connectors destination and sync nodes may write to'),
    writes: z
      .array(writeRule)
      .max(500)
      .optional()
      .describe(
        'When present, every LDAP and SQL write (sql.write, sql.sync, ldap.sync) must match a rule: connector, object type, attributes, actions',
      ),
    approval: approvalPolicy
      .optional()
      .describe('When present, runs by the role wait for an approver (see approval rules)'),
  })
  .strict()
export type PolicyDocument = z.infer<typeof policyDocument>
