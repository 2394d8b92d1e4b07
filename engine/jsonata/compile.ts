/**
 * A compiler from JSONata's processed AST to plain JavaScript closures.
 *
 * The compiled evaluator handles the happy path of the subset mappings use (paths of plain names,
 * literals, arithmetic, comparison, boolean operators, string concatenation, conditionals, `??`/`?:`,
 * `in`, object and array constructors, blocks with `:=` variables, and common built-in functions) with
 * exactly the reference semantics. Whenever a value leaves that happy path — an array where a
 * sequence would form, a type error, a non-finite number — it throws `BAIL`, and the caller evaluates
 * that input with the reference `jsonata` package instead. So every error, with its code, and every
 * quirk outside the subset come from the reference itself.
 *
 * No code is generated as text: closures only, so an expression cannot reach JavaScript globals.
 */

/** Thrown by compiled code when the reference interpreter must evaluate this input. */
export const BAIL: unique symbol = Symbol('jsonata.bail')

/** Variables bound by `:=` in blocks: a prototype chain of null-prototype frames, as JSONata's scopes nest. */
type Frame = Record<string, unknown>

/** A compiled node: evaluates against the context value, the root input and the current frame. */
type Evaluator = (context: unknown, root: unknown, frame: Frame) => unknown

type Ast = Record<string, unknown> & { type: string }

/** Compile an AST (from `jsonata(expr).ast()`) or return undefined when it uses anything outside the subset. */
export function compileAst(ast: unknown): ((input: unknown) => unknown) | undefined {
  let evaluator: Evaluator | undefined
  const bound = new Set<string>()
  try {
    evaluator = compileNode(ast as Ast, bound)
  } catch (error) {
    if (error === UNSUPPORTED) return undefined
    throw error
  }
  // Without `:=` nothing writes to the frame, so every evaluation can share one empty frame.
  const shared = bound.size === 0 ? (Object.freeze(Object.create(null)) as Frame) : undefined
  return (input) => {
    if (Array.isArray(input)) throw BAIL
    return evaluator(input, input, shared ?? (Object.create(null) as Frame))
  }
}

const UNSUPPORTED = Symbol('jsonata.unsupported')

/** Every function the reference binds in its root frame. */
const referenceFunctions = new Set(
  (
    'sum count max min average string substring substringBefore substringAfter lowercase uppercase length trim pad ' +
    'match contains replace split join formatNumber formatBase formatInteger parseInteger number floor ceil round abs ' +
    'sqrt power random boolean not map zip filter single reduce sift keys lookup append exists spread merge reverse ' +
    'each error assert type sort shuffle distinct base64encode base64decode encodeUrlComponent encodeUrl ' +
    'decodeUrlComponent decodeUrl eval toMillis fromMillis clone now millis'
  ).split(' '),
)

function unsupported(): never {
  throw UNSUPPORTED
}

/** Keys a node of each type may carry and still be compiled; any other key (predicate, group, stages, focus, …) is not. */
const allowedKeys: Record<string, readonly string[]> = {
  string: ['type', 'value', 'position'],
  number: ['type', 'value', 'position'],
  value: ['type', 'value', 'position'],
  path: ['type', 'steps', 'position'],
  name: ['type', 'value', 'position'],
  variable: ['type', 'value', 'position'],
  binary: ['type', 'value', 'lhs', 'rhs', 'position'],
  unary: ['type', 'value', 'expression', 'expressions', 'lhs', 'position', 'consarray'],
  condition: ['type', 'condition', 'then', 'else', 'position'],
  function: ['type', 'value', 'procedure', 'arguments', 'position'],
  block: ['type', 'expressions', 'position'],
  bind: ['type', 'value', 'lhs', 'rhs', 'position'],
}

function checkKeys(node: Ast): void {
  const allowed = allowedKeys[node.type]
  if (allowed === undefined) unsupported()
  for (const [key, value] of Object.entries(node))
    if (value !== undefined && !allowed.includes(key)) unsupported()
}

/**
 * `bound` holds every variable name some `:=` in the expression binds: a call of a built-in whose
 * name is also bound might call the user's value instead, so it is not compiled.
 */
function compileNode(node: Ast, bound: Set<string>): Evaluator {
  if (typeof node !== 'object' || node === null) unsupported()
  if (bound.size === 0) collectBindings(node, bound)
  checkKeys(node)
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value': {
      const value = node.value
      return () => value
    }
    case 'path':
      return compilePath(node)
    case 'variable':
      return compileVariable(node, bound)
    case 'binary':
      return compileBinary(node, bound)
    case 'unary':
      return compileUnary(node, bound)
    case 'condition': {
      const condition = compileNode(node.condition as Ast, bound)
      const then = compileNode(node.then as Ast, bound)
      const otherwise = node.else === undefined ? undefined : compileNode(node.else as Ast, bound)
      return (c, r, f) => {
        if (boolean(condition(c, r, f)) === true) return then(c, r, f)
        return otherwise === undefined ? undefined : otherwise(c, r, f)
      }
    }
    case 'block': {
      const expressions = (node.expressions as Ast[]).map((e) => compileNode(e, bound))
      return (c, r, f) => {
        const frame = Object.create(f) as Frame
        let result: unknown
        for (const e of expressions) result = e(c, r, frame)
        return result
      }
    }
    case 'bind': {
      const lhs = node.lhs as Ast
      if (lhs.type !== 'variable' || typeof lhs.value !== 'string' || lhs.value === '' || lhs.value === '$')
        unsupported()
      checkKeys(lhs)
      const name = lhs.value
      const rhs = compileNode(node.rhs as Ast, bound)
      return (c, r, f) => {
        const value = rhs(c, r, f)
        if (typeof value === 'function') throw BAIL
        f[name] = value
        return value
      }
    }
    case 'function':
      return compileCall(node, bound)
    default:
      return unsupported()
  }
}

function collectBindings(node: unknown, bound: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectBindings(item, bound)
    return
  }
  if (typeof node !== 'object' || node === null) return
  const n = node as Ast
  if (n.type === 'bind') {
    const lhs = n.lhs as Ast | undefined
    if (typeof lhs?.value === 'string') bound.add(lhs.value)
  }
  for (const value of Object.values(n)) collectBindings(value, bound)
}

/** A value compiled code may pass on: anything but arrays (sequence semantics) and functions. */
function plain(value: unknown): unknown {
  if (Array.isArray(value) || typeof value === 'function') throw BAIL
  return value
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function compilePath(node: Ast): Evaluator {
  const steps = node.steps as Ast[]
  let start: 'context' | 'root' = 'context'
  let names: string[]
  const first = steps[0]
  if (first === undefined) unsupported()
  if (first.type === 'variable') {
    checkKeys(first)
    if (first.value === '') start = 'context'
    else if (first.value === '$') start = 'root'
    else unsupported()
    names = steps.slice(1).map(nameOf)
  } else {
    names = steps.map(nameOf)
  }
  const hasOwn = Object.prototype.hasOwnProperty
  if (names.length === 1 && start === 'context') {
    const name = names[0]!
    return (c) => {
      if (isObject(c)) return hasOwn.call(c, name) ? plain(c[name]) : undefined
      if (Array.isArray(c)) throw BAIL
      return undefined
    }
  }
  return (c, r) => {
    let value: unknown = start === 'context' ? c : r
    if (names.length === 0) return plain(value)
    for (const name of names) {
      if (isObject(value)) value = hasOwn.call(value, name) ? value[name] : undefined
      else if (Array.isArray(value)) throw BAIL
      else return undefined
      if (value === undefined) return undefined
    }
    return plain(value)
  }
}

function nameOf(step: Ast): string {
  if (step.type !== 'name' || typeof step.value !== 'string') unsupported()
  checkKeys(step)
  return step.value
}

function compileVariable(node: Ast, bound: Set<string>): Evaluator {
  const name = node.value
  if (name === '') return (c) => plain(c)
  if (name === '$') return (_c, r) => plain(r)
  if (typeof name !== 'string') unsupported()
  // A free variable (a binding passed in, or a built-in function as a value) and a user binding
  // that shadows a built-in are the reference's work.
  if (!bound.has(name) || referenceFunctions.has(name)) unsupported()
  return (_c, _r, f) => plain(f[name])
}

function compileBinary(node: Ast, bound: Set<string>): Evaluator {
  const lhs = compileNode(node.lhs as Ast, bound)
  const rhs = compileNode(node.rhs as Ast, bound)
  switch (node.value) {
    case '+':
      return (c, r, f) => arithmetic(lhs(c, r, f), rhs(c, r, f), add)
    case '-':
      return (c, r, f) => arithmetic(lhs(c, r, f), rhs(c, r, f), subtract)
    case '*':
      return (c, r, f) => arithmetic(lhs(c, r, f), rhs(c, r, f), multiply)
    case '/':
      return (c, r, f) => arithmetic(lhs(c, r, f), rhs(c, r, f), divide)
    case '%':
      return (c, r, f) => arithmetic(lhs(c, r, f), rhs(c, r, f), modulo)
    case '=':
      return (c, r, f) => equal(lhs(c, r, f), rhs(c, r, f))
    case '!=': {
      return (c, r, f) => {
        const a = lhs(c, r, f)
        const b = rhs(c, r, f)
        if (a === undefined || b === undefined) return false
        return !equal(a, b)
      }
    }
    case '<':
      return (c, r, f) => compare(lhs(c, r, f), rhs(c, r, f), (a, b) => a < b)
    case '<=':
      return (c, r, f) => compare(lhs(c, r, f), rhs(c, r, f), (a, b) => a <= b)
    case '>':
      return (c, r, f) => compare(lhs(c, r, f), rhs(c, r, f), (a, b) => a > b)
    case '>=':
      return (c, r, f) => compare(lhs(c, r, f), rhs(c, r, f), (a, b) => a >= b)
    case '&':
      return (c, r, f) => {
        const a = lhs(c, r, f)
        const b = rhs(c, r, f)
        return (a === undefined ? '' : string(a)) + (b === undefined ? '' : string(b))
      }
    case 'and':
      return (c, r, f) => boolize(lhs(c, r, f)) && boolize(rhs(c, r, f))
    case 'or':
      return (c, r, f) => boolize(lhs(c, r, f)) || boolize(rhs(c, r, f))
    case 'in':
      return (c, r, f) => {
        // Both sides are evaluated before either is tested, as in the reference (an error on the right still counts).
        const a = lhs(c, r, f)
        const b = rhs(c, r, f)
        if (a === undefined || b === undefined) return false
        if (Array.isArray(b)) return b.includes(a) && !Number.isNaN(a)
        return b === a
      }
    default:
      return unsupported()
  }
}

const add = (a: number, b: number) => a + b
const subtract = (a: number, b: number) => a - b
const multiply = (a: number, b: number) => a * b
const divide = (a: number, b: number) => a / b
const modulo = (a: number, b: number) => a % b

function arithmetic(a: unknown, b: unknown, op: (a: number, b: number) => number): unknown {
  if (a !== undefined && !finiteNumber(a)) throw BAIL
  if (b !== undefined && !finiteNumber(b)) throw BAIL
  if (a === undefined || b === undefined) return undefined
  const result = op(a as number, b as number)
  if (!Number.isFinite(result)) throw BAIL
  return result
}

function finiteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function equal(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false
  if ((typeof a === 'object' && a !== null) || (typeof b === 'object' && b !== null)) throw BAIL
  return a === b
}

function compare(a: unknown, b: unknown, op: (a: number | string, b: number | string) => boolean): unknown {
  const ta = typeof a
  const tb = typeof b
  if (ta !== 'undefined' && ta !== 'string' && !(ta === 'number' && Number.isFinite(a))) throw BAIL
  if (tb !== 'undefined' && tb !== 'string' && !(tb === 'number' && Number.isFinite(b))) throw BAIL
  if (ta === 'undefined' || tb === 'undefined') return undefined
  if (ta !== tb) throw BAIL
  return op(a as number | string, b as number | string)
}

/** JSONata's `$boolean` for the values compiled code passes on; undefined stays undefined. */
function boolean(value: unknown): boolean | undefined {
  switch (typeof value) {
    case 'undefined':
      return undefined
    case 'string':
      return value.length > 0
    case 'number':
      if (!Number.isFinite(value)) throw BAIL
      return value !== 0
    case 'boolean':
      return value
    case 'object':
      if (value === null) return false
      if (Array.isArray(value)) throw BAIL
      return Object.keys(value).length > 0
    default:
      throw BAIL
  }
}

function boolize(value: unknown): boolean {
  return boolean(value) ?? false
}

/** JSONata's `$string` for the values compiled code passes on. */
function string(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw BAIL
      return JSON.stringify(Number.isInteger(value) ? value : Number(value.toPrecision(15)))
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      if (value === null) return 'null'
      throw BAIL
    default:
      throw BAIL
  }
}

function compileUnary(node: Ast, bound: Set<string>): Evaluator {
  switch (node.value) {
    case '-': {
      const expression = compileNode(node.expression as Ast, bound)
      return (c, r, f) => {
        const value = expression(c, r, f)
        if (value === undefined) return undefined
        if (!finiteNumber(value)) throw BAIL
        return -value
      }
    }
    case '[': {
      const items = (node.expressions as Ast[]).map((e) =>
        e.type === 'binary' && e.value === '..'
          ? { nested: false, range: compileRange(e, bound), evaluate: undefined }
          : {
              nested: e.type === 'unary' && e.value === '[',
              range: undefined,
              evaluate: compileNode(e, bound),
            },
      )
      return (c, r, f) => {
        const result: unknown[] = []
        for (const item of items) {
          if (item.range !== undefined) {
            item.range(c, r, f, result)
            continue
          }
          const value = item.evaluate!(c, r, f)
          if (value === undefined) continue
          if (Array.isArray(value) && !item.nested) throw BAIL
          result.push(value)
        }
        return result
      }
    }
    case '{': {
      const pairs = (node.lhs as [Ast, Ast][]).map(
        ([key, value]) => [compileNode(key, bound), compileNode(value, bound)] as const,
      )
      const literal = (node.lhs as [Ast, Ast][]).map(([key]) =>
        key.type === 'string' ? key.value : undefined,
      )
      const reserved = ['__proto__', '_jsonata_lambda', '_jsonata_function']
      if (
        literal.every((k): k is string => typeof k === 'string' && !reserved.includes(k)) &&
        new Set(literal).size === literal.length
      )
        return constantKeyObject(
          literal,
          pairs.map(([, value]) => value),
        )
      return (c, r, f) => {
        // An array context groups its items by key: that is the reference's work.
        if (Array.isArray(c)) throw BAIL
        const keys: (string | undefined)[] = []
        for (const [key] of pairs) {
          const k = key(c, r, f)
          if (k !== undefined && typeof k !== 'string') throw BAIL
          if (k === '_jsonata_lambda' || k === '_jsonata_function' || (k !== undefined && keys.includes(k)))
            throw BAIL
          keys.push(k)
        }
        // A plain object (V8 builds these fast); the reference's has no prototype, which neither
        // JSONata nor JSON can observe. `__proto__` must still become an own key, never the prototype.
        const result: Record<string, unknown> = {}
        for (let i = 0; i < pairs.length; i++) {
          const k = keys[i]
          if (k === undefined) continue
          const value = pairs[i]![1](c, r, f)
          if (value === undefined) continue
          if (k === '__proto__')
            Object.defineProperty(result, k, { value, enumerable: true, writable: true, configurable: true })
          else result[k] = value
        }
        return result
      }
    }
    default:
      return unsupported()
  }
}

/** Largest range compiled code builds; longer ones (up to the reference's 10,000,000) are the reference's work. */
const MAX_RANGE = 100_000

/** `lhs..rhs` inside an array constructor: appends the integers to the array being built. */
function compileRange(
  node: Ast,
  bound: Set<string>,
): (c: unknown, r: unknown, f: Frame, into: unknown[]) => void {
  checkKeys(node)
  const lhs = compileNode(node.lhs as Ast, bound)
  const rhs = compileNode(node.rhs as Ast, bound)
  return (c, r, f, into) => {
    const from = lhs(c, r, f)
    const to = rhs(c, r, f)
    // Non-integer bounds are T2003 / T2004 in the reference.
    if (from !== undefined && !Number.isInteger(from)) throw BAIL
    if (to !== undefined && !Number.isInteger(to)) throw BAIL
    if (from === undefined || to === undefined) return
    const a = from as number
    const b = to as number
    if (a > b) return
    if (b - a >= MAX_RANGE) throw BAIL
    for (let i = a; i <= b; i++) into.push(i)
  }
}

/**
 * The common object constructor: every key a distinct string literal, so keys need no evaluation or
 * duplicate check per row. Reserved names (`__proto__`, JSONata's function markers) take the general path.
 */
function constantKeyObject(keys: string[], values: Evaluator[]): Evaluator {
  const n = keys.length
  return (c, r, f) => {
    if (Array.isArray(c)) throw BAIL
    const result: Record<string, unknown> = {}
    for (let i = 0; i < n; i++) {
      const value = values[i]!(c, r, f)
      if (value !== undefined) result[keys[i]!] = value
    }
    return result
  }
}

type Builtin = (a: unknown, b?: unknown, c?: unknown, d?: unknown) => unknown

/** `$toMillis`'s check that a timestamp without a picture is ISO 8601 (the reference's pattern). */
const iso8601 = /^\d{4}(-[01]\d)?(-[0-3]\d)?(T[0-2]\d:[0-5]\d:[0-5]\d)?(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$/

/**
 * Parameter types from each function's reference signature: `s` string, `n` number, `x` any value,
 * `nsb` number, string or boolean, `sf` string or function, `as` an array of strings or one string,
 * `an` an array of numbers or one number, `a` any value including an array (the reference wraps a
 * single value into an array). The reference checks every defined argument against its signature
 * before the function sees it (`$contains(true, missing)` is T0410, not undefined), so compiled calls
 * bail on any defined argument of another type.
 */
type Param = 's' | 'n' | 'x' | 'nsb' | 'sf' | 'as' | 'an' | 'a'

const builtins: Record<string, { params: readonly Param[]; optional?: number; call: Builtin }> = {
  number: {
    params: ['nsb'],
    call: (v) => {
      if (v === undefined) return undefined
      if (typeof v === 'number') return v
      if (typeof v === 'boolean') return v ? 1 : 0
      if (typeof v === 'string' && /^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$/.test(v)) {
        const n = parseFloat(v)
        if (Number.isFinite(n)) return n
      }
      throw BAIL
    },
  },
  string: { params: ['x'], call: (v) => (v === undefined ? undefined : string(v)) },
  boolean: { params: ['x'], call: (v) => boolean(v) },
  not: {
    params: ['x'],
    call: (v) => {
      const b = boolean(v)
      return b === undefined ? undefined : !b
    },
  },
  exists: { params: ['x'], call: (v) => v !== undefined },
  lowercase: { params: ['s'], call: (s) => (s === undefined ? undefined : (s as string).toLowerCase()) },
  uppercase: { params: ['s'], call: (s) => (s === undefined ? undefined : (s as string).toUpperCase()) },
  length: { params: ['s'], call: (s) => (s === undefined ? undefined : [...(s as string)].length) },
  trim: {
    params: ['s'],
    call: (s) => {
      if (s === undefined) return undefined
      let result = (s as string).replace(/[ \t\n\r]+/gm, ' ')
      if (result.charAt(0) === ' ') result = result.substring(1)
      if (result.charAt(result.length - 1) === ' ') result = result.substring(0, result.length - 1)
      return result
    },
  },
  substring: {
    params: ['s', 'n', 'n'],
    optional: 1,
    call: (s, start, length) => {
      if (s === undefined) return undefined
      if (!Number.isInteger(start) || (length !== undefined && !Number.isInteger(length))) throw BAIL
      const chars = [...(s as string)]
      let from = start as number
      if (chars.length + from < 0) from = 0
      if (length === undefined) return chars.slice(from).join('')
      const count = length as number
      if (count <= 0) return ''
      const end = from >= 0 ? from + count : chars.length + from + count
      return chars.slice(from, end).join('')
    },
  },
  substringBefore: {
    params: ['s', 's'],
    call: (s, chars) => {
      if (s === undefined) return undefined
      if (chars === undefined) throw BAIL
      const pos = (s as string).indexOf(chars as string)
      return pos > -1 ? (s as string).slice(0, pos) : s
    },
  },
  substringAfter: {
    params: ['s', 's'],
    call: (s, chars) => {
      if (s === undefined) return undefined
      if (chars === undefined) throw BAIL
      const pos = (s as string).indexOf(chars as string)
      return pos > -1 ? (s as string).slice(pos + (chars as string).length) : s
    },
  },
  contains: {
    params: ['s', 'sf'],
    call: (s, token) => {
      if (s === undefined || token === undefined) return undefined
      return (s as string).includes(token as string)
    },
  },
  floor: { params: ['n'], call: (n) => (n === undefined ? undefined : Math.floor(n as number)) },
  ceil: { params: ['n'], call: (n) => (n === undefined ? undefined : Math.ceil(n as number)) },
  abs: { params: ['n'], call: (n) => (n === undefined ? undefined : Math.abs(n as number)) },
  round: {
    params: ['n'],
    call: (n) => {
      if (n === undefined) return undefined
      const value = n as number
      let result = Math.round(value)
      if (Math.abs(result - value) === 0.5 && Math.abs(result % 2) === 1) result -= 1
      return Object.is(result, -0) ? 0 : result
    },
  },
  pad: {
    params: ['s', 'n', 's'],
    optional: 1,
    call: (s, w, ch) => {
      if (s === undefined) return undefined
      if (w === undefined) throw BAIL
      const str = s as string
      const char = ch === undefined || (ch as string).length === 0 ? ' ' : (ch as string)
      const width = Math.trunc(w as number)
      const padLength = Math.abs(width) - [...str].length
      if (padLength <= 0) return str
      // Huge paddings (and the reference's RangeError past the string length limit) are its work.
      if (padLength > 1_000_000) throw BAIL
      let padding = char.repeat(padLength)
      if (char.length > 1) padding = [...padding].slice(0, padLength).join('')
      return width > 0 ? str + padding : padding + str
    },
  },
  join: {
    params: ['as', 's'],
    optional: 1,
    call: (strs, separator) => {
      if (strs === undefined) return undefined
      const list = typeof strs === 'string' ? [strs] : (strs as string[])
      return list.join(separator === undefined ? '' : (separator as string))
    },
  },
  split: {
    params: ['s', 'sf', 'n'],
    optional: 1,
    call: (s, separator, limit) => {
      if (s === undefined) return undefined
      // A missing separator, a matcher function or a negative limit: the reference decides (and errs).
      if (typeof separator !== 'string' || (limit !== undefined && (limit as number) < 0)) throw BAIL
      if (limit !== undefined && !((limit as number) > 0)) return []
      return (s as string).split(separator, limit as number | undefined)
    },
  },
  replace: {
    params: ['s', 'sf', 'sf', 'n'],
    optional: 1,
    call: (s, pattern, replacement, limit) => {
      if (s === undefined) return undefined
      if (typeof pattern !== 'string' || pattern === '' || typeof replacement !== 'string') throw BAIL
      if (limit !== undefined && (limit as number) < 0) throw BAIL
      const str = s as string
      if (limit !== undefined && !((limit as number) > 0)) return str
      let result = ''
      let position = 0
      let count = 0
      let index = str.indexOf(pattern, position)
      while (index !== -1 && (limit === undefined || count < (limit as number))) {
        result += str.substring(position, index) + replacement
        position = index + pattern.length
        count++
        index = str.indexOf(pattern, position)
      }
      return result + str.substring(position)
    },
  },
  count: {
    params: ['a'],
    call: (v) => (v === undefined ? 0 : Array.isArray(v) ? v.length : 1),
  },
  sum: {
    params: ['an'],
    call: (v) => {
      if (v === undefined) return undefined
      let total = 0
      for (const n of Array.isArray(v) ? (v as number[]) : [v as number]) total += n
      if (!Number.isFinite(total)) throw BAIL
      return total
    },
  },
  toMillis: {
    params: ['s'],
    call: (s) => {
      if (s === undefined) return undefined
      if (!iso8601.test(s as string)) throw BAIL
      const millis = Date.parse(s as string)
      if (Number.isNaN(millis)) throw BAIL
      return millis
    },
  },
  fromMillis: {
    params: ['n'],
    call: (n) => {
      if (n === undefined) return undefined
      const date = new Date(n as number)
      const year = date.getUTCFullYear()
      // The reference formats with the picture [Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001]Z, which
      // is toISOString for the years 0–9999; other years (and invalid dates) are the reference's work.
      if (!(year >= 0 && year <= 9999)) throw BAIL
      return date.toISOString()
    },
  },
}

/** Whether a defined argument fits its parameter type; functions and arrays never do here. */
function fits(value: unknown, param: Param): boolean {
  switch (param) {
    case 's':
    case 'sf':
      return typeof value === 'string'
    case 'n':
      return finiteNumber(value)
    case 'nsb':
      return typeof value === 'string' || typeof value === 'boolean' || finiteNumber(value)
    case 'x':
      return typeof value !== 'function' && !Array.isArray(value)
    case 'as':
      return typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    case 'an':
      return finiteNumber(value) || (Array.isArray(value) && value.every(finiteNumber))
    case 'a':
      return typeof value !== 'function'
    default: {
      const never: never = param
      throw new Error(`unknown parameter type ${String(never)}`)
    }
  }
}

function compileCall(node: Ast, bound: Set<string>): Evaluator {
  const procedure = node.procedure as Ast
  if (procedure.type !== 'variable' || typeof procedure.value !== 'string') unsupported()
  checkKeys(procedure)
  const name = procedure.value
  const builtin = builtins[name]
  if (builtin === undefined || bound.has(name) || node.value !== '(') unsupported()
  const args = (node.arguments as Ast[]).map((a) => compileNode(a, bound))
  const { params, optional = 0, call } = builtin
  if (args.length > params.length || args.length < params.length - optional) unsupported()
  const check = (value: unknown, index: number) => {
    if (value !== undefined && !fits(value, params[index]!)) throw BAIL
    return value
  }
  const [first, second, third, fourth] = args
  switch (args.length) {
    case 1:
      return (c, r, f) => call(check(first!(c, r, f), 0))
    case 2:
      return (c, r, f) => call(check(first!(c, r, f), 0), check(second!(c, r, f), 1))
    case 3:
      return (c, r, f) =>
        call(check(first!(c, r, f), 0), check(second!(c, r, f), 1), check(third!(c, r, f), 2))
    case 4:
      return (c, r, f) =>
        call(
          check(first!(c, r, f), 0),
          check(second!(c, r, f), 1),
          check(third!(c, r, f), 2),
          check(fourth!(c, r, f), 3),
        )
    default:
      return unsupported()
  }
}

/** Nesting depth of an AST, to keep compiled evaluation within a reference depth limit. */
export function astDepth(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((max: number, item) => Math.max(max, astDepth(item)), 0)
  if (typeof node !== 'object' || node === null) return 0
  let max = 0
  for (const value of Object.values(node)) max = Math.max(max, astDepth(value))
  return max + 1
}
