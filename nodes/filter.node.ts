import { z } from 'zod'
import {
  compileExpression,
  defineNode,
  expressionLimits,
  jsonataExpression,
  NEEDS_ASYNC,
  referencedFields,
  rows,
  unknownColumnIssue,
} from '../engine/index.ts'

/** Keep the rows an expression holds true for; the others go to `unmatched`. */
export const filter = defineNode({
  type: 'filter',
  version: 1,
  title: 'Filter rows',
  category: 'transform',
  description:
    'Evaluates a JSONata predicate with each row as input. Rows for which it is true go to "out", the others to "unmatched". A row whose expression fails is handled by onRowError.',
  inputs: { in: rows() },
  outputs: { out: rows({ title: 'Matched' }), unmatched: rows({ title: 'Unmatched' }) },
  config: z
    .object({
      expression: jsonataExpression({
        title: 'Keep a row when',
        description: 'A JSONata expression evaluated with the row as input, e.g. `$number(salary) >= 50000`.',
      }),
    })
    .strict(),
  rowErrors: true,
  infer: ({ config, inputs }) => ({
    outputs: { out: inputs.in, unmatched: inputs.in },
    issues: (referencedFields(config.expression) ?? []).flatMap(
      (field) => unknownColumnIssue(field, inputs.in, 'in', '$.expression') ?? [],
    ),
  }),
  rows: {
    offload: (config) => !compileExpression(config.expression).compiled,
    prepare: (config, settings) => compileExpression(config.expression, expressionLimits(settings)),
    process(expression, row, emit) {
      const result = expression.evaluateSync(row)
      if (result !== NEEDS_ASYNC) return emit(result === true ? 'out' : 'unmatched', row)
      return expression.evaluate(row).then((value) => emit(value === true ? 'out' : 'unmatched', row))
    },
  },
})
