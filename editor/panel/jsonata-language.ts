import {
  autocompletion,
  type Completion,
  type CompletionContext,
  type CompletionResult,
} from '@codemirror/autocomplete'
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from '@codemirror/language'
import { linter, type Diagnostic } from '@codemirror/lint'
import type { Extension } from '@codemirror/state'
import { tags as t } from '@lezer/highlight'
import jsonata from 'jsonata'

interface State {
  inComment: boolean
}

const keywords = new Set(['and', 'or', 'in', 'true', 'false', 'null', 'function'])

/** A small stream tokenizer for JSONata: strings, names, $variables and $functions, numbers, comments. */
const jsonataStream = StreamLanguage.define<State>({
  name: 'jsonata',
  startState: () => ({ inComment: false }),
  token(stream: StringStream, state: State) {
    if (state.inComment) {
      if (stream.skipTo('*/')) {
        stream.pos += 2
        state.inComment = false
      } else stream.skipToEnd()
      return 'comment'
    }
    if (stream.eatSpace()) return null
    if (stream.match('/*')) {
      state.inComment = true
      return 'comment'
    }
    const ch = stream.peek()
    if (ch === '"' || ch === "'") {
      stream.next()
      let escaped = false
      for (;;) {
        const c = stream.next()
        if (c === undefined) break
        if (c === ch && !escaped) break
        escaped = !escaped && c === '\\'
      }
      return 'string'
    }
    if (ch === '`') {
      stream.next()
      stream.skipTo('`')
      stream.next()
      return 'propertyName'
    }
    if (stream.match(/^-?\d+(\.\d+)?([eE][+-]?\d+)?/)) return 'number'
    if (stream.match(/^\$[A-Za-z_][\w]*(?=\s*\()/)) return 'function'
    if (stream.match(/^\$[\w]*/)) return 'variableName'
    if (stream.match(/^[A-Za-z_][\w]*/)) {
      const word = stream.current()
      if (keywords.has(word))
        return word === 'true' || word === 'false' || word === 'null' ? 'atom' : 'keyword'
      return 'propertyName'
    }
    if (stream.match(/^(:=|!=|<=|>=|~>|\.\.|\?:|\?\?|[-+*/%=<>&?:.!^])/)) return 'operator'
    stream.next()
    return 'punctuation'
  },
  blockCommentStart: '/*',
  blockCommentEnd: '*/',
} as Parameters<typeof StreamLanguage.define<State>>[0])

const highlight = HighlightStyle.define([
  { tag: t.string, color: '#1a7f37' },
  { tag: t.number, color: '#b35900' },
  { tag: t.atom, color: '#b35900' },
  { tag: t.keyword, color: '#8250df', fontWeight: '600' },
  { tag: t.propertyName, color: '#0b5cad' },
  { tag: t.variableName, color: '#953800' },
  { tag: t.function(t.variableName), color: '#6f42c1' },
  { tag: t.comment, color: '#8a93a0', fontStyle: 'italic' },
  { tag: t.operator, color: '#556070' },
])

/** JSONata's built-in functions with their signatures, for completion. */
export const jsonataFunctions: [name: string, signature: string, info: string][] = [
  ['string', '(arg, prettify?)', 'Cast to a string'],
  ['length', '(str)', 'Number of characters'],
  ['substring', '(str, start, length?)', 'Part of a string'],
  ['substringBefore', '(str, chars)', 'Text before the first occurrence'],
  ['substringAfter', '(str, chars)', 'Text after the first occurrence'],
  ['uppercase', '(str)', 'Upper case'],
  ['lowercase', '(str)', 'Lower case'],
  ['trim', '(str)', 'Remove surrounding and repeated spaces'],
  ['pad', '(str, width, char?)', 'Pad to a width'],
  ['contains', '(str, pattern)', 'Whether the string contains a pattern'],
  ['split', '(str, separator, limit?)', 'Split into an array'],
  ['join', '(array, separator?)', 'Join strings'],
  ['match', '(str, pattern, limit?)', 'Regex matches'],
  ['replace', '(str, pattern, replacement, limit?)', 'Replace matches'],
  ['base64encode', '(str)', 'Base64 encode'],
  ['base64decode', '(str)', 'Base64 decode'],
  ['number', '(arg)', 'Cast to a number'],
  ['abs', '(number)', 'Absolute value'],
  ['floor', '(number)', 'Round down'],
  ['ceil', '(number)', 'Round up'],
  ['round', '(number, precision?)', 'Round half to even'],
  ['power', '(base, exponent)', 'Power'],
  ['sqrt', '(number)', 'Square root'],
  ['random', '()', 'Random number in [0, 1)'],
  ['formatNumber', '(number, picture, options?)', 'Format a number'],
  ['formatBase', '(number, radix?)', 'Format in a base'],
  ['formatInteger', '(number, picture)', 'Format an integer'],
  ['parseInteger', '(string, picture)', 'Parse an integer'],
  ['sum', '(array)', 'Sum'],
  ['max', '(array)', 'Maximum'],
  ['min', '(array)', 'Minimum'],
  ['average', '(array)', 'Mean'],
  ['boolean', '(arg)', 'Cast to a boolean'],
  ['not', '(arg)', 'Logical not'],
  ['exists', '(arg)', 'Whether the value exists'],
  ['count', '(array)', 'Number of items'],
  ['append', '(array1, array2)', 'Concatenate arrays'],
  ['sort', '(array, function?)', 'Sort'],
  ['reverse', '(array)', 'Reverse'],
  ['shuffle', '(array)', 'Shuffle'],
  ['distinct', '(array)', 'Unique values'],
  ['zip', '(array1, …)', 'Zip arrays'],
  ['keys', '(object)', 'Keys of an object'],
  ['lookup', '(object, key)', 'Value at a key'],
  ['spread', '(object)', 'Split into single-key objects'],
  ['merge', '(array<object>)', 'Merge objects'],
  ['sift', '(object, function)', 'Keep matching entries'],
  ['each', '(object, function)', 'Map over entries'],
  ['error', '(message)', 'Raise an error'],
  ['assert', '(condition, message)', 'Raise an error when false'],
  ['type', '(value)', 'Type name'],
  ['map', '(array, function)', 'Map over items'],
  ['filter', '(array, function)', 'Keep matching items'],
  ['single', '(array, function)', 'The one matching item'],
  ['reduce', '(array, function, init?)', 'Fold'],
  ['now', '(picture?, timezone?)', 'Current timestamp'],
  ['millis', '()', 'Current time in ms'],
  ['fromMillis', '(number, picture?, timezone?)', 'Format a timestamp'],
  ['toMillis', '(timestamp, picture?)', 'Parse a timestamp'],
]

const functionCompletions: Completion[] = jsonataFunctions.map(([name, signature, info]) => ({
  label: `$${name}`,
  type: 'function',
  detail: signature,
  info,
  apply: `$${name}(`,
}))

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Completion of upstream field names and JSONata functions; `fields` is read on each request. */
export function jsonataCompletion(fields: () => readonly string[]): Extension {
  const source = (context: CompletionContext): CompletionResult | null => {
    const word = context.matchBefore(/[$`]?[\w]*/)
    if (!word || (word.from === word.to && !context.explicit)) return null
    if (word.text.startsWith('$'))
      return { from: word.from, options: functionCompletions, validFor: /^\$\w*$/ }
    const options: Completion[] = fields().map((f) => ({
      label: f,
      type: 'property',
      detail: 'field',
      apply: identifier.test(f) ? f : `\`${f}\``,
    }))
    return {
      from: word.from,
      options: [...options, ...(context.explicit ? functionCompletions : [])],
      validFor: /^`?\w*$/,
    }
  }
  return autocompletion({ override: [source], activateOnTyping: true, icons: false })
}

/** The syntax error of an expression with its span, or undefined when it parses. */
export function jsonataSyntaxError(
  source: string,
): { from: number; to: number; message: string } | undefined {
  if (source.trim() === '') return undefined
  try {
    jsonata(source)
    return undefined
  } catch (error) {
    const e = error as { position?: unknown; message?: unknown; code?: unknown; token?: unknown }
    const position = typeof e.position === 'number' ? e.position : source.length
    const token = typeof e.token === 'string' ? e.token : ''
    const to = Math.min(Math.max(position, 1), source.length)
    const from = Math.max(0, Math.min(to - Math.max(token.length, 1), source.length - 1))
    const code = typeof e.code === 'string' ? ` (${e.code})` : ''
    return { from, to: Math.max(to, from + 1), message: `${String(e.message ?? error)}${code}` }
  }
}

const syntaxLinter = linter(
  (view): Diagnostic[] => {
    const problem = jsonataSyntaxError(view.state.doc.toString())
    if (!problem) return []
    const length = view.state.doc.length
    return [
      {
        from: Math.min(problem.from, length),
        to: Math.min(problem.to, length),
        severity: 'error',
        message: problem.message,
      },
    ]
  },
  { delay: 150 },
)

/** Language support: highlighting and syntax errors at their position. */
export function jsonataSupport(): Extension {
  return [jsonataStream, syntaxHighlighting(highlight), syntaxLinter]
}
