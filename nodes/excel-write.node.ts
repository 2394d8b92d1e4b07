import { randomBytes } from 'node:crypto'
import { rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type ExcelJS from 'exceljs'
import { z } from 'zod'
import {
  columnName,
  ConnectorError,
  defineNode,
  errorCode,
  errorMessage,
  filePath,
  NodeRunError,
  rows,
  unknownColumnIssues,
  type Row,
} from '../engine/index.ts'
import { multiValueSeparator } from './cell-fields.ts'
import { EXCEL_LIMITS, parseIsoDate } from './excel-workbook.ts'
import { fileError } from './file-errors.ts'

const TYPE = 'excel.write'

/** Characters an .xlsx cell cannot hold (XML 1.0 forbids them; exceljs would drop them silently). */
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- these control characters are exactly what XML 1.0 forbids
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** A sheet name Excel accepts: 1–31 characters, none of `[ ] : * ? / \`, not starting or ending with `'`. */
const SHEET_NAME = /^(?!')[^[\]:*?/\\]{1,31}(?<!')$/

/** Cells of one row, or why the row cannot be written. */
type Cells = { cells: unknown[] } | { field: string; code: string; reason: string }

interface SheetTarget {
  /** Set the values (and date formats) of one row; rows must come in increasing order. */
  put(rowNumber: number, cells: readonly unknown[]): void
  /** Write the workbook to the temp file. */
  finish(): Promise<void>
  /** Release what an unfinished write holds. */
  abandon(): void
}

/** Write rows into a sheet of an .xlsx workbook, creating it or replacing that one sheet. */
export const excelWrite = defineNode({
  type: TYPE,
  version: 1,
  title: 'Write Excel',
  category: 'destination',
  description:
    'Writes every input row as a row of one sheet of an .xlsx workbook. A new workbook is streamed to disk (exceljs streaming writer: flat memory). When the file exists, its other sheets are kept (values, formulas, styles, merged cells, column widths, data validation — what exceljs reads and writes; charts and pivot tables are lost) and the named sheet is replaced in place (or added after the others): that needs the whole workbook in memory while it is written, the existing sheets plus the new rows: about 1 KB per cell (replacing a 100,000-row, 7-column sheet peaks at about 1.3 GB), so for large sheets write a workbook of their own or set `otherSheets: drop`. The file is written beside the target under a temporary name and renamed over it when the run succeeds, so a failed run leaves the old file as it was. Numbers and booleans are written as numbers and booleans, null as an empty cell, text as text — never as a formula, even when it starts with `=` — multi-valued fields joined by `multiValueSeparator`, objects as JSON. A row with text longer than an Excel cell holds (32,767 characters), a control character a workbook cannot store, or a number that is not finite is a row error.',
  inputs: { in: rows() },
  outputs: {},
  rowErrors: true,
  config: z
    .object({
      path: filePath({
        title: 'File',
        description:
          'The .xlsx workbook to write, relative to the graph file (CLI) or the server files folder. Its folder must exist.',
        mode: 'write',
      }),
      sheet: z
        .string()
        .regex(
          SHEET_NAME,
          "a sheet name: 1–31 characters, none of [ ] : * ? / \\, not starting or ending with '",
        )
        .default('Sheet1')
        .meta({
          title: 'Sheet',
          description:
            'The sheet to write. In an existing workbook a sheet of that name is replaced in place.',
        }),
      headerRow: z.number().int().min(0).max(1_048_575).default(1).meta({
        title: 'Header row',
        description:
          'The row number to write the column names on (1 = the first row); the data starts on the row below and rows above it stay empty. 0: no header, the data starts on row 1.',
      }),
      columns: z
        .array(columnName({ title: 'Column', port: 'in' }))
        .min(1)
        .optional()
        .meta({
          title: 'Columns',
          description:
            'The fields to write, in this order; other fields are left out and a missing field is an empty cell. When not set, the columns are the fields of the first row, and a later row with a field the first row did not have is a row error.',
          'x-ui': { widget: 'columns', port: 'in' },
        }),
      isoDates: z.boolean().default(false).meta({
        title: 'Write ISO dates as dates',
        description:
          'Write text of the form `2024-03-01` or `2024-03-01T09:30[:00[.000]]` (optionally ending in `Z`) as a date cell, shown as `yyyy-mm-dd` or `yyyy-mm-dd hh:mm:ss`, instead of as text. Excel dates have no time zone: the time is written as it reads.',
      }),
      otherSheets: z
        .enum(['keep', 'drop'])
        .default('keep')
        .meta({
          title: 'Other sheets of an existing workbook',
          description:
            '`keep`: read the existing workbook and replace only this sheet (holds the workbook in memory). `drop`: write a new workbook with this sheet alone (streamed).',
          'x-ui': { advanced: true },
        }),
      multiValueSeparator: multiValueSeparator(),
    })
    .strict(),
  infer: ({ config, inputs }) => ({
    issues: unknownColumnIssues(config.columns, inputs.in, 'in', '$.columns'),
  }),
  async setup({ nodeId, config, files, onCleanup }) {
    const target = await files.resolve(config.path, { mode: 'write', field: 'path' })
    const where = { nodeId, type: TYPE, field: 'path', path: files.display(target), action: 'write' } as const
    const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`)
    let exists = false
    try {
      await stat(dirname(target))
      const info = await stat(target).catch((error: unknown) => {
        if (errorCode(error) === 'ENOENT') return undefined
        throw error
      })
      if (info?.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' })
      exists = info !== undefined
    } catch (error) {
      throw fileError(error, where)
    }
    const state = {
      target,
      temp,
      where,
      exists,
      sheet: undefined as SheetTarget | undefined,
      committed: false,
    }
    onCleanup(async () => {
      if (state.committed) return
      state.sheet?.abandon()
      await rm(temp, { force: true })
    })
    return state
  },
  async *run({ nodeId, config, state, inputs, reject, countOut }) {
    const sheetName = config.sheet
    const place = `sheet "${sheetName}"`
    const separator = config.multiValueSeparator
    const dateFormats = config.isoDates

    const cellOf = (value: unknown): unknown => {
      if (value === null || value === undefined) return null
      switch (typeof value) {
        case 'string': {
          if (dateFormats) {
            const date = parseIsoDate(value)
            if (date !== undefined) return date
          }
          return value
        }
        case 'number':
          return Number.isFinite(value) ? value : NaN
        case 'boolean':
          return value
        case 'bigint':
          return Number.isSafeInteger(Number(value)) ? Number(value) : String(value)
        case 'object':
          if (Array.isArray(value)) return value.map(scalarText).join(separator)
          return scalarText(value)
        default:
          return String(value)
      }
    }
    const rowCells = (row: Row, columns: readonly string[]): Cells => {
      const cells = new Array<unknown>(columns.length)
      for (let c = 0; c < columns.length; c++) {
        const field = columns[c]!
        const cell = cellOf(row[field])
        if (typeof cell === 'string') {
          if (cell.length > EXCEL_LIMITS.cellText) {
            return {
              field,
              code: 'EXCEL_CELL_TOO_LONG',
              reason: `text of ${cell.length.toLocaleString('en-US')} characters is longer than an Excel cell holds (${EXCEL_LIMITS.cellText.toLocaleString('en-US')})`,
            }
          }
          const bad = FORBIDDEN.exec(cell)
          if (bad !== null) {
            const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')
            return {
              field,
              code: 'EXCEL_INVALID_CHARACTER',
              reason: `the text holds U+${code} at position ${bad.index + 1}, which an .xlsx cell cannot store`,
            }
          }
        } else if (typeof cell === 'number' && Number.isNaN(cell)) {
          return {
            field,
            code: 'EXCEL_INVALID_NUMBER',
            reason: `${String(row[field])} is not a finite number`,
          }
        }
        cells[c] = cell
      }
      return { cells }
    }

    let target: SheetTarget
    try {
      target =
        state.exists && config.otherSheets === 'keep'
          ? await replaceInWorkbook(state.target, state.temp, sheetName, config.isoDates)
          : await newWorkbook(state.temp, sheetName, config.isoDates)
    } catch (error) {
      throw new ConnectorError(
        'EXCEL_INVALID',
        `Node "${nodeId}" (${TYPE}) path: cannot open ${state.where.path} to replace ${place}: ${errorMessage(error)}; set otherSheets to "drop" to write a new workbook over it`,
        { nodeId, field: 'path', cause: error },
      )
    }
    state.sheet = target

    let columns = config.columns
    let known: Set<string> | undefined
    let nextRow = config.headerRow + 1
    let position = 0
    const start = (names: readonly string[]) => {
      if (names.length > EXCEL_LIMITS.columns) {
        throw new NodeRunError(
          'EXCEL_TOO_MANY_COLUMNS',
          `Node "${nodeId}" (${TYPE}) columns: ${names.length} columns do not fit in ${place} (Excel holds ${EXCEL_LIMITS.columns})`,
          { nodeId, field: 'columns' },
        )
      }
      if (config.headerRow > 0) target.put(config.headerRow, names)
    }
    if (columns !== undefined) start(columns)

    for await (const batch of inputs.in!) {
      if (batch.length === 0) continue
      if (columns === undefined) {
        columns = Object.keys(batch[0]!)
        known = new Set(columns)
        start(columns)
      }
      let written = 0
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i]!
        const at = position + i + 1
        if (known !== undefined) {
          const extra = newField(row, known)
          if (extra !== undefined) {
            const message = `${place} field "${extra}": not one of the columns taken from the first row (${columns.join(', ')}); list every column in "columns" to write rows of different shapes`
            reject(row, new NodeRunError('EXCEL_UNEXPECTED_FIELD', message, { nodeId, field: 'columns' }), at)
            continue
          }
        }
        const result = rowCells(row, columns)
        if (!('cells' in result)) {
          const message = `${place} field "${result.field}": ${result.reason}`
          reject(row, new NodeRunError(result.code, message, { nodeId, field: result.field }), at)
          continue
        }
        if (nextRow > EXCEL_LIMITS.rows) {
          throw new NodeRunError(
            'EXCEL_TOO_MANY_ROWS',
            `Node "${nodeId}" (${TYPE}) row ${at}: ${place} is full: Excel holds ${EXCEL_LIMITS.rows.toLocaleString('en-US')} rows; split the rows over several sheets or files`,
            { nodeId, row: at },
          )
        }
        target.put(nextRow++, result.cells)
        written++
      }
      position += batch.length
      if (written > 0) countOut(written)
    }
    if (columns === undefined && config.headerRow > 0) target.put(config.headerRow, [])

    try {
      await target.finish()
      await rename(state.temp, state.target)
      state.committed = true
    } catch (error) {
      throw fileError(error, state.where)
    }
  },
})

const DATE_FORMAT = 'yyyy-mm-dd'
const DATE_TIME_FORMAT = 'yyyy-mm-dd hh:mm:ss'

function dateFormat(date: Date): string {
  return date.getUTCHours() === 0 &&
    date.getUTCMinutes() === 0 &&
    date.getUTCSeconds() === 0 &&
    date.getUTCMilliseconds() === 0
    ? DATE_FORMAT
    : DATE_TIME_FORMAT
}

/** Set a row's values; date cells get a date format (only when `dates` is on, so styles stay off otherwise). */
function fill(row: ExcelJS.Row, cells: readonly unknown[], dates: boolean): void {
  row.values = cells as ExcelJS.CellValue[]
  if (!dates) return
  for (let c = 0; c < cells.length; c++) {
    const value = cells[c]
    if (value instanceof Date) row.getCell(c + 1).numFmt = dateFormat(value)
  }
}

/** exceljs, loaded on first use: it takes a third of a second to load, which every process would pay. */
async function exceljs(): Promise<typeof ExcelJS> {
  return (await import('exceljs')).default
}

/** A new workbook with one sheet, streamed to `temp` row by row. */
async function newWorkbook(temp: string, sheet: string, dates: boolean): Promise<SheetTarget> {
  const ExcelJS = await exceljs()
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: temp,
    useSharedStrings: false,
    useStyles: dates,
  })
  const worksheet = workbook.addWorksheet(sheet)
  return {
    put(rowNumber, cells) {
      const row = worksheet.getRow(rowNumber)
      fill(row, cells, dates)
      row.commit()
    },
    async finish() {
      await worksheet.commit()
      await workbook.commit()
    },
    abandon() {
      ;(workbook as unknown as { stream?: { destroy?(): void } }).stream?.destroy?.()
    },
  }
}

/** The existing workbook, in memory, with `sheet` replaced in place (or added last); the other sheets as they were. */
async function replaceInWorkbook(
  target: string,
  temp: string,
  sheet: string,
  dates: boolean,
): Promise<SheetTarget> {
  const ExcelJS = await exceljs()
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.readFile(target)
  const old = workbook.worksheets.find((w) => w.name === sheet)
  const orderNo = (old as { orderNo?: number } | undefined)?.orderNo
  if (old !== undefined) workbook.removeWorksheet(old.id)
  const worksheet = workbook.addWorksheet(sheet)
  if (orderNo !== undefined) (worksheet as unknown as { orderNo: number }).orderNo = orderNo
  return {
    put(rowNumber, cells) {
      fill(worksheet.getRow(rowNumber), cells, dates)
    },
    async finish() {
      // Inline text, as the streaming writer does: an empty shared string would read back as null.
      await workbook.xlsx.writeFile(temp, { useSharedStrings: false })
    },
    abandon() {},
  }
}

function newField(row: Record<string, unknown>, known: Set<string>): string | undefined {
  for (const field in row) if (!known.has(field)) return field
  return undefined
}

/** One value as text: an array element or an object (as JSON). */
function scalarText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}
