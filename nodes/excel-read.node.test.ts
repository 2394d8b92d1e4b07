import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test/helpers.ts'
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
      `"Node "src" (excel.read) sheet: <dir>/in.xlsx has no sheet "Third"; its sheets: 1: "First", 2: "Zweite Seite""`,
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
    // Row 2 as header: A2 is covered by A1:A2 ("id"); D2 and E2 are empty, so D and E are left out.
    const second = await readExcel(dir, { path, headerRow: 2 })
    expect(second.rows).toEqual([{ id: 1, Street: 'Main St 1', City: 'Oslo' }])
    expect(second.logs.some((l) => l.includes('cell D3 has a value but its column has no name'))).toBe(true)
  })

  it('makes repeated header names unique and warns once about values in unnamed columns', async () => {
    const dir = await tempDir()
    const path = await workbook(dir, (wb) => {
      const ws = wb.addWorksheet('S')
      ws.addRow(['name', 'name', 'name'])
      ws.addRow(['a', 'b', 'c', 'stray'])
      ws.addRow(['d', 'e', 'f', 'stray'])
    })
    const { rows, logs } = await readExcel(dir, { path })
    expect(rows).toEqual([
      { name: 'a', name_2: 'b', name_3: 'c' },
      { name: 'd', name_2: 'e', name_3: 'f' },
    ])
    expect(logs.filter((l) => l.includes('no name'))).toEqual([
      'sheet "S" row 2: cell D2 has a value but its column has no name (3 columns: name, name_2, name_3); it is left out. Name it in the header row or in "columns".',
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
      { A: 1, B: 'Ann' },
      { A: 2, B: null },
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

  it('reports a file that is not a workbook, and a missing file', async () => {
    const dir = await tempDir()
    const path = await fileIn(dir, 'fake.xlsx', 'id,name\n1,Ann\n')
    const { summary, error } = await readExcel(dir, { path })
    expect(summary.errors[0]).toMatchObject({ code: 'EXCEL_INVALID', nodeId: 'src', field: 'path' })
    expect(error).toMatchInlineSnapshot(
      `"Node "src" (excel.read) path: <dir>/fake.xlsx is not an .xlsx workbook: not a zip file (no end of central directory)"`,
    )
    const missing = await readExcel(dir, { path: 'none.xlsx' })
    expect(missing.error).toMatchInlineSnapshot(
      `"Node "src" (excel.read) path: file not found: <dir>/none.xlsx"`,
    )
  })
})
