/**
 * Distinguished names per RFC 4514: escaping values, parsing, formatting and normalising.
 * A parsed DN is a list of RDNs, leaf first; an RDN is one or more `type=value` pairs (joined by `+`).
 */

export interface Ava {
  type: string
  value: string
}

export type Rdn = Ava[]

export type Dn = Rdn[]

export class DnSyntaxError extends Error {
  readonly code = 'INVALID_DN'
  constructor(message: string) {
    super(message)
    this.name = 'DnSyntaxError'
  }
}

const HEX = /^[0-9A-Fa-f]{2}$/
/** Whether a value has anything `escapeDnValue` changes. */
const NEEDS_ESCAPE = /["+,;<>=\\\0]|^[# ]| $/
/** A value with no escapes, quotes or non-ASCII characters: its text is its value. */
const PLAIN_VALUE = /[^"+,;\\\u0080-\uffff]*/y
const encoder = new TextEncoder()
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Escape an attribute value for use in a DN (RFC 4514 §2.4): `"` `+` `,` `;` `<` `>` `\` anywhere,
 * `#` or space first, space last, NUL as `\00`. Other characters, unicode included, stay literal.
 * `hexBackslash` writes `\` as `\5C`, which some clients' naive DN splitting needs.
 */
export function escapeDnValue(value: string, options: { hexBackslash?: boolean } = {}): string {
  if (!NEEDS_ESCAPE.test(value)) return value
  let out = ''
  const chars = [...value]
  chars.forEach((ch, i) => {
    if (ch === '\\') out += options.hexBackslash ? '\\5C' : '\\\\'
    else if (ch === '\0') out += '\\00'
    else if ('"+,;<>='.includes(ch)) out += `\\${ch}`
    else if (i === 0 && (ch === '#' || ch === ' ')) out += `\\${ch}`
    else if (i === chars.length - 1 && ch === ' ') out += '\\ '
    else out += ch
  })
  return out
}

/** Closures in hot functions cost a name definition per call under tsx: this one is shared. */
function failAt(text: string, i: number, what: string): never {
  throw new DnSyntaxError(`Invalid DN ${JSON.stringify(text)}: ${what} at position ${i}`)
}

/** Parse a DN string (RFC 4514 §3) into RDNs, leaf first; values come back unescaped. Throws DnSyntaxError. */
export function parseDn(text: string): Dn {
  const dn: Dn = []
  if (text.trim() === '') return dn
  let i = 0
  let rdn: Rdn = []
  for (;;) {
    while (text[i] === ' ') i++
    const typeStart = i
    while (i < text.length && /[A-Za-z0-9.;-]/.test(text[i]!)) i++
    const type = text.slice(typeStart, i)
    if (type === '') failAt(text, i, 'expected an attribute type')
    while (text[i] === ' ') i++
    if (text[i] !== '=') failAt(text, i, 'expected "="')
    i++
    while (text[i] === ' ') i++
    let value: string
    if (text[i] === '#') {
      // A BER-encoded value in hex; kept as its text form.
      const start = i
      i++
      while (i < text.length && /[0-9A-Fa-f]/.test(text[i]!)) i++
      value = text.slice(start, i)
    } else if (plainUntilSeparator(text, i)) {
      const start = i
      i = PLAIN_VALUE.lastIndex
      value = text.slice(start, i).replace(/ +$/, '')
    } else {
      const bytes: number[] = []
      let lastSignificant = 0
      while (i < text.length && !',+;'.includes(text[i]!)) {
        const ch = text[i]!
        if (ch === '\\') {
          const pair = text.slice(i + 1, i + 3)
          if (HEX.test(pair)) {
            bytes.push(parseInt(pair, 16))
            i += 3
          } else if (i + 1 < text.length) {
            const next = String.fromCodePoint(text.codePointAt(i + 1)!)
            bytes.push(...encoder.encode(next))
            i += 1 + next.length
          } else {
            failAt(text, i, 'dangling "\\"')
          }
          lastSignificant = bytes.length
        } else if (ch < '\u0080' && ch !== '"') {
          bytes.push(ch.charCodeAt(0))
          i += 1
          if (ch !== ' ') lastSignificant = bytes.length
        } else {
          const cp = String.fromCodePoint(text.codePointAt(i)!)
          if (cp === '"') failAt(text, i, 'unescaped "\\""')
          bytes.push(...encoder.encode(cp))
          i += cp.length
          if (cp !== ' ') lastSignificant = bytes.length
        }
      }
      // Unescaped trailing spaces are not part of the value.
      try {
        value = utf8.decode(new Uint8Array(bytes.slice(0, lastSignificant)))
      } catch {
        return failAt(text, i, 'escaped bytes are not UTF-8')
      }
    }
    rdn.push({ type, value })
    if (i >= text.length) {
      dn.push(rdn)
      break
    }
    const sep = text[i]
    i++
    if (sep === '+') continue
    dn.push(rdn)
    rdn = []
  }
  return dn
}

/** Whether the value starting at `i` runs to a separator (or the end) with only plain characters. */
function plainUntilSeparator(text: string, i: number): boolean {
  PLAIN_VALUE.lastIndex = i
  const end = i + (PLAIN_VALUE.exec(text)?.[0].length ?? 0)
  return end === text.length || text[end] === ',' || text[end] === '+' || text[end] === ';'
}

/** Format RDNs (leaf first) as a DN string, escaping every value. */
export function formatDn(dn: Dn, options: { hexBackslash?: boolean } = {}): string {
  return dn.map((rdn) => formatRdn(rdn, options)).join(',')
}

export function formatRdn(rdn: Rdn, options: { hexBackslash?: boolean } = {}): string {
  return rdn.map((ava) => `${ava.type}=${escapeDnValue(ava.value, options)}`).join('+')
}

/**
 * A DN's comparison form: types and values lower-cased, insignificant spaces dropped, multi-valued
 * RDN parts sorted, values re-escaped one way. Two DNs naming the same entry (case-insensitive
 * naming attributes, as nearly all are) normalise to the same string. Unparseable text is lower-cased.
 */
export function normalizeDn(text: string): string {
  let dn: Dn
  try {
    dn = parseDn(text)
  } catch {
    return text.trim().toLowerCase()
  }
  return dn
    .map((rdn) =>
      rdn
        .map(
          (ava) =>
            `${ava.type.toLowerCase()}=${escapeDnValue(ava.value.replace(/\s+/g, ' ').trim().toLowerCase())}`,
        )
        .sort()
        .join('+'),
    )
    .join(',')
}

/** Whether two DNs name the same entry. */
export function sameDn(a: string, b: string): boolean {
  return a === b || normalizeDn(a) === normalizeDn(b)
}

/** Containers seen by `childDn`, formatted once (a sync names thousands of entries in a few). */
const formattedParents = new Map<string, string>()

/** The DN of an entry named `type=value` under `parent`, the value escaped. */
export function childDn(type: string, value: string, parent: string): string {
  const rdn = `${type}=${escapeDnValue(value)}`
  if (parent.trim() === '') return rdn
  let formatted = formattedParents.get(parent)
  if (formatted === undefined) {
    formatted = formatDn(parseDn(parent))
    if (formattedParents.size >= 10_000) formattedParents.clear()
    formattedParents.set(parent, formatted)
  }
  return `${rdn},${formatted}`
}

/** The leaf RDN and the parent of a DN, each as a DN string. */
export function splitDn(text: string): { rdn: string; parent: string } {
  const dn = parseDn(text)
  const [first, ...rest] = dn
  if (first === undefined) throw new DnSyntaxError('The empty DN has no RDN')
  return { rdn: formatRdn(first), parent: formatDn(rest) }
}

/** Whether `dn` is `base` or below it. */
export function isWithin(dn: string, base: string): boolean {
  const d = normalizeDn(dn)
  const b = normalizeDn(base)
  return b === '' || d === b || d.endsWith(`,${b}`)
}
