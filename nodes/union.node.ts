import { z } from 'zod'
import { defineNode, rows } from '../engine/index.ts'

/** Combine several streams of rows into one. */
export const union = defineNode({
  type: 'union',
  version: 1,
  title: 'Union',
  category: 'transform',
  description:
    'Passes on every row of every edge drawn into its input, batches interleaved in the order they arrive (no order between inputs, no duplicate removal). Rows keep their own fields: rows from different inputs may have different columns.',
  inputs: { in: rows({ multiple: true, title: 'Rows (one or more edges)' }) },
  outputs: { out: rows() },
  config: z.object({}).strict(),
  infer: ({ inputs }) => ({ outputs: { out: inputs.in } }),
  async *run({ inputs }) {
    for await (const batch of inputs.in!) yield { out: batch }
  },
})
