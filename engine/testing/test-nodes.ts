import { z } from 'zod'
import {
  compileExpression,
  defineNode,
  expressionLimits,
  jsonataExpression,
  referencedFields,
  results,
  rows,
  unknownColumnIssue,
  type Batch,
  type Row,
} from '../index.ts'

/** Small node types for engine tests: an in-memory source and sink, and a node that fails on demand. */
export const values = defineNode({
  type: 'test.values',
  version: 1,
  title: 'Values',
  category: 'source',
  description: 'Emits the configured rows in batches of settings.batchSize.',
  inputs: {},
  outputs: { out: rows() },
  config: z.object({
    rows: z.array(z.record(z.string(), z.unknown())).default([]),
    count: z.number().int().optional(),
  }),
  infer: ({ config }) => ({
    outputs: { out: config.rows[0] === undefined ? undefined : Object.keys(config.rows[0]) },
  }),
  async *run({ config, settings }) {
    const all: Row[] =
      config.count === undefined ? config.rows : Array.from({ length: config.count }, (_, i) => ({ i }))
    for (let i = 0; i < all.length; i += settings.batchSize)
      yield { out: all.slice(i, i + settings.batchSize) }
  },
})

/** Collected sink output, by node id, for assertions. */
export const collected = new Map<string, Row[]>()

export const collect = defineNode({
  type: 'test.collect',
  version: 1,
  title: 'Collect',
  category: 'destination',
  description: 'Keeps every row it receives in memory under its node id.',
  inputs: { in: rows({ multiple: true }) },
  outputs: {},
  config: z.object({ delayMs: z.number().optional() }),
  async *run({ nodeId, inputs, countOut, config }) {
    const out: Row[] = []
    collected.set(nodeId, out)
    for await (const batch of inputs.in!) {
      if (config.delayMs !== undefined) await new Promise((r) => setTimeout(r, config.delayMs))
      out.push(...batch)
      countOut(batch.length)
    }
  },
})

export const failing = defineNode({
  type: 'test.fail',
  version: 1,
  title: 'Fail on field',
  category: 'transform',
  description: 'Throws for rows whose `bad` field is true.',
  inputs: { in: rows() },
  outputs: { out: rows() },
  config: z.object({}),
  rowErrors: true,
  rows: {
    prepare: () => undefined,
    process(_state, row, emit) {
      if (row.bad === true) throw Object.assign(new Error(`row ${String(row.i)} is bad`), { code: 'BAD_ROW' })
      emit('out', row)
    },
  },
})

export const resultsOnly = defineNode({
  type: 'test.results-sink',
  version: 1,
  title: 'Results sink',
  category: 'destination',
  description: 'Accepts only results rows.',
  inputs: { in: results() },
  outputs: {},
  config: z.object({}),
  async *run({ inputs }) {
    for await (const _batch of inputs.in!) {
      // drain
    }
  },
})

export type { Batch }

/** Adds `value`: a JSONata expression's result for the row; offloaded to the worker pool. */
export const evaluate = defineNode({
  type: 'test.eval',
  version: 2,
  title: 'Evaluate',
  category: 'transform',
  description: 'Sets `value` to the expression result.',
  inputs: { in: rows() },
  outputs: { out: rows() },
  config: z.object({
    expression: jsonataExpression({ title: 'Expression' }),
    field: z.string().default('value'),
  }),
  rowErrors: true,
  infer: ({ config, inputs }) => ({
    outputs: { out: inputs.in === undefined ? undefined : [...inputs.in, config.field] },
    issues: (referencedFields(config.expression) ?? []).flatMap(
      (f) => unknownColumnIssue(f, inputs.in, 'in', '$.expression') ?? [],
    ),
  }),
  migrate: (config) => ({ ...(config as Record<string, unknown>), field: 'value' }),
  rows: {
    offload: true,
    prepare: (config, settings) => ({
      expression: compileExpression(config.expression, expressionLimits(settings)),
      field: config.field,
    }),
    async process(state, row, emit) {
      emit('out', { ...row, [state.field]: await state.expression.evaluate(row) })
    },
  },
})
