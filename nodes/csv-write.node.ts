import { randomBytes } from 'node:crypto'
import { open, rename, rm, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { stringify } from 'csv-stringify/sync'
import { z } from 'zod'
import { columnName, defineNode, filePath, NodeRunError, rows, unknownColumnIssues } from '../engine/index.ts'
import { multiValueSeparator } from './cell-fields.ts'
import { fileError } from './file-errors.ts'

const TYPE = 'csv.write'

/** Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/

/** A plain number (`-5`, `+1.5`, `-2e3`): a spreadsheet reads it as a number, never as a formula. */
const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** Characters latin1 (ISO 8859-1) cannot hold. */
// eslint-disable-next-line no-control-regex -- the range starts at U+0000 on purpose
const NOT_LATIN1 = /[^\u0000-\u00ff]/

/** Write rows to a CSV file, replacing it only once every row is written. */
export const csvWrite = defineNode({
  type: TYPE,
  version: 1,
  title: 'Write CSV',
  category: 'destination',
  description:
    'Writes every input row as a line of a CSV file. The file is written beside the target under a temporary name and renamed over it when the run succeeds, so a failed run leaves the old file as it was (unless appending). Numbers and booleans are written as text, null as an empty cell, multi-valued fields as their values joined by `multiValueSeparator`, objects as JSON. Fields are quoted when they hold the delimiter, a quote or a line break.',
  inputs: { in: rows() },
  outputs: {},
  rowErrors: true,
  config: z
    .object({
      path: filePath({
        title: 'File',
        description:
          'The CSV file to write, relative to the graph file (CLI) or the server files folder. Its folder must exist.',
        mode: 'write',
      }),
      delimiter: z
        .string()
        .min(1)
        .default(',')
        .meta({ title: 'Delimiter', description: 'The text between fields, e.g. `,` `;` or a tab.' }),
      header: z
        .boolean()
        .default(true)
        .meta({ title: 'Write a header line', description: 'Start the file with a line of column names.' }),
      columns: z
        .array(columnName({ title: 'Column', port: 'in' }))
        .min(1)
        .optional()
        .meta({
          title: 'Columns',
          description:
            'The fields to write, in this order; other fields are left out and a missing field is an empty cell. When not set, the columns are the fields of the first row, and a later row with a field the first row did not have is a row error (set `columns` to write rows of varying shape).',
          'x-ui': { widget: 'columns', port: 'in' },
        }),
      append: z.boolean().default(false).meta({
        title: 'Append',
        description:
          'Add the rows to the end of an existing file instead of replacing it. The header (and BOM) are written only when the file is new or empty. Appending writes in place: a failed run keeps the rows written before the failure.',
      }),
      escapeFormulas: z.boolean().default(false).meta({
        title: 'Guard against formulas',
        description:
          "Prefix a `'` to every text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return, so a spreadsheet shows it instead of running it. Numbers, and text that is a plain number such as `-5` or `+1.5`, are written as they are.",
      }),
      encoding: z
        .enum(['utf8', 'utf16le', 'latin1'])
        .default('utf8')
        .meta({
          title: 'Encoding',
          description:
            'Character encoding of the file. With latin1 a row holding a character latin1 cannot store (anything past U+00FF, e.g. `€` or `😀`) is a row error rather than written as `?`.',
          'x-ui': { advanced: true },
        }),
      bom: z
        .boolean()
        .default(false)
        .meta({
          title: 'Byte order mark',
          description:
            'Start the file with a byte order mark: EF BB BF in UTF-8 (helps Excel detect UTF-8), FF FE in UTF-16LE. Ignored for latin1, which has none.',
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
    const temp = config.append
      ? undefined
      : join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`)
    let handle: FileHandle
    try {
      handle = await open(temp ?? target, config.append ? 'a' : 'wx')
    } catch (error) {
      throw fileError(error, where)
    }
    const state = { handle, target, temp, where, fresh: true, committed: false, closed: false }
    onCleanup(async () => {
      if (!state.closed) await handle.close()
      if (temp !== undefined && !state.committed) await rm(temp, { force: true })
    })
    if (config.append) state.fresh = (await handle.stat()).size === 0
    return state
  },
  async *run({ nodeId, config, state, inputs, reject, countOut }) {
    const options = { delimiter: config.delimiter, eof: true }
    const separator = config.multiValueSeparator
    const guard = config.escapeFormulas
      ? (text: string) => (FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text)
      : (text: string) => text
    const encoding = config.encoding
    const latin1 = encoding === 'latin1'
    const cell = (value: unknown): string => {
      if (typeof value === 'string') return guard(value)
      if (value === null || value === undefined) return ''
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
        return String(value)
      if (Array.isArray(value)) return guard(value.map(scalarText).join(separator))
      return guard(scalarText(value))
    }
    const write = async (text: string) => {
      try {
        await state.handle.write(text, null, encoding)
      } catch (error) {
        throw fileError(error, state.where)
      }
    }

    let columns = config.columns
    let known: Set<string> | undefined
    let position = 0
    let started = false
    const start = async (names: readonly string[]) => {
      started = true
      if (!state.fresh) return
      let head = config.bom && !latin1 ? '\uFEFF' : ''
      if (config.header) head += stringify([names.map(guard)], options)
      const bad = latin1 ? NOT_LATIN1.exec(head) : null
      if (bad !== null) {
        throw new NodeRunError(
          'CSV_ENCODING',
          `Node "${nodeId}" (${TYPE}) columns: the header holds ${describeChar(bad[0])}, which latin1 cannot store; rename the column or write utf8`,
          { nodeId, field: 'columns' },
        )
      }
      if (head !== '') await write(head)
    }
    if (columns !== undefined) await start(columns)

    for await (const batch of inputs.in!) {
      if (batch.length === 0) continue
      if (columns === undefined) {
        columns = Object.keys(batch[0]!)
        known = new Set(columns)
      }
      if (!started) await start(columns)
      const records: string[][] = []
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i]!
        if (known !== undefined) {
          const extra = newField(row, known)
          if (extra !== undefined) {
            const message = `field "${extra}" is not one of the columns taken from the first row (${columns.join(', ')}); list every column in "columns" to write rows of different shapes`
            reject(
              row,
              new NodeRunError('CSV_UNEXPECTED_FIELD', message, { nodeId, field: 'columns' }),
              position + i + 1,
            )
            continue
          }
        }
        const record = new Array<string>(columns.length)
        let unencodable: string | undefined
        for (let c = 0; c < columns.length; c++) {
          const text = cell(row[columns[c]!])
          if (latin1 && unencodable === undefined) {
            const bad = NOT_LATIN1.exec(text)
            if (bad !== null)
              unencodable = `field "${columns[c]}" holds ${describeChar(bad[0])}, which latin1 cannot store`
          }
          record[c] = text
        }
        if (unencodable !== undefined) {
          reject(
            row,
            new NodeRunError('CSV_ENCODING', unencodable, { nodeId, field: 'encoding' }),
            position + i + 1,
          )
          continue
        }
        records.push(record)
      }
      position += batch.length
      if (records.length === 0) continue
      await write(stringify(records, options))
      countOut(records.length)
    }
    if (!started && config.bom && !latin1 && state.fresh) await write('\uFEFF')

    try {
      await state.handle.datasync()
      state.closed = true
      await state.handle.close()
      if (state.temp !== undefined) await rename(state.temp, state.target)
      state.committed = true
    } catch (error) {
      throw fileError(error, state.where)
    }
  },
})

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

/** A character as `"€" (U+20AC)`. */
function describeChar(ch: string): string {
  return `"${ch}" (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`
}
