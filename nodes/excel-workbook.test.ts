import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../test/helpers.ts'
import { writeZip } from '../test/zip.ts'
import { indexWorkbook, partName } from './excel-workbook.ts'

const ns = 'http://schemas.openxmlformats.org'

/** A workbook of one large, highly compressible sheet (about 40 MiB of XML). */
async function bigWorkbook(dir: string): Promise<string> {
  const path = join(dir, 'big.xlsx')
  const row = (r: number) =>
    `<row r="${r}"><c r="A${r}" t="inlineStr"><is><t>${'x'.repeat(2000)}</t></is></c></row>`
  await writeZip(path, [
    {
      name: 'xl/workbook.xml',
      data: `<workbook xmlns="${ns}/spreadsheetml/2006/main" xmlns:r="${ns}/officeDocument/2006/relationships"><sheets><sheet name="Big" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    },
    {
      name: 'xl/_rels/workbook.xml.rels',
      data: `<Relationships xmlns="${ns}/package/2006/relationships"><Relationship Id="rId1" Type="${ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/../worksheets/big.xml"/></Relationships>`,
    },
    {
      name: 'xl/worksheets/big.xml',
      data: `<worksheet><sheetData>${Array.from({ length: 20_000 }, (_, i) => row(i + 1)).join('')}</sheetData></worksheet>`,
    },
  ])
  return path
}

describe('excel workbook parts', () => {
  it('resolves relative and absolute relationship targets to zip entries', () => {
    expect(partName('worksheets/sheet1.xml')).toBe('xl/worksheets/sheet1.xml')
    expect(partName('/xl/worksheets/sheet1.xml')).toBe('xl/worksheets/sheet1.xml')
    expect(partName('../xl/./sharedStrings.xml')).toBe('xl/sharedStrings.xml')
  })

  it('stops inflating at once when the run is cancelled', async () => {
    const dir = await tempDir()
    const handle = await open(await bigWorkbook(dir))
    try {
      const controller = new AbortController()
      const limits = { maxRatio: 100_000, maxBytes: 2 ** 30, signal: controller.signal }
      const index = await indexWorkbook(handle, limits)
      expect(index.sheets).toEqual([{ index: 1, name: 'Big', path: 'xl/worksheets/big.xml' }])
      const part = index.part('xl/worksheets/big.xml')
      const inflated = (await part.next()).value!.length
      controller.abort()
      await expect(part.next()).rejects.toThrow(/aborted/)
      expect(inflated).toBeLessThan(2 ** 20)
      // The pre-pass too: nothing is inflated once the signal is aborted.
      await expect(index.scan(index.sheets[0]!, 1)).rejects.toThrow(/aborted/)
    } finally {
      await handle.close()
    }
  })
})
