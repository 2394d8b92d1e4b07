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
      `"Node "src" (csv.read) columns: 2 column names are given but the first line of <dir>/in.csv has 3 fields"`,
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

  it('reports malformed CSV with its line number', async () => {
    const { summary, error } = await readCsv('id,name\n1,Ann\n2,"Bob\n')
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]).toMatchObject({ code: 'CSV_MALFORMED', nodeId: 'src', row: 3 })
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (csv.read) path: malformed CSV at line 3 of <dir>/in.csv: Quote Not Closed: the parsing is finished with an opening quote at line 3"`,
    )
  })

  it('reports a line with the wrong number of fields', async () => {
    const { summary, error } = await readCsv('id,name\n1,Ann\n2,Bob,extra\n')
    expect(summary.errors[0]).toMatchObject({ code: 'CSV_MALFORMED', row: 3 })
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (csv.read) path: malformed CSV at line 3 of <dir>/in.csv: Invalid Record Length: expect 2, got 3 on line 3"`,
    )
  })

  it('reports a missing file by node, field and absolute path', async () => {
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
      `"Node "hr" (csv.read) path: file not found: <dir>/hr.csv"`,
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
      `"Node "hr" (csv.read) path: <dir> is a folder, not a file"`,
    )
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
