import jsonata from 'jsonata'

/**
 * JSONata expressions, compiled once per run. This module is the one place expressions are parsed
 * and evaluated, so a faster evaluator can replace the interpreter behind the same interface.
 */
export interface Expression {
  readonly source: string
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>
}

export interface ExpressionSyntaxError {
  code: string
  message: string
  /** 0-based character offset of the error in the source, when JSONata reports it. */
  position: number | undefined
}

export function compileExpression(source: string): Expression {
  const compiled = jsonata(source)
  return {
    source,
    evaluate: (input, bindings) => compiled.evaluate(input, bindings),
  }
}

/** The syntax error of an expression, or undefined when it parses. */
export function checkExpression(source: string): ExpressionSyntaxError | undefined {
  try {
    jsonata(source)
    return undefined
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown; position?: unknown }
    return {
      code: typeof e.code === 'string' ? e.code : 'S0000',
      message: typeof e.message === 'string' ? e.message : String(error),
      position: typeof e.position === 'number' ? e.position : undefined,
    }
  }
}

type AstNode = Record<string, unknown>

/**
 * Field names an expression reads from its input row (the first step of each path evaluated against
 * the row). Names inside a later path step are relative to nested values and are not reported.
 */
export function referencedFields(source: string): string[] | undefined {
  let ast: unknown
  try {
    ast = jsonata(source).ast()
  } catch {
    return undefined
  }
  const fields = new Set<string>()
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item)
      return
    }
    if (typeof node !== 'object' || node === null) return
    const n = node as AstNode
    if (n.type === 'path' && Array.isArray(n.steps)) {
      const steps = n.steps as AstNode[]
      const first = steps[0]
      if (first?.type === 'name' && typeof first.value === 'string') {
        fields.add(first.value)
      } else if (first?.type === 'variable' && first.value === '' && steps[1]?.type === 'name') {
        const second = steps[1].value
        if (typeof second === 'string') fields.add(second)
      } else if (first !== undefined) {
        visit(first)
      }
      return
    }
    if (n.type === 'name' && typeof n.value === 'string') {
      fields.add(n.value)
      return
    }
    for (const [key, value] of Object.entries(n)) {
      if (key === 'position' || key === 'value' || key === 'type') continue
      visit(value)
    }
  }
  visit(ast)
  return [...fields]
}

/**
 * Output column names when the expression is an object constructor with literal keys
 * (`{ "uid": …, "mail": … }`), otherwise undefined (unknown).
 */
export function constructedFields(source: string): string[] | undefined {
  let ast: AstNode
  try {
    ast = jsonata(source).ast() as unknown as AstNode
  } catch {
    return undefined
  }
  if (ast.type !== 'unary' || ast.value !== '{' || !Array.isArray(ast.lhs)) return undefined
  const names: string[] = []
  for (const pair of ast.lhs as unknown[]) {
    if (!Array.isArray(pair)) return undefined
    const key = pair[0] as AstNode | undefined
    if (key?.type !== 'string' || typeof key.value !== 'string') return undefined
    names.push(key.value)
  }
  return names
}
