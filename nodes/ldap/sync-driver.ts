import { open, type FileHandle } from 'node:fs/promises'
import { z } from 'zod'
import {
  compileExpression,
  ConnectorError,
  errorMessage,
  jsonataExpression,
  type Row,
} from '../../engine/index.ts'
import {
  applyItems,
  computePlan,
  toValues,
  withPlannedFailures,
  type AttributeRule,
  type Comparison,
  type Deprovision,
  type Naming,
  type Plan,
  type PlanItem,
  type ResultRow,
  type SyncDriver,
  type SyncDriverContext,
  type SyncValue,
} from '../../engine/sync/index.ts'
import {
  LdapConnection,
  LdapPool,
  ldapConnectionField,
  resolveLdapSettings,
  type EntryRow,
  type LdapSettings,
} from './connection.ts'
import { childDn, escapeDnValue, formatDn, formatRdn, normalizeDn, parseDn, sameDn, splitDn } from './dn.ts'
import { checkAttributeName, eq, or, wrapFilter } from './filter.ts'
import type { DirectorySchema, ObjectClassSchema } from './schema.ts'
import { isGuidAttribute } from './values.ts'
import { encodeUnicodePwd, generatePassword, parseEnabled, sshaHash, UAC, withAccountEnabled } from './ad.ts'

const attributeName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'an LDAP attribute name')

const flowRule = z
  .object({
    source: z
      .string()
      .min(1)
      .optional()
      .meta({ title: 'Source field', description: 'Default: the attribute name' }),
    flow: z.enum(['always', 'createOnly', 'ifEmpty']).default('always').meta({ title: 'When to write' }),
    empty: z.enum(['clear', 'keep']).default('clear').meta({ title: 'An empty source value' }),
  })
  .strict()

/** `userAccountControl` 514: a normal account, disabled (ACCOUNTDISABLE | NORMAL_ACCOUNT). */
const AD_DISABLED = { userAccountControl: [String(UAC.NORMAL_ACCOUNT | UAC.ACCOUNTDISABLE)] }

const passwordConfig = z
  .object({
    attribute: z.enum(['unicodePwd', 'userPassword']).default('unicodePwd').meta({
      title: 'Password attribute',
      description:
        'unicodePwd (Active Directory; needs ldaps:// or StartTLS) or userPassword (sent as an {SSHA} hash)',
    }),
    length: z.number().int().min(8).max(256).default(24).meta({ title: 'Length' }),
    lower: z.boolean().default(true).meta({ title: 'Lower-case letters' }),
    upper: z.boolean().default(true).meta({ title: 'Upper-case letters' }),
    digits: z.boolean().default(true).meta({ title: 'Digits' }),
    symbols: z.boolean().default(true).meta({ title: 'Symbols' }),
    deliver: z.enum(['port', 'file']).default('port').meta({
      title: 'Deliver the passwords to',
      description:
        'port: the "passwords" output only (wire it to a destination you trust); file: an owner-only CSV file',
    }),
    file: z.string().min(1).optional().meta({
      title: 'Password file',
      description: 'With deliver = file: where dn,password lines are appended',
    }),
  })
  .strict()

export const ldapSyncConfig = z
  .object({
    connection: ldapConnectionField(),
    base: z.string().min(1).meta({
      title: 'Scope base',
      description: 'Objects below it (and matching the filter) are the ones this node owns',
    }),
    scope: z.enum(['one', 'sub']).default('sub').meta({ title: 'Scope depth' }),
    filter: z
      .string()
      .default('(objectClass=*)')
      .meta({ title: 'Scope filter', description: 'e.g. (objectClass=inetOrgPerson)' }),
    key: z
      .array(
        z
          .object({
            source: z.string().min(1).meta({ title: 'Source field' }),
            target: attributeName.meta({ title: 'Directory attribute' }),
          })
          .strict(),
      )
      .min(1)
      .meta({
        title: 'Match on',
        description:
          'Source field ↔ directory attribute pairs; all must match. A created object gets every pair’s attribute, whatever the attribute flow lists, so the next run finds it.',
        'x-ui': { widget: 'keyPairs' },
      }),
    dn: z
      .union([
        z
          .object({
            rdn: attributeName.meta({ title: 'Naming attribute', description: 'e.g. cn or uid' }),
            from: z
              .string()
              .min(1)
              .optional()
              .meta({ title: 'Source field of its value', description: 'Default: the naming attribute' }),
            parent: z.string().min(1).meta({
              title: 'Container',
              description:
                'e.g. ou=People,dc=example,dc=com; must lie within the scope (base, and scope depth)',
            }),
            parentFrom: z.string().min(1).optional().meta({
              title: 'Source field holding the container DN',
              description:
                'Overrides the container per row; a container outside the scope (base, and scope depth) fails that row',
            }),
          })
          .strict(),
        z
          .object({
            expression: jsonataExpression({
              title: 'DN expression',
              description:
                'JSONata giving the DN; escape values with $dnEscape, e.g. "cn=" & $dnEscape(name) & ",ou=People,dc=example,dc=com"',
            }),
          })
          .strict(),
      ])
      .optional()
      .meta({
        title: 'DN of an object',
        description: 'Values are escaped for you (RFC 4514); a changed DN renames or moves the object',
      }),
    objectClass: z.array(z.string().min(1)).default([]).meta({ title: 'Object classes of new objects' }),
    create: z.boolean().default(true).meta({ title: 'Create missing objects' }),
    update: z.boolean().default(true).meta({ title: 'Update linked objects' }),
    deprovision: z
      .discriminatedUnion('action', [
        z.object({ action: z.literal('none') }).strict(),
        z.object({ action: z.literal('delete') }).strict(),
        z
          .object({
            action: z.literal('disable'),
            preset: z
              .enum(['activeDirectory'])
              .optional()
              .meta({ title: 'Preset', description: 'activeDirectory: userAccountControl 514' }),
            attributes: z
              .record(z.string(), z.union([z.string(), z.array(z.string())]))
              .optional()
              .meta({ title: 'Set these values' }),
          })
          .strict(),
        z
          .object({ action: z.literal('move'), container: z.string().min(1).meta({ title: 'Move into' }) })
          .strict(),
      ])
      .default({ action: 'none' })
      .meta({ title: 'Objects no source row matches' }),
    account: z
      .object({
        enabledFrom: z.string().min(1).meta({
          title: 'Source field saying the account is enabled',
          description:
            'true/false, 1/0, yes/no…; sets or clears ACCOUNTDISABLE in userAccountControl, keeping the other flags',
        }),
      })
      .strict()
      .optional()
      .meta({ title: 'Active Directory account' }),
    password: passwordConfig.optional().meta({
      title: 'Generated password on create',
      description:
        'A random password set on each created object and delivered only to the chosen destination; never logged, never in the plan',
    }),
    attributes: z
      .record(attributeName, z.union([z.string().min(1), flowRule]))
      .default({})
      .meta({
        title: 'Attribute flow',
        description: 'Directory attribute → source field, or {source, flow, empty}',
      }),
    maxDeletes: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ title: 'Refuse when more objects would be de-provisioned than' }),
    maxDeletePercent: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .meta({ title: 'Refuse over this percent of the scope' }),
    mode: z
      .enum(['apply', 'plan'])
      .default('apply')
      .meta({ title: 'Mode', description: 'plan computes and emits the plan, writing nothing' }),
    pageSize: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .meta({ title: 'Page size', 'x-ui': { advanced: true } }),
    connections: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(4)
      .meta({ title: 'Write connections', 'x-ui': { advanced: true } }),
  })
  .strict()

export type LdapSyncConfig = z.infer<typeof ldapSyncConfig>

function rules(config: LdapSyncConfig): Record<string, AttributeRule> {
  const out: Record<string, AttributeRule> = {}
  for (const [attribute, rule] of Object.entries(config.attributes)) {
    out[attribute] = typeof rule === 'string' ? { source: rule } : rule
  }
  if (config.account !== undefined) {
    const field = config.account.enabledFrom
    out.userAccountControl = {
      source: field,
      empty: 'keep',
      combine(have, want) {
        if (want.length === 0) return have
        const enabled = parseEnabled(want[0])
        if (enabled === undefined)
          throw new Error(`field "${field}": ${JSON.stringify(want[0])} is not enabled/disabled (true/false)`)
        return [withAccountEnabled(have[0], enabled)]
      },
    }
  }
  return out
}

function deprovisionOf(config: LdapSyncConfig): Deprovision {
  const d = config.deprovision
  switch (d.action) {
    case 'none':
    case 'delete':
      return { action: d.action }
    case 'disable': {
      const attributes: Record<string, SyncValue[]> = d.preset === 'activeDirectory' ? { ...AD_DISABLED } : {}
      for (const [a, v] of Object.entries(d.attributes ?? {})) attributes[a] = toValues(v)
      if (d.preset !== 'activeDirectory') return { action: 'disable', attributes }
      // Set ACCOUNTDISABLE on what the account holds, keeping its other flags.
      return {
        action: 'disable',
        attributes,
        valuesFor: (read) => ({
          ...attributes,
          userAccountControl: [withAccountEnabled(read('userAccountControl')[0], false)],
        }),
      }
    }
    case 'move':
      return { action: 'move', container: d.container }
    default: {
      const never: never = d
      throw new Error(`unhandled deprovision ${JSON.stringify(never)}`)
    }
  }
}

/** Case-ignore comparison form: trimmed, inner white space as one space, lower case. */
function fold(text: string): string {
  const trimmed = text.trim()
  return (/\s\s|[^\S ]/.test(trimmed) ? trimmed.replace(/\s+/g, ' ') : trimmed).toLowerCase()
}

/** Comparison by the directory's schema: DN syntax by normalised DN, integers by number, caseIgnore lower-cased. */
export function schemaComparison(schema: DirectorySchema): Comparison {
  type Kind = 'guid' | 'dn' | 'numeric' | 'exact' | 'fold'
  const kinds = new Map<string, Kind>()
  const kindOf = (attribute: string): Kind => {
    let kind = kinds.get(attribute)
    if (kind === undefined) {
      const info = schema.get(attribute)
      const lower = attribute.toLowerCase()
      kind = isGuidAttribute(attribute)
        ? 'guid'
        : info?.dn === true || lower === 'member' || lower === 'manager'
          ? 'dn'
          : info?.numeric === true
            ? 'numeric'
            : info?.caseExact === true || info?.binary === true
              ? 'exact'
              : 'fold'
      kinds.set(attribute, kind)
    }
    return kind
  }
  return {
    normalize(attribute, value) {
      const text = typeof value === 'boolean' ? (value ? 'TRUE' : 'FALSE') : String(value)
      switch (kindOf(attribute)) {
        case 'guid':
          return text
            .trim()
            .replace(/^\{|\}$/g, '')
            .toLowerCase()
        case 'dn':
          return normalizeDn(text)
        case 'numeric':
          return /^\s*-?\d+\s*$/.test(text)
            ? String(Number(text))
            : text.trim().replace(/\s+/g, ' ').toLowerCase()
        case 'exact':
          return text
        case 'fold':
          return fold(text)
      }
    },
    multiValued: (attribute) => {
      const info = schema.get(attribute)
      return info === undefined ? undefined : !info.single
    },
  }
}

function one(row: Row, field: string, what: string): string {
  const values = toValues(row[field])
  if (values.length !== 1) {
    throw new Error(
      values.length === 0
        ? `${what}: field "${field}" is empty`
        : `${what}: field "${field}" has ${values.length} values`,
    )
  }
  return String(values[0])
}

function parentOf(dn: string): string {
  return splitDn(dn).parent
}

type DnConfig = NonNullable<LdapSyncConfig['dn']>

/** The DN a row names, from `{rdn, from, parent, parentFrom}` (values escaped per RFC 4514). */
function dnFromParts(dn: Exclude<DnConfig, { expression: string }>, row: Row): string {
  const value = one(row, dn.from ?? dn.rdn, 'the DN')
  const parent = dn.parentFrom === undefined ? dn.parent : one(row, dn.parentFrom, 'the DN container')
  return childDn(dn.rdn, value, parent)
}

/**
 * Each row's DN from a JSONata expression with `$dnEscape`, computed ahead (the planner is synchronous);
 * a row whose expression fails or gives no DN gets the error instead.
 */
async function dnsFromExpression(
  expression: string,
  rows: readonly Row[],
): Promise<WeakMap<Row, string | Error>> {
  const compiled = compileExpression(expression)
  const bindings = { dnEscape: (v: unknown) => escapeDnValue(v === undefined || v === null ? '' : String(v)) }
  const out = new WeakMap<Row, string | Error>()
  for (const row of rows) {
    try {
      const value = await compiled.evaluate(row, bindings)
      if (typeof value !== 'string' || value.trim() === '') throw new Error('the DN expression gave no DN')
      out.set(row, formatDn(parseDn(value)))
    } catch (error) {
      out.set(row, new Error(`the DN expression: ${errorMessage(error)}`))
    }
  }
  return out
}

/** DN naming: renames within a container, moves across them; the RDN's values are implied attributes. */
export function ldapNaming(idFor: (row: Row) => string): Naming {
  return {
    idFor,
    sameId: sameDn,
    changeKind: (from, to) => (normalizeDn(parentOf(from)) === normalizeDn(parentOf(to)) ? 'rename' : 'move'),
    impliedAttributes(id) {
      const out: Record<string, SyncValue[]> = {}
      for (const ava of parseDn(id)[0] ?? []) (out[ava.type] ??= []).push(ava.value)
      return out
    },
    moveTo(id, container) {
      const first = parseDn(id)[0]
      if (first === undefined) throw new Error('cannot move the empty DN')
      return `${formatRdn(first)},${container}`
    },
  }
}

async function namingFor(config: LdapSyncConfig, rows: readonly Row[]): Promise<Naming | undefined> {
  const dn = config.dn
  if (dn === undefined) return undefined
  const inBase = baseGuard(config)
  if ('expression' in dn) {
    const dns = await dnsFromExpression(dn.expression, rows)
    return ldapNaming((row) => {
      const found = dns.get(row)
      if (found instanceof Error) throw found
      if (found === undefined) throw new Error('no DN computed for this row')
      return inBase(found)
    })
  }
  // A fixed container was checked with the config; one from a row is checked per row.
  if (dn.parentFrom === undefined) return ldapNaming((row) => dnFromParts(dn, row))
  return ldapNaming((row) => inBase(dnFromParts(dn, row)))
}

/** Why an object may not be named `dn` by this node (outside its base or scope depth), or undefined. */
function outsideBase(config: Pick<LdapSyncConfig, 'base' | 'scope'>, parent: string): string | undefined {
  const p = normalizeDn(parent)
  const b = normalizeDn(config.base)
  if (config.scope === 'one') {
    return p === b ? undefined : `directly below its base "${config.base}" (scope one)`
  }
  return b === '' || p === b || p.endsWith(`,${b}`) ? undefined : `below its base "${config.base}"`
}

/**
 * A check that a DN a row names lies in the node's scope (M6: a `parentFrom` or DN expression must not
 * reach `ou=Admins` or the domain root): the DN back, or an error saying where it may go. Containers
 * are few, so their verdicts are kept.
 */
function baseGuard(config: LdapSyncConfig): (dn: string) => string {
  const verdicts = new Map<string, string | undefined>()
  return (dn) => {
    const comma = firstComma(dn)
    const parent = comma < 0 ? '' : dn.slice(comma + 1)
    let verdict = verdicts.get(parent)
    if (verdict === undefined && !verdicts.has(parent)) {
      verdict = outsideBase(config, parent)
      if (verdicts.size < 10_000) verdicts.set(parent, verdict)
    }
    if (verdict !== undefined)
      throw new ConnectorError(
        'DN_OUTSIDE_BASE',
        `the DN "${dn}" is outside the node's scope: ldap.sync creates, renames and moves objects only ${verdict}`,
      )
    return dn
  }
}

function check(config: LdapSyncConfig, nodeId: string): void {
  const fail = (field: string, message: string): never => {
    throw new ConnectorError('CONFIG_INVALID', message, { nodeId, field })
  }
  if (config.create && config.dn === undefined) fail('dn', 'creating objects needs dn: {rdn, parent}')
  if (config.create && config.objectClass.length === 0)
    fail('objectClass', 'creating objects needs at least one object class')
  for (const [a] of Object.entries(config.attributes)) checkAttributeName(a)
  if (config.password?.deliver === 'file' && config.password.file === undefined)
    fail('password.file', 'deliver = file needs password.file')
  try {
    if (config.dn !== undefined && !('expression' in config.dn)) parseDn(config.dn.parent)
    parseDn(config.base)
    if (config.deprovision.action === 'move') parseDn(config.deprovision.container)
  } catch (error) {
    fail('dn', errorMessage(error))
  }
  const problem = parentProblem(config)
  if (problem !== undefined) fail('dn.parent', problem)
}

/** Why `dn.parent` (the container of every new object, when no row names one) is outside the scope. */
export function parentProblem(config: Pick<LdapSyncConfig, 'base' | 'scope' | 'dn'>): string | undefined {
  const dn = config.dn
  if (dn === undefined || 'expression' in dn || dn.parentFrom !== undefined) return undefined
  const where = outsideBase(config, dn.parent)
  return where === undefined
    ? undefined
    : `the container "${dn.parent}" is outside the node's scope: new objects must go ${where}, or the next run would not find them`
}

/** Every attribute the plan needs to read from the scope. */
function attributesToRead(config: LdapSyncConfig): string[] {
  const names = new Set<string>()
  for (const k of config.key) names.add(k.target)
  for (const a of Object.keys(config.attributes)) names.add(a)
  const d = deprovisionOf(config)
  if (d.action === 'disable') for (const a of Object.keys(d.attributes)) names.add(a)
  if (config.account !== undefined) names.add('userAccountControl')
  if (config.dn !== undefined && !('expression' in config.dn)) names.add(config.dn.rdn)
  return [...names]
}

/** The objects in a sync's scope, read in one paged search, with what the plan compares them by. */
export interface LdapScope {
  url: string
  schema: DirectorySchema
  /** The object classes, when the node creates objects and the directory says what they require. */
  classes?: ObjectClassSchema
  targets: { id: string; attributes: EntryRow }[]
}

/** Read the scope in one paged search (a run starts it while its input rows still arrive). */
export async function readLdapScope(
  ctx: Pick<SyncDriverContext, 'connections' | 'files' | 'nodeId' | 'signal'> & { config: LdapSyncConfig },
): Promise<LdapScope> {
  const { config, nodeId } = ctx
  check(config, nodeId)
  const settings = await resolveLdapSettings(ctx, config.connection)
  const connection = await LdapConnection.open(settings, { nodeId, field: 'connection' })
  try {
    const schema = await connection.schema()
    const classes = config.create ? await connection.objectClasses() : undefined
    const targets: { id: string; attributes: EntryRow }[] = []
    for await (const page of connection.search({
      base: config.base,
      scope: config.scope,
      filter: wrapFilter(config.filter),
      attributes: attributesToRead(config),
      pageSize: config.pageSize,
    })) {
      ctx.signal.throwIfAborted()
      for (const entry of page) targets.push({ id: entry.dn, attributes: entry })
    }
    return { url: settings.url, schema, ...(classes === undefined ? {} : { classes }), targets }
  } finally {
    await connection.close()
  }
}

/** Compute the plan from the scope (read here unless given) and the source rows. */
export async function planLdapSync(
  ctx: SyncDriverContext & { config: LdapSyncConfig; rows: readonly Row[]; scope?: Promise<LdapScope> },
): Promise<Plan> {
  const { config, nodeId } = ctx
  check(config, nodeId)
  const scope = await (ctx.scope ?? readLdapScope(ctx))
  const { url, schema, targets } = scope
  const naming = await namingFor(config, ctx.rows)
  const computed = computePlan({
    nodeId,
    type: 'ldap.sync',
    target: {
      url,
      base: config.base,
      scope: config.scope,
      filter: wrapFilter(config.filter),
      ...(config.password === undefined
        ? {}
        : {
            password: `generated on create (${config.password.attribute}), delivered to ${config.password.deliver}`,
          }),
    },
    sources: ctx.rows,
    targets,
    key: config.key,
    attributes: rules(config),
    create: config.create,
    update: config.update,
    createAttributes: config.objectClass.length > 0 ? { objectClass: config.objectClass } : {},
    deprovision: deprovisionOf(config),
    maxDeletes: config.maxDeletes ?? null,
    maxDeletePercent: config.maxDeletePercent ?? null,
    comparison: schemaComparison(schema),
    ...(naming === undefined ? {} : { naming }),
  })
  const plan = withPlannedFailures(computed, await knownFailures(ctx, computed, scope))
  ctx.log.info(
    `plan: ${
      Object.entries(plan.counts)
        .filter(([, n]) => n > 0)
        .map(([a, n]) => `${n} ${a}`)
        .join(', ') || 'nothing in scope'
    }`,
  )
  return plan
}

/**
 * What apply would hit and the plan can know (issue 12): a new object missing an attribute its
 * object classes require (read from the subschema), a class the schema does not have, a DN that an
 * entry already has (in scope but not matched by key, or outside the scope) or that two objects of
 * the plan would get, and a container that does not exist.
 */
async function knownFailures(
  ctx: SyncDriverContext & { config: LdapSyncConfig },
  plan: Plan,
  scope: LdapScope,
): Promise<Map<PlanItem, Failure>> {
  const failures = new Map<PlanItem, Failure>()
  const { config } = ctx
  const creates = plan.items.filter((i) => i.action === 'create')
  if (scope.classes !== undefined && creates.length > 0) {
    const canonical = (name: string) => (scope.schema.get(name)?.name ?? name).toLowerCase()
    const { attributes: required, unknown } = scope.classes.required(config.objectClass)
    const given = ['objectClass', ...(config.password === undefined ? [] : [config.password.attribute])]
    for (const item of creates) {
      if (unknown.length > 0) {
        failures.set(item, {
          code: 'LDAP_OBJECT_CLASS_VIOLATION',
          reason: `the directory's schema has no object class ${unknown.map((c) => `'${c}'`).join(', ')}`,
        })
        continue
      }
      const have = new Set([...given, ...Object.keys(item.after ?? {})].map(canonical))
      const missing = required.filter((r) => !have.has(canonical(r.name)))
      if (missing.length > 0) {
        failures.set(item, {
          code: 'LDAP_OBJECT_CLASS_VIOLATION',
          reason: `${missing.map((m) => `object class '${m.class}' requires attribute '${m.name}'`).join('; ')}, which this row does not give (the directory would refuse the create)`,
        })
      }
    }
  }
  const placed = plan.items.filter(
    (i) => (i.action === 'create' || i.action === 'rename' || i.action === 'move') && !failures.has(i),
  )
  if (placed.length > 0)
    for (const [item, why] of await dnConflicts(ctx, plan, placed, scope)) failures.set(item, why)
  return failures
}

/** Why the plan knows an object cannot be written: the code the directory would answer, and the reason. */
interface Failure {
  code: string
  reason: string
}

/** Values per filter when asking the directory which of the plan's new DNs exist already. */
const EXISTS_CHUNK = 200

/**
 * Objects of the plan whose new DN cannot be had: an entry has it (one this plan does not move away
 * or delete), an earlier object of the plan gets it, or its container does not exist (and the plan
 * does not create it). One one-level search per container and 200 names.
 */
async function dnConflicts(
  ctx: SyncDriverContext & { config: LdapSyncConfig },
  plan: Plan,
  placed: readonly PlanItem[],
  scope: LdapScope,
): Promise<Map<PlanItem, Failure>> {
  const { config } = ctx
  const failures = new Map<PlanItem, Failure>()
  const leaving = new Set(
    plan.items
      .filter((i) => i.action === 'rename' || i.action === 'move' || i.action === 'delete')
      .map((i) => normalizeDn(i.dn)),
  )
  const wanted = new Map<string, PlanItem>()
  const byParent = new Map<string, { parent: string; items: { item: PlanItem; dn: string }[] }>()
  for (const item of placed) {
    const dn = item.newDn ?? item.dn
    const norm = normalizeDn(dn)
    const earlier = wanted.get(norm)
    if (earlier !== undefined) {
      failures.set(item, {
        code: 'LDAP_ALREADY_EXISTS',
        reason: `${earlier.row === undefined ? 'another object' : `row ${earlier.row}`} of the input gets the same DN ${dn}`,
      })
      continue
    }
    wanted.set(norm, item)
    const { parent } = splitDn(dn)
    const key = normalizeDn(parent)
    let group = byParent.get(key)
    if (group === undefined) byParent.set(key, (group = { parent, items: [] }))
    group.items.push({ item, dn })
  }
  if (byParent.size === 0) return failures
  const settings = await resolveLdapSettings(ctx, config.connection)
  const connection = await LdapConnection.open(settings, { nodeId: ctx.nodeId, field: 'connection' })
  const found = new Set<string>()
  try {
    for (const [key, group] of byParent) {
      try {
        for (let i = 0; i < group.items.length; i += EXISTS_CHUNK) {
          ctx.signal.throwIfAborted()
          const names = group.items.slice(i, i + EXISTS_CHUNK).map(({ dn }) => parseDn(dn)[0]![0]!)
          // Names only (no attributes), at most EXISTS_CHUNK of them: one unpaged search, no schema needed.
          const { searchEntries } = await connection.client.search(group.parent, {
            scope: 'one',
            filter: or(...names.map((ava) => eq(ava.type, ava.value))),
            attributes: ['1.1'],
          })
          for (const entry of searchEntries) found.add(normalizeDn(entry.dn))
        }
      } catch (error) {
        const mapped = connection.error(error)
        if (mapped.code !== 'NO_SUCH_OBJECT') throw mapped
        // A container the plan itself creates (or moves there) exists by the time its children are written.
        if (wanted.has(key)) continue
        for (const { item } of group.items)
          failures.set(item, {
            code: 'NO_SUCH_OBJECT',
            reason: `its container "${group.parent}" does not exist in the directory`,
          })
      }
    }
  } finally {
    await connection.close()
  }
  const conflicts = placed.filter((item) => {
    const norm = normalizeDn(item.newDn ?? item.dn)
    return found.has(norm) && !leaving.has(norm) && !failures.has(item)
  })
  if (conflicts.length === 0) return failures
  const inScope = new Map(scope.targets.map((t) => [normalizeDn(t.id), t]))
  const keyOf = (attributes: EntryRow) =>
    config.key
      .map(
        (k) =>
          `${k.target}: ${toValues(attributes[k.target] ?? attributes[k.target.toLowerCase()]).join(', ') || 'none'}`,
      )
      .join('; ')
  for (const item of conflicts) {
    const dn = item.newDn ?? item.dn
    const target = inScope.get(normalizeDn(dn))
    failures.set(item, {
      code: 'LDAP_ALREADY_EXISTS',
      reason:
        target === undefined
          ? `an entry ${dn} already exists outside the node's scope (base and filter), so this node does not own it`
          : `an entry ${dn} already exists in scope but does not match this row's key (it has ${keyOf(target.attributes)})`,
    })
  }
  return failures
}

const text = (v: SyncValue): string => (typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : String(v))

const texts = (values: readonly SyncValue[]): string[] =>
  values.every((v) => typeof v === 'string') ? (values as string[]) : values.map(text)

/** Write one planned object; a create may carry extra (secret) attribute values that are not in the plan. */
function writeItem(
  connection: LdapConnection,
  item: PlanItem,
  secret?: { attribute: string; value: string | Buffer },
): Promise<void> {
  let sent: Promise<void>
  try {
    sent = sendItem(connection, item, secret)
  } catch (error) {
    sent = Promise.reject(error)
  }
  return sent.catch((error: unknown) => {
    throw connection.error(error, { field: 'dn' })
  })
}

function sendItem(
  connection: LdapConnection,
  item: PlanItem,
  secret?: { attribute: string; value: string | Buffer },
): Promise<void> {
  switch (item.action) {
    case 'create': {
      const attributes: Record<string, string[] | Buffer[]> = {}
      for (const c of item.changes) attributes[c.attribute] = texts(c.values)
      if (secret !== undefined) attributes[secret.attribute] = [secret.value] as string[] | Buffer[]
      return connection.add(item.dn, attributes)
    }
    case 'update':
    case 'disable':
      return connection.modify(item.dn, changesOf(item))
    case 'rename':
    case 'move':
      return renameItem(connection, item)
    case 'delete':
      return connection.del(item.dn)
    case 'none':
    case 'ambiguous':
    case 'error':
      return Promise.resolve()
    default: {
      const never: never = item.action
      throw new Error(`unhandled action ${String(never)}`)
    }
  }
}

const changesOf = (item: PlanItem) =>
  item.changes.map((c) => ({ op: c.op, attribute: c.attribute, values: texts(c.values) }))

async function renameItem(connection: LdapConnection, item: PlanItem): Promise<void> {
  const to = splitDn(item.newDn!)
  await connection.modifyDN(item.dn, to.rdn, item.action === 'move' ? to.parent : undefined)
  if (item.changes.length > 0) await connection.modify(item.newDn!, changesOf(item))
}

/** The error a run over a threshold fails with. */
export function thresholdError(plan: Plan, nodeId: string): ConnectorError {
  return new ConnectorError('THRESHOLD_EXCEEDED', plan.thresholds.message ?? 'the plan is over a threshold', {
    nodeId,
    field:
      plan.thresholds.maxDeletes !== null && plan.thresholds.removals > plan.thresholds.maxDeletes
        ? 'maxDeletes'
        : 'maxDeletePercent',
  })
}

/** A generated password with the object it was set on: a row of the `passwords` port. */
export interface PasswordRow extends Row {
  key: Record<string, unknown>
  dn: string
  password: string
}

/** Where generated passwords go; `port` when the caller passes them on to the node's output. */
export type PasswordSink = (row: PasswordRow) => void

const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)

/** An owner-only CSV file that generated passwords are appended to (`dn,password,key`). */
async function openPasswordFile(
  ctx: SyncDriverContext,
  path: string,
): Promise<{ sink: PasswordSink; close(): Promise<void> }> {
  const absolute = await ctx.files.resolve(path, { mode: 'write', field: 'password.file' })
  let handle: FileHandle
  try {
    handle = await open(absolute, 'a', 0o600)
    await handle.chmod(0o600)
  } catch (error) {
    throw new ConnectorError(
      'PASSWORD_FILE',
      `cannot open the password file ${path}: ${errorMessage(error)}`,
      {
        nodeId: ctx.nodeId,
        field: 'password.file',
        cause: error,
      },
    )
  }
  const lines: string[] = []
  if ((await handle.stat()).size === 0) lines.push('dn,password,key\n')
  return {
    sink: (row) => lines.push(`${[row.dn, row.password, JSON.stringify(row.key)].map(csvField).join(',')}\n`),
    async close() {
      try {
        if (lines.length > 0) await handle.appendFile(lines.join(''))
      } finally {
        await handle.close()
      }
    },
  }
}

/** The secret attribute value of a new object, and the password it encodes. */
function newPassword(
  config: NonNullable<LdapSyncConfig['password']>,
  item: PlanItem,
): { attribute: string; value: string | Buffer; password: string } {
  const first = (name: string) => {
    const found = Object.entries(item.after ?? {}).find(([a]) => a.toLowerCase() === name.toLowerCase())
    const v = found?.[1][0]
    return v === undefined ? undefined : String(v)
  }
  const samAccountName = first('sAMAccountName')
  const displayName = first('displayName') ?? first('cn')
  const password = generatePassword(config, {
    ...(samAccountName === undefined ? {} : { samAccountName }),
    ...(displayName === undefined ? {} : { displayName }),
  })
  return config.attribute === 'unicodePwd'
    ? { attribute: 'unicodePwd', value: encodeUnicodePwd(password), password }
    : { attribute: 'userPassword', value: sshaHash(password), password }
}

/**
 * Apply a plan over a small pool of connections, writes pipelined; refuses a plan over a threshold
 * before writing anything. Yields results rows in plan order. With `password` configured, each created
 * object gets a generated password, handed to `onPassword` (deliver = port) or the password file.
 */
export async function* applyLdapSync(
  ctx: SyncDriverContext & {
    config: LdapSyncConfig
    plan: Plan
    stats?: { writes: number }
    onPassword?: PasswordSink
    /** Write connections opened ahead (`openWritePool`); the caller closes them. */
    pool?: Promise<LdapPool>
    /** Stop at the first failed write (onRowError `fail`); the writes in flight settle. */
    halt?: boolean
  },
): AsyncGenerator<ResultRow[], void, undefined> {
  const { config, plan, nodeId } = ctx
  if (plan.thresholds.exceeded) throw thresholdError(plan, nodeId)
  if (!plan.items.some((i) => i.action !== 'none' && i.action !== 'ambiguous' && i.action !== 'error')) {
    for await (const rows of applyItems(plan, async () => undefined, { concurrency: 1 })) yield rows
    return
  }
  const settings = await resolveLdapSettings(ctx, config.connection)
  const creates = plan.items.some((i) => i.action === 'create')
  const passwords = config.password
  let sink: PasswordSink | undefined
  let closeSink = async () => undefined as void
  if (passwords !== undefined && creates) {
    if (passwords.attribute === 'unicodePwd' && !/^ldaps:/i.test(settings.url) && !settings.startTLS) {
      throw new ConnectorError(
        'CONFIG_INVALID',
        'Active Directory sets unicodePwd only over an encrypted connection: use an ldaps:// URL or startTLS',
        { nodeId, field: 'connection' },
      )
    }
    if (passwords.deliver === 'file') {
      const file = await openPasswordFile(ctx, passwords.file!)
      sink = file.sink
      closeSink = file.close
    } else if (ctx.onPassword === undefined) {
      throw new ConnectorError(
        'CONFIG_INVALID',
        'generated passwords go to the "passwords" port, which only a graph run has; set password.deliver = file to apply this plan outside a run',
        { nodeId, field: 'password.deliver' },
      )
    } else {
      sink = ctx.onPassword
    }
  }
  const write = (connection: LdapConnection, item: PlanItem): Promise<void> => {
    if (sink === undefined || item.action !== 'create') return writeItem(connection, item)
    const secret = newPassword(passwords!, item)
    return writeItem(connection, item, secret).then(() =>
      sink({ key: item.key, dn: item.dn, password: secret.password }),
    )
  }
  let pool: LdapPool | undefined
  let given: LdapPool | undefined
  const order = writeOrder(plan.items)
  try {
    given = ctx.pool === undefined ? undefined : await ctx.pool
    // Connections opened ahead that the server has closed meanwhile (an idle timeout): open afresh.
    if (given !== undefined && !given.isOpen()) given = undefined
    pool = given ?? (await openWritePool(ctx, settings))
    const send = (item: PlanItem) => pool!.run((c) => write(c, item))
    for await (const rows of applyItems(plan, order === undefined ? send : (item) => order(item, send), {
      concurrency: config.connections * PIPELINE_DEPTH,
      signal: ctx.signal,
      sliding: true,
      halt: ctx.halt === true,
    })) {
      yield rows
    }
  } finally {
    if (ctx.stats !== undefined && pool !== undefined) ctx.stats.writes = pool.writes
    if (pool !== given) await pool?.close()
    await closeSink()
  }
}

/**
 * Open a sync's write connections (a run does it while its rows arrive and the plan is made, and
 * passes the pool to `applyLdapSync`, closing it itself).
 */
export async function openWritePool(
  ctx: Pick<SyncDriverContext, 'connections' | 'files' | 'nodeId'> & { config: LdapSyncConfig },
  settings?: LdapSettings,
): Promise<LdapPool> {
  const resolved = settings ?? (await resolveLdapSettings(ctx, ctx.config.connection))
  return LdapPool.open(
    resolved,
    ctx.config.connections,
    { nodeId: ctx.nodeId, field: 'connection' },
    PIPELINE_DEPTH,
  )
}

/** Operations in flight per write connection (slapd queues up to 1000 per bound connection). */
const PIPELINE_DEPTH = 32

/**
 * The first RDN's end in a DN string: the first comma not escaped by a backslash, or -1. Quoted
 * values (an RFC 1779 form no directory returns and this node never writes) are not looked into.
 */
function firstComma(dn: string): number {
  for (let i = 0; i < dn.length; i++) {
    const ch = dn.charCodeAt(i)
    if (ch === 0x5c) i++
    else if (ch === 0x2c) return i
  }
  return -1
}

function countRdns(dn: string): number {
  let n = dn.trim() === '' ? 0 : 1
  for (let i = 0; i < dn.length; i++) {
    const ch = dn.charCodeAt(i)
    if (ch === 0x5c) i++
    else if (ch === 0x2c) n++
  }
  return n
}

/**
 * Writes are pipelined, so the order of a plan's items no longer orders their writes. This keeps what
 * the directory needs: an object created (or renamed or moved) under a container that an earlier item
 * of the plan creates, renames or moves waits for that write; a delete waits for earlier deletes of its
 * children. Undefined when no item of the plan depends on another (the usual case, checked cheaply).
 */
export function writeOrder(
  items: readonly PlanItem[],
): ((item: PlanItem, send: (item: PlanItem) => Promise<void>) => Promise<void>) | undefined {
  const normalized = new Map<string, string>()
  const norm = (dn: string) => {
    let n = normalized.get(dn)
    if (n === undefined) {
      n = normalizeDn(dn)
      normalized.set(dn, n)
    }
    return n
  }
  const parentOfText = (dn: string) => {
    const comma = firstComma(dn)
    return comma < 0 ? '' : dn.slice(comma + 1)
  }
  const places = (item: PlanItem) =>
    item.action === 'create' || item.action === 'rename' || item.action === 'move'
  // The containers new names go into, and the parents of deleted objects.
  const containers = new Set<string>()
  const deletedParents = new Set<string>()
  for (const item of items) {
    if (places(item)) containers.add(norm(parentOfText(item.newDn ?? item.dn)))
    else if (item.action === 'delete') deletedParents.add(norm(parentOfText(item.dn)))
  }
  const depths = new Set([...containers].map(countRdns))
  const isContainer = (item: PlanItem) => {
    const dn = item.newDn ?? item.dn
    return depths.has(countRdns(dn)) && containers.has(normalizeDn(dn))
  }
  const deletes = items.filter((i) => i.action === 'delete')
  const placesContainers = items.some((i) => places(i) && isContainer(i))
  const deletesParents = deletes.some((i) => deletedParents.has(normalizeDn(i.dn)))
  if (!placesContainers && !deletesParents) return undefined
  const placed = new Map<string, Promise<unknown>>()
  const deleting = new Map<string, Promise<unknown>[]>()
  return async (item, send) => {
    let before: Promise<unknown>[] = []
    if (places(item)) {
      const wait = placed.get(norm(parentOfText(item.newDn ?? item.dn)))
      if (wait !== undefined) before = [wait]
    } else if (item.action === 'delete') {
      before = deleting.get(normalizeDn(item.dn)) ?? []
    }
    const done = before.length === 0 ? send(item) : Promise.allSettled(before).then(() => send(item))
    if (places(item) && placesContainers && isContainer(item))
      placed.set(normalizeDn(item.newDn ?? item.dn), done)
    if (item.action === 'delete' && deletesParents) {
      const parent = norm(parentOfText(item.dn))
      if (deletedParents.has(parent)) {
        const list = deleting.get(parent)
        if (list === undefined) deleting.set(parent, [done])
        else list.push(done)
      }
    }
    return done
  }
}

/** The driver `syncgraph plan` / `syncgraph apply` use for ldap.sync nodes. */
export const ldapSyncDriver: SyncDriver = {
  type: 'ldap.sync',
  plan: (ctx) => planLdapSync({ ...ctx, config: ldapSyncConfig.parse(ctx.config) }),
  async apply(ctx) {
    const stats = { writes: 0 }
    const rows: ResultRow[] = []
    for await (const chunk of applyLdapSync({ ...ctx, config: ldapSyncConfig.parse(ctx.config), stats }))
      rows.push(...chunk)
    return { rows, writes: stats.writes }
  },
}
