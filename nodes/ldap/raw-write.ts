import type { Socket } from 'node:net'
import { StatusCodeParser, type Client } from 'ldapts'
import { Ber, canSearchRaw, messageEnd } from './paged-search.ts'

/**
 * Add, modify, delete and modifyDN requests written straight onto a bound ldapts client's socket.
 * ldapts spends, per operation, an attribute object per attribute, a zero-filled 1 KB buffer, a timer,
 * three promises and a `JSON.stringify` of the whole request for its debug log (built even when
 * NODE_DEBUG is off); with thousands of writes in flight that was most of the sync's Node CPU besides
 * the kernel. This writer encodes each request once into a shared output buffer, sends what a turn of
 * the event loop queued in one write, and matches the responses by message id. It owns the socket
 * from `borrow` to `release` (the write connections of a sync do nothing else); errors are ldapts's
 * own result-code classes, so callers map them as before.
 */

export type RawValue = string | Buffer

export interface RawChange {
  op: 'add' | 'delete' | 'replace'
  attribute: string
  values: readonly RawValue[]
}

interface Internals {
  socket?: Socket
  socketDataHandler: (data: Buffer) => void
  _nextMessageId(): number
}

interface Pending {
  resolve(): void
  reject(error: unknown): void
  /** The request's name, for a timeout's message (as ldapts words it). */
  name: string
  sentAt: number
}

const ADD = 0x68
const MODIFY = 0x66
const DELETE = 0x4a
const MODIFY_DN = 0x6c
const SEQUENCE = 0x30
const SET = 0x31
const OCTET_STRING = 0x04
const ENUMERATED = 0x0a
const NEW_SUPERIOR = 0x80
const OPERATIONS = { add: 0, delete: 1, replace: 2 } as const

const byteLength = (v: RawValue) => (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length)
const lengthOfLength = (n: number) => (n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5)
/** The size of a whole element (tag, length, content) whose content is `n` bytes. */
const tlv = (n: number) => 1 + lengthOfLength(n) + n
const integerLength = (n: number) => (n < 0x80 ? 1 : n < 0x8000 ? 2 : n < 0x800000 ? 3 : 4)

export class RawWriter {
  private readonly pending = new Map<number, Pending>()
  private out = Buffer.allocUnsafe(16 * 1024)
  /** Where the bytes not yet flushed start, and end. */
  private start = 0
  private at = 0
  private flushing = false
  private rest: Buffer | undefined
  private failure: Error | undefined
  /** Lengths computed by the sizing pass, read back in the same order by the writing pass. */
  private readonly lengths: number[] = []
  private readonly watchdog: NodeJS.Timeout
  private readonly onData = (data: Buffer) => this.read(data)
  private readonly onClose = () =>
    this.fail(new Error('Connection closed before message response was received'))
  private readonly onError = (error: Error) => this.fail(error)

  private constructor(
    private readonly client: Internals,
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.removeListener('data', client.socketDataHandler)
    socket.on('data', this.onData)
    socket.once('close', this.onClose)
    socket.on('error', this.onError)
    // One timer for all operations in flight: the oldest is the first in the map.
    this.watchdog = setInterval(() => this.checkTimeout(), Math.min(timeoutMs, 1000))
    this.watchdog.unref()
  }

  /** Take over `client`'s socket for writes; undefined when its internals are not what this expects. */
  static borrow(client: Client, timeoutMs: number): RawWriter | undefined {
    if (!canSearchRaw(client)) return undefined
    const c = client as unknown as Internals
    return new RawWriter(c, c.socket!, timeoutMs)
  }

  add(dn: string, attributes: Record<string, readonly RawValue[]>): Promise<void> {
    const lengths = this.lengths
    lengths.length = 0
    const dnLength = byteLength(dn)
    let list = 0
    for (const type in attributes) {
      const values = attributes[type]!
      const slot = lengths.length
      lengths.push(0, byteLength(type), 0)
      let set = 0
      for (const v of values) {
        const n = byteLength(v)
        lengths.push(n)
        set += tlv(n)
      }
      const content = tlv(lengths[slot + 1]!) + tlv(set)
      lengths[slot] = content
      lengths[slot + 2] = set
      list += tlv(content)
    }
    return this.send('AddRequest', ADD, tlv(dnLength) + tlv(list), () => {
      this.string(dn, dnLength)
      this.header(SEQUENCE, list)
      let k = 0
      for (const type in attributes) {
        this.header(SEQUENCE, lengths[k++]!)
        this.string(type, lengths[k++]!)
        this.header(SET, lengths[k++]!)
        for (const v of attributes[type]!) this.string(v, lengths[k++]!)
      }
    })
  }

  modify(dn: string, changes: readonly RawChange[]): Promise<void> {
    const lengths = this.lengths
    lengths.length = 0
    const dnLength = byteLength(dn)
    let list = 0
    for (const change of changes) {
      const slot = lengths.length
      lengths.push(0, 0, byteLength(change.attribute), 0)
      let set = 0
      for (const v of change.values) {
        const n = byteLength(v)
        lengths.push(n)
        set += tlv(n)
      }
      const modification = tlv(lengths[slot + 2]!) + tlv(set)
      const content = tlv(1) + tlv(modification)
      lengths[slot] = content
      lengths[slot + 1] = modification
      lengths[slot + 3] = set
      list += tlv(content)
    }
    return this.send('ModifyRequest', MODIFY, tlv(dnLength) + tlv(list), () => {
      this.string(dn, dnLength)
      this.header(SEQUENCE, list)
      let k = 0
      for (const change of changes) {
        this.header(SEQUENCE, lengths[k++]!)
        this.header(ENUMERATED, 1)
        this.out[this.at++] = OPERATIONS[change.op]
        this.header(SEQUENCE, lengths[k++]!)
        this.string(change.attribute, lengths[k++]!)
        this.header(SET, lengths[k++]!)
        for (const v of change.values) this.string(v, lengths[k++]!)
      }
    })
  }

  del(dn: string): Promise<void> {
    const dnLength = byteLength(dn)
    // DelRequest ::= [APPLICATION 10] LDAPDN: the DN is the operation's own content.
    return this.send('DeleteRequest', DELETE, dnLength, () => this.bytes(dn, dnLength))
  }

  /** `newRdn` is one escaped RDN; `newSuperior` a DN, or undefined to stay in the same container. */
  modifyDN(dn: string, newRdn: string, newSuperior?: string): Promise<void> {
    const dnLength = byteLength(dn)
    const rdnLength = byteLength(newRdn)
    const superiorLength = newSuperior === undefined ? 0 : byteLength(newSuperior)
    const content =
      tlv(dnLength) + tlv(rdnLength) + tlv(1) + (newSuperior === undefined ? 0 : tlv(superiorLength))
    return this.send('ModifyDNRequest', MODIFY_DN, content, () => {
      this.string(dn, dnLength)
      this.string(newRdn, rdnLength)
      this.header(0x01, 1)
      this.out[this.at++] = 0xff // deleteoldrdn TRUE, as ldapts sends it
      if (newSuperior !== undefined) {
        this.header(NEW_SUPERIOR, superiorLength)
        this.bytes(newSuperior, superiorLength)
      }
    })
  }

  /** Give the socket back to ldapts (after the last response); operations still in flight fail. */
  release(): void {
    clearInterval(this.watchdog)
    this.flush()
    this.fail(new Error('the connection was released with writes in flight'), false)
    this.socket.removeListener('data', this.onData)
    this.socket.removeListener('close', this.onClose)
    this.socket.removeListener('error', this.onError)
    if (!this.socket.destroyed) this.socket.on('data', this.client.socketDataHandler)
  }

  /** Encode one LDAPMessage (`write` fills the operation's `content` bytes) and queue it. */
  private send(name: string, operation: number, content: number, write: () => void): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const id = this.client._nextMessageId()
    const idLength = integerLength(id)
    const message = tlv(idLength) + tlv(content)
    const total = tlv(message)
    this.reserve(total)
    const start = this.at
    try {
      this.header(SEQUENCE, message)
      this.header(0x02, idLength)
      for (let shift = (idLength - 1) * 8; shift >= 0; shift -= 8) this.out[this.at++] = (id >>> shift) & 0xff
      this.header(operation, content)
      write()
      if (this.at - start !== total) throw new Error(`${name}: encoded ${this.at - start} of ${total} bytes`)
    } catch (error) {
      this.at = start // nothing of a request that could not be encoded is sent
      return Promise.reject(error)
    }
    if (!this.flushing) {
      this.flushing = true
      setImmediate(() => this.flush())
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, name, sentAt: performance.now() })
    })
  }

  private reserve(n: number): void {
    if (this.out.length - this.at >= n) return
    // A fresh buffer: what was flushed from the old one stays the socket's until written.
    const queued = this.at - this.start
    const bigger = Buffer.allocUnsafe(Math.max(64 * 1024, 2 * (queued + n)))
    this.out.copy(bigger, 0, this.start, this.at)
    this.out = bigger
    this.start = 0
    this.at = queued
  }

  private header(tag: number, length: number): void {
    const out = this.out
    out[this.at++] = tag
    if (length < 0x80) {
      out[this.at++] = length
      return
    }
    const n = lengthOfLength(length) - 1
    out[this.at++] = 0x80 | n
    for (let shift = (n - 1) * 8; shift >= 0; shift -= 8) out[this.at++] = (length / 2 ** shift) & 0xff
  }

  private string(value: RawValue, length: number): void {
    this.header(OCTET_STRING, length)
    this.bytes(value, length)
  }

  private bytes(value: RawValue, length: number): void {
    if (typeof value === 'string') this.out.write(value, this.at, length, 'utf8')
    else value.copy(this.out, this.at)
    this.at += length
  }

  /** Send what this turn of the event loop queued, in one write. */
  private flush(): void {
    this.flushing = false
    if (this.at === this.start || this.socket.destroyed) return
    // The next requests go on after these bytes in the same buffer, which is never written over.
    const chunk = this.out.subarray(this.start, this.at)
    this.start = this.at
    this.socket.write(chunk)
  }

  private read(data: Buffer): void {
    const buf = this.rest === undefined ? data : Buffer.concat([this.rest, data])
    this.rest = undefined
    let offset = 0
    try {
      while (offset < buf.length) {
        const end = messageEnd(buf, offset)
        if (end < 0) break
        this.response(buf, offset)
        offset = end
      }
    } catch (error) {
      this.socket.destroy()
      this.fail(error instanceof Error ? error : new Error(String(error)))
      return
    }
    if (offset < buf.length) this.rest = Buffer.from(buf.subarray(offset))
  }

  /** One response: LDAPMessage { messageID, protocolOp: LDAPResult, … }. */
  private response(buf: Buffer, offset: number): void {
    const ber = new Ber(buf, offset)
    if (ber.header() !== SEQUENCE) throw new Error('expected an LDAPMessage')
    const id = ber.integer()
    ber.header()
    const status = ber.integer()
    const matchedDN = ber.utf8()
    const errorMessage = ber.utf8()
    if (id === 0) {
      // An unsolicited notification (RFC 4511 §4.4): the server is about to close the connection.
      this.socket.destroy()
      this.fail(new Error(`the server closed the connection: ${errorMessage || `result ${status}`}`))
      return
    }
    const pending = this.pending.get(id)
    if (pending === undefined) return
    this.pending.delete(id)
    if (status === 0) pending.resolve()
    else
      pending.reject(
        StatusCodeParser.parse({ status, matchedDN, errorMessage } as unknown as Parameters<
          typeof StatusCodeParser.parse
        >[0]),
      )
  }

  private checkTimeout(): void {
    const oldest = this.pending.values().next()
    if (oldest.done === true || performance.now() - oldest.value.sentAt < this.timeoutMs) return
    this.socket.destroy()
    this.fail(new Error(`${oldest.value.name}: Operation timed out`))
  }

  /** Fail every operation in flight (and, when `final`, every later one) with `error`. */
  private fail(error: Error, final = true): void {
    if (final) this.failure ??= error
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const p of pending) p.reject(this.failure ?? error)
  }
}
