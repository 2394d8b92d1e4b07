/** Where a JSON text first goes wrong: 0-based offset and what was expected there. */
export interface JsonSyntaxProblem {
  offset: number
  line: number
  column: number
  reason: string
}

/**
 * Find the first syntax error in a JSON text, or undefined when it parses. JSON.parse does not
 * always say where it stopped (V8 gives no position for an unexpected token), so this scans the
 * text itself, following RFC 8259.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  let i = 0
  const fail = (reason: string): never => {
    throw new JsonScanError(i, reason)
  }
  const skipSpace = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r'))
      i++
  }
  const found = () => (i >= text.length ? 'the end of the file' : `${JSON.stringify(text[i])}`)
  const value = (): void => {
    skipSpace()
    const c = text[i]
    if (c === '{') return object()
    if (c === '[') return array()
    if (c === '"') return string()
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number()
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length
        return
      }
    }
    if (c === "'") fail('strings and names take double quotes, not single quotes')
    fail(`expected a value, found ${found()}`)
  }
  const object = () => {
    i++
    skipSpace()
    if (text[i] === '}') {
      i++
      return
    }
    for (;;) {
      skipSpace()
      if (text[i] === '}') fail('no comma before the closing "}" (trailing comma)')
      if (text[i] !== '"') fail(`expected a property name in double quotes, found ${found()}`)
      string()
      skipSpace()
      if (text[i] !== ':') fail(`expected ":" after the property name, found ${found()}`)
      i++
      value()
      skipSpace()
      if (text[i] === ',') {
        i++
        continue
      }
      if (text[i] === '}') {
        i++
        return
      }
      fail(`expected "," or "}" after a property value, found ${found()}`)
    }
  }
  const array = () => {
    i++
    skipSpace()
    if (text[i] === ']') {
      i++
      return
    }
    for (;;) {
      skipSpace()
      if (text[i] === ']') fail('no comma before the closing "]" (trailing comma)')
      value()
      skipSpace()
      if (text[i] === ',') {
        i++
        continue
      }
      if (text[i] === ']') {
        i++
        return
      }
      fail(`expected "," or "]" after an array element, found ${found()}`)
    }
  }
  const string = () => {
    i++
    while (i < text.length) {
      const c = text[i]!
      if (c === '"') {
        i++
        return
      }
      if (c === '\\') {
        const e = text[i + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('a \\u escape needs four hex digits')
          i += 6
          continue
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail(`invalid escape "\\${e ?? ''}" in a string`)
        i += 2
        continue
      }
      if (c < ' ')
        fail(
          c === '\n'
            ? 'a string runs past the end of the line (missing closing quote?)'
            : 'a control character in a string',
        )
      i++
    }
    fail('a string is not closed (missing closing quote)')
  }
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (match === null || match[0] === '-') fail('invalid number')
    i += match![0].length
  }
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1
    value()
    skipSpace()
    if (i < text.length) fail(`unexpected ${found()} after the end of the JSON value`)
    return undefined
  } catch (error) {
    if (!(error instanceof JsonScanError)) throw error
    // An error at the end of the file points just after the last thing written, not at a blank line.
    const offset = error.offset >= text.length ? text.trimEnd().length : error.offset
    const before = text.slice(0, offset)
    const line = before.split('\n').length
    const column = offset - (before.lastIndexOf('\n') + 1) + 1
    return { offset, line, column, reason: error.reason }
  }
}

class JsonScanError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason)
  }
}
