import { open } from 'node:fs/promises'
import { CsvError, parse } from 'csv-parse'
import { z } from 'zod'
import { defineNode, errorMessage, filePath, NodeRunError, rows, type Row } from '../engine/index.ts'
import { fileError } from './file-errors.ts'
import { rowBuilder } from './row-builder.ts'
import { streamBatches } from './stream-batches.ts'

const TYPE = 'csv.read'

/** Read a CSV file as a stream of rows whose values are strings. */
export const csvRead = defineNode({
  type: TYPE,
  version: 1,
  title: 'Read CSV',
  category: 'source',
  description:
    'Streams a CSV file as rows, one batch at a time, so files of any size read in flat memory. Every value is a string (an empty cell is the empty string); quoted fields may hold delimiters, doubled quotes and line breaks. A byte order mark is removed. Empty lines are skipped.',
  inputs: {},
  outputs: { out: rows() },
  config: z
    .object({
      path: filePath({
        title: 'File',
        description: 'The CSV file to read, relative to the graph file (CLI) or the server files folder.',
        mode: 'read',
      }),
      delimiter: z.string().min(1).default(',').meta({
        title: 'Delimiter',
        description:
          'The text between fields, e.g. `,` `;` or a tab `\\t`. `auto`: guess it from the first lines of the file among `,` `;` tab and `|` (the one found the same number of times, outside quotes, on every line; `,` when none is); the choice is logged.',
      }),
      header: z.boolean().default(true).meta({
        title: 'First line is a header',
        description:
          'When true the first line names the columns. When false every line is data, and columns are named by `columns` or else `column1`, `column2`, …',
      }),
      columns: z
        .array(z.string().min(1))
        .min(1)
        .optional()
        .meta({
          title: 'Column names',
          description:
            'Names for the columns, in file order. With a header line they replace its names; without one they name the data. Each line must then have exactly this many fields.',
          'x-ui': { advanced: true },
        }),
      encoding: z
        .enum(['utf8', 'utf16le', 'latin1'])
        .default('utf8')
        .meta({
          title: 'Encoding',
          description:
            'Character encoding of the file. A UTF-8 or UTF-16LE byte order mark is recognised whatever is set.',
          'x-ui': { advanced: true },
        }),
      quote: z
        .string()
        .length(1)
        .default('"')
        .meta({
          title: 'Quote character',
          description: 'Encloses fields that contain the delimiter, a quote (written twice) or a line break.',
          'x-ui': { advanced: true },
        }),
    })
    .strict(),
  infer: ({ config }) => ({ outputs: { out: config.columns } }),
  async setup({ nodeId, config, files, onCleanup }) {
    const path = await files.resolve(config.path, { mode: 'read', field: 'path' })
    const where = { nodeId, type: TYPE, field: 'path', path, action: 'read' } as const
    try {
      const handle = await open(path, 'r')
      onCleanup(() => handle.close())
      if ((await handle.stat()).isDirectory())
        throw Object.assign(new Error('is a folder'), { code: 'EISDIR' })
      return { handle, path }
    } catch (error) {
      throw fileError(error, where)
    }
  },
  async *run({ nodeId, config, state, settings, signal, log }) {
    let delimiter = config.delimiter
    if (delimiter === 'auto') {
      const head = Buffer.alloc(SNIFF_BYTES)
      const { bytesRead } = await state.handle.read(head, 0, SNIFF_BYTES, 0)
      const text = decodeHead(head.subarray(0, bytesRead), config.encoding)
      const found = sniffDelimiter(bytesRead < SNIFF_BYTES ? text : dropLastLine(text), config.quote)
      delimiter = found ?? ','
      log.info(
        found === undefined
          ? 'delimiter "auto": no delimiter is found the same number of times on every line; reading with ","'
          : `delimiter "auto": reading with ${JSON.stringify(found)}`,
      )
    }
    const file = state.handle.createReadStream({ autoClose: false, highWaterMark: 256 * 1024 })
    const parser = parse({
      delimiter,
      quote: config.quote,
      // A quote inside a quoted field is written twice, whichever character quotes.
      escape: config.quote,
      encoding: config.encoding,
      bom: true,
      skip_empty_lines: true,
      // Files glued together from several sources mix line endings; accept each one.
      record_delimiter: ['\r\n', '\n', '\r'],
    })
    file.on('error', (error) =>
      parser.destroy(
        fileError(error, { nodeId, type: TYPE, field: 'path', path: state.path, action: 'read' }),
      ),
    )
    file.pipe(parser)

    let build: ((values: readonly unknown[]) => Row) | undefined
    const toRow = (record: string[]): Row | undefined => {
      if (build !== undefined) return build(record)
      if (config.columns !== undefined && config.columns.length !== record.length) {
        throw new NodeRunError(
          'CSV_COLUMNS_MISMATCH',
          `Node "${nodeId}" (${TYPE}) columns: ${config.columns.length} column names are given but the first line of ${state.path} has ${record.length} fields`,
          { nodeId, field: 'columns', row: 1 },
        )
      }
      const names =
        config.columns ?? record.map((name, i) => (config.header && name !== '' ? name : `column${i + 1}`))
      build = rowBuilder(names)
      return config.header ? undefined : build(record)
    }

    try {
      for await (const batch of streamBatches(parser, settings.batchSize, toRow, signal)) {
        const out = config.header && batch[0] === undefined ? batch.slice(1) : batch
        if (out.length > 0) yield { out: out as Row[] }
      }
    } catch (error) {
      if (error instanceof CsvError) {
        const at = (error as CsvError & { lines?: number }).lines
        throw new NodeRunError(
          'CSV_MALFORMED',
          `Node "${nodeId}" (${TYPE}) path: malformed CSV${at === undefined ? '' : ` at line ${at}`} of ${state.path}: ${errorMessage(error)}`,
          { nodeId, field: 'path', cause: error, ...(at === undefined ? {} : { row: at }) },
        )
      }
      throw error
    } finally {
      file.unpipe(parser)
      file.destroy()
      parser.destroy()
    }
  },
})

const SNIFF_BYTES = 64 * 1024
const CANDIDATES = [',', ';', '\t', '|'] as const

/** The start of a file as text, without its byte order mark (which also decides UTF-16LE). */
function decodeHead(bytes: Buffer, encoding: 'utf8' | 'utf16le' | 'latin1'): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8')
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le')
  return bytes.toString(encoding)
}

function dropLastLine(text: string): string {
  const end = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'))
  return end < 0 ? text : text.slice(0, end)
}

/**
 * The delimiter of a CSV text among `,` `;` tab and `|`: the one that occurs, outside quoted fields,
 * the same number of times (at least once) on every non-empty line, the most frequent such one
 * first; undefined when none does.
 */
export function sniffDelimiter(text: string, quote = '"'): string | undefined {
  const lines: number[][] = []
  let counts = CANDIDATES.map(() => 0)
  let quoted = false
  let empty = true
  const endLine = () => {
    if (!empty) lines.push(counts)
    counts = CANDIDATES.map(() => 0)
    empty = true
  }
  for (let i = 0; i < text.length && lines.length < 50; i++) {
    const ch = text[i]!
    if (ch === quote) {
      quoted = !quoted
      empty = false
      continue
    }
    if (quoted) continue
    if (ch === '\n' || ch === '\r') {
      endLine()
      continue
    }
    empty = false
    const k = (CANDIDATES as readonly string[]).indexOf(ch)
    if (k >= 0) counts[k]!++
  }
  if (!quoted) endLine()
  let best: { delimiter: string; count: number } | undefined
  CANDIDATES.forEach((delimiter, k) => {
    const first = lines[0]?.[k] ?? 0
    if (first === 0 || !lines.every((line) => line[k] === first)) return
    if (best === undefined || first > best.count) best = { delimiter, count: first }
  })
  return best?.delimiter
}
