import jsonata from 'jsonata'
import { describe, expect, it } from 'vitest'
import { BAIL, compileAst } from './compile.ts'
import { deepEqual } from './conformance.ts'

/** mulberry32: a small seeded PRNG, so a failing case can be reproduced from its seed. */
function prng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
  return { next, pick }
}

const FIELDS = ['a', 'b', 'c', 's', 't', 'n', 'missing', 'obj.x', 'obj.y', '$.a', '$$.s', '`odd key`']
const LITERALS = [
  '0',
  '1',
  '-2',
  '3.5',
  '0.1',
  '1e3',
  '""',
  '"abc"',
  '"5"',
  '"1e3"',
  '" x  y "',
  '"ÄÖ😀"',
  'true',
  'false',
  'null',
  '"a,b,,c"',
  '"2024-02-29T12:34:56.789Z"',
  '"2024-13-45"',
  '"1970"',
  '"2020-01-01T00:00:00+01:00"',
  '1700000000000',
  '-62198755200000',
  '253402300800000',
]
const UNARY_FUNCTIONS = [
  'number',
  'string',
  'boolean',
  'not',
  'exists',
  'lowercase',
  'uppercase',
  'length',
  'trim',
  'floor',
  'ceil',
  'abs',
  'round',
  'count',
  'sum',
  'join',
  'toMillis',
  'fromMillis',
]
const BINARY_FUNCTIONS = ['substringBefore', 'substringAfter', 'contains', 'substring']
const OPERATORS = [
  '+',
  '-',
  '*',
  '/',
  '%',
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '&',
  'and',
  'or',
  'in',
  '??',
  '?:',
]

function expression(r: ReturnType<typeof prng>, depth: number, vars: string[]): string {
  const roll = r.next()
  if (depth <= 0 || roll < 0.25) {
    if (vars.length > 0 && r.next() < 0.3) return `$${r.pick(vars)}`
    return r.next() < 0.55 ? r.pick(FIELDS) : r.pick(LITERALS)
  }
  const sub = () => expression(r, depth - 1, vars)
  if (roll < 0.5) return `(${sub()} ${r.pick(OPERATORS)} ${sub()})`
  if (roll < 0.62) return `$${r.pick(UNARY_FUNCTIONS)}(${sub()})`
  if (roll < 0.68) {
    const fn = r.pick(BINARY_FUNCTIONS)
    return fn === 'substring'
      ? `$substring(${sub()}, ${r.pick(['0', '1', '-2', '2'])}${r.next() < 0.5 ? `, ${r.pick(['1', '3', '0', '-1'])}` : ''})`
      : `$${fn}(${sub()}, ${sub()})`
  }
  if (roll < 0.71) {
    const opt = (values: string[]) => (r.next() < 0.5 ? `, ${r.pick(values)}` : '')
    switch (r.pick(['pad', 'join', 'split', 'replace', 'count', 'sum'])) {
      case 'pad':
        return `$pad(${sub()}, ${r.pick(['5', '-5', '0', '2.7', sub()])}${opt(['"*"', '"ab"', '""', '"😀"'])})`
      case 'join':
        return `$join([${sub()}, ${sub()}]${opt(['","', '""', sub()])})`
      case 'split':
        return `$split(${sub()}, ${r.pick(['","', '""', '"b"', sub()])}${opt(['0', '1', '2', '-1', '1.5'])})`
      case 'replace':
        return `$replace(${sub()}, ${r.pick(['"a"', '","', '""', sub()])}, ${r.pick(['"X"', '"$0"', sub()])}${opt(['0', '1', '-1'])})`
      case 'count':
        return `$count([${sub()}, ${sub()}])`
      default:
        return `$sum([${sub()}, ${sub()}])`
    }
  }
  if (roll < 0.75) return r.next() < 0.5 ? `(${sub()} ? ${sub()} : ${sub()})` : `(${sub()} ? ${sub()})`
  if (roll < 0.8) return `-(${sub()})`
  if (roll < 0.83) return `[${sub()}, ${r.next() < 0.3 ? `[${sub()}]` : sub()}]`
  if (roll < 0.86)
    return `[${r.pick(['0', '1', '-2', '3.5', sub()])}..${r.pick(['0', '3', '-1', '2.5', sub()])}${r.next() < 0.4 ? `, ${sub()}` : ''}]`
  if (roll < 0.93) return `{ "k": ${sub()}, ${r.next() < 0.3 ? sub() : '"k2"'}: ${sub()} }`
  const name = r.pick(['v', 'w'])
  return `($${name} := ${sub()}; ${expression(r, depth - 1, [...vars, name])})`
}

function row(r: ReturnType<typeof prng>): Record<string, unknown> {
  const value = (): unknown =>
    r.pick([
      0,
      1,
      -3,
      2.5,
      0.1,
      1e21,
      '',
      'abc',
      '42',
      ' 7 ',
      'MiXeD',
      'ÄÖ😀',
      true,
      false,
      null,
      undefined,
      [1, 2],
      ['x'],
      { x: 1 },
    ])
  const out: Record<string, unknown> = {}
  for (const key of ['a', 'b', 'c', 's', 't', 'n', 'odd key']) {
    const v = value()
    if (v !== undefined) out[key] = v
  }
  out.obj = r.pick([{ x: 1, y: 'two' }, { x: 'x', y: null }, 'not an object', [{ x: 1 }]])
  return out
}

async function reference(source: string, input: unknown): Promise<{ value: unknown } | { code: string }> {
  try {
    return { value: await jsonata(source).evaluate(input) }
  } catch (error) {
    return { code: String((error as { code?: unknown }).code) }
  }
}

describe('compiled JSONata', () => {
  it('agrees with the reference on generated expressions and data (differential)', async () => {
    // SEED and CASES widen the search by hand: SEED=7 CASES=50000 npx vitest run engine/jsonata
    const seed = Number(process.env.SEED ?? 20261125)
    const r = prng(seed)
    let compared = 0
    let bailed = 0
    for (let i = 0; i < Number(process.env.CASES ?? 3000); i++) {
      const source = expression(r, 4, [])
      let ast
      try {
        ast = jsonata(source).ast()
      } catch {
        continue
      }
      const compiled = compileAst(ast)
      if (compiled === undefined) continue
      for (let k = 0; k < 3; k++) {
        const input = row(r)
        let fast: unknown
        try {
          fast = compiled(input)
        } catch (error) {
          // Only BAIL may escape compiled code; anything else is a compiler bug.
          if (error !== BAIL)
            throw new Error(
              `seed ${seed} case ${i}: ${source} threw ${String(error)} on ${JSON.stringify(input)}`,
            )
          bailed += 1
          continue
        }
        const expected = await reference(source, input)
        const context = `seed ${seed} case ${i}: ${source} on ${JSON.stringify(input)}`
        expect('value' in expected, `${context}: the reference failed with ${JSON.stringify(expected)}`).toBe(
          true,
        )
        if ('value' in expected && !deepEqual(fast, expected.value)) {
          expect.fail(
            `${context}: compiled ${JSON.stringify(fast)}, reference ${JSON.stringify(expected.value)}`,
          )
        }
        compared += 1
      }
    }
    // The generator must exercise the compiled path, not only fallbacks.
    expect(compared).toBeGreaterThan(2000)
    expect(bailed).toBeGreaterThan(100)
  })

  it('compiles the mapping subset and leaves the rest to the reference', () => {
    const compiles = (source: string) => compileAst(jsonata(source).ast()) !== undefined
    expect(compiles('{ "uid": $lowercase(first & "." & last), "salary": $number(salary) }')).toBe(true)
    expect(compiles('($full := first & " " & last; { "name": $full })')).toBe(true)
    expect(compiles('status in ["active", "leave"] and $number(age) >= 18')).toBe(true)
    for (const other of [
      'items[price > 2]',
      '$map(a, function($v) { $v })',
      'a.b.c[0]',
      '**.x',
      '$max(a)',
      '$string',
      'a ~> $uppercase()',
      '$x',
    ]) {
      expect(compiles(other), other).toBe(false)
    }
  })

  it('hands unusual values to the reference instead of guessing', () => {
    const compiled = compileAst(jsonata('a + 1').ast())!
    expect(compiled({ a: 2 })).toBe(3)
    expect(() => compiled({ a: '2' })).toThrow(expect.anything())
    expect(() => compiled({ a: [1] })).toThrow(expect.anything())
    expect(compiled({})).toBeUndefined()
  })

  it('builds objects as the reference does: undefined values left out, __proto__ an own key', () => {
    const made = compileAst(jsonata('{ "__proto__": a, "b": missing }').ast())!({ a: 1 }) as Record<
      string,
      unknown
    >
    // A plain object is fine (nothing in JSONata or JSON sees the prototype), but `__proto__` must be
    // an own key holding the value, never the object's prototype.
    expect(Object.getPrototypeOf(made)).toBe(Object.prototype)
    expect(Object.keys(made)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(made, '__proto__')?.value).toBe(1)
  })
})
