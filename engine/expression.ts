import jsonata from 'jsonata'
import { astDepth, compileAst } from './jsonata/compile.ts'

/**
 * JSONata expressions, compiled once per run. This module is the one place expressions are parsed
 * and evaluated. An expression in the compiled subset runs as plain JavaScript closures
 * (`jsonata/compile.ts`); any input the compiled code cannot evaluate exactly as the reference
 * would, and every expression outside the subset, is evaluated by the `jsonata` package.
 */
export interface Expression {
  readonly source: string
  /** Whether a compiled evaluator exists (else every evaluation uses the reference interpreter). */
  readonly compiled: boolean
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>
  /** The result without a promise, or `NEEDS_ASYNC` when this input needs `evaluate`. */
  evaluateSync(input: unknown): unknown
}

/** Returned by `evaluateSync` when the caller must use the asynchronous `evaluate`. */
export const NEEDS_ASYNC: unique symbol = Symbol('jsonata.needs-async')

export interface ExpressionLimits {
  /** Milliseconds one evaluation may take (reference path; D1012 past it). */
  timeout?: number
  /** Nesting depth one evaluation may reach (D1011 past it). */
  depth?: number
}

/** The expression limits of a run's settings. */
export function expressionLimits(settings: {
  expressionTimeoutMs: number
  expressionDepth: number
}): ExpressionLimits {
  return { timeout: settings.expressionTimeoutMs, depth: settings.expressionDepth }
}

export function compileExpression(source: string, limits: ExpressionLimits = {}): Expression {
  const options = { timeout: limits.timeout, stack: limits.depth } as Parameters<typeof jsonata>[1]
  const reference = jsonata(source, options)
  const ast = reference.ast()
  const fast = limits.depth !== undefined && astDepth(ast) * 2 >= limits.depth ? undefined : compileAst(ast)
  if (fast === undefined) {
    return {
      source,
      compiled: false,
      evaluate: (input, bindings) => reference.evaluate(input, bindings),
      evaluateSync: () => NEEDS_ASYNC,
    }
  }
  return {
    source,
    compiled: true,
    evaluate(input, bindings) {
      if (bindings === undefined || Object.keys(bindings).length === 0) {
        try {
          return Promise.resolve(fast(input))
        } catch {
          // BAIL, or anything unforeseen: the reference decides.
        }
      }
      return reference.evaluate(input, bindings)
    },
    evaluateSync(input) {
      try {
        return fast(input)
      } catch {
        return NEEDS_ASYNC
      }
    },
  }
}

export interface ExpressionSyntaxError {
  code: string
  message: string
  /** 0-based character offset of the error in the source, when JSONata reports it. */
  position: number | undefined
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
