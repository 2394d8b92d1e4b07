import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test/helpers.ts'
import { fileIn, firstError, runTest } from './test-kit.ts'

type Row = Record<string, unknown>

async function writeExcel(
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
          type: 'excel.write',
          config: { path: 'out.xlsx', ...config },
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
  return { summary, dir, rejected: rows('rejected'), error: firstError(summary, dir) }
}

async function readBack(dir: string, config: Record<string, unknown> = {}) {
  const { summary, rows } = await runTest(
    {
      nodes: [
        { id: 'in', type: 'excel.read', config: { path: 'out.xlsx', ...config } },
        { id: 'sink', type: 'test.collect' },
      ],
      edges: [{ from: 'in', to: 'sink' }],
    },
    dir,
  )
  expect(summary.status).toBe('succeeded')
  return rows('sink')
}

/** The workbook as exceljs loads it in memory: sheet names in order, and each cell's type and value. */
async function inspect(dir: string) {
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.readFile(join(dir, 'out.xlsx'))
  return wb
}

describe('excel.write', () => {
  it('writes typed cells that read back the same through excel.read', async () => {
    const input = [
      { id: 1, name: 'Zoë Müller 😀', salary: 50000.5, active: true, note: '', manager: null },
      { id: 2, name: 'مرحبا 漢字', salary: -3, active: false, note: 'line one\nline two', manager: 'Ann' },
    ]
    const { summary, dir } = await writeExcel(input, { sheet: 'People' })
    expect(summary.status).toBe('succeeded')
    expect(summary.nodes.out).toMatchObject({ rowsIn: 2, rowsOut: 2 })
    expect(await readBack(dir)).toEqual(input)
    const wb = await inspect(dir)
    expect(wb.worksheets.map((w) => w.name)).toEqual(['People'])
    expect(wb.getWorksheet('People')!.getCell('C2').type).toBe(ExcelJS.ValueType.Number)
    expect(wb.getWorksheet('People')!.getCell('D2').type).toBe(ExcelJS.ValueType.Boolean)
    expect(wb.getWorksheet('People')!.getCell('F2').type).toBe(ExcelJS.ValueType.Null)
  })

  it('writes text that looks like a formula as text, never as a formula', async () => {
    const input = [{ a: '=1+2', b: '=HYPERLINK("http://evil.example","click")', c: '+SUM(A1)', d: '@x' }]
    const { dir } = await writeExcel(input)
    const sheet = (await inspect(dir)).getWorksheet('Sheet1')!
    for (const ref of ['A2', 'B2', 'C2', 'D2']) {
      expect(sheet.getCell(ref).type, ref).toBe(ExcelJS.ValueType.String)
      expect(sheet.getCell(ref).formula, ref).toBeUndefined()
    }
    expect(await readBack(dir)).toEqual(input)
  })

  it('joins multi-valued fields, writes objects as JSON, orders and selects columns', async () => {
    const { dir } = await writeExcel(
      [
        { id: 1, groups: ['a', 'b'], extra: { k: 1 }, secret: 'x' },
        { id: 2, groups: [] },
      ],
      { columns: ['groups', 'id', 'extra', 'missing'], multiValueSeparator: '|' },
    )
    expect(await readBack(dir)).toEqual([
      { groups: 'a|b', id: 1, extra: '{"k":1}', missing: null },
      { groups: '', id: 2, extra: null, missing: null },
    ])
  })

  it('writes ISO dates as date cells when asked, and they read back as the same text', async () => {
    const input = [{ day: '2024-03-01', at: '2024-03-01T09:30:15', plain: 'not 2024-03-01' }]
    const asDates = await writeExcel(input, { isoDates: true })
    const sheet = (await inspect(asDates.dir)).getWorksheet('Sheet1')!
    expect(sheet.getCell('A2').type).toBe(ExcelJS.ValueType.Date)
    expect(sheet.getCell('A2').numFmt).toBe('yyyy-mm-dd')
    expect(sheet.getCell('B2').numFmt).toBe('yyyy-mm-dd hh:mm:ss')
    expect(sheet.getCell('C2').type).toBe(ExcelJS.ValueType.String)
    expect(await readBack(asDates.dir)).toEqual(input)
    const asText = await writeExcel(input)
    expect((await inspect(asText.dir)).getWorksheet('Sheet1')!.getCell('A2').type).toBe(
      ExcelJS.ValueType.String,
    )
  })

  it('writes the header on another row and reads back with the same headerRow', async () => {
    const { dir } = await writeExcel([{ id: 1 }, { id: 2 }], { headerRow: 3 })
    const sheet = (await inspect(dir)).getWorksheet('Sheet1')!
    expect(sheet.getCell('A3').value).toBe('id')
    expect(sheet.getCell('A4').value).toBe(1)
    expect(await readBack(dir, { headerRow: 3 })).toEqual([{ id: 1 }, { id: 2 }])
    const noHeader = await writeExcel([{ id: 1, n: 'a' }], { headerRow: 0 })
    expect(await readBack(noHeader.dir, { headerRow: 0 })).toEqual([{ A: 1, B: 'a' }])
  })

  it('replaces one sheet of an existing workbook in place and keeps the other sheets as they were', async () => {
    const dir = await tempDir()
    const wb = new ExcelJS.Workbook()
    const cover = wb.addWorksheet('Cover')
    cover.getCell('A1').value = 'Quarterly report'
    cover.getCell('A1').font = { bold: true, size: 16 }
    cover.mergeCells('A1:C1')
    cover.getCell('A2').value = { formula: 'SUM(1,2)', result: 3 }
    cover.getColumn(1).width = 40
    wb.addWorksheet('Data').addRow(['old'])
    wb.getWorksheet('Data')!.addRow(['stale'])
    wb.addWorksheet('Notes').getCell('B2').value = 'keep me'
    await wb.xlsx.writeFile(join(dir, 'out.xlsx'))

    const replaced = await writeExcel([{ id: 1, name: 'Ann' }], { sheet: 'Data' }, { dir })
    expect(replaced.summary.status).toBe('succeeded')
    const after = await inspect(dir)
    expect(after.worksheets.map((w) => w.name)).toEqual(['Cover', 'Data', 'Notes'])
    const kept = after.getWorksheet('Cover')!
    expect(kept.getCell('A1').value).toBe('Quarterly report')
    expect(kept.getCell('A1').font).toMatchObject({ bold: true, size: 16 })
    expect(kept.getCell('A1').isMerged && kept.getCell('C1').isMerged).toBe(true)
    expect(kept.getCell('A2').value).toEqual({ formula: 'SUM(1,2)', result: 3 })
    expect(kept.getColumn(1).width).toBe(40)
    expect(after.getWorksheet('Notes')!.getCell('B2').value).toBe('keep me')
    expect(await readBack(dir, { sheet: 'Data' })).toEqual([{ id: 1, name: 'Ann' }])

    await writeExcel([{ x: 'new' }], { sheet: 'Added' }, { dir })
    expect((await inspect(dir)).worksheets.map((w) => w.name)).toEqual(['Cover', 'Data', 'Notes', 'Added'])
    expect(await readBack(dir, { sheet: 4 })).toEqual([{ x: 'new' }])

    await writeExcel([{ only: 1 }], { sheet: 'Fresh', otherSheets: 'drop' }, { dir })
    expect((await inspect(dir)).worksheets.map((w) => w.name)).toEqual(['Fresh'])
  })

  it('routes rows it cannot write with the reason, naming node, sheet, field and row', async () => {
    const input = [
      { id: 1, note: 'fine' },
      { id: 2, note: 'x'.repeat(32_768) },
      { id: 3, note: 'bell \u0007' },
      { id: 4, note: 'ok', extra: 'field' },
      { id: 5, note: 'last' },
    ]
    const routed = await writeExcel(input, { sheet: 'Out' }, { onRowError: 'route' })
    expect(routed.summary.status).toBe('succeeded')
    expect(routed.summary.nodes.out).toMatchObject({ rowsOut: 2, rowsRejected: 3 })
    expect(routed.rejected.map((r) => [r.id, r._error])).toMatchInlineSnapshot(`
      [
        [
          2,
          {
            "code": "EXCEL_CELL_TOO_LONG",
            "message": "sheet "Out" field "note": text of 32,768 characters is longer than an Excel cell holds (32,767)",
          },
        ],
        [
          3,
          {
            "code": "EXCEL_INVALID_CHARACTER",
            "message": "sheet "Out" field "note": the text holds U+0007 at position 6, which an .xlsx cell cannot store",
          },
        ],
        [
          4,
          {
            "code": "EXCEL_UNEXPECTED_FIELD",
            "message": "sheet "Out" field "extra": not one of the columns taken from the first row (id, note); list every column in "columns" to write rows of different shapes",
          },
        ],
      ]
    `)
    expect(await readBack(routed.dir, { sheet: 'Out' })).toEqual([
      { id: 1, note: 'fine' },
      { id: 5, note: 'last' },
    ])
  })

  it('leaves an existing file untouched when the run fails, with no temp file left', async () => {
    const dir = await tempDir()
    await writeExcel([{ id: 'before' }], {}, { dir })
    const failed = await writeExcel(
      [{ id: 1 }, { id: 2 }, { id: 3, note: '\u0000' }],
      { columns: ['id', 'note'] },
      {
        dir,
        settings: { batchSize: 2 },
      },
    )
    expect(failed.summary.status).toBe('failed')
    expect(failed.summary.errors[0]).toMatchObject({ code: 'EXCEL_INVALID_CHARACTER', row: 3 })
    expect(failed.error).toMatchInlineSnapshot(
      `"Node "out" (excel.write) row 3: sheet "Sheet1" field "note": the text holds U+0000 at position 1, which an .xlsx cell cannot store"`,
    )
    expect(await readBack(dir)).toEqual([{ id: 'before' }])
    expect(await readdir(dir)).toEqual(['out.xlsx'])
  })

  it('leaves no file and no temp file when a new workbook fails half-way', async () => {
    const dir = await tempDir()
    const input = Array.from({ length: 5000 }, (_, i) => ({ id: i, note: i === 4321 ? '\u0001' : 'ok' }))
    const failed = await writeExcel(input, {}, { dir, settings: { batchSize: 1000 } })
    expect(failed.summary.status).toBe('failed')
    expect(failed.summary.errors[0]).toMatchObject({ code: 'EXCEL_INVALID_CHARACTER', row: 4322 })
    await new Promise((r) => setTimeout(r, 100))
    expect(await readdir(dir)).toEqual([])
  })

  it('reports an existing file that is not a workbook, and a missing folder', async () => {
    const dir = await tempDir()
    await fileIn(dir, 'out.xlsx', 'not a workbook')
    const { summary, error } = await writeExcel([{ a: 1 }], {}, { dir })
    expect(summary.errors[0]).toMatchObject({ code: 'EXCEL_INVALID', field: 'path' })
    expect(error).toContain('Node "out" (excel.write) path: cannot open out.xlsx to replace sheet "Sheet1"')
    expect(error).toContain('set otherSheets to "drop"')
    expect(await readdir(dir)).toEqual(['out.xlsx'])
    const missing = await writeExcel([{ a: 1 }], { path: 'no/such/out.xlsx' })
    expect(missing.error).toMatchInlineSnapshot(
      `"Node "out" (excel.write) path: the folder of no/such/out.xlsx does not exist"`,
    )
  })

  it('writes many batches in order, streamed', async () => {
    const input = Array.from({ length: 30_000 }, (_, i) => ({ i, s: `row ${i}` }))
    const { dir, summary } = await writeExcel(input, {}, { settings: { batchSize: 777 } })
    expect(summary.nodes.out!.rowsOut).toBe(30_000)
    const rows = await readBack(dir)
    expect(rows).toHaveLength(30_000)
    expect(rows[29_999]).toEqual({ i: 29_999, s: 'row 29999' })
  })
})
