import { execFileSync } from 'node:child_process'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test/helpers.ts'
import { sniffDelimiter } from './csv-read.node.ts'
import { fileIn, firstError, runTest } from './test-kit.ts'

async function readCsv(
  content: string | Buffer,
  config: Record<string, unknown> = {},
  settings: Record<string, unknown> = {},
) {
  const dir = await tempDir()
  const path = await fileIn(dir, 'in.csv', content)
  const { summary, rows } = await runTest(
    {
      nodes: [
        { id: 'src', type: 'csv.read', config: { path, ...config } },
        { id: 'sink', type: 'test.collect' },
      ],
      edges: [{ from: 'src', to: 'sink' }],
      settings,
    },
    dir,
  )
  return { summary, rows: rows('sink'), error: firstError(summary, dir), dir }
}

describe('csv.read', () => {
  it('reads a header and rows as strings', async () => {
    const { summary, rows } = await readCsv('id,name,salary\n1,Ann,50000\n2,Bob,\n')
    expect(summary.status).toBe('succeeded')
    expect(rows).toEqual([
      { id: '1', name: 'Ann', salary: '50000' },
      { id: '2', name: 'Bob', salary: '' },
    ])
    expect(summary.nodes.src!.rowsOut).toBe(2)
  })

  it('handles quotes, doubled quotes, delimiters and line breaks inside quoted fields', async () => {
    const { rows } = await readCsv('id,note\n1,"a, b"\n2,"say ""hi"""\n3,"line one\nline two"\r\n4,plain\n')
    expect(rows).toEqual([
      { id: '1', note: 'a, b' },
      { id: '2', note: 'say "hi"' },
      { id: '3', note: 'line one\nline two' },
      { id: '4', note: 'plain' },
    ])
  })

  it('reads other delimiters and quote characters', async () => {
    expect((await readCsv('a;b\n1;"x;y"\n', { delimiter: ';' })).rows).toEqual([{ a: '1', b: 'x;y' }])
    expect((await readCsv('a\tb\n1\t2\n', { delimiter: '\t' })).rows).toEqual([{ a: '1', b: '2' }])
    expect((await readCsv("a,b\n'x,y',2\n", { quote: "'" })).rows).toEqual([{ a: 'x,y', b: '2' }])
    expect((await readCsv('a||b\n1||2\n', { delimiter: '||' })).rows).toEqual([{ a: '1', b: '2' }])
  })

  it('names columns column1… without a header, or from the given columns', async () => {
    expect((await readCsv('1,Ann\n2,Bob\n', { header: false })).rows).toEqual([
      { column1: '1', column2: 'Ann' },
      { column1: '2', column2: 'Bob' },
    ])
    expect((await readCsv('1,Ann\n', { header: false, columns: ['id', 'name'] })).rows).toEqual([
      { id: '1', name: 'Ann' },
    ])
  })

  it('replaces the header names with the given columns', async () => {
    const { rows } = await readCsv('ID,Full Name\n1,Ann\n', { columns: ['id', 'name'] })
    expect(rows).toEqual([{ id: '1', name: 'Ann' }])
  })

  it('names an empty header cell by its position', async () => {
    expect((await readCsv('id,\n1,x\n')).rows).toEqual([{ id: '1', column2: 'x' }])
  })

  it('fails clearly when the given columns do not fit the file', async () => {
    const { summary, error } = await readCsv('a,b,c\n1,2,3\n', { columns: ['x', 'y'] })
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]!.code).toBe('CSV_COLUMNS_MISMATCH')
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (csv.read) columns: line 1 of in.csv: it has 3 fields but 2 column names are given"`,
    )
  })

  it('strips a UTF-8 byte order mark, and reads the same without one', async () => {
    const withBom = await readCsv(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,name\n1,Zoë\n')]),
    )
    const without = await readCsv('id,name\n1,Zoë\n')
    expect(withBom.rows).toEqual([{ id: '1', name: 'Zoë' }])
    expect(without.rows).toEqual(withBom.rows)
  })

  it('reads latin1 and UTF-16LE files', async () => {
    expect(
      (await readCsv(Buffer.from('id,name\n1,Zoë Müller\n', 'latin1'), { encoding: 'latin1' })).rows,
    ).toEqual([{ id: '1', name: 'Zoë Müller' }])
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\n1,Zoë\n', 'utf16le')])
    expect((await readCsv(utf16, { encoding: 'utf16le' })).rows).toEqual([{ id: '1', name: 'Zoë' }])
  })

  it('skips empty lines and reads a file without a final line break', async () => {
    expect((await readCsv('a,b\n\n1,2\n\n3,4')).rows).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ])
  })

  it('gives nothing for an empty file or a header alone', async () => {
    expect((await readCsv('')).summary.status).toBe('succeeded')
    expect((await readCsv('')).rows).toEqual([])
    expect((await readCsv('a,b\n')).rows).toEqual([])
  })

  it('emits batches of settings.batchSize', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => `${i},x`).join('\n')
    const { summary, rows } = await readCsv(`id,v\n${lines}\n`, {}, { batchSize: 10 })
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 25 }, (_, i) => String(i)))
    expect(summary.nodes.src!.batches).toBe(3)
  })

  it('reads a file larger than one read buffer in order', async () => {
    const count = 50_000
    const body = Array.from({ length: count }, (_, i) => `${i},"name ${i}",${i % 7}`).join('\n')
    const { rows } = await readCsv(`id,name,group\n${body}\n`, {}, { batchSize: 1000 })
    expect(rows).toHaveLength(count)
    expect(rows[count - 1]).toEqual({
      id: String(count - 1),
      name: `name ${count - 1}`,
      group: String((count - 1) % 7),
    })
  })

  it('fails on a malformed line under onRowError "fail", naming the line of the bad quote, after the rows before it', async () => {
    // csv-parse read on past the open quote and blamed line 6, with its own wording and the absolute path.
    const { summary, error, rows } = await readCsv('id,name\n1,Ann\n2,"Bob\n3,Carl\n4,Dan\n5,"Eve"x\n6,Fay\n')
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]).toMatchObject({ code: 'CSV_MALFORMED', nodeId: 'src', row: 3 })
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (csv.read): line 3 of in.csv: a quoted field opened on this line is not closed properly: the next quote, on line 6, is followed by text"`,
    )
    expect(rows).toEqual([{ id: '1', name: 'Ann' }])
  })

  it('reports a line with the wrong number of fields', async () => {
    const { summary, error } = await readCsv('id,name\n1,Ann\n2,Bob,extra\n')
    expect(summary.errors[0]).toMatchObject({ code: 'CSV_MALFORMED', row: 3 })
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (csv.read): line 3 of in.csv: the line has 3 fields where the header has 2"`,
    )
  })

  const messy = 'id,name\n1,Ann\n2,"Bob\n3,Carl\n4,Dan,extra\n5,Eve "E" Smith\n6,Fay\n'

  it('routes malformed lines to rejected with their text and line, and reads on', async () => {
    const dir = await tempDir()
    const path = await fileIn(dir, 'in.csv', messy)
    const { summary, rows } = await runTest(
      {
        nodes: [
          { id: 'src', type: 'csv.read', config: { path } },
          { id: 'good', type: 'test.collect' },
          { id: 'bad', type: 'test.collect' },
        ],
        edges: [
          { from: 'src', to: 'good' },
          { from: 'src', fromPort: 'rejected', to: 'bad' },
        ],
        settings: { onRowError: 'route', batchSize: 2 },
      },
      dir,
    )
    expect(summary.status).toBe('succeeded')
    expect(rows('good').map((r) => r.id)).toEqual(['1', '3', '6'])
    expect(rows('bad')).toEqual([
      {
        _line: 3,
        _raw: '2,"Bob',
        _error: {
          code: 'CSV_MALFORMED',
          message:
            'line 3 of in.csv: a quoted field opened on this line is not closed properly: the next quote, on line 6, is followed by text',
        },
      },
      {
        _line: 5,
        _raw: '4,Dan,extra',
        _error: {
          code: 'CSV_MALFORMED',
          message: 'line 5 of in.csv: the line has 3 fields where the header has 2',
        },
      },
      {
        _line: 6,
        _raw: '5,Eve "E" Smith',
        _error: {
          code: 'CSV_MALFORMED',
          message:
            'line 6 of in.csv: a quote (") inside an unquoted field; quote the field and write the quote twice, or turn on "Stray quotes" to read it as text',
        },
      },
    ])
    expect(summary.nodes.src).toMatchObject({ rowsOut: 3, rowsRejected: 3, errors: 3 })
  })

  it('counts malformed lines under onRowError "skip"', async () => {
    const { summary, rows } = await readCsv(messy, {}, { onRowError: 'skip' })
    expect(summary.status).toBe('succeeded')
    expect(rows.map((r) => r.id)).toEqual(['1', '3', '6'])
    expect(summary.nodes.src).toMatchObject({ rowsOut: 3, rowsRejected: 3 })
    expect(summary.errors.map((e) => [e.code, e.row])).toEqual([
      ['CSV_MALFORMED', 3],
      ['CSV_MALFORMED', 5],
      ['CSV_MALFORMED', 6],
    ])
  })

  it('reads stray quotes inside unquoted fields as text with relaxQuotes', async () => {
    const { summary, rows } = await readCsv('place,lat\nSomewhere,37°36\'37.8"N\n', { relaxQuotes: true })
    expect(summary.status).toBe('succeeded')
    expect(rows).toEqual([{ place: 'Somewhere', lat: '37°36\'37.8"N' }])
  })

  it('reports bytes that are not valid UTF-8 with line and byte offset instead of replacing them', async () => {
    const latin1 = Buffer.concat([Buffer.from('id,name\n1,Ann\n2,'), Buffer.from('Zoë\n3,Bob\n', 'latin1')])
    const { summary, error, rows } = await readCsv(latin1)
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]).toMatchObject({ code: 'CSV_INVALID_UTF8', nodeId: 'src', row: 3 })
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (csv.read): line 3 of in.csv: byte 0xEB at byte offset 18 is not valid UTF-8; if the file is Latin-1 or Windows-1252, set "Encoding" to latin1"`,
    )
    expect(rows).toEqual([{ id: '1', name: 'Ann' }])
    const skipped = await readCsv(latin1, {}, { onRowError: 'skip' })
    expect(skipped.rows.map((r) => r.id)).toEqual(['1', '3'])
  })

  it('renames repeated header names name_2, name_3 instead of dropping values', async () => {
    // csv-parse kept the last value only: {"id":"1","name":"second"}.
    const { rows } = await readCsv('id,name,name,name,name_2\n1,first,second,third,own\n')
    expect(rows).toEqual([{ id: '1', name: 'first', name_3: 'second', name_4: 'third', name_2: 'own' }])
    expect((await readCsv('id,name,name\n1,first,second\n')).rows).toEqual([
      { id: '1', name: 'first', name_2: 'second' },
    ])
  })

  it('reports a missing file by node, field and the path relative to the files folder', async () => {
    const dir = await tempDir()
    const { summary } = await runTest(
      {
        nodes: [
          { id: 'hr', type: 'csv.read', config: { path: 'hr.csv' } },
          { id: 'sink', type: 'test.collect' },
        ],
        edges: [{ from: 'hr', to: 'sink' }],
      },
      dir,
    )
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]).toMatchObject({ code: 'FILE_NOT_FOUND', nodeId: 'hr', field: 'path' })
    expect(firstError(summary, dir)).toMatchInlineSnapshot(
      `"Node "hr" (csv.read) path: file not found: hr.csv"`,
    )
  })

  it('refuses a folder', async () => {
    const dir = await tempDir()
    const { summary } = await runTest(
      {
        nodes: [
          { id: 'hr', type: 'csv.read', config: { path: '.' } },
          { id: 'sink', type: 'test.collect' },
        ],
        edges: [{ from: 'hr', to: 'sink' }],
      },
      dir,
    )
    expect(firstError(summary, dir)).toMatchInlineSnapshot(
      `"Node "hr" (csv.read) path: . is a folder, not a file"`,
    )
  })

  it('reads a named pipe as it fills, with a given or a sniffed delimiter', async () => {
    for (const config of [{}, { delimiter: 'auto' }]) {
      const dir = await tempDir()
      const fifo = join(dir, 'feed.csv')
      execFileSync('mkfifo', [fifo])
      // The writer sends the text in two parts, the second only once the reader holds the first.
      const writer = (async () => {
        const handle = await open(fifo, 'w')
        await handle.write('id;name\n1;a\n')
        await new Promise((resolve) => setTimeout(resolve, 50))
        await handle.write('2;b\n')
        await handle.close()
      })()
      const { summary, rows } = await runTest(
        {
          nodes: [
            { id: 'src', type: 'csv.read', config: { path: 'feed.csv', delimiter: ';', ...config } },
            { id: 'sink', type: 'test.collect' },
          ],
          edges: [{ from: 'src', to: 'sink' }],
        },
        dir,
      )
      await writer
      expect(firstError(summary, dir)).toBe('no error (status succeeded)')
      expect(rows('sink')).toEqual([
        { id: '1', name: 'a' },
        { id: '2', name: 'b' },
      ])
    }
  })

  it('stops reading when the run is cancelled', async () => {
    const dir = await tempDir()
    const body = Array.from({ length: 100_000 }, (_, i) => `${i},x`).join('\n')
    const path = await fileIn(dir, 'big.csv', `id,v\n${body}\n`)
    const controller = new AbortController()
    const { summary, rows } = await runTest(
      {
        nodes: [
          { id: 'src', type: 'csv.read', config: { path } },
          { id: 'sink', type: 'test.collect', config: { delayMs: 5 } },
        ],
        edges: [{ from: 'src', to: 'sink' }],
        settings: { batchSize: 100, queueDepth: 1 },
      },
      dir,
      { signal: controller.signal, onBatch: (nodeId) => nodeId === 'src' && controller.abort() },
    )
    expect(summary.status).toBe('cancelled')
    expect(summary.nodes.src!.status).toBe('cancelled')
    expect(rows('sink').length).toBeLessThan(1000)
  })

  it('guesses the delimiter with delimiter "auto", ignoring delimiters inside quotes', async () => {
    const semicolons = await readCsv('id;name;note\n1;"Doe, Ann";"a;b"\n2;Bob;\n', { delimiter: 'auto' })
    expect(semicolons.rows).toEqual([
      { id: '1', name: 'Doe, Ann', note: 'a;b' },
      { id: '2', name: 'Bob', note: '' },
    ])
    expect((await readCsv('a\tb\n1\t2\n', { delimiter: 'auto' })).rows).toEqual([{ a: '1', b: '2' }])
    expect((await readCsv('a|b|c\n1|2|3\n', { delimiter: 'auto' })).rows).toEqual([
      { a: '1', b: '2', c: '3' },
    ])
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id;name\n1;Zoë\n', 'utf16le')])
    expect((await readCsv(utf16, { delimiter: 'auto', encoding: 'utf16le' })).rows).toEqual([
      { id: '1', name: 'Zoë' },
    ])
  })

  it('sniffs from consistent counts, and gives up when no delimiter is consistent', () => {
    expect(sniffDelimiter('a,b;c\n1,2;3\n4,5;6')).toBe(',')
    expect(sniffDelimiter('a;b;c,d\n1;2;3,4\n5;6;7')).toBe(';')
    expect(sniffDelimiter('a,b\n1;2\n')).toBeUndefined()
    expect(sniffDelimiter('"x\ny",z\n1,2\n')).toBe(',')
    expect(sniffDelimiter('single\ncolumn\n')).toBeUndefined()
  })

  it('reads a single-column file with delimiter "auto" and says which delimiter it used', async () => {
    const dir = await tempDir()
    const path = await fileIn(dir, 'one.csv', 'name\nAnn\nBob\n')
    const logs: string[] = []
    const { rows } = await runTest(
      {
        nodes: [
          { id: 'src', type: 'csv.read', config: { path, delimiter: 'auto' } },
          { id: 'sink', type: 'test.collect' },
        ],
        edges: [{ from: 'src', to: 'sink' }],
      },
      dir,
      { onEvent: (e) => e.type === 'log' && logs.push(e.message) },
    )
    expect(rows('sink')).toEqual([{ name: 'Ann' }, { name: 'Bob' }])
    expect(logs).toContain(
      'delimiter "auto": no delimiter is found the same number of times on every line; reading with ","',
    )
  })

  it('reads latin1 bytes that are not valid UTF-8', async () => {
    const { rows } = await readCsv(Buffer.from([0x61, 0x0a, 0xe9, 0xe8, 0x0a]), { encoding: 'latin1' })
    expect(rows).toEqual([{ a: 'éè' }])
  })
})
