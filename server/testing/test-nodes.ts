import { z } from 'zod'
import { defineNode, rows, type Row } from '../../engine/index.ts'

/**
 * Server test nodes: a lazy row generator (memory stays flat for any count), a sink that discards, and
 * a file reader.
 */
export const generate = defineNode({
  type: 'test.generate',
  version: 1,
  title: 'Generate rows',
  category: 'source',
  description:
    'Emits `count` rows {id, name, group} lazily, batch by batch, without waiting on anything (like a SQLite source); `logBytes` logs a line that long per batch.',
  inputs: {},
  outputs: { out: rows() },
  config: z.object({
    count: z.number().int().min(0),
    delayMs: z.number().min(0).optional(),
    logBytes: z.number().int().min(1).optional(),
  }),
  infer: () => ({ outputs: { out: ['id', 'name', 'group'] } }),
  async *run({ config, settings, signal, log }) {
    for (let start = 0; start < config.count; start += settings.batchSize) {
      signal.throwIfAborted()
      const end = Math.min(config.count, start + settings.batchSize)
      const batch: Row[] = new Array(end - start)
      for (let i = start; i < end; i++) batch[i - start] = { id: i, name: `user${i}`, group: i % 7 }
      if (config.delayMs !== undefined) await new Promise((r) => setTimeout(r, config.delayMs))
      if (config.logBytes !== undefined) log.info(`rows ${start}-${end - 1} `.padEnd(config.logBytes, '.'))
      yield { out: batch }
    }
  },
})

export const discard = defineNode({
  type: 'test.discard',
  version: 1,
  title: 'Discard',
  category: 'destination',
  description: 'Counts and drops every row.',
  inputs: { in: rows({ multiple: true }) },
  outputs: {},
  config: z.object({ delayMs: z.number().min(0).optional() }),
  async *run({ inputs, countOut, config }) {
    for await (const batch of inputs.in!) {
      if (config.delayMs !== undefined) await new Promise((r) => setTimeout(r, config.delayMs))
      countOut(batch.length)
    }
  },
})

export const readLines = defineNode({
  type: 'test.read-lines',
  version: 1,
  title: 'Read lines',
  category: 'source',
  description: 'Reads a text file through the host’s file resolver, one row per line.',
  inputs: {},
  outputs: { out: rows() },
  config: z.object({ path: z.string().min(1) }),
  async *run({ config, files }) {
    const { readFile } = await import('node:fs/promises')
    const path = await files.resolve(config.path, { mode: 'read', field: 'path' })
    const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '')
    yield { out: lines.map((line) => ({ line })) }
  },
})
