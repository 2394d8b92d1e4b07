import type { Socket } from 'node:net'
import {
  PagedResultsControl,
  SearchRequest,
  StatusCodeParser,
  type Client,
  type Entry,
  type Filter,
} from 'ldapts'

/**
 * A paged search (RFC 2696) decoded straight from the socket's bytes into rows: one object per entry
 * and one string per value, where ldapts builds a message, an attribute object, a Buffer slice and a
 * decoded copy of every value, then an entry object (a 100,000-entry reconcile spent about a third of
 * its CPU there and in the garbage collector after it). It borrows a bound ldapts client's socket for
 * each page and hands it back between pages; requests are encoded by ldapts, so the filter and
 * controls are written exactly as ldapts writes them.
 */

/** How one attribute type becomes a row field; built once per type by the caller. */
export interface RawShape {
  /** The row field name. */
  name: string
  /** Values are bytes (turned to text by `binary`), not UTF-8 text. */
  binary: boolean
  /** true: a scalar; false: an array; undefined: a scalar when there is at most one value. */
  single: boolean | undefined
}

export interface RawSearchOptions {
  base: string
  scope: 'base' | 'one' | 'sub'
  /** Parsed (and escaped) by the caller. */
  filter: Filter
  attributes: readonly string[]
  /** 0: one search without the paged results control. */
  pageSize: number
  sizeLimit: number
  timeoutMs: number
  shapeOf(type: string): RawShape
  /** Bytes of a binary value as row text. */
  binary(type: string, value: Buffer): string
  /** Build an entry in ldapts's form instead (AD ranged values: the caller completes them). */
  ranged?: boolean
}

/** A row, or an entry with AD ranged values for the caller to complete (only when `ranged`). */
export type RawResult = { row: Record<string, unknown> & { dn: string } } | { entry: Entry }

const SEARCH_ENTRY = 0x64
const SEARCH_DONE = 0x65
const SEARCH_REFERENCE = 0x73
const CONTROLS = 0xa0
const PAGED_OID = '1.2.840.113556.1.4.319'
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Node's Buffer methods behind `toString(encoding, start, end)`, without its argument checks. */
type Slicing = Buffer & {
  utf8Slice(start: number, end: number): string
  latin1Slice(start: number, end: number): string
}

interface Internals {
  socket?: Socket
  socketDataHandler: (data: Buffer) => void
  messageDetailsByMessageId: Map<string, unknown>
  _nextMessageId(): number
}

/** Whether `client` can lend its socket now: connected and with no operation in flight. */
export function canSearchRaw(client: Client): boolean {
  const c = client as unknown as Partial<Internals>
  return (
    c.socket !== undefined &&
    !c.socket.destroyed &&
    typeof c.socketDataHandler === 'function' &&
    typeof c._nextMessageId === 'function' &&
    c.messageDetailsByMessageId instanceof Map &&
    c.messageDetailsByMessageId.size === 0
  )
}

/** A BER reader over one buffer: just the parts LDAP responses use. */
export class Ber {
  offset: number
  /** The end of the element whose header was read last. */
  end = 0
  constructor(
    readonly buf: Buffer,
    offset: number,
  ) {
    this.offset = offset
  }

  /** Read a tag and length; returns the tag, leaves `offset` at the content and `end` after it. */
  header(): number {
    const b = this.buf
    const tag = b[this.offset++]!
    let length = b[this.offset++]!
    if (length & 0x80) {
      const n = length & 0x7f
      if (n === 0 || n > 4) throw new Error(`unsupported BER length of ${n} bytes`)
      length = 0
      for (let i = 0; i < n; i++) length = length * 256 + b[this.offset++]!
    }
    this.end = this.offset + length
    if (this.end > b.length) throw new Error('truncated BER element')
    return tag
  }

  /** A non-negative INTEGER or ENUMERATED (message ids, result codes, sizes). */
  integer(): number {
    this.header()
    let v = 0
    for (let i = this.offset; i < this.end; i++) v = v * 256 + this.buf[i]!
    this.offset = this.end
    return v
  }

  latin1(): string {
    this.header()
    const s = (this.buf as Slicing).latin1Slice(this.offset, this.end)
    this.offset = this.end
    return s
  }

  utf8(): string {
    this.header()
    const s = utf8At(this.buf, this.offset, this.end)
    this.offset = this.end
    return typeof s === 'string' ? s : s.toString('latin1')
  }

  bytes(): Buffer {
    this.header()
    const copy = Buffer.from(this.buf.subarray(this.offset, this.end))
    this.offset = this.end
    return copy
  }
}

/** UTF-8 text of `buf[start, end)`, or a copy of the bytes when they are not valid UTF-8. */
function utf8At(buf: Buffer, start: number, end: number): string | Buffer {
  const s = (buf as Slicing).utf8Slice(start, end)
  if (!s.includes('\uFFFD')) return s
  const bytes = buf.subarray(start, end)
  try {
    return fatalUtf8.decode(bytes)
  } catch {
    return Buffer.from(bytes)
  }
}

interface Done {
  status: number
  errorMessage: string
  cookie: Buffer | undefined
}

/** Run a search on `client`'s connection (paged unless `pageSize` is 0), yielding each page's results. */
export async function* searchRaw(
  client: Client,
  options: RawSearchOptions,
): AsyncGenerator<RawResult[], void, undefined> {
  const c = client as unknown as Internals
  const filter = options.filter
  const requested = options.attributes
  let cookie: Buffer | undefined
  for (;;) {
    const controls =
      options.pageSize > 0
        ? [
            new PagedResultsControl({
              value: cookie === undefined ? { size: options.pageSize } : { size: options.pageSize, cookie },
            }),
          ]
        : []
    const request = new SearchRequest({
      messageId: c._nextMessageId(),
      baseDN: options.base,
      scope: options.scope,
      filter,
      attributes: [...requested],
      sizeLimit: options.sizeLimit,
      controls,
    })
    const { results, done } = await page(c, request, options)
    if (
      done.status !== 0 &&
      !(done.status === 4 && options.sizeLimit > 0) // ldapts: a size limit asked for ends the search quietly
    ) {
      throw StatusCodeParser.parse(done as unknown as Parameters<typeof StatusCodeParser.parse>[0])
    }
    yield results
    if (results.length === 0 || done.cookie === undefined || done.cookie.length === 0) return
    cookie = done.cookie
  }
}

/** Send one page's request and decode its responses, holding the socket until the page is done. */
function page(
  c: Internals,
  request: SearchRequest,
  options: RawSearchOptions,
): Promise<{ results: RawResult[]; done: Done }> {
  const socket = c.socket!
  const messageId = request.messageId
  const results: RawResult[] = []
  return new Promise((resolve, reject) => {
    let pending: Buffer | undefined
    let finished = false
    const finish = (error: unknown, done?: Done) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      socket.removeListener('data', onData)
      socket.removeListener('close', onClose)
      socket.removeListener('error', onError)
      socket.on('data', c.socketDataHandler)
      if (error === undefined) resolve({ results, done: done! })
      else reject(error)
    }
    const onClose = () => finish(new Error('the connection closed during the search'))
    const onError = (error: Error) => finish(error)
    const timer = setTimeout(() => finish(new Error('SearchRequest: Operation timed out')), options.timeoutMs)
    const onData = (data: Buffer) => {
      try {
        const buf = pending === undefined ? data : Buffer.concat([pending, data])
        pending = undefined
        let offset = 0
        while (offset < buf.length) {
          const end = messageEnd(buf, offset)
          if (end < 0) break
          const done = decodeMessage(buf, offset, end, messageId, results, options)
          offset = end
          if (done !== undefined) {
            if (offset < buf.length) throw new Error('data after the end of the search')
            finish(undefined, done)
            return
          }
        }
        if (offset < buf.length) pending = buf.subarray(offset)
      } catch (error) {
        socket.destroy()
        finish(error)
      }
    }
    socket.removeListener('data', c.socketDataHandler)
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.once('error', onError)
    socket.write(request.write())
  })
}

/** The end offset of the complete message starting at `offset`, or -1 when more bytes are needed. */
export function messageEnd(buf: Buffer, offset: number): number {
  if (offset + 2 > buf.length) return -1
  let length = buf[offset + 1]!
  let header = 2
  if (length & 0x80) {
    const n = length & 0x7f
    if (offset + 2 + n > buf.length) return -1
    length = 0
    for (let i = 0; i < n; i++) length = length * 256 + buf[offset + 2 + i]!
    header += n
  }
  const end = offset + header + length
  return end > buf.length ? -1 : end
}

/** Decode one LDAPMessage; returns the result of a SearchResultDone, else undefined. */
function decodeMessage(
  buf: Buffer,
  offset: number,
  end: number,
  messageId: number,
  results: RawResult[],
  options: RawSearchOptions,
): Done | undefined {
  const ber = new Ber(buf, offset)
  if (ber.header() !== 0x30) throw new Error('expected an LDAPMessage')
  const id = ber.integer()
  if (id !== messageId) throw new Error(`unexpected message ${id} during search ${messageId}`)
  const op = ber.header()
  const opEnd = ber.end
  switch (op) {
    case SEARCH_ENTRY:
      results.push(decodeEntry(ber, opEnd, options))
      return undefined
    case SEARCH_REFERENCE:
      ber.offset = opEnd
      return undefined
    case SEARCH_DONE: {
      const status = ber.integer()
      ber.utf8()
      const errorMessage = ber.utf8()
      ber.offset = opEnd
      let cookie: Buffer | undefined
      if (ber.offset < end && buf[ber.offset] === CONTROLS) {
        ber.header()
        const controlsEnd = ber.end
        while (ber.offset < controlsEnd) {
          ber.header()
          const controlEnd = ber.end
          const oid = ber.latin1()
          if (ber.offset < controlEnd && buf[ber.offset] === 0x01) {
            ber.header()
            ber.offset = ber.end
          }
          if (oid === PAGED_OID && ber.offset < controlEnd) {
            ber.header() // the OCTET STRING holding the control value
            ber.header() // realSearchControlValue ::= SEQUENCE
            ber.integer()
            cookie = ber.bytes()
          }
          ber.offset = controlEnd
        }
      }
      return { status, errorMessage, cookie }
    }
    default:
      throw new Error(`unexpected protocol operation 0x${op.toString(16)} during a search`)
  }
}

function decodeEntry(ber: Ber, opEnd: number, options: RawSearchOptions): RawResult {
  const start = ber.offset
  const buf = ber.buf
  const dn = ber.utf8()
  const row: Record<string, unknown> & { dn: string } = { dn }
  ber.header() // PartialAttributeList
  const listEnd = ber.end
  const seen: string[] = []
  while (ber.offset < listEnd) {
    ber.header()
    const attributeEnd = ber.end
    const type = ber.latin1()
    if (options.ranged === true && /;range=/i.test(type)) {
      ber.offset = start
      return { entry: decodeRangedEntry(ber, opEnd) }
    }
    const shape = options.shapeOf(type)
    const binary = shape.binary || /;binary$/i.test(type)
    const texts: string[] = []
    if (ber.offset < attributeEnd) {
      ber.header() // SET OF value
      const setEnd = ber.end
      while (ber.offset < setEnd) {
        ber.header()
        const value = binary
          ? Buffer.from(buf.subarray(ber.offset, ber.end))
          : utf8At(buf, ber.offset, ber.end)
        texts.push(typeof value === 'string' ? value : options.binary(type, value))
        ber.offset = ber.end
      }
    }
    ber.offset = attributeEnd
    seen.push(type.toLowerCase())
    row[shape.name] =
      shape.single === true || (shape.single === undefined && texts.length <= 1) ? (texts[0] ?? null) : texts
  }
  ber.offset = opEnd
  // ldapts lists every requested attribute, absent ones with no values: rows keep the same columns.
  for (const name of options.attributes) {
    if (seen.includes(name.toLowerCase())) continue
    const shape = options.shapeOf(name)
    row[shape.name] = shape.single === false ? [] : null
  }
  return { row }
}

/** An entry with AD ranged values, in ldapts's form, for the caller to complete and shape. */
function decodeRangedEntry(ber: Ber, opEnd: number): Entry {
  const buf = ber.buf
  const entry = { dn: ber.utf8() } as Entry
  ber.header()
  const listEnd = ber.end
  while (ber.offset < listEnd) {
    ber.header()
    const attributeEnd = ber.end
    const type = ber.latin1()
    const values: (string | Buffer)[] = []
    if (ber.offset < attributeEnd) {
      ber.header()
      const setEnd = ber.end
      while (ber.offset < setEnd) {
        ber.header()
        values.push(utf8At(buf, ber.offset, ber.end))
        ber.offset = ber.end
      }
    }
    ber.offset = attributeEnd
    entry[type] = values.length === 1 ? (values[0] as string) : (values as string[])
  }
  ber.offset = opEnd
  return entry
}
