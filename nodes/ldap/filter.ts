import {
  AndFilter,
  ApproximateFilter,
  EqualityFilter,
  ExtensibleFilter,
  FilterParser,
  GreaterThanEqualsFilter,
  LessThanEqualsFilter,
  NotFilter,
  OrFilter,
  SubstringFilter,
  type Filter,
} from 'ldapts'
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

/**
 * A filter string as ldapts's Filter object, with every value as the exact bytes RFC 4515 says.
 * ldapts turns each `\XX` escape into the character U+00XX and writes values as UTF-8, so escaped
 * bytes of 0x80 and up (binary values such as objectGUID, escaped UTF-8) would be sent re-encoded.
 * Here literal non-ASCII text is first escaped as its UTF-8 bytes, so after parsing every value is
 * one character per byte; values with high bytes are then sent as those bytes.
 */
export function toFilter(filter: string): Filter {
  const escaped = filter.replace(/[\u0080-\u{10ffff}]+/gu, (text) =>
    [...Buffer.from(text, 'utf8')].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join(''),
  )
  return fixValues(FilterParser.parseString(escaped))
}

function bytes(value: string | Buffer): string | Buffer {
  if (Buffer.isBuffer(value) || !/[\u0080-\uffff]/.test(value)) return value
  return Buffer.from(value, 'latin1')
}

function text(value: string): string {
  return /[\u0080-\uffff]/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value
}

function fixValues(filter: Filter): Filter {
  if (filter instanceof AndFilter || filter instanceof OrFilter) filter.filters.forEach(fixValues)
  else if (filter instanceof NotFilter) fixValues(filter.filter)
  else if (
    filter instanceof EqualityFilter ||
    filter instanceof GreaterThanEqualsFilter ||
    filter instanceof LessThanEqualsFilter ||
    filter instanceof ApproximateFilter
  ) {
    filter.value = bytes(filter.value)
  } else if (filter instanceof SubstringFilter) {
    // ldapts writes substrings as text only: escaped UTF-8 is decoded back to the text it encodes.
    filter.initial = text(filter.initial)
    filter.final = text(filter.final)
    filter.any = filter.any.map(text)
  } else if (filter instanceof ExtensibleFilter) {
    filter.value = text(filter.value)
  }
  return filter
}
