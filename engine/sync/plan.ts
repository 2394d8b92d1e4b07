import { errorCode, errorMessage } from '../errors.ts'
import type { Row } from '../types.ts'
import {
  SYNC_ACTIONS,
  type AttributeChange,
  type Plan,
  type PlanItem,
  type SyncAction,
  type SyncValue,
  type ThresholdVerdict,
} from './types.ts'

/** How values compare; a destination supplies its own (LDAP: case rules and DN syntax from the schema). */
export interface Comparison {
  /** The comparison form of one value of `attribute`: equal forms are the same value. */
  normalize(attribute: string, value: SyncValue): string
  /** Whether `attribute` holds several values; undefined lets the planner judge from the values. */
  multiValued(attribute: string): boolean | undefined
}

/** How objects are named; only destinations with hierarchical names (LDAP DNs) need it. */
export interface Naming {
  /** The id a source row's object should have; throw when the row cannot name one. */
  idFor(row: Row): string
  sameId(a: string, b: string): boolean
  /** `rename` when only the leaf name differs, `move` when the container does. */
  changeKind(from: string, to: string): 'rename' | 'move'
  /** Values an id implies on the object (LDAP: the RDN's attribute values). */
  impliedAttributes?(id: string): Record<string, SyncValue[]>
  /** The id of `id` moved into `container`. */
  moveTo?(id: string, container: string): string
}

export type Flow = 'always' | 'createOnly' | 'ifEmpty'

export interface AttributeRule {
  /** The source field (default: the attribute's own name). */
  source?: string
  flow?: Flow
  /** What an empty source value means: clear the attribute, or keep what is there. */
  empty?: 'clear' | 'keep'
  /**
   * The values to write from what the object holds and the source values (e.g. one flag of a bit
   * field); `have` is empty on create. Throw to put the object in error.
   */
  combine?(have: SyncValue[], want: SyncValue[]): SyncValue[]
}

export type Deprovision =
  | { action: 'none' }
  | { action: 'delete' }
  | {
      action: 'disable'
      attributes: Record<string, SyncValue[]>
      /** Per object instead of `attributes`, from what it holds (e.g. one flag of a bit field). */
      valuesFor?(read: (attribute: string) => SyncValue[]): Record<string, SyncValue[]>
    }
  | { action: 'move'; container: string }

export interface TargetObject {
  id: string
  attributes: Record<string, unknown>
}

export interface PlanInput {
  nodeId: string
  type: string
  target: Record<string, unknown>
  sources: readonly Row[]
  /** Every object in scope, from one bulk read. */
  targets: readonly TargetObject[]
  key: readonly { source: string; target: string }[]
  attributes: Readonly<Record<string, AttributeRule>>
  create: boolean
  update: boolean
  /** Values every created object gets (LDAP: objectClass). */
  createAttributes?: Record<string, SyncValue[]>
  deprovision: Deprovision
  maxDeletes?: number | null
  maxDeletePercent?: number | null
  comparison?: Comparison
  naming?: Naming
  now?: Date
}

/** Plain comparison: numbers and booleans by their text, strings exactly. */
export const exactComparison: Comparison = {
  normalize: (_attribute, value) => String(value),
  multiValued: () => undefined,
}

/** A field's values: null, undefined, '' and [] are empty; arrays are flattened; objects become JSON. */
export function toValues(raw: unknown): SyncValue[] {
  if (raw === null || raw === undefined) return []
  if (typeof raw === 'string') return raw === '' ? [] : [raw]
  const list = Array.isArray(raw) ? raw.flat(Infinity) : [raw]
  const out: SyncValue[] = []
  for (const v of list) {
    if (v === null || v === undefined || v === '') continue
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.push(v)
    else if (v instanceof Date) out.push(v.toISOString())
    else out.push(JSON.stringify(v))
  }
  return out
}

/**
 * An object's raw value of `name`, matching the name case-insensitively. The exact spelling is tried
 * first (sources usually ask for the names they flow), so most lookups allocate nothing.
 */
function rawAttribute(attributes: Record<string, unknown>, name: string): unknown {
  const direct = attributes[name]
  if (direct !== undefined) return direct
  const lower = name.toLowerCase()
  let found: unknown
  for (const k in attributes) if (k.toLowerCase() === lower) found = attributes[k]
  return found
}

/** A case-insensitive view of an object's attributes. */
function attributeReader(attributes: Record<string, unknown>): (name: string) => SyncValue[] {
  return (name) => toValues(rawAttribute(attributes, name))
}

/** The one value of a field holding exactly one (a scalar or a one-element array), else undefined. */
function singleValue(raw: unknown): SyncValue | undefined {
  const v = Array.isArray(raw) ? (raw.length === 1 ? (raw[0] as unknown) : undefined) : raw
  if (typeof v === 'string') return v === '' ? undefined : v
  return typeof v === 'number' || typeof v === 'boolean' ? v : undefined
}

const KEY_SEPARATOR = '\u0000'

/**
 * Compute a sync plan: correlate source rows with the objects in scope by key, and say per object
 * whether it is created, updated (smallest changes), renamed or moved, de-provisioned, left alone,
 * ambiguous (several matches: never written) or in error; with counts and the threshold verdict.
 */
export function computePlan(input: PlanInput): Plan {
  const comparison = input.comparison ?? exactComparison
  const norm = (attribute: string, v: SyncValue) => comparison.normalize(attribute, v)
  const items: PlanItem[] = []

  // Index the targets by their key values (a multi-valued key attribute indexes every value).
  const index = new Map<string, number[] | number>()
  const single = input.key.length === 1 ? input.key[0]! : undefined
  const indexTarget = (k: string, t: number) => {
    const list = index.get(k)
    if (list === undefined) index.set(k, t)
    else if (typeof list === 'number') {
      if (list !== t) index.set(k, [list, t])
    } else if (list[list.length - 1] !== t) list.push(t)
  }
  for (let t = 0; t < input.targets.length; t++) {
    const attributes = input.targets[t]!.attributes
    if (single !== undefined) {
      const raw = rawAttribute(attributes, single.target)
      const one = singleValue(raw)
      if (one !== undefined) {
        indexTarget(norm(single.target, one), t)
        continue
      }
    }
    let keys: string[] = ['']
    let empty = false
    for (const pair of input.key) {
      const values = toValues(rawAttribute(attributes, pair.target)).map((v) => norm(pair.target, v))
      if (values.length === 0) {
        empty = true
        break
      }
      keys = keys.flatMap((k) => values.map((v) => (k === '' ? v : `${k}${KEY_SEPARATOR}${v}`)))
    }
    if (!empty) for (const k of keys) indexTarget(k, t)
  }
  const matchesOf = (k: string): readonly number[] => {
    const found = index.get(k)
    return found === undefined ? [] : typeof found === 'number' ? [found] : found
  }

  // Key each source row; rows sharing a key are errors (which object would win is a guess).
  const sourceKeys: (string | { error: string })[] = input.sources.map((row) => {
    if (single !== undefined) {
      const one = singleValue(row[single.source])
      if (one !== undefined) return norm(single.target, one)
    }
    const parts: string[] = []
    for (const pair of input.key) {
      const values = toValues(row[pair.source])
      if (values.length === 0) return { error: `key field "${pair.source}" is empty` }
      if (values.length > 1) return { error: `key field "${pair.source}" has ${values.length} values` }
      parts.push(norm(pair.target, values[0]!))
    }
    return parts.join(KEY_SEPARATOR)
  })
  const sourceCount = new Map<string, number>()
  for (const k of sourceKeys) if (typeof k === 'string') sourceCount.set(k, (sourceCount.get(k) ?? 0) + 1)

  const rules: Rules = {
    flow: Object.entries(input.attributes),
    create: Object.entries(input.createAttributes ?? {}),
  }
  const claimed = new Uint8Array(input.targets.length)
  input.sources.forEach((row, i) => {
    const position = i + 1
    const key: Record<string, unknown> = {}
    for (const p of input.key) key[p.source] = row[p.source] ?? null
    const base = { key, row: position, changes: [] as AttributeChange[], before: null, after: null }
    const sk = sourceKeys[i]!
    if (typeof sk !== 'string') {
      items.push({ ...base, dn: '', action: 'error', reason: sk.error })
      return
    }
    const matches = matchesOf(sk)
    for (const t of matches) claimed[t] = 1
    if ((sourceCount.get(sk) ?? 0) > 1) {
      items.push({
        ...base,
        dn: matches.length === 1 ? input.targets[matches[0]!]!.id : '',
        action: 'error',
        reason: `${sourceCount.get(sk)} source rows have this key`,
      })
      return
    }
    if (matches.length > 1) {
      items.push({
        ...base,
        dn: '',
        action: 'ambiguous',
        reason: `${matches.length} objects in scope match this key: ${matches
          .slice(0, 5)
          .map((t) => input.targets[t]!.id)
          .join('; ')}${matches.length > 5 ? '; …' : ''}`,
        matches: matches.map((t) => input.targets[t]!.id),
      })
      return
    }
    try {
      if (matches.length === 0) items.push(planCreate(input, rules, row, base, norm))
      else items.push(planUpdate(input, rules, row, input.targets[matches[0]!]!, base, norm))
    } catch (error) {
      const code = errorCode(error)
      items.push({
        ...base,
        dn: '',
        action: 'error',
        reason: errorMessage(error),
        ...(code === undefined ? {} : { code }),
      })
    }
  })

  input.targets.forEach((target, t) => {
    if (claimed[t] === 1) return
    items.push(planDeprovision(input, target, norm))
  })

  return {
    format: 'syncgraph-plan',
    version: 1,
    nodeId: input.nodeId,
    type: input.type,
    createdAt: (input.now ?? new Date()).toISOString(),
    target: input.target,
    counts: countActions(items),
    thresholds: verdict(items, input),
    items,
  }
}

function countActions(items: readonly PlanItem[]): Record<SyncAction, number> {
  const counts = Object.fromEntries(SYNC_ACTIONS.map((a) => [a, 0])) as Record<SyncAction, number>
  for (const item of items) counts[item.action] += 1
  return counts
}

/**
 * The plan with some items turned into planned failures (`error`, with the reason): what a destination
 * knows apply would hit (LDAP: an attribute its schema requires, a DN that exists). Nothing is written
 * for them; the reviewer sees why. `after` and `newDn` stay, to show what was meant.
 */
export function withPlannedFailures(
  plan: Plan,
  failures: ReadonlyMap<PlanItem, { code: string; reason: string }>,
): Plan {
  if (failures.size === 0) return plan
  const items = plan.items.map((item): PlanItem => {
    const failure = failures.get(item)
    return failure === undefined ? item : { ...item, action: 'error', changes: [], ...failure }
  })
  return { ...plan, items, counts: countActions(items) }
}

type Norm = (attribute: string, v: SyncValue) => string
type ItemBase = Pick<PlanItem, 'key' | 'row' | 'changes' | 'before' | 'after'>
/** The attribute rules and create values as lists, made once per plan rather than per object. */
interface Rules {
  flow: [string, AttributeRule][]
  create: [string, SyncValue[]][]
}

/**
 * Add values to a new object's attributes, matching names case-insensitively (`names`: lower case →
 * the spelling used) and dropping values equal to one already there. A module function, not a
 * closure: under tsx every closure created costs a name definition, per object here.
 */
function mergeValues(
  after: Record<string, SyncValue[]>,
  names: Map<string, string>,
  norm: Norm,
  attribute: string,
  values: SyncValue[],
): void {
  if (values.length === 0) return
  const lower = attribute.toLowerCase()
  const existing = names.get(lower)
  if (existing === undefined && values.length === 1) {
    names.set(lower, attribute)
    after[attribute] = [values[0]!]
    return
  }
  const name = existing ?? attribute
  if (existing === undefined) names.set(lower, attribute)
  const list = after[name] ?? []
  const seen = new Set(list.map((v) => norm(name, v)))
  for (const v of values) {
    const k = norm(name, v)
    if (!seen.has(k)) {
      seen.add(k)
      list.push(v)
    }
  }
  after[name] = list
}

function planCreate(input: PlanInput, rules: Rules, row: Row, base: ItemBase, norm: Norm): PlanItem {
  if (!input.create) return { ...base, dn: '', action: 'none', reason: 'no match, and create is off' }
  const dn = input.naming?.idFor(row) ?? ''
  const after: Record<string, SyncValue[]> = {}
  const names = new Map<string, string>()
  for (const [attribute, values] of rules.create) mergeValues(after, names, norm, attribute, values)
  for (const [attribute, rule] of rules.flow) {
    const want = toValues(row[rule.source ?? attribute])
    mergeValues(after, names, norm, attribute, rule.combine === undefined ? want : rule.combine([], want))
  }
  // The key is written whatever the flow lists, so the next run finds the object it created.
  for (const pair of input.key) {
    mergeValues(after, names, norm, pair.target, toValues(row[pair.source]))
    const name = names.get(pair.target.toLowerCase())!
    if (after[name]!.length > 1 && input.comparison?.multiValued(name) === false) {
      throw new Error(
        `the key writes "${pair.source}" into ${name}, but the attribute flow gives it other values (${after[
          name
        ]!.map((v) => JSON.stringify(v)).join(', ')}); ${name} holds one value`,
      )
    }
  }
  if (dn !== '') {
    for (const [attribute, values] of Object.entries(input.naming?.impliedAttributes?.(dn) ?? {}))
      mergeValues(after, names, norm, attribute, values)
  }
  return {
    ...base,
    dn,
    action: 'create',
    after,
    changes: Object.entries(after).map(([attribute, values]) => ({ attribute, op: 'add' as const, values })),
  }
}

function planUpdate(
  input: PlanInput,
  rules: Rules,
  row: Row,
  target: TargetObject,
  base: ItemBase,
  norm: Norm,
): PlanItem {
  if (!input.update) return { ...base, dn: target.id, action: 'none', reason: 'update is off' }
  const naming = input.naming
  let newDn: string | undefined
  const reader = attributeReader(target.attributes)
  let current = reader
  if (naming !== undefined) {
    const wanted = naming.idFor(row)
    if (!naming.sameId(wanted, target.id)) {
      newDn = wanted
      // ModifyDN replaces the naming values: compare what the object will hold after it.
      const before = naming.impliedAttributes?.(target.id) ?? {}
      const after = naming.impliedAttributes?.(wanted) ?? {}
      const read = current
      current = (name) => {
        const lower = name.toLowerCase()
        const dropped = Object.entries(before).find(([a]) => a.toLowerCase() === lower)?.[1] ?? []
        const added = Object.entries(after).find(([a]) => a.toLowerCase() === lower)?.[1] ?? []
        const gone = new Set(dropped.map((v) => norm(name, v)))
        const kept = read(name).filter((v) => !gone.has(norm(name, v)))
        const have = new Set(kept.map((v) => norm(name, v)))
        return [...kept, ...added.filter((v) => !have.has(norm(name, v)))]
      }
    }
  }
  const changes: AttributeChange[] = []
  const before: Record<string, SyncValue[]> = {}
  const after: Record<string, SyncValue[]> = {}
  for (const [attribute, rule] of rules.flow) {
    const flow = rule.flow ?? 'always'
    if (flow === 'createOnly') continue
    if (current === reader && rule.combine === undefined) {
      // The common case allocates nothing: one value on each side, equal.
      const had = singleValue(rawAttribute(target.attributes, attribute))
      if (had !== undefined) {
        if (flow === 'ifEmpty') continue
        const wanted = singleValue(row[rule.source ?? attribute])
        if (wanted !== undefined && (had === wanted || norm(attribute, had) === norm(attribute, wanted)))
          continue
      }
    }
    const have = current(attribute)
    if (flow === 'ifEmpty' && have.length > 0) continue
    const given = toValues(row[rule.source ?? attribute])
    const want = rule.combine === undefined ? given : rule.combine(have, given)
    const found = diffValues(
      attribute,
      have,
      want,
      rule.empty ?? 'clear',
      input.comparison?.multiValued(attribute),
      norm,
    )
    if (found.length === 0) continue
    changes.push(...found)
    before[attribute] = have
    after[attribute] = want.length === 0 && (rule.empty ?? 'clear') === 'keep' ? have : want
  }
  const action: SyncAction =
    newDn !== undefined ? naming!.changeKind(target.id, newDn) : changes.length > 0 ? 'update' : 'none'
  if (action === 'none')
    return {
      key: base.key,
      row: base.row,
      changes: base.changes,
      before: null,
      after: null,
      dn: target.id,
      action,
    }
  return {
    ...base,
    dn: target.id,
    ...(newDn === undefined ? {} : { newDn }),
    action,
    before,
    after,
    changes,
  }
}

/**
 * The smallest changes turning `have` into `want`: a replace for single-valued attributes, value adds
 * and deletes for multi-valued ones (a replace only when it sends fewer values).
 */
export function diffValues(
  attribute: string,
  have: readonly SyncValue[],
  want: readonly SyncValue[],
  empty: 'clear' | 'keep',
  multiValued: boolean | undefined,
  norm: Norm,
): AttributeChange[] {
  if (want.length === 0) {
    if (empty === 'keep' || have.length === 0) return []
    return [{ attribute, op: 'delete', values: [] }]
  }
  if (have.length === 1 && want.length === 1) {
    // The common case, single- or multi-valued alike: equal, or one value replacing another.
    return have[0] === want[0] || norm(attribute, have[0]!) === norm(attribute, want[0]!)
      ? []
      : [{ attribute, op: 'replace', values: [want[0]!] }]
  }
  const multi = multiValued ?? (want.length > 1 || have.length > 1)
  const haveSet = new Map<string, SyncValue>()
  for (const v of have) haveSet.set(norm(attribute, v), v)
  const wantSet = new Map<string, SyncValue>()
  for (const v of want) {
    const k = norm(attribute, v)
    if (!wantSet.has(k)) wantSet.set(k, v)
  }
  if (!multi) {
    const same = haveSet.size === wantSet.size && [...wantSet.keys()].every((k) => haveSet.has(k))
    return same ? [] : [{ attribute, op: 'replace', values: [...wantSet.values()] }]
  }
  const adds = [...wantSet].filter(([k]) => !haveSet.has(k)).map(([, v]) => v)
  const dels = [...haveSet].filter(([k]) => !wantSet.has(k)).map(([, v]) => v)
  if (adds.length === 0 && dels.length === 0) return []
  if (have.length === 0) return [{ attribute, op: 'add', values: adds }]
  if (adds.length + dels.length > wantSet.size)
    return [{ attribute, op: 'replace', values: [...wantSet.values()] }]
  const out: AttributeChange[] = []
  if (dels.length > 0) out.push({ attribute, op: 'delete', values: dels })
  if (adds.length > 0) out.push({ attribute, op: 'add', values: adds })
  return out
}

function planDeprovision(input: PlanInput, target: TargetObject, norm: Norm): PlanItem {
  const read = attributeReader(target.attributes)
  const key = Object.fromEntries(input.key.map((p) => [p.source, read(p.target)[0] ?? null]))
  const base = { key, dn: target.id, changes: [] as AttributeChange[], before: null, after: null }
  const d = input.deprovision
  switch (d.action) {
    case 'none':
      return { ...base, action: 'none', reason: 'not in the source; deprovision is none' }
    case 'delete': {
      const before: Record<string, SyncValue[]> = {}
      for (const attribute of Object.keys(input.attributes)) before[attribute] = read(attribute)
      return { ...base, action: 'delete', deprovision: true, before }
    }
    case 'disable': {
      const changes: AttributeChange[] = []
      const before: Record<string, SyncValue[]> = {}
      const after: Record<string, SyncValue[]> = {}
      for (const [attribute, values] of Object.entries(d.valuesFor?.(read) ?? d.attributes)) {
        const have = read(attribute)
        const found = diffValues(attribute, have, values, 'clear', false, norm)
        if (found.length === 0) continue
        changes.push(...found)
        before[attribute] = have
        after[attribute] = values
      }
      if (changes.length === 0)
        return { ...base, action: 'none', reason: 'not in the source; already disabled' }
      return { ...base, action: 'disable', deprovision: true, before, after, changes }
    }
    case 'move': {
      const naming = input.naming
      if (naming?.moveTo === undefined) {
        return { ...base, action: 'error', reason: 'this destination cannot move objects' }
      }
      const newDn = naming.moveTo(target.id, d.container)
      if (naming.sameId(newDn, target.id)) {
        return { ...base, action: 'none', reason: 'not in the source; already moved' }
      }
      return { ...base, action: 'move', deprovision: true, newDn }
    }
    default: {
      const never: never = d
      throw new Error(`unhandled deprovision ${JSON.stringify(never)}`)
    }
  }
}

function verdict(items: readonly PlanItem[], input: PlanInput): ThresholdVerdict {
  const removals = items.filter((i) => i.deprovision === true && i.action !== 'none').length
  const scopeSize = input.targets.length
  const percent = scopeSize === 0 ? 0 : Math.round((removals / scopeSize) * 10_000) / 100
  const maxDeletes = input.maxDeletes ?? null
  const maxDeletePercent = input.maxDeletePercent ?? null
  const reasons: string[] = []
  if (maxDeletes !== null && removals > maxDeletes) reasons.push(`more than maxDeletes ${maxDeletes}`)
  if (maxDeletePercent !== null && removals > 0 && percent > maxDeletePercent) {
    reasons.push(`more than maxDeletePercent ${maxDeletePercent}%`)
  }
  const out: ThresholdVerdict = {
    maxDeletes,
    maxDeletePercent,
    removals,
    scopeSize,
    percent,
    exceeded: reasons.length > 0,
  }
  if (reasons.length > 0) {
    out.message = `the plan de-provisions (deletes, disables or moves) ${removals} of ${scopeSize} objects in scope (${percent}%), ${reasons.join(' and ')}; nothing was written`
  }
  return out
}
