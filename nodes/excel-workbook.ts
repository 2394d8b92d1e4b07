import type { FileHandle } from 'node:fs/promises'
import { createInflateRaw } from 'node:zlib'

/**
 * What the Excel nodes need from an .xlsx file before streaming it: the sheets in tab order and the
 * merged ranges of one sheet. exceljs's streaming reader ignores `<mergeCell>` (it comes after the
 * rows in the sheet XML) and may name a sheet only after it has been parsed, so this reads the zip's
 * central directory directly (random access, nothing else in memory) and inflates just the one sheet
 * entry, scanning its text for merged ranges without parsing the XML.
 */

export interface SheetEntry {
  /** 1-based position in the workbook's tab order. */
  index: number
  name: string
  /** The zip entry holding the sheet, e.g. `xl/worksheets/sheet1.xml`. */
  path: string
}

/** A merged range, 1-based and inclusive. */
export interface MergedRange {
  top: number
  left: number
  bottom: number
  right: number
}

interface ZipEntry {
  name: string
  method: number
  compressedSize: number
  localOffset: number
}

/** Not an .xlsx file (not a zip, or no workbook part in it). */
export class NotAWorkbookError extends Error {}

const EOCD = 0x06054b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length)
  const { bytesRead } = await handle.read(buffer, 0, length, position)
  return buffer.subarray(0, bytesRead)
}

async function centralDirectory(handle: FileHandle): Promise<Map<string, ZipEntry>> {
  const size = (await handle.stat()).size
  const tailLength = Math.min(size, 22 + 65_535)
  const tail = await readAt(handle, size - tailLength, tailLength)
  let at = -1
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i
      break
    }
  }
  if (at < 0) throw new NotAWorkbookError('not a zip file (no end of central directory)')
  const count = tail.readUInt16LE(at + 10)
  const cdSize = tail.readUInt32LE(at + 12)
  const cdOffset = tail.readUInt32LE(at + 16)
  if (cdOffset === 0xffffffff || count === 0xffff)
    throw new NotAWorkbookError('ZIP64 workbooks are not supported')
  const cd = await readAt(handle, cdOffset, cdSize)
  const entries = new Map<string, ZipEntry>()
  let p = 0
  for (let i = 0; i < count && p + 46 <= cd.length; i++) {
    if (cd.readUInt32LE(p) !== CENTRAL) throw new NotAWorkbookError('corrupt zip central directory')
    const nameLength = cd.readUInt16LE(p + 28)
    const extraLength = cd.readUInt16LE(p + 30)
    const commentLength = cd.readUInt16LE(p + 32)
    const name = cd.toString('utf8', p + 46, p + 46 + nameLength)
    entries.set(name, {
      name,
      method: cd.readUInt16LE(p + 10),
      compressedSize: cd.readUInt32LE(p + 20),
      localOffset: cd.readUInt32LE(p + 42),
    })
    p += 46 + nameLength + extraLength + commentLength
  }
  return entries
}

/**
 * How far a workbook part may inflate. A zip bomb (2 MB inflating to gigabytes) is refused once a
 * part passes `maxRatio` times its compressed size (checked past the first MiB, where styles and
 * small parts legitimately compress far better) or `maxBytes`, and `signal` stops inflating at once.
 */
export interface InflateLimits {
  maxRatio: number
  maxBytes: number
  signal: AbortSignal
}

/** A workbook part inflates beyond the limits: refused before it fills memory or the disk. */
export class InflateLimitError extends Error {
  constructor(
    readonly part: string,
    readonly reason: 'ratio' | 'size',
    readonly limit: number,
  ) {
    super(
      reason === 'ratio'
        ? `part ${part} inflates to more than ${limit} times its compressed size`
        : `part ${part} inflates to more than ${Math.round(limit / 2 ** 20)} MiB`,
    )
  }
}

const RATIO_FROM_BYTES = 2 ** 20

/** The inflated bytes of an entry, chunk by chunk, within `limits`. */
async function* entryBytes(
  handle: FileHandle,
  entry: ZipEntry,
  limits: InflateLimits,
): AsyncGenerator<Buffer> {
  limits.signal.throwIfAborted()
  const local = await readAt(handle, entry.localOffset, 30)
  if (local.readUInt32LE(0) !== LOCAL) throw new NotAWorkbookError(`corrupt zip entry ${entry.name}`)
  const start = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28)
  const raw = handle.createReadStream({ start, end: start + entry.compressedSize - 1, autoClose: false })
  if (entry.method !== 0 && entry.method !== 8) {
    raw.destroy()
    throw new NotAWorkbookError(`zip compression method ${entry.method} is not supported`)
  }
  const source = entry.method === 0 ? raw : raw.pipe(createInflateRaw())
  if (source !== raw) raw.on('error', (error) => source.destroy(error))
  let total = 0
  let done = false
  try {
    for await (const chunk of source) {
      limits.signal.throwIfAborted()
      total += (chunk as Buffer).length
      if (total > limits.maxBytes) throw new InflateLimitError(entry.name, 'size', limits.maxBytes)
      if (total > RATIO_FROM_BYTES && total > limits.maxRatio * Math.max(1, entry.compressedSize))
        throw new InflateLimitError(entry.name, 'ratio', limits.maxRatio)
      yield chunk as Buffer
    }
    done = true
  } finally {
    // Stopped early (a limit, a cancelled run, a reader that had enough): stop reading the file.
    if (!done) {
      source.destroy()
      raw.destroy()
    }
  }
}

/** The inflated text of an entry, chunk by chunk (with a UTF-8 decoder across chunk borders). */
async function* entryText(
  handle: FileHandle,
  entry: ZipEntry,
  limits: InflateLimits,
): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  for await (const chunk of entryBytes(handle, entry, limits)) yield decoder.decode(chunk, { stream: true })
}

async function entryString(handle: FileHandle, entry: ZipEntry, limits: InflateLimits): Promise<string> {
  let text = ''
  for await (const chunk of entryText(handle, entry, limits)) text += chunk
  return text
}

function xmlAttribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)
  return match === null ? undefined : decodeXml(match[1]!)
}

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_, entity: string) => {
    switch (entity) {
      case 'lt':
        return '<'
      case 'gt':
        return '>'
      case 'amp':
        return '&'
      case 'quot':
        return '"'
      case 'apos':
        return "'"
      default:
        return String.fromCodePoint(
          entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10),
        )
    }
  })
}

/** What a pre-pass over a sheet found: its merged ranges and the last column holding a value. */
export interface SheetScan {
  merged: MergedRange[]
  /** The rightmost column (1-based) with a value in a row below `headerRow`; 0 when none. */
  lastColumn: number
}

/** An open workbook file: its sheets in tab order, the parts a reader needs, and a pre-pass over a sheet. */
export interface WorkbookIndex {
  sheets: SheetEntry[]
  /** Zip entry names of the shared strings and styles parts, when the workbook has them. */
  sharedStrings: string | undefined
  styles: string | undefined
  scan(sheet: SheetEntry, headerRow: number): Promise<SheetScan>
  /** The inflated bytes of a part, within the limits. */
  part(name: string): AsyncGenerator<Buffer>
}

/**
 * A relationship target as a zip entry name: absolute targets (`/xl/worksheets/sheet1.xml`, as
 * openpyxl and pandas write them) from the package root, relative ones from `xl/`.
 */
export function partName(target: string, base = 'xl/'): string {
  const parts = (target.startsWith('/') ? target.slice(1) : `${base}${target}`).split('/')
  const out: string[] = []
  for (const part of parts) {
    if (part === '..') out.pop()
    else if (part !== '.' && part !== '') out.push(part)
  }
  return out.join('/')
}

/** Read the sheet list of an .xlsx file (central directory, workbook.xml and its relationships). */
export async function indexWorkbook(handle: FileHandle, limits: InflateLimits): Promise<WorkbookIndex> {
  const entries = await centralDirectory(handle)
  const workbook = entries.get('xl/workbook.xml')
  const rels = entries.get('xl/_rels/workbook.xml.rels')
  if (workbook === undefined || rels === undefined)
    throw new NotAWorkbookError('no xl/workbook.xml in the file')
  const targets = new Map<string, string>()
  let sharedStrings: string | undefined
  let styles: string | undefined
  for (const tag of (await entryString(handle, rels, limits)).match(/<Relationship\b[^>]*>/g) ?? []) {
    const id = xmlAttribute(tag, 'Id')
    const target = xmlAttribute(tag, 'Target')
    if (id === undefined || target === undefined) continue
    const name = partName(target)
    targets.set(id, name)
    const type = xmlAttribute(tag, 'Type') ?? ''
    if (type.endsWith('/sharedStrings') && entries.has(name)) sharedStrings = name
    if (type.endsWith('/styles') && entries.has(name)) styles = name
  }
  const sheets: SheetEntry[] = []
  for (const tag of (await entryString(handle, workbook, limits)).match(/<sheet\b[^>]*>/g) ?? []) {
    const name = xmlAttribute(tag, 'name')
    const id = xmlAttribute(tag, 'r:id')
    const path = id === undefined ? undefined : targets.get(id)
    if (name !== undefined && path !== undefined) sheets.push({ index: sheets.length + 1, name, path })
  }
  const entry = (name: string, what: string) => {
    const found = entries.get(name)
    if (found === undefined) throw new NotAWorkbookError(`${what} has no part ${name}`)
    return found
  }
  return {
    sheets,
    sharedStrings,
    styles,
    part: (name) => entryBytes(handle, entry(name, 'the workbook'), limits),
    async scan(sheet, headerRow) {
      const found = entry(sheet.path, `sheet "${sheet.name}"`)
      const merged: MergedRange[] = []
      let lastColumn = 0
      let rowNumber = 0
      let carry = ''
      for await (const chunk of entryText(handle, found, limits)) {
        const text = carry + chunk
        let rowsDone = 0
        for (;;) {
          const close = text.indexOf('</row>', rowsDone)
          if (close < 0) break
          const open = text.lastIndexOf('<row', close)
          const r = Number(
            /^<row\b[^>]*?\sr="(\d+)"/.exec(text.slice(open, text.indexOf('>', open) + 1))?.[1],
          )
          rowNumber = Number.isInteger(r) && r > 0 ? r : rowNumber + 1
          if (rowNumber > headerRow) lastColumn = Math.max(lastColumn, lastValueColumn(text, open, close))
          rowsDone = close + 6
        }
        const pattern = /<mergeCell\b[^>]*\bref="([A-Z]+\d+(?::[A-Z]+\d+)?)"/g
        pattern.lastIndex = rowsDone
        let match: RegExpExecArray | null
        let mergesDone = 0
        while ((match = pattern.exec(text)) !== null) {
          const range = parseRange(match[1]!)
          if (range !== undefined) merged.push(range)
          mergesDone = pattern.lastIndex
        }
        // Keep an unfinished row or tag for the next chunk.
        const keep = Math.max(rowsDone, mergesDone)
        const lt = text.lastIndexOf('<')
        const rowOpen = text.indexOf('<row', keep)
        carry = text.slice(rowOpen >= 0 ? rowOpen : lt >= keep ? lt : text.length)
      }
      return { merged, lastColumn }
    },
  }
}

/** The column of the last cell with a value in the row `text[start, end)` (empty `<c …/>` cells left out). */
function lastValueColumn(text: string, start: number, end: number): number {
  let at = end
  for (;;) {
    const c = text.lastIndexOf('<c', at - 1)
    if (c < start) return 0
    const next = text.charCodeAt(c + 2)
    const gt = text.indexOf('>', c)
    // `<c ` or `<c>` only (not `<col…`), and not an empty `<c …/>`.
    if (
      (next !== 32 && next !== 62 && next !== 9 && next !== 10 && next !== 13) ||
      text.charCodeAt(gt - 1) === 47
    ) {
      at = c
      continue
    }
    const ref = /\sr="([A-Z]+)\d*"/.exec(text.slice(c, gt))
    if (ref !== null) return columnNumber(ref[1]!)
    // Cells without references are numbered by position.
    return (text.slice(start, gt).match(/<c[\s>]/g) ?? []).length
  }
}

/** `A` → 1, `AB` → 28. */
export function columnNumber(letters: string): number {
  let n = 0
  for (const ch of letters) n = n * 26 + (ch.charCodeAt(0) - 64)
  return n
}

/** 1 → `A`, 28 → `AB`. */
export function columnLetters(n: number): string {
  let out = ''
  while (n > 0) {
    const rem = (n - 1) % 26
    out = String.fromCharCode(65 + rem) + out
    n = Math.floor((n - 1) / 26)
  }
  return out
}

function parseCell(ref: string): { row: number; col: number } | undefined {
  const match = /^([A-Z]+)(\d+)$/.exec(ref)
  return match === null ? undefined : { col: columnNumber(match[1]!), row: Number(match[2]) }
}

function parseRange(ref: string): MergedRange | undefined {
  const [from = '', to = from] = ref.split(':')
  const a = parseCell(from)
  const b = parseCell(to)
  if (a === undefined || b === undefined) return undefined
  return {
    top: Math.min(a.row, b.row),
    left: Math.min(a.col, b.col),
    bottom: Math.max(a.row, b.row),
    right: Math.max(a.col, b.col),
  }
}

/** Excel's largest sheet: 1,048,576 rows, 16,384 columns, 32,767 characters in a cell. */
export const EXCEL_LIMITS = { rows: 1_048_576, columns: 16_384, cellText: 32_767 } as const

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?Z?)?$/

/**
 * An ISO 8601 date or date-time without a zone offset (a trailing `Z` is accepted) as a Date whose
 * UTC fields are the wall-clock time, which is how Excel stores it; undefined when it is not one.
 */
export function parseIsoDate(text: string): Date | undefined {
  const m = ISO_DATE.exec(text)
  if (m === null) return undefined
  const part = (i: number) => Number(m[i] ?? '0')
  const month = part(2) - 1
  const day = part(3)
  const ms = Number((m[7] ?? '0').padEnd(3, '0'))
  const date = new Date(Date.UTC(part(1), month, day, part(4), part(5), part(6), ms))
  // Reject 2024-02-30 and the like instead of rolling over.
  if (date.getUTCMonth() !== month || date.getUTCDate() !== day || part(4) > 23) return undefined
  return date
}

/** A date cell as text: `YYYY-MM-DD` at midnight, else `YYYY-MM-DDTHH:mm:ss` (and `.sss` when set). */
export function formatExcelDate(date: Date): string {
  const iso = date.toISOString()
  if (
    date.getUTCHours() === 0 &&
    date.getUTCMinutes() === 0 &&
    date.getUTCSeconds() === 0 &&
    date.getUTCMilliseconds() === 0
  )
    return iso.slice(0, 10)
  return date.getUTCMilliseconds() === 0 ? iso.slice(0, 19) : iso.slice(0, 23)
}
