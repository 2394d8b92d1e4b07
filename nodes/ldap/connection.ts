import { readFile } from 'node:fs/promises'
import type { Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import {
  Attribute,
  Change,
  Client,
  InvalidCredentialsError,
  NoSuchObjectError,
  SizeLimitExceededError,
  type Entry,
} from 'ldapts'
import { z } from 'zod'
import { ConnectorError, errorCode, errorMessage, secret, type SetupContext } from '../../engine/index.ts'
import { formatDn, parseDn } from './dn.ts'
import { canSearchRaw, searchRaw } from './paged-search.ts'
import { RawWriter } from './raw-write.ts'
import { toFilter } from './filter.ts'
import {
  emptySchema,
  parseAttributeTypes,
  parseObjectClasses,
  type DirectorySchema,
  type ObjectClassSchema,
} from './schema.ts'
import { binaryToText, WELL_KNOWN_BINARY } from './values.ts'

/** LDAP_CAP_ACTIVE_DIRECTORY_OID: the root DSE of Active Directory (and Samba) lists it. */
const AD_CAPABILITY = '1.2.840.113556.1.4.800'

/** An inline LDAP connection; graphs may instead name a stored connection. */
export const ldapConnectionObject = z
  .object({
    url: z
      .string()
      .regex(/^ldaps?:\/\/[^/\s]+\/?$/i, 'an ldap:// or ldaps:// URL with host and optional port')
      .meta({ title: 'Server URL', description: 'ldap://host:389 or ldaps://host:636' }),
    bindDN: z.string().default('').meta({ title: 'Bind DN', description: 'Empty for an anonymous bind' }),
    password: secret({ title: 'Password' }).optional(),
    startTLS: z.boolean().default(false).meta({ title: 'Use StartTLS on ldap://' }),
    tls: z
      .object({
        ca: z
          .string()
          .optional()
          .meta({ title: 'CA bundle', description: 'PEM text, or the path of a PEM file' }),
        rejectUnauthorized: z.boolean().default(true).meta({ title: 'Verify the server certificate' }),
      })
      .strict()
      .optional()
      .meta({ title: 'TLS' }),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(3_600_000)
      .default(120_000)
      .meta({ title: 'Operation timeout (ms)' }),
  })
  .strict()

/** The `connection` config field of LDAP nodes: an inline object or a stored connection name. */
export const ldapConnectionField = () =>
  z
    .union([z.string().min(1), ldapConnectionObject])
    .meta({ title: 'Directory connection', 'x-ui': { widget: 'connection' }, connectionType: 'ldap' })

export type LdapSettings = z.infer<typeof ldapConnectionObject> & { password?: string }

/** Resolve a node's connection value (stored name or inline, `$env` secrets, CA path) into settings. */
export async function resolveLdapSettings(
  ctx: Pick<SetupContext<unknown>, 'connections' | 'files' | 'nodeId'>,
  ref: unknown,
  field = 'connection',
): Promise<LdapSettings> {
  const resolved = await ctx.connections.resolve(ref, { field })
  const parsed = ldapConnectionObject.safeParse(resolved)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConnectorError('CONNECTION_INVALID', `${issue.path.join('.') || 'value'}: ${issue.message}`, {
      nodeId: ctx.nodeId,
      field,
    })
  }
  const settings = parsed.data as LdapSettings
  const ca = settings.tls?.ca
  if (ca !== undefined && !ca.includes('-----BEGIN')) {
    const path = await ctx.files.resolve(ca, { mode: 'read', field: `${field}.tls.ca` })
    try {
      settings.tls = { ...settings.tls!, ca: await readFile(path, 'utf8') }
    } catch (error) {
      throw new ConnectorError('CA_NOT_FOUND', `cannot read the CA bundle ${ca}: ${errorMessage(error)}`, {
        nodeId: ctx.nodeId,
        field: `${field}.tls.ca`,
        cause: error,
      })
    }
  }
  return settings
}

export interface ErrorPlace {
  nodeId?: string
  field?: string
}

/** A directory error as a ConnectorError with a stable code and a message that says what to fix. */
export function ldapError(
  error: unknown,
  settings: Pick<LdapSettings, 'url' | 'bindDN'>,
  place: ErrorPlace,
): ConnectorError {
  if (error instanceof ConnectorError) return error
  const options = { ...place, cause: error }
  const text = errorMessage(error)
  if (error instanceof InvalidCredentialsError) {
    return new ConnectorError(
      'INVALID_CREDENTIALS',
      `${settings.url} refused the credentials of "${settings.bindDN}" (invalid credentials)`,
      options,
    )
  }
  if (error instanceof SizeLimitExceededError) {
    return new ConnectorError(
      'SIZE_LIMIT',
      `${settings.url} stopped the search at its size limit; set pageSize (paged results) or ask for a higher limit`,
      options,
    )
  }
  if (error instanceof NoSuchObjectError) {
    return new ConnectorError('NO_SUCH_OBJECT', `no such entry on ${settings.url} (${text})`, options)
  }
  const code = errorCode(error) ?? ''
  if (
    /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN)$/.test(code) ||
    /timeout|timed out|closed/i.test(text)
  ) {
    return new ConnectorError('SERVER_UNREACHABLE', `cannot reach ${settings.url}: ${text}`, options)
  }
  if (/certificate|self[- ]signed|TLS|SSL|altname/i.test(`${code} ${text}`)) {
    return new ConnectorError('TLS_FAILED', `TLS with ${settings.url} failed: ${text}`, options)
  }
  const resultCode = (error as { code?: unknown }).code
  if (typeof resultCode === 'number') {
    // ldapts appends " Code: 0x41" to the server's diagnostic message.
    const diagnostic = text.replace(/\s*Code: 0x[0-9a-f]+$/i, '').trim()
    return new ConnectorError(
      `LDAP_${ldapResultName(error)}`,
      diagnostic || ldapResultName(error).toLowerCase().replaceAll('_', ' '),
      options,
    )
  }
  return new ConnectorError('LDAP_ERROR', `${settings.url}: ${text}`, options)
}

function ldapResultName(error: unknown): string {
  const name = (error as { name?: unknown; constructor?: { name?: string } }).constructor?.name ?? 'Error'
  return name
    .replace(/Error$/, '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase()
}

export type SearchScope = 'base' | 'one' | 'sub'

export interface SearchRequest {
  base: string
  scope: SearchScope
  filter: string
  /** Empty: all user attributes. */
  attributes: readonly string[]
  /** 0: one unpaged search. */
  pageSize: number
  sizeLimit?: number
}

/** A row of an entry: `dn` plus attributes, multi-valued as arrays, single-valued as scalars. */
export type EntryRow = Record<string, unknown> & { dn: string }

/** One connection to a directory, bound; counts the writes it sends. */
export class LdapConnection {
  /** Writes sent (add, modify, delete, modifyDN), for tests and run stats. */
  writes = 0
  private schemaPromise: Promise<DirectorySchema> | undefined
  private raw: RawWriter | undefined

  private constructor(
    readonly client: Client,
    readonly settings: LdapSettings,
    private readonly place: ErrorPlace,
  ) {}

  /** Connect (ldaps or StartTLS as configured) and bind. */
  static async open(settings: LdapSettings, place: ErrorPlace = {}): Promise<LdapConnection> {
    const tlsOptions: ConnectionOptions = {
      ...(settings.tls?.ca === undefined ? {} : { ca: settings.tls.ca }),
      rejectUnauthorized: settings.tls?.rejectUnauthorized ?? true,
    }
    const client = new Client({
      url: settings.url,
      timeout: settings.timeoutMs,
      connectTimeout: Math.min(settings.timeoutMs, 15_000),
      // ldapts speaks TLS from the start whenever tlsOptions are given, so only ldaps:// gets them.
      ...(/^ldaps:/i.test(settings.url) ? { tlsOptions } : {}),
      strictDN: false,
    })
    try {
      if (settings.startTLS) await client.startTLS(tlsOptions)
      if (settings.bindDN !== '' || (settings.password ?? '') !== '') {
        await client.bind(settings.bindDN, settings.password ?? '')
      }
    } catch (error) {
      await client.unbind().catch(() => undefined)
      throw ldapError(error, settings, place)
    }
    coalesceWrites(client)
    return new LdapConnection(client, settings, place)
  }

  error(error: unknown, place: ErrorPlace = this.place): ConnectorError {
    return ldapError(error, this.settings, place)
  }

  /** The subschema's attribute types; an empty schema when the server does not publish one. */
  schema(): Promise<DirectorySchema> {
    this.schemaPromise ??= this.loadSchema()
    return this.schemaPromise
  }

  private async loadSchema(): Promise<DirectorySchema> {
    try {
      const types = await this.subschemaValues('attributeTypes')
      return types.length === 0 ? emptySchema : parseAttributeTypes(types)
    } catch {
      return emptySchema
    }
  }

  /**
   * The subschema's object classes, for what a new entry must hold; undefined when the server
   * publishes none, or is Active Directory, whose schema requires attributes the DC sets itself
   * (instanceType, objectCategory, nTSecurityDescriptor…).
   */
  async objectClasses(): Promise<ObjectClassSchema | undefined> {
    try {
      const root = await this.rootDse()
      if (root.activeDirectory) return undefined
      const classes = await this.subschemaValues('objectClasses')
      return classes.length === 0 ? undefined : parseObjectClasses(classes)
    } catch {
      return undefined
    }
  }

  private rootPromise: Promise<{ subschema: string; activeDirectory: boolean }> | undefined

  /** What the root DSE says: where the subschema is, and whether the server is Active Directory. */
  private rootDse(): Promise<{ subschema: string; activeDirectory: boolean }> {
    this.rootPromise ??= this.client
      .search('', { scope: 'base', attributes: ['subschemaSubentry', 'supportedCapabilities'] })
      .then(({ searchEntries }) => {
        const dn = searchEntries[0]?.subschemaSubentry
        const capabilities = [searchEntries[0]?.supportedCapabilities ?? []].flat().map(String)
        return {
          subschema: typeof dn === 'string' ? dn : 'cn=Subschema',
          activeDirectory: capabilities.includes(AD_CAPABILITY),
        }
      })
    return this.rootPromise
  }

  /** The values of one attribute of the subschema entry (attributeTypes, objectClasses). */
  private async subschemaValues(attribute: string): Promise<string[]> {
    const { subschema } = await this.rootDse()
    const values = await this.baseValues(subschema, '(objectClass=subschema)', attribute)
    return Array.isArray(values) ? values.map(String) : typeof values === 'string' ? [values] : []
  }

  /** One attribute of one entry (the subschema: large, so read through the lean decoder when it can). */
  private async baseValues(dn: string, filter: string, attribute: string): Promise<unknown> {
    if (canSearchRaw(this.client)) {
      const shape = { name: attribute, binary: false, single: false }
      for await (const page of searchRaw(this.client, {
        base: dn,
        scope: 'base',
        filter: toFilter(filter),
        attributes: [attribute],
        pageSize: 0,
        sizeLimit: 0,
        timeoutMs: this.settings.timeoutMs,
        shapeOf: () => shape,
        binary: binaryToText,
      })) {
        const first = page[0]
        return first !== undefined && 'row' in first ? first.row[attribute] : undefined
      }
      return undefined
    }
    const { searchEntries } = await this.client.search(dn, { scope: 'base', filter, attributes: [attribute] })
    return searchEntries[0]?.[attribute]
  }

  /** Search, page by page (RFC 2696), yielding rows; AD ranged values (`member;range=…`) are fetched whole. */
  async *search(request: SearchRequest): AsyncGenerator<EntryRow[], void, undefined> {
    const schema = await this.schema()
    const binary = [...WELL_KNOWN_BINARY, ...request.attributes.filter((a) => schema.get(a)?.binary)]
    const options = {
      scope: request.scope,
      filter: toFilter(request.filter),
      attributes: [...request.attributes],
      explicitBufferAttributes: binary,
      sizeLimit: request.sizeLimit ?? 0,
    }
    try {
      if (request.pageSize > 0 && canSearchRaw(this.client)) {
        yield* this.searchDecoded(request, schema, binary)
      } else if (request.pageSize > 0) {
        for await (const page of this.client.searchPaginated(request.base, {
          ...options,
          paged: { pageSize: request.pageSize },
        })) {
          yield await this.toRows(page.searchEntries, request.attributes, schema)
        }
      } else {
        const { searchEntries } = await this.client.search(request.base, options)
        yield await this.toRows(searchEntries, request.attributes, schema)
      }
    } catch (error) {
      const mapped = this.error(error)
      if (mapped.code === 'NO_SUCH_OBJECT') {
        throw new ConnectorError(
          'NO_SUCH_OBJECT',
          `the search base "${request.base}" does not exist on ${this.settings.url}`,
          { ...this.place, field: 'base', cause: error },
        )
      }
      const field =
        mapped.code === 'SIZE_LIMIT'
          ? 'pageSize'
          : mapped.code === 'NO_SUCH_OBJECT'
            ? 'base'
            : this.place.field
      throw field === mapped.field ? mapped : this.error(error, { ...this.place, field })
    }
  }

  /** A paged search through the lean decoder (`paged-search.ts`): rows straight from the bytes. */
  private async *searchDecoded(
    request: SearchRequest,
    schema: DirectorySchema,
    binary: readonly string[],
  ): AsyncGenerator<EntryRow[], void, undefined> {
    const names = requestedNames(request.attributes)
    const shapes = new Map<string, AttributeShape>()
    const binaryLower = new Set(binary.map((b) => b.toLowerCase()))
    const shapeOf = (type: string): AttributeShape => {
      let shape = shapes.get(type)
      if (shape === undefined) {
        shape = shapeOfAttribute(type, names, schema)
        if (binaryLower.has(type.toLowerCase())) shape = { ...shape, binary: true }
        shapes.set(type, shape)
      }
      return shape
    }
    for await (const page of searchRaw(this.client, {
      base: request.base,
      scope: request.scope,
      filter: toFilter(request.filter),
      attributes: request.attributes,
      pageSize: request.pageSize,
      sizeLimit: request.sizeLimit ?? 0,
      timeoutMs: this.settings.timeoutMs,
      shapeOf,
      binary: binaryToText,
      ranged: true,
    })) {
      const rows: EntryRow[] = new Array(page.length)
      for (let i = 0; i < page.length; i++) {
        const result = page[i]!
        if ('row' in result) {
          rows[i] = result.row
          continue
        }
        // AD ranged values: fetched whole through ldapts, between pages (the socket is ldapts's again).
        const entry = result.entry
        await this.completeRanges(entry)
        const present = new Set(Object.keys(entry).map((k) => k.toLowerCase()))
        for (const name of request.attributes) if (!present.has(name.toLowerCase())) entry[name] = []
        rows[i] = entryToRow(entry, names, schema, shapes)
      }
      yield rows
    }
  }

  private async toRows(
    entries: Entry[],
    requested: readonly string[],
    schema: DirectorySchema,
  ): Promise<EntryRow[]> {
    const rows: EntryRow[] = new Array(entries.length)
    const names = requestedNames(requested)
    const shapes = new Map<string, AttributeShape>()
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!
      if (hasRanges(entry)) await this.completeRanges(entry)
      rows[i] = entryToRow(entry, names, schema, shapes)
    }
    return rows
  }

  /** Active Directory returns large multi-valued attributes in slices (`member;range=0-1499`); fetch the rest. */
  private async completeRanges(entry: Entry): Promise<void> {
    await completeRanges(entry, async (dn, attribute) => {
      const { searchEntries } = await this.client.search(dn, {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: [attribute],
      })
      return searchEntries[0]
    })
  }

  /**
   * Send this connection's writes through the lean encoder (`raw-write.ts`), which takes the socket
   * over until `close`; false (ldapts keeps writing) when the client's internals are not as expected.
   */
  leanWrites(): boolean {
    this.raw ??= RawWriter.borrow(this.client, this.settings.timeoutMs)
    return this.raw !== undefined
  }

  add(dn: string, attributes: Record<string, string[] | Buffer[]>): Promise<void> {
    this.writes++
    if (this.raw !== undefined) return this.raw.add(dn, attributes)
    return this.client.add(
      dn,
      Object.entries(attributes).map(([type, values]) => new Attribute({ type, values })),
    )
  }

  modify(
    dn: string,
    changes: readonly { op: 'add' | 'delete' | 'replace'; attribute: string; values: string[] }[],
  ): Promise<void> {
    this.writes++
    if (this.raw !== undefined) return this.raw.modify(dn, changes)
    return this.client.modify(
      dn,
      changes.map(
        (c) =>
          new Change({
            operation: c.op,
            modification: new Attribute({ type: c.attribute, values: c.values }),
          }),
      ),
    )
  }

  del(dn: string): Promise<void> {
    this.writes++
    if (this.raw !== undefined) return this.raw.del(dn)
    return this.client.del(dn)
  }

  /** Rename and/or move: `newRdn` is one escaped RDN, `newParent` a DN or undefined to stay put. */
  modifyDN(dn: string, newRdn: string, newParent?: string): Promise<void> {
    this.writes++
    // ldapts splits the new DN at its first comma not preceded by a backslash, so no value may end in
    // an escaped backslash: write backslashes as \5C (the lean encoder sends the same strings).
    const rdn = formatDn(parseDn(newRdn), { hexBackslash: true })
    const parent = newParent === undefined ? undefined : formatDn(parseDn(newParent), { hexBackslash: true })
    if (this.raw !== undefined) return this.raw.modifyDN(dn, rdn, parent)
    return this.client.modifyDN(dn, parent === undefined ? rdn : `${rdn},${parent}`)
  }

  async close(): Promise<void> {
    this.raw?.release()
    await this.client.unbind().catch(() => undefined)
  }
}

/**
 * ldapts writes every request to its socket on its own; with many operations in flight that is one
 * syscall per operation. Cork the socket for the rest of the tick, so the requests sent together
 * (as replies come back and free slots) leave in one write. Reaches ldapts's private `socket`; a
 * client without one (a future ldapts) is left as it is.
 */
function coalesceWrites(client: Client): void {
  const socket = (client as unknown as { socket?: Socket }).socket
  if (socket === undefined || typeof socket.cork !== 'function') return
  const write = socket.write.bind(socket)
  let corked = false
  socket.write = ((...args: Parameters<Socket['write']>) => {
    if (!corked) {
      corked = true
      socket.cork()
      process.nextTick(() => {
        corked = false
        socket.uncork()
      })
    }
    return (write as (...a: Parameters<Socket['write']>) => boolean)(...args)
  }) as Socket['write']
}

/**
 * Replace every ranged attribute of `entry` (`member;range=0-1499`) by all its values, asking
 * `fetch(dn, 'member;range=1500-*')` for the next slices until the server answers with `-*`.
 */
export async function completeRanges(
  entry: Entry,
  fetch: (dn: string, attribute: string) => Promise<Entry | undefined>,
): Promise<void> {
  for (const key of Object.keys(entry)) {
    const m = /^(.+);range=(\d+)-(\d+|\*)$/i.exec(key)
    if (m === null) continue
    const name = m[1]!
    const values = toList(entry[key])
    let end = m[3]!
    while (end !== '*') {
      const asked = `${name};range=${Number(end) + 1}-*`
      const found = await fetch(entry.dn, asked)
      const keys = found === undefined ? [] : Object.keys(found)
      const slice = keys.find((k) => k.toLowerCase().startsWith(`${name.toLowerCase()};range=`))
      const whole = keys.find((k) => k.toLowerCase() === name.toLowerCase())
      if (slice !== undefined) {
        values.push(...toList(found![slice]))
        end = /-(\d+|\*)$/.exec(slice)?.[1] ?? '*'
      } else if (whole !== undefined) {
        // The rest unsliced: nothing more to ask for.
        values.push(...toList(found![whole]))
        end = '*'
      } else {
        // Never keep a partial member list as if it were whole: a sync would remove the rest.
        throw new ConnectorError(
          'RANGE_INCOMPLETE',
          `the directory stopped answering the ranged values of "${name}" of ${entry.dn} after ${values.length} values (asked for ${asked})`,
        )
      }
    }
    delete entry[key]
    entry[name] = values as string[]
  }
}

function toList(value: Entry[string] | undefined): (string | Buffer)[] {
  if (value === undefined) return []
  return Array.isArray(value) ? [...value] : [value]
}

const WELL_KNOWN_BINARY_LOWER = new Set(WELL_KNOWN_BINARY.map((b) => b.toLowerCase()))

/** The requested attribute names by lower-case name, so rows use the spelling asked for. */
export function requestedNames(requested: readonly string[]): Map<string, string> {
  return new Map(requested.map((r) => [r.toLowerCase(), r]))
}

/** How one attribute of a search's entries becomes a row field (cached per search: names repeat). */
export interface AttributeShape {
  name: string
  binary: boolean
  single: boolean | undefined
}

function shapeOfAttribute(
  key: string,
  byLower: Map<string, string>,
  schema: DirectorySchema,
): AttributeShape {
  const info = schema.get(key)
  const lower = key.toLowerCase()
  return {
    name: byLower.get(lower) ?? key,
    binary: info?.binary === true || WELL_KNOWN_BINARY_LOWER.has(lower),
    single: info?.single,
  }
}

/** Whether an entry holds AD ranged values (`member;range=0-1499`). */
function hasRanges(entry: Entry): boolean {
  for (const key in entry) if (key.includes(';')) return true
  return false
}

/** Shape an entry as a row: binary values as text, multi-valued attributes as arrays per the schema. */
export function entryToRow(
  entry: Entry,
  requested: readonly string[] | Map<string, string>,
  schema: DirectorySchema,
  shapes: Map<string, AttributeShape> = new Map(),
): EntryRow {
  const row: EntryRow = { dn: entry.dn }
  const byLower = requested instanceof Map ? requested : requestedNames(requested)
  for (const key in entry) {
    if (key === 'dn') continue
    let shape = shapes.get(key)
    if (shape === undefined) {
      shape = shapeOfAttribute(key, byLower, schema)
      shapes.set(key, shape)
    }
    const raw = entry[key]!
    let values: (string | Buffer)[]
    if (typeof raw === 'string' && !shape.binary) values = [raw]
    else {
      const list = toList(raw)
      values =
        !shape.binary && list.every((v) => typeof v === 'string')
          ? list
          : list.map((v) => {
              if (Buffer.isBuffer(v)) return binaryToText(key, v)
              return shape.binary ? binaryToText(key, Buffer.from(v, 'utf8')) : v
            })
    }
    if (shape.single === true) row[shape.name] = values[0] ?? null
    else if (shape.single === undefined && values.length <= 1) row[shape.name] = values[0] ?? null
    else row[shape.name] = values
  }
  return row
}

/**
 * A few bound connections used together so writes are pipelined: up to `depth` operations in flight
 * per connection. `run` waits for a free slot. Writes go through the lean encoder (`raw-write.ts`)
 * unless `SYNCGRAPH_LDAP_LEAN_WRITES=0` (then through ldapts, as on a client without the internals).
 */
export class LdapPool {
  private next = 0
  private inFlight = 0
  private readonly waiting: (() => void)[] = []
  private readonly capacity: number

  private constructor(
    readonly connections: LdapConnection[],
    depth: number,
  ) {
    this.capacity = connections.length * depth
  }

  static async open(
    settings: LdapSettings,
    size: number,
    place: ErrorPlace = {},
    depth = 8,
  ): Promise<LdapPool> {
    const opened = await Promise.allSettled(
      Array.from({ length: Math.max(1, size) }, () => LdapConnection.open(settings, place)),
    )
    const connections = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
    const failed = opened.find((o) => o.status === 'rejected')
    if (failed !== undefined) {
      await Promise.all(connections.map((c) => c.close()))
      throw failed.reason
    }
    if (process.env.SYNCGRAPH_LDAP_LEAN_WRITES !== '0') for (const c of connections) c.leanWrites()
    return new LdapPool(connections, depth)
  }

  get writes(): number {
    return this.connections.reduce((n, c) => n + c.writes, 0)
  }

  /** Whether every connection is still open. */
  isOpen(): boolean {
    return this.connections.every((c) => c.client.isConnected)
  }

  run<T>(task: (connection: LdapConnection) => Promise<T>): Promise<T> {
    if (this.inFlight >= this.capacity) {
      return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.run(task))
    }
    this.inFlight++
    const connection = this.connections[this.next++ % this.connections.length]!
    let done: Promise<T>
    try {
      done = task(connection)
    } catch (error) {
      done = Promise.reject(error)
    }
    done.then(this.release, this.release)
    return done
  }

  private readonly release = () => {
    this.inFlight--
    this.waiting.shift()?.()
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()))
  }
}
