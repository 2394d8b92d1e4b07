import { eq } from 'drizzle-orm'
import { z } from 'zod'
import { analyzeGraph, bindParams, type Catalog, type Graph } from '../../engine/index.ts'
import type { Db } from '../db/client.ts'
import { policies, users } from '../db/schema.ts'
import type { GraphStore } from '../graphs/store.ts'
import { ROLES, type Role } from '../http/env.ts'
import { ApiError } from '../http/errors.ts'
import {
  checkPolicy,
  KNOWN_CONNECTORS,
  type ApprovalPolicy,
  policyDocument,
  type PolicyDocument,
  type Violation,
} from './policy.ts'

export const policyView = z.object({
  role: z.enum(ROLES),
  policy: policyDocument
    .nullable()
    .describe('null: the role has no policy, so nothing beyond its permissions restricts it'),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
  updatedByName: z.string().nullable(),
})
export type PolicyView = z.infer<typeof policyView>

/** Policy violations as validation issues on their nodes (POST /api/validate), so the editor marks the nodes. */
export function policyIssues(found: { role: Role | null; violations: Violation[] }) {
  return found.violations.map((v) => ({
    code: 'policy-violation',
    severity: 'error' as const,
    nodeId: v.nodeId,
    message: v.message,
    rule: v.rule,
    value: v.value,
  }))
}

/** Who a run is checked as: the user who started it, else the job's owner (schedules, approved scheduled requests). */
export interface RunActor {
  graph: Graph
  params: Record<string, unknown>
  graphId: string | null
  userId?: string | undefined
  /** The owner of the job the run belongs to (a scheduled collection's creator). */
  ownerId?: string | undefined
}

/**
 * Stored policies per role and their enforcement: `enforce` is called by the run manager for every run
 * it accepts (POST /api/runs, apply, collection steps, schedules, approvals), so no start path skips it.
 */
export class PolicyService {
  constructor(
    private readonly deps: {
      db: Db
      catalog: Catalog
      graphs: GraphStore
      /** A stored connection exactly as runs resolve it (settings and secrets included), by name. */
      resolveConnection: (name: string) => Record<string, unknown> | undefined
    },
  ) {}

  list(): PolicyView[] {
    return ROLES.map((role) => this.get(role))
  }

  get(role: Role): PolicyView {
    const row = this.deps.db.select().from(policies).where(eq(policies.role, role)).get()
    if (row === undefined)
      return { role, policy: null, updatedAt: null, updatedBy: null, updatedByName: null }
    return {
      role,
      policy: this.parse(role, row.document),
      updatedAt: row.updatedAt.toISOString(),
      updatedBy: row.updatedBy,
      updatedByName: this.username(row.updatedBy),
    }
  }

  put(role: Role, document: PolicyDocument, userId: string): PolicyView {
    const values = { document: JSON.stringify(document), updatedAt: new Date(), updatedBy: userId }
    this.deps.db
      .insert(policies)
      .values({ role, ...values })
      .onConflictDoUpdate({ target: policies.role, set: values })
      .run()
    return this.get(role)
  }

  remove(role: Role): void {
    if (this.deps.db.delete(policies).where(eq(policies.role, role)).run().changes === 0)
      throw new ApiError(404, 'NOT_FOUND', `The ${role} role has no policy`)
  }

  /** Connector names for policy editors: the built-in ones and every other source/destination node type. */
  connectors(): string[] {
    const families = new Set(['csv', 'excel', 'ldap', 'sql'])
    const others = this.deps.catalog
      .list()
      .filter((d) => ['source', 'destination', 'sync'].includes(d.category))
      .map((d) => d.type)
      .filter((type) => !families.has(type.split('.')[0]!))
    return [...KNOWN_CONNECTORS, ...others]
  }

  /** The violations of a graph document (with parameter values) for a user's role; [] when it has no policy. */
  violations(
    input: unknown,
    params: Record<string, unknown>,
    userId: string | null,
  ): { role: Role | null; violations: Violation[] } {
    const role = userId === null ? null : this.roleOf(userId)
    const policy = role === null ? null : this.get(role).policy
    if (role === null || policy === null) return { role, violations: [] }
    const analysis = analyzeGraph(input, this.deps.catalog, { params })
    if (analysis.graph === undefined) return { role, violations: [] }
    let graph: Graph
    try {
      graph = bindParams(analysis.graph, params)
    } catch {
      // Parameter errors are validation's to report; check what can be checked.
      graph = analysis.graph
    }
    return {
      role,
      violations: checkPolicy(graph, policy, {
        role,
        catalog: this.deps.catalog,
        columns: analysis.columns,
        connectionDriver: (name) => this.connectionDriver(name),
      }),
    }
  }

  /** Refuse (403 POLICY_VIOLATION) a run its user's role policy does not allow. */
  enforce(run: RunActor): void {
    const actor = run.userId ?? run.ownerId ?? this.ownerOf(run.graphId)
    const known = actor === null ? null : this.roleOf(actor)
    if (known === null) {
      if (this.deps.db.select({ role: policies.role }).from(policies).get() === undefined) return
      throw new ApiError(
        403,
        'POLICY_VIOLATION',
        'The run has no user whose policy could be checked (the job’s owner no longer exists); policies are defined, so it cannot run',
        { role: null, violations: [] },
      )
    }
    const { role, violations } = this.violations(run.graph, run.params, actor)
    if (violations.length === 0) return
    throw new ApiError(
      403,
      'POLICY_VIOLATION',
      `The graph breaks the ${role} policy: ${violations.map((v) => v.message).join('; ')}`,
      { role, violations },
    )
  }

  /** The approval setting of a user's role policy, or null when the user's runs need no approval by policy. */
  approvalFor(userId: string): { role: Role; approval: ApprovalPolicy } | null {
    const role = this.roleOf(userId)
    const approval = role === null ? undefined : this.get(role).policy?.approval
    return role === null || approval === undefined ? null : { role, approval }
  }

  private ownerOf(graphId: string | null): string | null {
    if (graphId === null) return null
    try {
      return this.deps.graphs.row(graphId).createdBy
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null
      throw error
    }
  }

  private roleOf(userId: string): Role | null {
    return (
      this.deps.db.select({ role: users.role }).from(users).where(eq(users.id, userId)).get()?.role ?? null
    )
  }

  /** The driver a run would use: the resolved connection's, where settings and secrets may override the column. */
  private connectionDriver(name: string): string | undefined {
    const driver = this.deps.resolveConnection(name)?.driver
    return typeof driver === 'string' ? driver : undefined
  }

  private username(id: string | null): string | null {
    if (id === null) return null
    return this.deps.db.select({ u: users.username }).from(users).where(eq(users.id, id)).get()?.u ?? null
  }

  private parse(role: Role, text: string): PolicyDocument {
    const parsed = policyDocument.safeParse(JSON.parse(text))
    if (!parsed.success)
      throw new Error(`The stored ${role} policy is not a policy document: ${parsed.error.message}`)
    return parsed.data
  }
}
