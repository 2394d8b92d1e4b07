import { z } from 'zod'
import {
  compileExpression,
  constructedFields,
  defineNode,
  expressionLimits,
  jsonataExpression,
  NEEDS_ASYNC,
  NodeRunError,
  referencedFields,
  rows,
  unknownColumnIssue,
  type Row,
} from '../engine/index.ts'

/** Reshape each row with a JSONata expression: an object is the new row, an array gives several, undefined drops it. */
export const map = defineNode({
  type: 'map',
  version: 1,
  title: 'Map (JSONata)',
  category: 'transform',
  description:
    'Evaluates a JSONata expression with each row as input. An object result becomes the new row, an array of objects becomes several rows, and an undefined result drops the row. With merge, the input fields are kept under the result.',
  inputs: { in: rows() },
  outputs: { out: rows() },
  config: z
    .object({
      expression: jsonataExpression({
        title: 'New row',
        description: 'A JSONata expression whose result is the new row, e.g. `{ "uid": $lowercase(first) }`.',
      }),
      merge: z.boolean().default(false).meta({
        title: 'Keep input fields',
        description: 'Start from the input row and overwrite it with the result.',
      }),
    })
    .strict(),
  rowErrors: true,
  infer: ({ config, inputs }) => {
    const made = constructedFields(config.expression)
    const known = inputs.in
    const out =
      made === undefined
        ? undefined
        : config.merge
          ? known === undefined
            ? undefined
            : [...new Set([...known, ...made])]
          : made
    return {
      outputs: { out },
      issues: (referencedFields(config.expression) ?? []).flatMap(
        (field) => unknownColumnIssue(field, known, 'in', '$.expression') ?? [],
      ),
    }
  },
  rows: {
    offload: (config) => !compileExpression(config.expression).compiled,
    prepare: (config, settings) => ({
      expression: compileExpression(config.expression, expressionLimits(settings)),
      merge: config.merge,
    }),
    process(state, row, emit) {
      const result = state.expression.evaluateSync(row)
      if (result !== NEEDS_ASYNC) return emitRows(result, row, state.merge, emit)
      return state.expression.evaluate(row).then((value) => emitRows(value, row, state.merge, emit))
    },
  },
})

/** Emit the rows a map result stands for: an object is one row, an array several, undefined none. */
function emitRows(result: unknown, row: Row, merge: boolean, emit: (port: string, row: Row) => void): void {
  if (result === undefined) return
  const results = Array.isArray(result) ? result : [result]
  for (const item of results) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new NodeRunError(
        'MAP_NOT_OBJECT',
        `the expression gave ${describe(item)}; it must give an object, an array of objects, or nothing`,
      )
    }
    emit('out', merge ? { ...row, ...(item as Row) } : { ...(item as Row) })
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array of arrays'
  return `a ${typeof value} (${JSON.stringify(value)?.slice(0, 40)})`
}
