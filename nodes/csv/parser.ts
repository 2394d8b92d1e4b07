import type { InvalidBytes } from './decoder.ts'

/** How fields are written: the delimiter between them and the quote around them. */
export interface CsvDialect {
  /** One or more characters between fields. */
  delimiter: string
  /** One character; inside a quoted field it is written twice. */
  quote: string
  /** A quote inside an unquoted field is text (`37°36'37.8"N`) instead of a malformed line. */
  relaxQuotes: boolean
}

/** A line that is not valid CSV. Parsing goes on with the line after it. */
export interface CsvProblem {
  /** `CSV_MALFORMED` (quotes, record too long) or `CSV_INVALID_UTF8`. */
  code: 'CSV_MALFORMED' | 'CSV_INVALID_UTF8'
  /** 1-based line where the bad record starts. */
  line: number
  /** The text of that line (a record spanning lines: its first line; the next lines are parsed again). */
  raw: string
  /** What is wrong, for a person. */
  reason: string
}

/** Where parsed records go. */
export interface CsvHandler {
  /**
   * One record. `fields` is reused for the next record: read it now, keep nothing of the array
   * itself. `line` is the 1-based line where the record starts.
   */
  record(fields: readonly string[], line: number): void
  malformed(problem: CsvProblem): void
}

/**
 * An unclosed quoted field is looked for at most this far (in characters) before its line is
 * reported as malformed, so one stray quote cannot make the reader hold the rest of a large file.
 */
export const MAX_RECORD_CHARS = 8 * 1024 * 1024

const LF = 10
const CR = 13
const INCOMPLETE = -1
/** A cached search position not known yet (below every position, so it is searched). */
const UNKNOWN = -2

/**
 * An RFC 4180 CSV parser over text chunks, written for speed: a line without a quote is split with
 * `indexOf` (the positions of the next delimiter, line break and quote are each searched once and
 * kept while the scan moves past them), and only lines holding a quote take the character-level
 * path. Lines end with CRLF, LF or CR (files glued from several sources mix them); empty lines are
 * skipped. A line that breaks the quoting rules, or holds bytes that were not valid UTF-8, is
 * reported through `malformed` with its line number and text, and parsing resumes on the next line,
 * so one bad line never loses the rest of the file.
 */
export class CsvParser {
  /** The line the parser is at (1-based). */
  private line = 1
  /** Unparsed text: the start of a record that the chunks so far do not finish. */
  private pending = ''
  private waiting: string[] = []
  private waitingChars = 0
  /** Index in the whole text of `pending[0]`. */
  private base = 0
  private readonly invalid: InvalidBytes[] = []
  private nextInvalid = Infinity
  private readonly fields: string[] = []
  private readonly delimiter: string
  private readonly quote: string
  private readonly quoteCode: number
  private readonly relaxQuotes: boolean
  /** Where the record being handed over is, for `recordText`. */
  private recordIn = ''
  private recordStart = 0
  private recordEnd = 0

  constructor(
    dialect: CsvDialect,
    private readonly handler: CsvHandler,
    private readonly maxRecordChars = MAX_RECORD_CHARS,
  ) {
    if (dialect.delimiter.length === 0) throw new Error('the delimiter is empty')
    if (dialect.quote.length !== 1) throw new Error('the quote is not one character')
    this.delimiter = dialect.delimiter
    this.quote = dialect.quote
    this.quoteCode = dialect.quote.charCodeAt(0)
    this.relaxQuotes = dialect.relaxQuotes
  }

  /** Parse the next chunk of text; `invalid` lists its bytes that were not valid UTF-8. */
  push(text: string, invalid: readonly InvalidBytes[] = []): void {
    this.addInvalid(invalid)
    this.waiting.push(text)
    this.waitingChars += text.length
    // A record longer than a chunk is parsed again from its start with every chunk; waiting until
    // the text has doubled keeps that linear.
    if (this.waitingChars < this.pending.length) return
    this.run(this.takeText(), false)
  }

  /** The text of the record `record` is handling (its quotes and line breaks as in the file). */
  recordText(): string {
    return this.recordIn.slice(this.recordStart, this.recordEnd)
  }

  /** The end of the text: the last record needs no line break, an open quote is malformed. */
  end(invalid: readonly InvalidBytes[] = []): void {
    this.addInvalid(invalid)
    this.run(this.takeText(), true)
  }

  private takeText(): string {
    const text =
      this.waiting.length === 1 ? this.pending + this.waiting[0]! : this.pending + this.waiting.join('')
    this.waiting = []
    this.waitingChars = 0
    return text
  }

  private addInvalid(invalid: readonly InvalidBytes[]): void {
    if (invalid.length === 0) return
    this.invalid.push(...invalid)
    this.nextInvalid = this.invalid[0]!.char
  }

  /** The first invalid sequence before `end` (an index in the whole text), dropping all of them. */
  private takeInvalid(end: number): InvalidBytes | undefined {
    const first = this.invalid[0]
    let n = 0
    while (n < this.invalid.length && this.invalid[n]!.char < end) n++
    this.invalid.splice(0, n)
    this.nextInvalid = this.invalid[0]?.char ?? Infinity
    return n > 0 ? first : undefined
  }

  private run(text: string, final: boolean): void {
    let s = text
    for (;;) {
      const consumed = this.parse(s, final)
      this.base += consumed
      s = consumed === s.length ? '' : s.slice(consumed)
      if (final || s.length <= this.maxRecordChars) break
      // An unfinished record this long: its first line is malformed; parse again after it.
      const end = lineEnd(s, 0)
      if (end < 0) throw new CsvLineTooLongError(this.line, this.maxRecordChars)
      this.malformed(
        s,
        0,
        end,
        `a quoted field opened on this line is not closed within ${this.maxRecordChars.toLocaleString('en-US')} characters`,
      )
      const next = end + (s.charCodeAt(end) === CR && s.charCodeAt(end + 1) === LF ? 2 : 1)
      this.base += next
      s = s.slice(next)
    }
    this.pending = s
  }

  /**
   * Parse whole records from `s`; returns where the first unfinished one starts. The lines up to
   * the last LF are split natively (`split`), and a line without a quote or a CR is split at the
   * delimiter the same way; only the others go through `record`, character by character. (A
   * hand-written loop of cached `indexOf` searches measured faster in one pass but fell into a
   * per-line cost proportional to the chunk once V8 optimised it; native splitting has no such trap.)
   */
  private parse(s: string, final: boolean): number {
    this.lfAt = this.crAt = this.quoteAt = this.delimiterAt = UNKNOWN
    const delimiter = this.delimiter
    const quote = this.quote
    const lastLf = s.lastIndexOf('\n')
    const plain = s.indexOf(quote) === -1 && s.indexOf('\r') === -1
    let pos = 0
    if (lastLf !== -1) {
      const lines = s.slice(0, lastLf).split('\n')
      let end = 0
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!
        const start = end
        end += line.length + 1
        if (start < pos) continue
        // A CRLF line is split the same way, without its CR.
        const cr = plain ? -1 : line.indexOf('\r')
        const text = cr === line.length - 1 ? line.slice(0, cr) : line
        if (text.length === 0) {
          this.line++
          pos = end
        } else if (
          plain ||
          (cr === -1 && line.indexOf(quote) === -1) ||
          (cr === text.length && text.indexOf(quote) === -1)
        ) {
          const fields = text.split(delimiter)
          const at = this.line++
          if (this.nextInvalid < this.base + end) this.invalidRecord(s, start, start + text.length, at)
          else {
            this.recordIn = text
            this.recordStart = 0
            this.recordEnd = text.length
            this.handler.record(fields, at)
          }
          pos = end
        } else {
          // The line has a quote or a CR: record by record up to its end (or past it).
          let p = start
          while (p < end) {
            const next = this.record(s, p, final)
            if (next === INCOMPLETE) return p
            p = next
          }
          pos = p
        }
      }
    }
    while (pos < s.length) {
      const next = this.record(s, pos, final)
      if (next === INCOMPLETE) break
      pos = next
    }
    return pos
  }

  /** One record (or an empty line) starting at `start`, character by character. */
  private record(s: string, start: number, final: boolean): number {
    const c = s.charCodeAt(start)
    if (c !== LF && c !== CR) return this.quotedRecord(s, start, final)
    // An empty line (a CR at the end of the text may be the first half of a CRLF).
    if (c === CR && start + 1 === s.length && !final) return INCOMPLETE
    this.line++
    return start + (c === CR && s.charCodeAt(start + 1) === LF ? 2 : 1)
  }

  /** The next LF, CR, quote and delimiter at or after a position, each searched once per parse. */
  private lfAt = UNKNOWN
  private crAt = UNKNOWN
  private quoteAt = UNKNOWN
  private delimiterAt = UNKNOWN

  private nextQuote(s: string, from: number): number {
    if (this.quoteAt !== -1 && this.quoteAt < from) this.quoteAt = s.indexOf(this.quote, from)
    return this.quoteAt
  }

  private nextDelimiter(s: string, from: number): number {
    if (this.delimiterAt !== -1 && this.delimiterAt < from) this.delimiterAt = s.indexOf(this.delimiter, from)
    return this.delimiterAt
  }

  /** The first line break (CR or LF) at or after `from`, or -1. */
  private lineEnd(s: string, from: number): number {
    if (this.lfAt !== -1 && this.lfAt < from) this.lfAt = s.indexOf('\n', from)
    if (this.crAt !== -1 && this.crAt < from) this.crAt = s.indexOf('\r', from)
    const lf = this.lfAt
    const cr = this.crAt
    return lf === -1 ? cr : cr === -1 ? lf : lf < cr ? lf : cr
  }

  /**
   * A record with a quote somewhere in its first line, character by character. Returns where the
   * next record starts, or INCOMPLETE when the text ends first (and more may come).
   */
  private quotedRecord(s: string, start: number, final: boolean): number {
    const len = s.length
    const delimiter = this.delimiter
    const dl = delimiter.length
    const quote = this.quote
    const qc = this.quoteCode
    const fields = this.fields
    let n = 0
    let p = start
    let breaks = 0
    let eol = this.lineEnd(s, start)
    for (;;) {
      if (p < len && s.charCodeAt(p) === qc) {
        const open = p
        let from = p + 1
        let value = ''
        for (;;) {
          const q = this.nextQuote(s, from)
          if (q === -1 || (q + 1 === len && !final)) {
            if (!final) return INCOMPLETE
            return this.badLine(s, start, final, 'a quoted field opened on this line is never closed')
          }
          if (s.charCodeAt(q + 1) === qc) {
            value += s.slice(from, q + 1)
            from = q + 2
            continue
          }
          value += s.slice(from, q)
          p = q + 1
          break
        }
        fields[n++] = value
        if (eol !== -1 && eol < p) {
          breaks += lineBreaks(s, open, p)
          eol = this.lineEnd(s, p)
        }
        if (p === len) return this.emit(s, start, len, len, n, breaks)
        if (s.startsWith(delimiter, p)) {
          p += dl
          continue
        }
        const c = s.charCodeAt(p)
        if (c !== LF && c !== CR) {
          const reason =
            breaks === 0
              ? `text follows the closing quote of a quoted field (a quote inside a quoted field is written twice: ${quote}${quote})`
              : `a quoted field opened on this line is not closed properly: the next quote, on line ${this.line + breaks}, is followed by text`
          return this.badLine(s, start, final, reason)
        }
        return this.endRecord(s, start, p, n, breaks, final)
      }
      // An unquoted field: up to the next delimiter or the end of the line.
      if (eol === -1 && !final) return INCOMPLETE
      const lineStop = eol === -1 ? len : eol
      const d = this.nextDelimiter(s, p)
      const stop = d !== -1 && d < lineStop ? d : lineStop
      if (!this.relaxQuotes) {
        const q = this.nextQuote(s, p)
        if (q !== -1 && q < stop) {
          return this.badLine(
            s,
            start,
            final,
            `a quote (${quote}) inside an unquoted field; quote the field and write the quote twice, or turn on "Stray quotes" to read it as text`,
          )
        }
      }
      fields[n++] = s.slice(p, stop)
      if (stop === d) {
        p = d + dl
        continue
      }
      return this.endRecord(s, start, stop, n, breaks, final)
    }
  }

  /** The record ends at the line break at `end` (or the end of the text). */
  private endRecord(
    s: string,
    start: number,
    end: number,
    n: number,
    breaks: number,
    final: boolean,
  ): number {
    if (end === s.length) return this.emit(s, start, end, end, n, breaks)
    if (s.charCodeAt(end) === CR && end + 1 === s.length && !final) return INCOMPLETE
    const next = end + (s.charCodeAt(end) === CR && s.charCodeAt(end + 1) === LF ? 2 : 1)
    return this.emit(s, start, end, next, n, breaks)
  }

  /** Hand over the record `s[start, end)` of `n` fields; `next` starts the next one. */
  private emit(s: string, start: number, end: number, next: number, n: number, breaks: number): number {
    const fields = this.fields
    if (fields.length !== n) fields.length = n
    const line = this.line
    this.line += 1 + breaks
    if (this.nextInvalid < this.base + end) this.invalidRecord(s, start, end, line)
    else {
      this.recordIn = s
      this.recordStart = start
      this.recordEnd = end
      this.handler.record(fields, line)
    }
    return next
  }

  /** The well-formed record `s[start, end)` holds bytes that were not UTF-8: all of it is the bad row. */
  private invalidRecord(s: string, start: number, end: number, line: number): void {
    const bad = this.takeInvalid(this.base + end)!
    this.handler.malformed({
      code: 'CSV_INVALID_UTF8',
      line,
      raw: s.slice(start, end),
      reason: invalidReason(bad),
    })
  }

  /** Report the line starting at `start` as malformed and go on after it. */
  private badLine(s: string, start: number, final: boolean, reason: string): number {
    // Parsing goes back to the line after `start`: the searches ahead no longer hold.
    this.lfAt = this.crAt = this.quoteAt = this.delimiterAt = UNKNOWN
    let end = this.lineEnd(s, start)
    if (end === -1) {
      if (!final) return INCOMPLETE
      end = s.length
    } else if (end + 1 === s.length && !final && s.charCodeAt(end) === CR) return INCOMPLETE
    this.malformed(s, start, end, reason)
    return end === s.length ? end : end + (s.charCodeAt(end) === CR && s.charCodeAt(end + 1) === LF ? 2 : 1)
  }

  private malformed(s: string, start: number, end: number, reason: string): void {
    const invalid = this.takeInvalid(this.base + end)
    const line = this.line
    this.line++
    this.handler.malformed({
      code: 'CSV_MALFORMED',
      line,
      raw: s.slice(start, end),
      reason: invalid === undefined ? reason : `${reason}; also, ${invalidReason(invalid)}`,
    })
  }
}

/** A single line longer than the record limit: the reader cannot go on. */
export class CsvLineTooLongError extends Error {
  constructor(
    readonly line: number,
    readonly limit: number,
  ) {
    super(`line ${line} is longer than ${limit.toLocaleString('en-US')} characters`)
  }
}

function invalidReason(bad: InvalidBytes): string {
  const hex = bad.value.toString(16).toUpperCase().padStart(2, '0')
  return `byte 0x${hex} at byte offset ${bad.byte} is not valid UTF-8; if the file is Latin-1 or Windows-1252, set "Encoding" to latin1`
}

/** The first line break (CR or LF) at or after `from`, or -1. */
function lineEnd(s: string, from: number): number {
  const lf = s.indexOf('\n', from)
  const cr = s.indexOf('\r', from)
  return lf === -1 ? cr : cr === -1 ? lf : lf < cr ? lf : cr
}

/** Line breaks (CRLF, LF or CR) in `s[from, to)`. */
function lineBreaks(s: string, from: number, to: number): number {
  let count = 0
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c === LF) count++
    else if (c === CR) {
      count++
      if (s.charCodeAt(i + 1) === LF) i++
    }
  }
  return count
}
