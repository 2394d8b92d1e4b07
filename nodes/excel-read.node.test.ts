import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test/helpers.ts'
import { writeZip } from '../test/zip.ts'
import { fileIn, firstError, runTest } from './test-kit.ts'

/** Build a real .xlsx with exceljs's in-memory workbook (shared strings, styles, merges). */
async function workbook(
  dir: string,
  build: (wb: ExcelJS.Workbook) => void,
  name = 'in.xlsx',
): Promise<string> {
  const wb = new ExcelJS.Workbook()
  build(wb)
  await wb.xlsx.writeFile(join(dir, name))
  return name
}

/**
 * An .xlsx laid out as openpyxl (and so pandas) writes it: the sheet before the shared strings in
 * the zip, and absolute relationship targets (`/xl/worksheets/sheet1.xml`). Shared strings: id,
 * name, Zoë; style 1 is a date.
 */
async function openpyxlWorkbook(path: string, rows: readonly string[]): Promise<void> {
  const ns = 'http://schemas.openxmlformats.org'
  const rel = (id: string, type: string, target: string) =>
    `<Relationship Id="${id}" Type="${ns}/officeDocument/2006/relationships/${type}" Target="${target}"/>`
  await writeZip(path, [
    {
      name: 'docProps/app.xml',
      data: `<Properties xmlns="${ns}/officeDocument/2006/extended-properties"><Application>Microsoft Excel</Application></Properties>`,
    },
    {
      name: 'xl/worksheets/sheet1.xml',
      data: `<worksheet xmlns="${ns}/spreadsheetml/2006/main"><sheetPr><outlinePr summaryBelow="1" summaryRight="1"/></sheetPr><dimension ref="A1:B3"/><sheetData>${rows.join('')}</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>`,
    },
    {
      name: 'xl/sharedStrings.xml',
      data: `<sst xmlns="${ns}/spreadsheetml/2006/main" uniqueCount="3"><si><t>id</t></si><si><t>name</t></si><si><t>Zoë</t></si></sst>`,
    },
    {
      name: 'xl/styles.xml',
      data: `<styleSheet xmlns="${ns}/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" applyNumberFormat="1" xfId="0"/></cellXfs></styleSheet>`,
    },
    {
      name: 'xl/workbook.xml',
      data: `<workbook xmlns="${ns}/spreadsheetml/2006/main" xmlns:r="${ns}/officeDocument/2006/relationships"><workbookPr/><sheets><sheet name="People" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    },
    {
      name: 'xl/_rels/workbook.xml.rels',
      data: `<Relationships xmlns="${ns}/package/2006/relationships">${rel('rId1', 'worksheet', '/xl/worksheets/sheet1.xml')}${rel('rId2', 'styles', '/xl/styles.xml')}${rel('rId3', 'sharedStrings', '/xl/sharedStrings.xml')}</Relationships>`,
    },
    {
      name: '_rels/.rels',
      data: `<Relationships xmlns="${ns}/package/2006/relationships">${rel('rId1', 'officeDocument', '/xl/workbook.xml')}</Relationships>`,
    },
    {
      name: '[Content_Types].xml',
      data: `<Types xmlns="${ns}/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
    },
  ])
}

async function readExcel(
  dir: string,
  config: Record<string, unknown>,
  settings: Record<string, unknown> = {},
) {
  const logs: string[] = []
  const { summary, rows } = await runTest(
    {
      nodes: [
        { id: 'src', type: 'excel.read', config },
        { id: 'sink', type: 'test.collect' },
      ],
      edges: [{ from: 'src', to: 'sink' }],
      settings,
    },
    dir,
    { onEvent: (e) => e.type === 'log' && logs.push(e.message) },
  )
  return { summary, rows: rows('sink'), error: firstError(summary, dir), logs }
}

describe('excel.read', () => {
  it('reads typed cells: text, numbers, booleans, dates, formulas, rich text, errors, empty', async () => {
    const dir = await tempDir()
    const path = await workbook(dir, (wb) => {
      const ws = wb.addWorksheet('People')
      ws.addRow(['id', 'name', 'salary', 'active', 'born', 'seen', 'total', 'note', 'bad'])
      ws.addRow([
        1,
        'Zoë Müller 😀',
        50000.5,
        true,
        new Date(Date.UTC(1990, 4, 17)),
        new Date(Date.UTC(2024, 2, 1, 9, 30, 15)),
        { formula: 'C2*2', result: 100001 },
        { richText: [{ text: 'bold ', font: { bold: true } }, { text: 'plain' }] },
        { error: '#N/A' },
      ])
      ws.addRow([2, '', null, false, null, null, { formula: 'C3*2' }, '=1+2'])
      ws.getCell('F2').numFmt = 'yyyy-mm-dd hh:mm:ss'
    })
    const { summary, rows } = await readExcel(dir, { path })
    expect(summary.status).toBe('succeeded')
    expect(rows).toEqual([
      {
        id: 1,
        name: 'Zoë Müller 😀',
        salary: 50000.5,
        active: true,
        born: '1990-05-17',
        seen: '2024-03-01T09:30:15',
        total: 100001,
        note: 'bold plain',
        bad: '#N/A',
      },
      // exceljs stores '' as an empty shared string: it reads as '', not as an empty cell.
      {
        id: 2,
        name: '',
        salary: null,
        active: false,
        born: null,
        seen: null,
        total: null,
        note: '=1+2',
        bad: null,
      },
    ])
    expect(summary.nodes.src!.rowsOut).toBe(2)
  })

  it('picks a sheet by name or by position, and lists the sheets when it is not there', async () => {
    const dir = await tempDir()
    const path = await workbook(dir, (wb) => {
      wb.addWorksheet('First').addRow(['a']).commit()
      wb.getWorksheet('First')!.addRow([1])
      const second = wb.addWorksheet('Zweite Seite')
      second.addRow(['b'])
      second.addRow([2])
    })
    expect((await readExcel(dir, { path })).rows).toEqual([{ a: 1 }])
    expect((await readExcel(dir, { path, sheet: 'Zweite Seite' })).rows).toEqual([{ b: 2 }])
    expect((await readExcel(dir, { path, sheet: 2 })).rows).toEqual([{ b: 2 }])
    const missing = await readExcel(dir, { path, sheet: 'Third' })
    expect(missing.summary.errors[0]).toMatchObject({ code: 'EXCEL_SHEET_NOT_FOUND', field: 'sheet' })
    expect(missing.error).toMatchInlineSnapshot(
      `"Node "src" (excel.read) sheet: in.xlsx has no sheet "Third"; its sheets: 1: "First", 2: "Zweite Seite""`,
    )
    expect((await readExcel(dir, { path, sheet: 3 })).error).toContain('has no sheet at position 3')
  })

  it('finds a sheet whose name needs XML escaping', async () => {
    const dir = await tempDir()
    const path = await workbook(dir, (wb) => {
      wb.addWorksheet('Cover').addRow(['x'])
      const ws = wb.addWorksheet('R&D "<2>"')
      ws.addRow(['a'])
      ws.addRow(['ok'])
    })
    expect((await readExcel(dir, { path, sheet: 'R&D "<2>"' })).rows).toEqual([{ a: 'ok' }])
  })

  it('stops reading when the run is cancelled', async () => {
    const dir = await tempDir()
    const path = await workbook(dir, (wb) => {
      const ws = wb.addWorksheet('Big')
      ws.addRow(['i'])
      for (let i = 0; i < 50_000; i++) ws.addRow([i])
    })
    const controller = new AbortController()
    const { summary, rows } = await runTest(
      {
        nodes: [
          { id: 'src', type: 'excel.read', config: { path } },
          { id: 'sink', type: 'test.collect', config: { delayMs: 5 } },
        ],
        edges: [{ from: 'src', to: 'sink' }],
        settings: { batchSize: 100, queueDepth: 1 },
      },
      dir,
      { signal: controller.signal, onBatch: (nodeId) => nodeId === 'src' && controller.abort() },
    )
    expect(summary.status).toBe('cancelled')
    expect(rows('sink').length).toBeLessThan(1000)
  })

  it('takes the header from another row and skips the rows above it', async () => {
    const dir = await tempDir()
    const path = await workbook(dir, (wb) => {
      const ws = wb.addWorksheet('Report')
      ws.getCell('A1').value = 'HR export, November'
      ws.getRow(3).values = ['id', 'name']
      ws.getRow(4).values = [7, 'Ann']
      ws.getRow(6).values = [8, 'Bob']
    })
    expect((await readExcel(dir, { path, headerRow: 3 })).rows).toEqual([
      { id: 7, name: 'Ann' },
      { id: 8, name: 'Bob' },
    ])
  })

  it('names columns covered by merged header cells, across columns and from a row above', async () => {
    const dir = await tempDir()
    const path = await workbook(dir, (wb) => {
      const ws = wb.addWorksheet('Merged')
      ws.getRow(1).values = ['id', 'Address', null, null, 'Phone']
      ws.getRow(2).values = [null, 'Street', 'City', null, null]
      ws.getRow(3).values = [1, 'Main St 1', 'Oslo', 'NO', '555']
      ws.mergeCells('A1:A2')
      ws.mergeCells('B1:D1')
    })
    expect((await readExcel(dir, { path, headerRow: 1 })).rows).toEqual([
      { id: null, Address: 'Street', Address_2: 'City', Address_3: null, Phone: null },
      { id: 1, Address: 'Main St 1', Address_2: 'Oslo', Address_3: 'NO', Phone: '555' },
    ])
    // Row 2 as header: A2 is covered by A1:A2 ("id"); D2 and E2 are empty, so D and E keep their letters.
    // Before, the values under them (NO, 555) were left out.
    const second = await readExcel(dir, { path, headerRow: 2 })
    expect(second.rows).toEqual([{ id: 1, Street: 'Main St 1', City: 'Oslo', D: 'NO', E: '555' }])
  })

  it('makes repeated header names unique and keeps cells right of the header under their letter', async () => {
    const dir = await tempDir()
    const path = await workbook(dir, (wb) => {
      const ws = wb.addWorksheet('S')
      ws.addRow(['name', 'name', 'name', null, 'name_2'])
      ws.addRow(['a', 'b', 'c', 'under an empty header'])
      ws.addRow(['d', 'e', 'f', null, 'g', null, 'wider than the header'])
    })
    // Before, D2 and G3 were left out (with a warning): a row wider than its header lost cells.
    const { rows, logs } = await readExcel(dir, { path })
    expect(rows).toEqual([
      { name: 'a', name_3: 'b', name_4: 'c', D: 'under an empty header', name_2: null, F: null, G: null },
      { name: 'd', name_3: 'e', name_4: 'f', D: null, name_2: 'g', F: null, G: 'wider than the header' },
    ])
    expect(logs.filter((l) => l.includes('left out'))).toEqual([])
  })

  it('warns once about cells right of the given columns', async () => {
    const dir = await tempDir()
    const path = await workbook(dir, (wb) => {
      const ws = wb.addWorksheet('S')
      ws.addRow(['a', 'b', 'c'])
      ws.addRow([1, 2, 3])
    })
    const { rows, logs } = await readExcel(dir, { path, columns: ['x', 'y'] })
    expect(rows).toEqual([{ x: 1, y: 2 }])
    expect(logs.filter((l) => l.includes('left out'))).toEqual([
      'sheet "S" row 2: cell C2 has a value but "columns" names only 2 columns (x, y); it is left out. Add a name to "columns", or remove "columns" to name the columns from the header row.',
    ])
  })

  it('reads without a header: columns by letter, or as given', async () => {
    const dir = await tempDir()
    const path = await workbook(dir, (wb) => {
      const ws = wb.addWorksheet('S')
      ws.addRow([1, 'Ann'])
      ws.addRow([2, null, 'x'])
    })
    expect((await readExcel(dir, { path, headerRow: 0 })).rows).toEqual([
      { A: 1, B: 'Ann', C: null },
      { A: 2, B: null, C: 'x' },
    ])
    expect((await readExcel(dir, { path, headerRow: 0, columns: ['id', 'name', 'extra'] })).rows).toEqual([
      { id: 1, name: 'Ann', extra: null },
      { id: 2, name: null, extra: 'x' },
    ])
    expect((await readExcel(dir, { path, columns: ['id', 'name'] })).rows).toEqual([{ id: 2, name: null }])
  })

  it('skips empty rows and streams many rows in batches', async () => {
    const dir = await tempDir()
    const count = 20_000
    const path = await workbook(dir, (wb) => {
      const ws = wb.addWorksheet('Big')
      ws.addRow(['i', 'text', 'when'])
      for (let i = 0; i < count; i++) ws.addRow([i, `row ${i}`, new Date(Date.UTC(2020, 0, 1 + (i % 365)))])
      ws.getRow(count + 5).values = [] // an empty row far below
    })
    const { rows, summary } = await readExcel(dir, { path }, { batchSize: 1000 })
    expect(rows).toHaveLength(count)
    expect(rows[count - 1]).toEqual({
      i: count - 1,
      text: `row ${count - 1}`,
      when: new Date(Date.UTC(2020, 0, 1 + ((count - 1) % 365))).toISOString().slice(0, 10),
    })
    expect(summary.nodes.src!.batches).toBe(20)
  })

  it('reads a workbook whose relationship targets are absolute, as openpyxl and pandas write it', async () => {
    // Before: "sheet is listed but its part could not be read" (exceljs matched sheets by relative target).
    const dir = await tempDir()
    await openpyxlWorkbook(join(dir, 'pandas.xlsx'), [
      '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>',
      '<row r="2"><c r="A2" t="n"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row>',
      '<row r="3"><c r="A3" t="n"><v>2</v></c><c r="B3" s="1" t="n"><v>45352</v></c></row>',
    ])
    const { summary, rows } = await readExcel(dir, { path: 'pandas.xlsx' })
    expect(summary.status).toBe('succeeded')
    expect(rows).toEqual([
      { id: 1, name: 'Zoë' },
      { id: 2, name: '2024-03-01' },
    ])
  })

  it('refuses a workbook whose sheet inflates beyond the limits (a zip bomb), naming the setting', async () => {
    const dir = await tempDir()
    const row = (r: number) =>
      `<row r="${r}"><c r="A${r}" t="inlineStr"><is><t>${'x'.repeat(1000)}</t></is></c></row>`
    await openpyxlWorkbook(
      join(dir, 'bomb.xlsx'),
      Array.from({ length: 20_000 }, (_, i) => row(i + 2)),
    )
    const { summary, error } = await readExcel(dir, { path: 'bomb.xlsx' })
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]).toMatchObject({ code: 'EXCEL_TOO_LARGE', nodeId: 'src', field: 'path' })
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (excel.read) path: bomb.xlsx is refused: its part xl/worksheets/sheet1.xml inflates to more than 100 times its compressed size (maxInflateRatio); a workbook that inflates this far is likely a zip bomb. Raise the limit if the file is trusted."`,
    )
    const sized = await readExcel(dir, { path: 'bomb.xlsx', maxInflateRatio: 100_000, maxInflatedMiB: 4 })
    expect(sized.error).toContain('inflates to more than 4 MiB (maxInflatedMiB)')
    // Raised for a trusted file, it reads.
    const trusted = await readExcel(dir, { path: 'bomb.xlsx', maxInflateRatio: 100_000 })
    expect(trusted.rows).toHaveLength(20_000)
  })

  it('reports a file that is not a workbook, and a missing file', async () => {
    const dir = await tempDir()
    const path = await fileIn(dir, 'fake.xlsx', 'id,name\n1,Ann\n')
    const { summary, error } = await readExcel(dir, { path })
    expect(summary.errors[0]).toMatchObject({ code: 'EXCEL_INVALID', nodeId: 'src', field: 'path' })
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (excel.read) path: fake.xlsx is not an .xlsx workbook: not a zip file (no end of central directory)"`,
    )
    const missing = await readExcel(dir, { path: 'none.xlsx' })
    expect(missing.error).toMatchInlineSnapshot(`"Node "src" (excel.read) path: file not found: none.xlsx"`)
  })
})
