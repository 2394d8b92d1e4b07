import type { FileHandle } from 'node:fs/promises'
import type { Row } from '../../engine/index.ts'
import { rowBuilder, uniqueNames } from '../row-builder.ts'
import { ChunkDecoder, type InvalidBytes, type TextEncoding } from './decoder.ts'
import { CsvParser, type CsvDialect, type CsvProblem } from './parser.ts'

export interface CsvReadOptions {
  dialect: CsvDialect
  encoding: TextEncoding
  /** The first record names the columns (repeated names get `_2`, `_3`…, empty ones `column<n>`). */
  header: boolean
  /** Names for the columns, in file order; with a header they replace its names. */
  columns?: readonly string[] | undefined
  batchSize: number
}

/** A line that gave no row: not valid CSV, not valid UTF-8, or the wrong number of fields. */
export interface CsvBadLine extends CsvProblem {
  /** How many rows of the batch come before this line. */
  index: number
}

/** Rows in file order, and the lines among them that gave no row. */
export interface CsvBatch {
  rows: Row[]
  bad: CsvBadLine[]
}

/** The header (or the first line, with `columns`) cannot be used, so nothing can be read; `message` says why. */
export class CsvHeaderError extends Error {
  constructor(
    readonly code: 'CSV_COLUMNS_MISMATCH' | 'CSV_MALFORMED' | 'CSV_INVALID_UTF8',
    message: string,
    readonly line: number,
  ) {
    super(message)
  }
}

/**
 * Bytes read from a file handle, `size` at a time, from its start. A handle that cannot seek (a named
 * pipe, a character device) is read from where it stands, as it fills.
 */
export async function* fileChunks(
  handle: FileHandle,
  { size = 128 * 1024, seekable = true }: { size?: number; seekable?: boolean } = {},
): AsyncGenerator<Buffer> {
  let position = 0
  for (;;) {
    const buffer = Buffer.allocUnsafe(size)
    const { bytesRead } = await handle.read(buffer, 0, size, seekable ? position : null)
    if (bytesRead === 0) return
    position += bytesRead
    yield bytesRead === size ? buffer : buffer.subarray(0, bytesRead)
  }
}

/**
 * Read CSV bytes as batches of rows whose values are strings. A bad line does not stop the reading:
 * it is listed in its batch's `bad`, with the count of rows before it, so a caller that stops at
 * the first one can still pass on the rows the file had before it.
 */
export async function* readCsv(
  chunks: AsyncIterable<Buffer>,
  options: CsvReadOptions,
): AsyncGenerator<CsvBatch, void, undefined> {
  const ready: CsvBatch[] = []
  let current: CsvBatch = { rows: [], bad: [] }
  let names: string[] | undefined
  let build: ((values: readonly unknown[]) => Row) | undefined
  let expected = 0

  const start = (fields: readonly string[], line: number): boolean => {
    const given = options.columns
    if (given !== undefined && given.length !== fields.length) {
      throw new CsvHeaderError(
        'CSV_COLUMNS_MISMATCH',
        `it has ${fields.length} field${fields.length === 1 ? '' : 's'} but ${given.length} column names are given`,
        line,
      )
    }
    names = uniqueNames(
      given ?? fields.map((name, i) => (options.header && name !== '' ? name : `column${i + 1}`)),
    )
    expected = names.length
    // Typed columns would convert each value here, one converter per column, before the row is built.
    build = rowBuilder(names)
    return options.header
  }

  const parser: CsvParser = new CsvParser(options.dialect, {
    record(fields, line) {
      if (build === undefined && start(fields, line)) return
      if (fields.length !== expected) {
        const what = options.header && options.columns === undefined ? 'the header has' : 'the columns are'
        current.bad.push({
          code: 'CSV_MALFORMED',
          line,
          raw: parser.recordText(),
          reason: `the line has ${fields.length} field${fields.length === 1 ? '' : 's'} where ${what} ${expected}`,
          index: current.rows.length,
        })
        return
      }
      current.rows.push(build!(fields))
      if (current.rows.length >= options.batchSize) {
        ready.push(current)
        current = { rows: [], bad: [] }
      }
    },
    malformed(problem) {
      if (build === undefined && (options.header || options.columns !== undefined)) {
        throw new CsvHeaderError(problem.code, problem.reason, problem.line)
      }
      current.bad.push({ ...problem, index: current.rows.length })
    },
  })

  const decoder = new ChunkDecoder(options.encoding)
  const invalid: InvalidBytes[] = []
  for await (const chunk of chunks) {
    const text = decoder.write(chunk, invalid)
    parser.push(text, invalid)
    invalid.length = 0
    yield* ready
    ready.length = 0
  }
  parser.push(decoder.end(invalid), invalid)
  parser.end()
  yield* ready
  if (current.rows.length > 0 || current.bad.length > 0) yield current
}
