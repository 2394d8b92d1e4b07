import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { tempDir } from '../test/helpers.ts'
import { createFileStateStore } from './run-state.ts'

it('keeps run state in a JSON file, merging each save over what is kept', async () => {
  const path = join(await tempDir(), 'nested', 'graph.json.state.json')
  const store = createFileStateStore(path)
  expect(await store.load()).toEqual({})
  await store.save({ 'a/watermark': { column: 'id', value: 2 } })
  await store.save({ 'b/watermark': { column: 'at', value: '2024-01-01T00:00:00Z' } })
  expect(await store.load()).toEqual({
    'a/watermark': { column: 'id', value: 2 },
    'b/watermark': { column: 'at', value: '2024-01-01T00:00:00Z' },
  })
  expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(await store.load())
})
