import { open, type FileHandle } from 'node:fs/promises'
import { z } from 'zod'
import {
  ConnectorError,
  defineNode,
  errorMessage,
  filePath,
  NodeRunError,
  rows,
  type Row,
} from '../engine/index.ts'
import {
  columnLetters,
  formatExcelDate,
  indexWorkbook,
  type MergedRange,
  type SheetEntry,
} from './excel-workbook.ts'
import { fileError } from './file-errors.ts'
import { rowBuilder } from './row-builder.ts'

const TYPE = 'excel.read'

/** The part of exceljs's streaming row this node uses (`values` is 1-based and sparse). */
interface SheetRow {
  number: number
  values: unknown
}

/** What exceljs's WorksheetReader.parse() yields: arrays of events, rows among them. */
interface SheetEvent {
  eventType: string
  value: unknown
}

/** Read a sheet of an .xlsx workbook as rows, streaming. */
export const excelRead = defineNode({
  type: TYPE,
  version: 1,
  title: 'Read Excel',
  category: 'source',
  description:
    'Streams one sheet of an .xlsx workbook as rows (exceljs streaming reader), so large sheets read in flat memory. Cells keep their type: numbers as numbers, booleans as booleans, text as text, dates as ISO 8601 text (`2024-03-01` at midnight, else `2024-03-01T09:30:00`; Excel dates have no time zone), formulas as their last computed value, error cells as their text (`#N/A`), rich text as plain text. Every row has every column; an empty cell is null. Rows with no value at all are skipped. A header cell covered by a merged range takes the name of the range (the 2nd, 3rd… column of a wide range get `_2`, `_3`…); a repeated header name gets `_2`, `_3`…; an empty header cell is named by its column letter. Merged data cells hold their value in the first cell only; the others are null. Before streaming, the sheet is inflated once to find its merged ranges (the rows are not parsed in that pass).',
  inputs: {},
  outputs: { out: rows() },
  config: z
    .object({
      path: filePath({
        title: 'File',
        description:
          'The .xlsx workbook to read, relative to the graph file (CLI) or the server files folder.',
        mode: 'read',
      }),
      sheet: z
        .union([
          z.string().min(1).meta({ title: 'Sheet name' }),
          z.number().int().min(1).meta({ title: 'Sheet position' }),
        ])
        .optional()
        .meta({
          title: 'Sheet',
          description:
            'The sheet to read: its name, or its position in the tab order (1 is the first tab). Default: the first sheet.',
        }),
      headerRow: z.number().int().min(0).max(1_048_576).default(1).meta({
        title: 'Header row',
        description:
          'The row number (1 = the first row) holding the column names; rows above it are skipped and data starts below it. 0: no header, the data starts on row 1 and the columns are named by `columns` or by their letters (A, B, …).',
      }),
      columns: z
        .array(z.string().min(1))
        .min(1)
        .optional()
        .meta({
          title: 'Column names',
          description:
            'Names for the columns A, B, C, … in order; they replace the header row (which is still skipped). Cells right of the named columns are left out.',
          'x-ui': { advanced: true },
        }),
    })
    .strict(),
  infer: ({ config }) => ({ outputs: { out: config.columns } }),
  async setup({ nodeId, config, files, onCleanup }) {
    const path = await files.resolve(config.path, { mode: 'read', field: 'path' })
    const where = { nodeId, type: TYPE, field: 'path', path, action: 'read' } as const
    let handle: FileHandle
    try {
      handle = await open(path, 'r')
      onCleanup(() => handle.close())
      if ((await handle.stat()).isDirectory())
        throw Object.assign(new Error('is a folder'), { code: 'EISDIR' })
    } catch (error) {
      throw fileError(error, where)
    }
    let sheets: SheetEntry[]
    let merged: MergedRange[]
    let sheet: SheetEntry | undefined
    try {
      const index = await indexWorkbook(handle)
      sheets = index.sheets
      const wanted = config.sheet
      sheet =
        wanted === undefined
          ? sheets[0]
          : typeof wanted === 'number'
            ? sheets[wanted - 1]
            : sheets.find((s) => s.name === wanted)
      merged = sheet === undefined || config.columns !== undefined ? [] : await index.mergedRanges(sheet)
    } catch (error) {
      throw new ConnectorError(
        'EXCEL_INVALID',
        `Node "${nodeId}" (${TYPE}) path: ${path} is not an .xlsx workbook: ${errorMessage(error)}`,
        { nodeId, field: 'path', cause: error },
      )
    }
    if (sheet === undefined) {
      const list = sheets.map((s) => `${s.index}: "${s.name}"`).join(', ') || 'none'
      throw new ConnectorError(
        'EXCEL_SHEET_NOT_FOUND',
        `Node "${nodeId}" (${TYPE}) sheet: ${path} has no sheet ${typeof config.sheet === 'number' ? `at position ${config.sheet}` : JSON.stringify(config.sheet ?? 1)}; its sheets: ${list}`,
        { nodeId, field: 'sheet' },
      )
    }
    return { handle, path, sheet, merged }
  },
  async *run({ nodeId, config, state, settings, signal, log }) {
    const { sheet, merged } = state
    const file = state.handle.createReadStream({ autoClose: false, start: 0, highWaterMark: 256 * 1024 })
    // Loaded on first use: exceljs takes a third of a second to load, which every process would pay.
    const { default: ExcelJS } = await import('exceljs')
    // Styles are read because they say which numbers are dates.
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, {
      worksheets: 'emit',
      sharedStrings: 'cache',
      styles: 'cache',
      hyperlinks: 'ignore',
      entries: 'ignore',
    })
    const place = (row?: number) => `sheet "${sheet.name}"${row === undefined ? '' : ` row ${row}`}`
    const headerRow = config.headerRow
    const above = new Map<number, unknown[]>()
    let names: string[] | undefined = config.columns
    let build = names === undefined ? undefined : rowBuilder(names)
    let warned = false
    let found = false
    let rowNumber: number | undefined
    let batch: Row[] = []

    const take = (row: SheetRow): Row | undefined => {
      const values = Array.isArray(row.values) ? (row.values as unknown[]) : []
      if (row.number < headerRow) {
        if (merged.length > 0) above.set(row.number, values)
        return undefined
      }
      if (row.number === headerRow) {
        if (names === undefined) {
          names = headerNames(values, headerRow, merged, above)
          build = rowBuilder(names)
        }
        above.clear()
        return undefined
      }
      const cells = new Array<unknown>(names?.length ?? 0)
      let any = false
      if (names === undefined) {
        // No header: the first data row's last non-empty cell fixes the columns.
        let last = 0
        for (let c = 1; c < values.length; c++) if (cellValue(values[c]) !== null) last = c
        if (last === 0) return undefined
        names = Array.from({ length: last }, (_, i) => columnLetters(i + 1))
        build = rowBuilder(names)
        cells.length = last
      }
      for (let c = 0; c < names.length; c++) {
        const value = cellValue(values[c + 1])
        cells[c] = value
        if (value !== null) any = true
      }
      if (!warned) {
        for (let c = names.length + 1; c < values.length; c++) {
          if (cellValue(values[c]) === null) continue
          warned = true
          log.warn(
            `${place(row.number)}: cell ${columnLetters(c)}${row.number} has a value but its column has no name (${names.length} columns: ${names.join(', ')}); it is left out. Name it in the header row or in "columns".`,
          )
          break
        }
      }
      return any ? build!(cells) : undefined
    }

    try {
      for await (const worksheet of reader) {
        signal.throwIfAborted()
        if ((worksheet as { name?: unknown }).name !== sheet.name) continue
        found = true
        // exceljs caches an empty shared string (`<si><t/></si>`) as null; it is the text ''.
        const shared = (reader as unknown as { sharedStrings?: unknown[] }).sharedStrings
        if (Array.isArray(shared)) for (let i = 0; i < shared.length; i++) shared[i] ??= ''
        const events = (worksheet as unknown as { parse(): AsyncIterable<SheetEvent[]> }).parse()
        for await (const chunk of events) {
          signal.throwIfAborted()
          for (const event of chunk) {
            if (event.eventType !== 'row') continue
            const sheetRow = event.value as SheetRow
            rowNumber = sheetRow.number
            const out = take(sheetRow)
            if (out === undefined) continue
            batch.push(out)
            if (batch.length >= settings.batchSize) {
              yield { out: batch }
              batch = []
            }
          }
        }
        break
      }
      if (batch.length > 0) yield { out: batch }
    } catch (error) {
      if (signal.aborted || error instanceof NodeRunError || error instanceof ConnectorError) throw error
      throw new NodeRunError(
        'EXCEL_MALFORMED',
        `Node "${nodeId}" (${TYPE}) path: cannot read ${place(rowNumber === undefined ? undefined : rowNumber + 1)} of ${state.path}: ${errorMessage(error)}`,
        { nodeId, field: 'path', cause: error, ...(rowNumber === undefined ? {} : { row: rowNumber + 1 }) },
      )
    } finally {
      file.destroy()
    }
    if (!found) {
      throw new NodeRunError(
        'EXCEL_MALFORMED',
        `Node "${nodeId}" (${TYPE}) sheet: ${place()} is listed in ${state.path} but its part ${sheet.path} could not be read`,
        { nodeId, field: 'sheet' },
      )
    }
  },
})

/**
 * Column names from the header row's cells: a cell covered by a merged range takes the range's name
 * (from its top-left cell, possibly on a row above), suffixed `_2`, `_3`… for the range's later
 * columns; empty cells are named by their letter; repeated names get `_2`, `_3`….
 */
export function headerNames(
  values: readonly unknown[],
  headerRow: number,
  merged: readonly MergedRange[],
  above: ReadonlyMap<number, readonly unknown[]>,
): string[] {
  let last = 0
  for (let c = 1; c < values.length; c++) if (cellValue(values[c]) !== null) last = c
  for (const m of merged) if (m.top <= headerRow && headerRow <= m.bottom) last = Math.max(last, m.right)
  const names: string[] = []
  const used = new Map<string, number>()
  for (let c = 1; c <= last; c++) {
    let name = cellText(values[c])
    if (name === '') {
      const range = merged.find(
        (m) => m.top <= headerRow && headerRow <= m.bottom && m.left <= c && c <= m.right,
      )
      if (range !== undefined) {
        const origin = range.top === headerRow ? values : above.get(range.top)
        const base = cellText(origin?.[range.left])
        if (base !== '') name = c === range.left ? base : `${base}_${c - range.left + 1}`
      }
    }
    if (name === '') name = columnLetters(c)
    const seen = used.get(name) ?? 0
    used.set(name, seen + 1)
    names.push(seen === 0 ? name : `${name}_${seen + 1}`)
  }
  return names
}

function cellText(raw: unknown): string {
  const value = cellValue(raw)
  return value === null ? '' : String(value).trim()
}

/** An exceljs cell value as a row value: string, number, boolean or null. */
export function cellValue(raw: unknown): string | number | boolean | null {
  if (raw === null || raw === undefined) return null
  switch (typeof raw) {
    case 'string':
    case 'number':
    case 'boolean':
      return raw
    case 'object': {
      if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? null : formatExcelDate(raw)
      const value = raw as {
        richText?: { text?: string }[]
        result?: unknown
        formula?: unknown
        sharedFormula?: unknown
        error?: unknown
        text?: unknown
      }
      if (Array.isArray(value.richText)) return value.richText.map((r) => r.text ?? '').join('')
      if ('formula' in value || 'sharedFormula' in value) {
        if (typeof value.result === 'object' && value.result !== null && 'error' in value.result)
          return String((value.result as { error: unknown }).error)
        return cellValue(value.result)
      }
      if (value.error !== undefined) return String(value.error)
      if (value.text !== undefined) return cellValue(value.text)
      return null
    }
    default:
      return String(raw)
  }
}
