import { expect, test } from 'vitest'
import { findJsonSyntaxError } from './json-error.ts'

test('valid JSON has no problem, with or without a byte order mark', () => {
  for (const text of ['{}', '\uFEFF{"a": [1, -2.5e3, true, null, "x\\n\\u00e9"]}', ' [ ] ']) {
    expect(findJsonSyntaxError(text), text).toBeUndefined()
    expect(() => JSON.parse(text.replace(/^\uFEFF/, ''))).not.toThrow()
  }
})

test('the first error, with line, column and what was expected', () => {
  const cases = [
    '{"a": 1 "b": 2}',
    '{"a": }',
    '{"a": 1,}',
    '[1, 2,]',
    "{'a': 1}",
    '{"a": 1',
    '{"a": "unterminated\n}',
    '{\n  "nodes": [\n    {"id": "x"}\n    {"id": "y"}\n  ]\n}',
    '{"a": 01}',
    '{"a": 1} x',
    '',
  ]
  expect(cases.map((text) => findJsonSyntaxError(text))).toMatchInlineSnapshot(`
    [
      {
        "column": 9,
        "line": 1,
        "offset": 8,
        "reason": "expected "," or "}" after a property value, found "\\""",
      },
      {
        "column": 7,
        "line": 1,
        "offset": 6,
        "reason": "expected a value, found "}"",
      },
      {
        "column": 9,
        "line": 1,
        "offset": 8,
        "reason": "no comma before the closing "}" (trailing comma)",
      },
      {
        "column": 7,
        "line": 1,
        "offset": 6,
        "reason": "no comma before the closing "]" (trailing comma)",
      },
      {
        "column": 2,
        "line": 1,
        "offset": 1,
        "reason": "expected a property name in double quotes, found "'"",
      },
      {
        "column": 8,
        "line": 1,
        "offset": 7,
        "reason": "expected "," or "}" after a property value, found the end of the file",
      },
      {
        "column": 20,
        "line": 1,
        "offset": 19,
        "reason": "a string runs past the end of the line (missing closing quote?)",
      },
      {
        "column": 5,
        "line": 4,
        "offset": 35,
        "reason": "expected "," or "]" after an array element, found "{"",
      },
      {
        "column": 8,
        "line": 1,
        "offset": 7,
        "reason": "expected "," or "}" after a property value, found "1"",
      },
      {
        "column": 10,
        "line": 1,
        "offset": 9,
        "reason": "unexpected "x" after the end of the JSON value",
      },
      {
        "column": 1,
        "line": 1,
        "offset": 0,
        "reason": "expected a value, found the end of the file",
      },
    ]
  `)
  for (const text of cases) expect(() => JSON.parse(text), text).toThrow()
})
