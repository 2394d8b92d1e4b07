import { open } from 'node:fs/promises'
import { z } from 'zod'
import { defineNode, errorCode, filePath, NodeRunError, rows, SyncgraphError } from '../engine/index.ts'
import { CsvLineTooLongError, MAX_RECORD_CHARS } from './csv/parser.ts'
import { CsvHeaderError, fileChunks, readCsv, type CsvBadLine } from './csv/reader.ts'
import { fileError } from './file-errors.ts'

const TYPE = 'csv.read'

/** Read a CSV file as a stream of rows whose values are strings. */
export const csvRead = defineNode({
  type: TYPE,
  version: 1,
  title: 'Read CSV',
  category: 'source',
  description: `Streams a CSV file (RFC 4180) as rows, one batch at a time, so files of any size read in flat memory; a named pipe is read as it fills. Every value is a string (an empty cell is the empty string); quoted fields may hold delimiters, doubled quotes and line breaks. Lines may end with CRLF, LF or CR. A byte order mark is removed. Empty lines are skipped. A repeated header name gets \`_2\`, \`_3\`… (\`name, name\` gives \`name\` and \`name_2\`); an empty one is named by its position (\`column2\`). A line that is not valid CSV (a stray or unclosed quote, text after a closing quote, a different number of fields than the header) or that holds bytes that are not valid UTF-8 is a row error naming its line (and the byte offset): \`onRowError\` decides; under \`route\` it goes to \`rejected\` as \`{ _line, _raw }\` with its text as in the file, and reading goes on with the next line. A quoted field left open is looked for up to ${MAX_RECORD_CHARS / 1024 / 1024} MiB characters; then its line is malformed.`,
  inputs: {},
  outputs: { out: rows() },
  rowErrors: true,
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
      relaxQuotes: z
        .boolean()
        .default(false)
        .meta({
          title: 'Stray quotes',
          description:
            'Read a quote inside an unquoted field as text, e.g. `37°36\'37.8"N`. Off: such a line is malformed. A field that starts with a quote is always a quoted field.',
          'x-ui': { advanced: true },
        }),
    })
    .strict(),
  infer: ({ config }) => ({ outputs: { out: config.columns } }),
  async setup({ nodeId, config, files, onCleanup }) {
    const path = await files.resolve(config.path, { mode: 'read', field: 'path' })
    const shown = files.display(path)
    const where = { nodeId, type: TYPE, field: 'path', path: shown, action: 'read' } as const
    try {
      const handle = await open(path, 'r')
      onCleanup(() => handle.close())
      const stat = await handle.stat()
      if (stat.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' })
      // A named pipe or device is read as it comes, once: no seeking back after the delimiter is sniffed.
      return { handle, shown, seekable: stat.isFile() }
    } catch (error) {
      throw fileError(error, where)
    }
  },
  async *run({ nodeId, config, state, settings, signal, log, reject }) {
    let chunks: AsyncIterable<Buffer> = fileChunks(state.handle, { seekable: state.seekable })
    let delimiter = config.delimiter
    if (delimiter === 'auto') {
      let head: Buffer
      let whole: boolean
      if (state.seekable) {
        head = Buffer.alloc(SNIFF_BYTES)
        const { bytesRead } = await state.handle.read(head, 0, SNIFF_BYTES, 0)
        head = head.subarray(0, bytesRead)
        whole = bytesRead < SNIFF_BYTES
      } else {
        // What a pipe gives first is all there is to sniff; it is read again from the chunk, not the pipe.
        const iterator = chunks[Symbol.asyncIterator]()
        const first = await iterator.next()
        head = first.done === true ? Buffer.alloc(0) : first.value
        whole = false
        chunks = prepend(first.done === true ? [] : [first.value], iterator)
      }
      const text = decodeHead(head.subarray(0, SNIFF_BYTES), config.encoding)
      const found = sniffDelimiter(whole || /[\r\n]$/.test(text) ? text : dropLastLine(text), config.quote)
      delimiter = found ?? ','
      log.info(
        found === undefined
          ? 'delimiter "auto": no delimiter is found the same number of times on every line; reading with ","'
          : `delimiter "auto": reading with ${JSON.stringify(found)}`,
      )
    }
    const prefix = `Node "${nodeId}" (${TYPE})`
    const lineError = (bad: CsvBadLine) =>
      new NodeRunError(bad.code, `line ${bad.line} of ${state.shown}: ${bad.reason}`, {
        nodeId,
        field: 'path',
        row: bad.line,
      })
    const batches = readCsv(cancellable(chunks, signal), {
      dialect: { delimiter, quote: config.quote, relaxQuotes: config.relaxQuotes },
      encoding: config.encoding,
      header: config.header,
      columns: config.columns,
      batchSize: settings.batchSize,
    })
    try {
      for await (const { rows: out, bad } of batches) {
        if (bad.length > 0) {
          // Under `fail` the first bad line ends the run: pass on the rows before it first.
          const first = bad[0]!
          if (settings.onRowError === 'fail' && first.index > 0) yield { out: out.slice(0, first.index) }
          for (const line of bad) reject({ _line: line.line, _raw: line.raw }, lineError(line))
        }
        if (out.length > 0) yield { out }
        signal.throwIfAborted()
      }
    } catch (error) {
      if (error instanceof CsvHeaderError) {
        throw new NodeRunError(
          error.code,
          `${prefix} ${error.code === 'CSV_COLUMNS_MISMATCH' ? 'columns' : 'path'}: line ${error.line} of ${state.shown}: ${error.message}`,
          { nodeId, field: error.code === 'CSV_COLUMNS_MISMATCH' ? 'columns' : 'path', row: error.line },
        )
      }
      if (error instanceof CsvLineTooLongError) {
        throw new NodeRunError(
          'CSV_MALFORMED',
          `${prefix} path: ${error.message} in ${state.shown}; no CSV record is that long, is it a CSV file?`,
          { nodeId, field: 'path', row: error.line, cause: error },
        )
      }
      if (errorCode(error) !== undefined && !(error instanceof SyncgraphError) && !signal.aborted) {
        throw fileError(error, { nodeId, type: TYPE, field: 'path', path: state.shown, action: 'read' })
      }
      throw error
    }
  },
})

/** `first`, then the rest of `iterator`. */
async function* prepend<T>(first: readonly T[], iterator: AsyncIterator<T>): AsyncGenerator<T> {
  yield* first
  for (;;) {
    const next = await iterator.next()
    if (next.done === true) return
    yield next.value
  }
}

/** Chunks until `signal` aborts (then its reason is thrown). */
async function* cancellable<T>(chunks: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  for await (const chunk of chunks) {
    signal.throwIfAborted()
    yield chunk
  }
}

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
