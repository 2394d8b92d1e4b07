/**
 * What the directory's subschema says about attributes (RFC 4512 §4.1.2): single- or multi-valued,
 * binary, DN-valued, and how values compare. Rows and the sync planner use it to shape and compare values.
 */

export interface AttributeInfo {
  /** The name as the schema spells it. */
  name: string
  single: boolean
  binary: boolean
  dn: boolean
  /** Values compare case-sensitively (caseExactMatch, octetStringMatch…). */
  caseExact: boolean
  numeric: boolean
}

export interface DirectorySchema {
  /** Info by lower-cased name or alias; undefined when the schema does not know the attribute. */
  get(name: string): AttributeInfo | undefined
  readonly size: number
}

const BINARY_SYNTAXES = new Set(
  ['4', '5', '8', '9', '10', '28', '40'].map((n) => `1.3.6.1.4.1.1466.115.121.1.${n}`),
)
const DN_SYNTAX = '1.3.6.1.4.1.1466.115.121.1.12'
const INTEGER_SYNTAX = '1.3.6.1.4.1.1466.115.121.1.27'
const CASE_EXACT_RULES = new Set([
  'caseexactmatch',
  'caseexactia5match',
  'octetstringmatch',
  'bitstringmatch',
])

interface RawType {
  names: string[]
  sup?: string
  syntax?: string
  equality?: string
  single: boolean
}

/** Parse `attributeTypes` values into a schema; `SUP` chains are followed for syntax and matching rule. */
export function parseAttributeTypes(definitions: readonly string[]): DirectorySchema {
  const raw = new Map<string, RawType>()
  for (const def of definitions) {
    const names = namesOf(def)
    if (names.length === 0) continue
    const type: RawType = {
      names,
      sup: word(def, 'SUP'),
      syntax: word(def, 'SYNTAX')?.replace(/\{\d+\}$/, ''),
      equality: word(def, 'EQUALITY'),
      single: /\sSINGLE-VALUE[\s)]/.test(def),
    }
    for (const n of names) raw.set(n.toLowerCase(), type)
  }
  const resolve = (t: RawType, key: 'syntax' | 'equality', depth = 0): string | undefined => {
    if (t[key] !== undefined || depth > 10 || t.sup === undefined) return t[key]
    const parent = raw.get(t.sup.toLowerCase())
    return parent === undefined ? undefined : resolve(parent, key, depth + 1)
  }
  const infos = new Map<string, AttributeInfo>()
  for (const [key, t] of raw) {
    const syntax = resolve(t, 'syntax')
    const equality = resolve(t, 'equality')?.toLowerCase()
    infos.set(key, {
      name: t.names[0]!,
      single: t.single,
      binary: syntax !== undefined && BINARY_SYNTAXES.has(syntax),
      dn: syntax === DN_SYNTAX || equality === 'distinguishednamematch',
      caseExact: equality !== undefined && CASE_EXACT_RULES.has(equality),
      numeric: syntax === INTEGER_SYNTAX || equality === 'integermatch',
    })
  }
  const byName = new Map<string, AttributeInfo | undefined>()
  const get = (name: string) => {
    if (byName.has(name)) return byName.get(name)
    const info = infos.get(name.split(';')[0]!.toLowerCase())
    if (byName.size < 100_000) byName.set(name, info)
    return info
  }
  return { get, size: infos.size }
}

/** One object class of the subschema (RFC 4512 §4.1.1): its superclasses and the attributes it requires. */
export interface ObjectClassInfo {
  /** The name as the schema spells it. */
  name: string
  sup: string[]
  must: string[]
}

/** The subschema's object classes, for what a new entry of some classes must hold. */
export interface ObjectClassSchema {
  /** Info by lower-cased name or alias; undefined when the schema does not know the class. */
  get(name: string): ObjectClassInfo | undefined
  /**
   * Every attribute the classes require, their superclasses' included (`class` names the class that
   * requires it), and the classes the schema does not know.
   */
  required(classes: readonly string[]): { attributes: { name: string; class: string }[]; unknown: string[] }
}

/** Parse `objectClasses` values; `SUP` chains are followed for required (`MUST`) attributes. */
export function parseObjectClasses(definitions: readonly string[]): ObjectClassSchema {
  const infos = new Map<string, ObjectClassInfo>()
  for (const raw of definitions) {
    // A description is free text: drop it before looking for keywords.
    const def = raw.replace(/\sDESC\s+'(?:[^'\\]|\\.)*'/, ' ')
    const names = namesOf(def)
    if (names.length === 0) continue
    const info = { name: names[0]!, sup: list(def, 'SUP'), must: list(def, 'MUST') }
    for (const n of names) infos.set(n.toLowerCase(), info)
  }
  const get = (name: string) => infos.get(name.toLowerCase())
  return {
    get,
    required(classes) {
      const attributes = new Map<string, { name: string; class: string }>()
      const unknown: string[] = []
      const seen = new Set<string>()
      const visit = (name: string, top: boolean) => {
        const info = get(name)
        if (info === undefined) {
          if (top) unknown.push(name)
          return
        }
        if (seen.has(info.name.toLowerCase())) return
        seen.add(info.name.toLowerCase())
        for (const a of info.must)
          if (!attributes.has(a.toLowerCase())) attributes.set(a.toLowerCase(), { name: a, class: info.name })
        for (const sup of info.sup) visit(sup, false)
      }
      for (const c of classes) visit(c, true)
      return { attributes: [...attributes.values()], unknown }
    },
  }
}

/** The names after `keyword`: one (`MUST cn`) or a list (`MUST ( cn $ sn )`). */
function list(def: string, keyword: string): string[] {
  const m = new RegExp(`\\s${keyword}\\s+(?:\\(([^)]*)\\)|([^\\s()]+))`).exec(def)
  if (m === null) return []
  return (m[1] ?? m[2]!)
    .split(/[\s$]+/)
    .map((n) => n.replace(/^'|'$/g, ''))
    .filter((n) => n !== '')
}

/** A schema that knows nothing: values are shaped by count and compared case-insensitively. */
export const emptySchema: DirectorySchema = { get: () => undefined, size: 0 }

function namesOf(def: string): string[] {
  const m = /\sNAME\s+(?:'([^']+)'|\(\s*((?:'[^']+'\s*)+)\))/.exec(def)
  if (m === null) return []
  if (m[1] !== undefined) return [m[1]]
  return [...m[2]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!)
}

function word(def: string, keyword: string): string | undefined {
  const m = new RegExp(`\\s${keyword}\\s+'?([^\\s')]+)'?`).exec(def)
  return m?.[1]
}
