import { describe, expect, it } from 'vitest'
import { checkExpression, compileExpression, constructedFields, referencedFields } from './expression.ts'

describe('expressions', () => {
  it('evaluates against a row', async () => {
    expect(await compileExpression('$number(salary) >= 50000').evaluate({ salary: '60000' })).toBe(true)
  })

  it('reports a syntax error with its code and position', () => {
    expect(checkExpression('first & (last')).toMatchInlineSnapshot(`
      {
        "code": "S0203",
        "message": "Expected ")" before end of expression",
        "position": 13,
      }
    `)
    expect(checkExpression('first & last')).toBeUndefined()
  })

  it('lists the row fields an expression reads, not names inside nested steps', () => {
    expect(
      referencedFields('{ "uid": $lowercase(first & "." & last), "n": items[price > 2].name, "c": $.cc }'),
    ).toEqual(['first', 'last', 'items', 'cc'])
    expect(referencedFields('(')).toBeUndefined()
  })

  it('knows the columns an object constructor makes', () => {
    expect(constructedFields('{ "uid": id, "mail": mail }')).toEqual(['uid', 'mail'])
    expect(constructedFields('$merge([$, { "x": 1 }])')).toBeUndefined()
  })

  it('cannot reach JavaScript internals, compiled or interpreted', async () => {
    for (const source of [
      'constructor',
      '__proto__',
      '$.constructor',
      '$string.constructor',
      '$lookup($, "constructor")',
    ]) {
      expect(await compileExpression(source).evaluate({ a: 1 }), source).toBeUndefined()
    }
  })

  it('says whether an expression runs compiled', () => {
    expect(compileExpression('$number(salary) >= 50000').compiled).toBe(true)
    expect(compileExpression('$max(items.price)').compiled).toBe(false)
  })
})
