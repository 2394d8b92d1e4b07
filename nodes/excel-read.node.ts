import { open, type FileHandle } from 'node:fs/promises'
import { Readable } from 'node:stream'
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
  InflateLimitError,
  type InflateLimits,
  type MergedRange,
  type SheetEntry,
  type SheetScan,
  type WorkbookIndex,
} from './excel-workbook.ts'
import { fileError } from './file-errors.ts'
import { rowBuilder, uniqueNames } from './row-builder.ts'

const TYPE = 'excel.read'
const DEFAULT_MAX_RATIO = 100
const DEFAULT_MAX_MIB = 2048

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
    'Streams one sheet of an .xlsx workbook as rows (exceljs parsing each part as it is inflated), so large sheets read in flat memory. Cells keep their type: numbers as numbers, booleans as booleans, text as text, dates as ISO 8601 text (`2024-03-01` at midnight, else `2024-03-01T09:30:00`; Excel dates have no time zone), formulas as their last computed value, error cells as their text (`#N/A`), rich text as plain text. Every row has every column: the columns run to the last column that holds a value in any row below the header, so no cell is left out; an empty cell is null. Rows with no value at all are skipped. A header cell covered by a merged range takes the name of the range (the 2nd, 3rd… column of a wide range get `_2`, `_3`…); a repeated header name gets `_2`, `_3`…; an empty header cell (or a column right of the header) is named by its column letter. Merged data cells hold their value in the first cell only; the others are null. Relationship targets may be relative or absolute (`/xl/worksheets/sheet1.xml`, as openpyxl and pandas write them). Before streaming, the sheet is inflated once to find its merged ranges and its last column (the rows are not parsed in that pass). A part that inflates beyond `maxInflateRatio` or `maxInflatedMiB` is refused (`EXCEL_TOO_LARGE`), and cancelling the run stops the inflating at once.',
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
      maxInflateRatio: z
        .number()
        .min(1)
        .default(DEFAULT_MAX_RATIO)
        .meta({
          title: 'Largest inflation ratio',
          description:
            'A part of the workbook (a sheet, the shared strings) may inflate to at most this many times its compressed size (checked once it is past 1 MiB); beyond it the file is refused (`EXCEL_TOO_LARGE`) as a likely zip bomb. Spreadsheet XML compresses about 5–30×.',
          'x-ui': { advanced: true },
        }),
      maxInflatedMiB: z
        .number()
        .min(1)
        .default(DEFAULT_MAX_MIB)
        .meta({
          title: 'Largest inflated part (MiB)',
          description:
            'A part of the workbook may inflate to at most this many MiB; beyond it the file is refused (`EXCEL_TOO_LARGE`). A sheet of a million rows of ten short cells is about 500 MiB of XML.',
          'x-ui': { advanced: true },
        }),
    })
    .strict(),
  infer: ({ config }) => ({ outputs: { out: config.columns } }),
  async setup({ nodeId, config, files, onCleanup, signal }) {
    const path = await files.resolve(config.path, { mode: 'read', field: 'path' })
    const shown = files.display(path)
    const where = { nodeId, type: TYPE, field: 'path', path: shown, action: 'read' } as const
    let handle: FileHandle
    try {
      handle = await open(path, 'r')
      onCleanup(() => handle.close())
      if ((await handle.stat()).isDirectory())
        throw Object.assign(new Error('is a folder'), { code: 'EISDIR' })
    } catch (error) {
      throw fileError(error, where)
    }
    const limits: InflateLimits = {
      maxRatio: config.maxInflateRatio,
      maxBytes: config.maxInflatedMiB * 2 ** 20,
      signal,
    }
    let index: WorkbookIndex
    let sheet: SheetEntry | undefined
    let scan: SheetScan = { merged: [], lastColumn: 0 }
    try {
      index = await indexWorkbook(handle, limits)
      const wanted = config.sheet
      sheet =
        wanted === undefined
          ? index.sheets[0]
          : typeof wanted === 'number'
            ? index.sheets[wanted - 1]
            : index.sheets.find((s) => s.name === wanted)
      if (sheet !== undefined && config.columns === undefined)
        scan = await index.scan(sheet, config.headerRow)
    } catch (error) {
      throw workbookError(error, nodeId, shown, signal)
    }
    if (sheet === undefined) {
      const list = index.sheets.map((s) => `${s.index}: "${s.name}"`).join(', ') || 'none'
      throw new ConnectorError(
        'EXCEL_SHEET_NOT_FOUND',
        `Node "${nodeId}" (${TYPE}) sheet: ${shown} has no sheet ${typeof config.sheet === 'number' ? `at position ${config.sheet}` : JSON.stringify(config.sheet ?? 1)}; its sheets: ${list}`,
        { nodeId, field: 'sheet' },
      )
    }
    return { index, shown, sheet, scan }
  },
  async *run({ nodeId, config, state, settings, signal, log }) {
    const { sheet, index } = state
    const { merged, lastColumn } = state.scan
    // Loaded on first use: exceljs takes a third of a second to load, which every process would pay.
    const { default: ExcelJS } = await import('exceljs')
    const { default: WorksheetReader } = (await import(
      // @ts-expect-error exceljs ships no types for its streaming sheet reader
      'exceljs/lib/stream/xlsx/worksheet-reader.js'
    )) as { default: WorksheetReaderClass }
    // The parts are inflated here, one at a time and within the limits, rather than by exceljs's
    // unzipper (which matched sheets by their file name and missed absolute relationship targets);
    // exceljs parses them. Styles are read because they say which numbers are dates.
    const options = {
      worksheets: 'emit',
      sharedStrings: 'cache',
      styles: 'cache',
      hyperlinks: 'ignore',
      entries: 'ignore',
    } as const
    const workbook = new ExcelJS.stream.xlsx.WorkbookReader(
      Readable.from([]),
      options,
    ) as unknown as WorkbookParts
    const place = (row?: number) => `sheet "${sheet.name}"${row === undefined ? '' : ` row ${row}`}`
    const headerRow = config.headerRow
    const above = new Map<number, unknown[]>()
    let names: string[] | undefined = config.columns
    let build = names === undefined ? undefined : rowBuilder(names)
    let warned = false
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
          names = headerNames(values, headerRow, merged, above, lastColumn)
          build = rowBuilder(names)
        }
        above.clear()
        return undefined
      }
      const cells = new Array<unknown>(names?.length ?? 0)
      let any = false
      if (names === undefined) {
        // No header: the sheet's last column with a value fixes the columns.
        let last = lastColumn
        for (let c = 1; c < values.length; c++) if (cellValue(values[c]) !== null) last = Math.max(last, c)
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
            `${place(row.number)}: cell ${columnLetters(c)}${row.number} has a value but "columns" names only ${names.length} columns (${names.join(', ')}); it is left out. Add a name to "columns", or remove "columns" to name the columns from the header row.`,
          )
          break
        }
      }
      return any ? build!(cells) : undefined
    }

    try {
      await workbook._parseWorkbook(Readable.from(index.part('xl/workbook.xml')))
      if (index.styles !== undefined) await workbook._parseStyles(Readable.from(index.part(index.styles)))
      if (index.sharedStrings !== undefined) {
        for await (const _ of workbook._parseSharedStrings(Readable.from(index.part(index.sharedStrings))))
          void _
        // exceljs caches an empty shared string (`<si><t/></si>`) as null; it is the text ''.
        const shared = workbook.sharedStrings
        if (Array.isArray(shared)) for (let i = 0; i < shared.length; i++) shared[i] ??= ''
      }
      const worksheet = new WorksheetReader({
        workbook,
        id: sheet.index,
        iterator: index.part(sheet.path),
        options,
      })
      for await (const chunk of worksheet.parse()) {
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
      if (batch.length > 0) yield { out: batch }
    } catch (error) {
      if (signal.aborted || error instanceof NodeRunError || error instanceof ConnectorError) throw error
      if (error instanceof InflateLimitError) throw workbookError(error, nodeId, state.shown, signal)
      throw new NodeRunError(
        'EXCEL_MALFORMED',
        `Node "${nodeId}" (${TYPE}) path: cannot read ${place(rowNumber === undefined ? undefined : rowNumber + 1)} of ${state.shown}: ${errorMessage(error)}`,
        { nodeId, field: 'path', cause: error, ...(rowNumber === undefined ? {} : { row: rowNumber + 1 }) },
      )
    }
  },
})

/** exceljs's streaming sheet reader (`lib/stream/xlsx/worksheet-reader.js`), the part used here. */
type WorksheetReaderClass = new (args: {
  workbook: WorkbookParts
  id: number
  iterator: AsyncIterable<Buffer>
  options: Record<string, string>
}) => { parse(): AsyncIterable<SheetEvent[]> }

/** The WorkbookReader methods that parse one part each (their input: a readable stream of the part). */
interface WorkbookParts {
  _parseWorkbook(part: Readable): Promise<void>
  _parseStyles(part: Readable): Promise<void>
  _parseSharedStrings(part: Readable): AsyncIterable<unknown>
  sharedStrings?: unknown[]
}

/** A failure to index or inflate the workbook, for a person. */
function workbookError(error: unknown, nodeId: string, shown: string, signal: AbortSignal): unknown {
  if (signal.aborted) return error
  if (error instanceof InflateLimitError) {
    return new ConnectorError(
      'EXCEL_TOO_LARGE',
      `Node "${nodeId}" (${TYPE}) path: ${shown} is refused: its ${error.message} (${error.reason === 'ratio' ? 'maxInflateRatio' : 'maxInflatedMiB'}); a workbook that inflates this far is likely a zip bomb. Raise the limit if the file is trusted.`,
      { nodeId, field: 'path', cause: error },
    )
  }
  return new ConnectorError(
    'EXCEL_INVALID',
    `Node "${nodeId}" (${TYPE}) path: ${shown} is not an .xlsx workbook: ${errorMessage(error)}`,
    { nodeId, field: 'path', cause: error },
  )
}

/**
 * Column names from the header row's cells, up to `lastColumn` at least (the last column with a
 * value below the header): a cell covered by a merged range takes the range's name (from its
 * top-left cell, possibly on a row above), suffixed `_2`, `_3`… for the range's later columns;
 * empty cells are named by their letter; repeated names get `_2`, `_3`….
 */
export function headerNames(
  values: readonly unknown[],
  headerRow: number,
  merged: readonly MergedRange[],
  above: ReadonlyMap<number, readonly unknown[]>,
  lastColumn = 0,
): string[] {
  let last = lastColumn
  for (let c = last + 1; c < values.length; c++) if (cellValue(values[c]) !== null) last = c
  for (const m of merged) if (m.top <= headerRow && headerRow <= m.bottom) last = Math.max(last, m.right)
  const names: string[] = []
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
    names.push(name === '' ? columnLetters(c) : name)
  }
  return uniqueNames(names)
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
