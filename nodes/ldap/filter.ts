import { FilterParser } from 'ldapts'
/**
 * LDAP search filters built from values, never by pasting user text (RFC 4515).
 * `escapeFilterValue` escapes `*` `(` `)` `\` and NUL as `\XX`; everything else, unicode included, stays literal.
 */

export function escapeFilterValue(value: string | Buffer): string {
  if (Buffer.isBuffer(value)) return [...value].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('')
  return value.replace(/[*()\\\0]/g, (ch) => `\\${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

const ATTRIBUTE = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)*)(?:;[A-Za-z0-9-]+)*$/

/** An attribute description checked before it goes into a filter. */
export function checkAttributeName(name: string): string {
  if (!ATTRIBUTE.test(name)) throw new Error(`Invalid LDAP attribute name ${JSON.stringify(name)}`)
  return name
}

/** `(attr=value)` with the value escaped. */
export function eq(attribute: string, value: string | Buffer): string {
  return `(${checkAttributeName(attribute)}=${escapeFilterValue(value)})`
}

/** `(attr=*)`. */
export function present(attribute: string): string {
  return `(${checkAttributeName(attribute)}=*)`
}

/** `(&…)` of filters; one filter stays as it is. */
export function and(...filters: string[]): string {
  return filters.length === 1 ? filters[0]! : `(&${filters.join('')})`
}

/** `(|…)` of filters; one filter stays as it is. */
export function or(...filters: string[]): string {
  return filters.length === 1 ? filters[0]! : `(|${filters.join('')})`
}

export function not(filter: string): string {
  return `(!${filter})`
}

/** A filter as the user wrote it, wrapped in parentheses when they were left off (`uid=x` → `(uid=x)`). */
export function wrapFilter(filter: string | undefined): string {
  const f = (filter ?? '').trim()
  if (f === '') return '(objectClass=*)'
  return f.startsWith('(') ? f : `(${f})`
}

/** Why a filter does not parse, or undefined when it does. */
export function filterProblem(filter: string): string | undefined {
  try {
    FilterParser.parseString(filter)
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}
