import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { analyzeGraph } from '../engine/index.ts'
import { tempDir } from '../test/helpers.ts'
import { fileIn, firstError, runTest, testCatalog } from './test-kit.ts'

type Row = Record<string, unknown>

async function writeCsv(
  input: Row[],
  config: Record<string, unknown> = {},
  options: { dir?: string; settings?: Record<string, unknown>; onRowError?: 'fail' | 'skip' | 'route' } = {},
) {
  const dir = options.dir ?? (await tempDir())
  const route = options.onRowError === 'route'
  const { summary, rows } = await runTest(
    {
      nodes: [
        { id: 'src', type: 'test.values', config: { rows: input } },
        {
          id: 'out',
          type: 'csv.write',
          config: { path: 'out.csv', ...config },
          ...(options.onRowError === undefined ? {} : { onRowError: options.onRowError }),
        },
        ...(route ? [{ id: 'rejected', type: 'test.collect' }] : []),
      ],
      edges: [
        { from: 'src', to: 'out' },
        ...(route ? [{ from: 'out', fromPort: 'rejected', to: 'rejected' }] : []),
      ],
      settings: options.settings ?? {},
    },
    dir,
  )
  const text = await readFile(join(dir, 'out.csv'), 'utf8').catch(() => undefined)
  return { summary, text, dir, rejected: rows('rejected'), error: firstError(summary, dir) }
}

describe('csv.write', () => {
  it('writes a header from the first row, then the rows', async () => {
    const { summary, text } = await writeCsv([
      { id: 1, name: 'Ann', active: true },
      { id: 2, name: 'Bob', active: false },
    ])
    expect(summary.status).toBe('succeeded')
    expect(summary.nodes.out).toMatchObject({ rowsIn: 2, rowsOut: 2 })
    expect(text).toBe('id,name,active\n1,Ann,true\n2,Bob,false\n')
  })

  it('quotes delimiters, quotes and line breaks', async () => {
    const { text } = await writeCsv([{ a: 'x,y', b: 'say "hi"', c: 'one\ntwo', d: ' padded ' }])
    expect(text).toBe('a,b,c,d\n"x,y","say ""hi""","one\ntwo", padded \n')
  })

  it('writes null and missing fields as empty cells, arrays joined, objects as JSON', async () => {
    const { text } = await writeCsv(
      [
        { id: 1, groups: ['a', 'b', null], extra: { k: 1 }, none: null },
        { id: 2, groups: [] },
      ],
      { multiValueSeparator: '|' },
    )
    expect(text).toBe('id,groups,extra,none\n1,a|b|,"{""k"":1}",\n2,,,\n')
  })

  it('orders and selects fields with columns', async () => {
    const { text } = await writeCsv(
      [
        { id: 1, name: 'Ann', secret: 'x' },
        { name: 'Bob', id: 2, other: 'y' },
      ],
      { columns: ['name', 'id', 'missing'] },
    )
    expect(text).toBe('name,id,missing\nAnn,1,\nBob,2,\n')
  })

  it('uses another delimiter and leaves out the header', async () => {
    const { text } = await writeCsv([{ a: '1;2', b: 3 }], { delimiter: ';', header: false })
    expect(text).toBe('"1;2";3\n')
  })

  it('rejects a row with a field the first row did not have', async () => {
    const failed = await writeCsv([{ id: 1 }, { id: 2, name: 'new' }])
    expect(failed.summary.status).toBe('failed')
    expect(failed.summary.errors[0]).toMatchObject({ code: 'CSV_UNEXPECTED_FIELD', row: 2 })
    expect(failed.error).toMatchInlineSnapshot(
      `"Node "out" (csv.write) row 2: field "name" is not one of the columns taken from the first row (id); list every column in "columns" to write rows of different shapes"`,
    )
    const routed = await writeCsv([{ id: 1 }, { id: 2, name: 'new' }, { id: 3 }], {}, { onRowError: 'route' })
    expect(routed.text).toBe('id\n1\n3\n')
    expect(routed.rejected).toHaveLength(1)
    expect(routed.summary.nodes.out).toMatchObject({ rowsOut: 2, rowsRejected: 1 })
  })

  it('guards cells that a spreadsheet would run as formulas', async () => {
    const input = [
      { a: '=1+2', b: '+x', c: '-y', d: '@SUM(A1)', e: '\tt', f: 'plain', g: -5, h: ['=x', 'y'] },
    ]
    const guarded = await writeCsv(input, { escapeFormulas: true })
    expect(guarded.text).toBe(`a,b,c,d,e,f,g,h\n'=1+2,'+x,'-y,'@SUM(A1),'\tt,plain,-5,'=x;y\n`)
    const plain = await writeCsv(input)
    expect(plain.text).toBe('a,b,c,d,e,f,g,h\n=1+2,+x,-y,@SUM(A1),\tt,plain,-5,=x;y\n')
  })

  it('writes a byte order mark when asked', async () => {
    const dir = await tempDir()
    await writeCsv([{ a: 1 }], { bom: true }, { dir })
    const bytes = await readFile(join(dir, 'out.csv'))
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    expect(bytes.subarray(3).toString()).toBe('a\n1\n')
  })

  it('round-trips through csv.read', async () => {
    const dir = await tempDir()
    const input = [
      { id: '1', note: 'a, "b"\nc', empty: '' },
      { id: '2', note: 'Zoë', empty: '' },
    ]
    await writeCsv(input, { bom: true }, { dir })
    const { rows } = await runTest(
      {
        nodes: [
          { id: 'in', type: 'csv.read', config: { path: 'out.csv' } },
          { id: 'sink', type: 'test.collect' },
        ],
        edges: [{ from: 'in', to: 'sink' }],
      },
      dir,
    )
    expect(rows('sink')).toEqual(input)
  })

  it('writes the header alone for no rows when columns are given, and an empty file otherwise', async () => {
    expect((await writeCsv([], { columns: ['a', 'b'] })).text).toBe('a,b\n')
    expect((await writeCsv([])).text).toBe('')
  })

  it('appends without repeating the header', async () => {
    const dir = await tempDir()
    await writeCsv([{ id: 1 }], { append: true }, { dir })
    await writeCsv([{ id: 2 }, { id: 3 }], { append: true, bom: true }, { dir })
    expect(await readFile(join(dir, 'out.csv'), 'utf8')).toBe('id\n1\n2\n3\n')
  })

  it('replaces an existing file, and leaves it untouched when the run fails', async () => {
    const dir = await tempDir()
    await fileIn(dir, 'out.csv', 'old\ncontent\n')
    const failed = await writeCsv([{ id: 1 }, { id: 2, extra: 'x' }], {}, { dir, settings: { batchSize: 1 } })
    expect(failed.summary.status).toBe('failed')
    expect(failed.text).toBe('old\ncontent\n')
    expect(await readdir(dir)).toEqual(['out.csv'])
    const ok = await writeCsv([{ id: 1 }], {}, { dir })
    expect(ok.text).toBe('id\n1\n')
    expect(await readdir(dir)).toEqual(['out.csv'])
  })

  it('writes many batches in order', async () => {
    const input = Array.from({ length: 10_000 }, (_, i) => ({ i, s: `row ${i}` }))
    const { text, summary } = await writeCsv(input, {}, { settings: { batchSize: 777 } })
    const lines = text!.trimEnd().split('\n')
    expect(lines).toHaveLength(10_001)
    expect(lines[10_000]).toBe('9999,row 9999')
    expect(summary.nodes.out!.rowsOut).toBe(10_000)
  })

  it('reports a folder that does not exist', async () => {
    const { summary, error } = await writeCsv([{ a: 1 }], { path: 'no/such/out.csv' })
    expect(summary.errors[0]).toMatchObject({ code: 'FOLDER_NOT_FOUND', field: 'path' })
    expect(error).toMatchInlineSnapshot(
      `"Node "out" (csv.write) path: the folder of no/such/out.csv does not exist"`,
    )
  })

  it('warns about columns that do not reach the input', () => {
    const analysis = analyzeGraph(
      {
        syncgraph: 1,
        nodes: [
          { id: 'src', type: 'test.values', config: { rows: [{ id: 1 }] } },
          { id: 'out', type: 'csv.write', config: { path: 'x.csv', columns: ['id', 'nmae'] } },
        ],
        edges: [{ from: 'src', to: 'out' }],
      },
      testCatalog,
    )
    expect(analysis.issues.map((i) => i.message)).toMatchInlineSnapshot(`
      [
        "Column "nmae" does not reach the "in" input; known columns: id",
      ]
    `)
  })
})

describe('csv.write file handling', () => {
  it('refuses to write over a folder', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'out.csv'))
    const { summary } = await writeCsv([{ a: 1 }], {}, { dir })
    expect(summary.errors[0]).toMatchObject({ code: 'FILE_IS_FOLDER', field: 'path' })
    expect(firstError(summary, dir)).toMatchInlineSnapshot(
      `"Node "out" (csv.write) path: out.csv is a folder, not a file"`,
    )
    expect(await readdir(dir)).toEqual(['out.csv'])
  })
})

describe('csv.write encodings and formulas', () => {
  it('writes UTF-16LE with its byte order mark, and latin1, and both read back', async () => {
    const input = [{ id: '1', name: 'Zoë Müller', note: 'multi\nline, "quoted"' }]
    for (const encoding of ['utf16le', 'latin1', 'utf8'] as const) {
      const dir = await tempDir()
      const { summary } = await writeCsv(input, { encoding, bom: true }, { dir })
      expect(summary.status).toBe('succeeded')
      const bytes = await readFile(join(dir, 'out.csv'))
      const text = 'id,name,note\nZ'
      if (encoding === 'utf16le') {
        expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe])
        expect(bytes.subarray(2, 2 + 2 * 13).toString('utf16le')).toBe(text.slice(0, 13))
      } else if (encoding === 'latin1') {
        expect(bytes.subarray(0, 13).toString('latin1')).toBe(text.slice(0, 13))
        expect(bytes.includes(0xeb)).toBe(true) // ë as one byte
      } else {
        expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
      }
      const { rows } = await runTest(
        {
          nodes: [
            { id: 'in', type: 'csv.read', config: { path: 'out.csv', encoding } },
            { id: 'sink', type: 'test.collect' },
          ],
          edges: [{ from: 'in', to: 'sink' }],
        },
        dir,
      )
      expect(rows('sink'), encoding).toEqual(input)
    }
  })

  it('rejects a row that latin1 cannot hold instead of writing "?"', async () => {
    const routed = await writeCsv(
      [
        { id: 1, name: 'Zoë' },
        { id: 2, name: 'price in €' },
        { id: 3, name: 'ok' },
      ],
      { encoding: 'latin1' },
      { onRowError: 'route' },
    )
    expect(routed.text).toBe('id,name\n1,Zo\ufffd\n3,ok\n') // read as utf8 here: ë is one latin1 byte
    expect(routed.rejected.map((r) => r._error)).toEqual([
      { code: 'CSV_ENCODING', message: 'field "name" holds "€" (U+20AC), which latin1 cannot store' },
    ])
    const failed = await writeCsv([{ '€': 1 }], { encoding: 'latin1' })
    expect(failed.error).toMatchInlineSnapshot(
      `"Node "out" (csv.write) columns: the header holds "€" (U+20AC), which latin1 cannot store; rename the column or write utf8"`,
    )
  })

  it('leaves text that is a plain number alone when guarding formulas', async () => {
    const { text } = await writeCsv([{ a: '-5', b: '+1.5', c: '-2e3', d: '-1+2', e: '-', f: '=-5' }], {
      escapeFormulas: true,
    })
    expect(text).toBe(`a,b,c,d,e,f\n-5,+1.5,-2e3,'-1+2,'-,'=-5\n`)
  })
})
