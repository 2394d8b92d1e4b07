import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { compileExpression, NEEDS_ASYNC } from '../expression.ts'

/** One case of the JSONata test-suite format (see the suite's TESTSUITE.md). */
interface SuiteCase {
  expr?: string
  'expr-file'?: string
  data?: unknown
  dataset?: string | null
  bindings?: Record<string, unknown>
  timelimit?: number
  depth?: number
  result?: unknown
  undefinedResult?: boolean
  code?: string
  error?: { code?: string }
}

/**
 * The suite's own harness stops a runaway evaluation (past `timelimit` or `depth`) with U1001; the
 * evaluator's guardrails raise D1012 (time) and D1011 (depth), which count as that here.
 */
const RUNAWAY_CODES = new Set(['D1011', 'D1012'])

export interface SuiteFailure {
  case: string
  expr: string
  expected: unknown
  actual: unknown
}

export interface SuiteReport {
  total: number
  /** Cases whose expression has a compiled evaluator. */
  compiled: number
  /** Cases the compiled evaluator answered without handing the input to the reference. */
  compiledPath: number
  passed: number
  failed: number
  failures: SuiteFailure[]
}

/** Run every case of a suite folder (`groups/<group>/case*.json`, `datasets/*.json`) through compileExpression. */
export async function runConformanceSuite(dir: string): Promise<SuiteReport> {
  const datasets = new Map<string, unknown>()
  for (const file of await readdir(join(dir, 'datasets'))) {
    if (file.endsWith('.json'))
      datasets.set(file.slice(0, -5), JSON.parse(await readFile(join(dir, 'datasets', file), 'utf8')))
  }
  const report: SuiteReport = { total: 0, compiled: 0, compiledPath: 0, passed: 0, failed: 0, failures: [] }
  const groups = (await readdir(join(dir, 'groups'))).sort()
  for (const group of groups) {
    const files = (await readdir(join(dir, 'groups', group))).filter((f) => f.endsWith('.json')).sort()
    for (const file of files) {
      const parsed = JSON.parse(await readFile(join(dir, 'groups', group, file), 'utf8')) as
        SuiteCase | SuiteCase[]
      const cases = Array.isArray(parsed) ? parsed : [parsed]
      for (const [index, testCase] of cases.entries()) {
        const name = `${group}/${file}${cases.length > 1 ? `#${index}` : ''}`
        const expr =
          testCase.expr ?? (await readFile(join(dir, 'groups', group, testCase['expr-file'] ?? ''), 'utf8'))
        const input =
          testCase.data !== undefined
            ? testCase.data
            : testCase.dataset
              ? datasets.get(testCase.dataset)
              : undefined
        report.total += 1
        const outcome = await runCase(expr, input, testCase)
        if (outcome.compiled) report.compiled += 1
        if (outcome.compiledPath) report.compiledPath += 1
        const code = expectedCode(testCase)
        const expected =
          code !== undefined ? { code } : testCase.undefinedResult ? undefined : testCase.result
        if (matches(outcome, testCase)) report.passed += 1
        else {
          report.failed += 1
          report.failures.push({
            case: name,
            expr,
            expected,
            actual: 'error' in outcome ? { code: outcome.error } : outcome.result,
          })
        }
      }
    }
  }
  return report
}

type Outcome = { compiled: boolean; compiledPath: boolean } & (
  { result: unknown } | { error: string | undefined }
)

async function runCase(expr: string, input: unknown, testCase: SuiteCase): Promise<Outcome> {
  let expression
  try {
    expression = compileExpression(expr, { timeout: testCase.timelimit, depth: testCase.depth })
  } catch (error) {
    return { compiled: false, compiledPath: false, error: codeOf(error) }
  }
  const bindings = testCase.bindings ?? {}
  try {
    if (expression.compiled && Object.keys(bindings).length === 0) {
      const fast = expression.evaluateSync(input)
      if (fast !== NEEDS_ASYNC) return { compiled: true, compiledPath: true, result: fast }
    }
    return {
      compiled: expression.compiled,
      compiledPath: false,
      result: await expression.evaluate(input, bindings),
    }
  } catch (error) {
    return { compiled: expression.compiled, compiledPath: false, error: codeOf(error) }
  }
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined
}

function expectedCode(testCase: SuiteCase): string | undefined {
  return testCase.code ?? testCase.error?.code
}

function matches(outcome: Outcome, testCase: SuiteCase): boolean {
  const code = expectedCode(testCase)
  if (code !== undefined) {
    if (!('error' in outcome)) return false
    const limited = testCase.timelimit !== undefined || testCase.depth !== undefined
    return outcome.error === code || (code === 'U1001' && limited && RUNAWAY_CODES.has(outcome.error ?? ''))
  }
  if ('error' in outcome) return false
  if (testCase.undefinedResult) return outcome.result === undefined
  return deepEqual(outcome.result, testCase.result)
}

/** Structural equality as the suite means it: arrays by items, objects by own enumerable keys, any prototype. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'function' || typeof b === 'function') return false
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]))
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  return ka.every(
    (k) =>
      Object.prototype.hasOwnProperty.call(b, k) &&
      deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  )
}
