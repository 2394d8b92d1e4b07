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

/** The inflated text of an entry, chunk by chunk (with a UTF-8 decoder across chunk borders). */
async function* entryText(handle: FileHandle, entry: ZipEntry): AsyncGenerator<string> {
  const local = await readAt(handle, entry.localOffset, 30)
  if (local.readUInt32LE(0) !== LOCAL) throw new NotAWorkbookError(`corrupt zip entry ${entry.name}`)
  const start = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28)
  const raw = handle.createReadStream({ start, end: start + entry.compressedSize - 1, autoClose: false })
  const decoder = new TextDecoder()
  if (entry.method === 0) {
    for await (const chunk of raw) yield decoder.decode(chunk as Buffer, { stream: true })
    return
  }
  if (entry.method !== 8)
    throw new NotAWorkbookError(`zip compression method ${entry.method} is not supported`)
  const inflate = createInflateRaw()
  raw.pipe(inflate)
  raw.on('error', (error) => inflate.destroy(error))
  for await (const chunk of inflate) yield decoder.decode(chunk as Buffer, { stream: true })
}

async function entryString(handle: FileHandle, entry: ZipEntry): Promise<string> {
  let text = ''
  for await (const chunk of entryText(handle, entry)) text += chunk
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

/** An open workbook file: its sheets in tab order, and the merged ranges of any of them. */
export interface WorkbookIndex {
  sheets: SheetEntry[]
  mergedRanges(sheet: SheetEntry): Promise<MergedRange[]>
}

/** Read the sheet list of an .xlsx file (central directory, workbook.xml and its relationships). */
export async function indexWorkbook(handle: FileHandle): Promise<WorkbookIndex> {
  const entries = await centralDirectory(handle)
  const workbook = entries.get('xl/workbook.xml')
  const rels = entries.get('xl/_rels/workbook.xml.rels')
  if (workbook === undefined || rels === undefined)
    throw new NotAWorkbookError('no xl/workbook.xml in the file')
  const targets = new Map<string, string>()
  for (const tag of (await entryString(handle, rels)).match(/<Relationship\b[^>]*>/g) ?? []) {
    const id = xmlAttribute(tag, 'Id')
    const target = xmlAttribute(tag, 'Target')
    if (id === undefined || target === undefined) continue
    targets.set(id, target.startsWith('/') ? target.slice(1) : `xl/${target}`)
  }
  const sheets: SheetEntry[] = []
  for (const tag of (await entryString(handle, workbook)).match(/<sheet\b[^>]*>/g) ?? []) {
    const name = xmlAttribute(tag, 'name')
    const id = xmlAttribute(tag, 'r:id')
    const path = id === undefined ? undefined : targets.get(id)
    if (name !== undefined && path !== undefined) sheets.push({ index: sheets.length + 1, name, path })
  }
  return {
    sheets,
    async mergedRanges(sheet) {
      const entry = entries.get(sheet.path)
      if (entry === undefined) throw new NotAWorkbookError(`sheet "${sheet.name}" has no part ${sheet.path}`)
      const ranges: MergedRange[] = []
      let carry = ''
      for await (const chunk of entryText(handle, entry)) {
        const text = carry + chunk
        const pattern = /<mergeCell\b[^>]*\bref="([A-Z]+\d+(?::[A-Z]+\d+)?)"/g
        let match: RegExpExecArray | null
        let consumed = 0
        while ((match = pattern.exec(text)) !== null) {
          const range = parseRange(match[1]!)
          if (range !== undefined) ranges.push(range)
          consumed = pattern.lastIndex
        }
        // Keep an unfinished tag for the next chunk.
        const open = text.lastIndexOf('<')
        carry = open >= consumed ? text.slice(open) : ''
      }
      return ranges
    },
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
