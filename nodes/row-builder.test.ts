import { describe, expect, it } from 'vitest'
import { rowBuilder, setField } from './row-builder.ts'

describe('rowBuilder', () => {
  it('builds rows with the names in order', () => {
    const build = rowBuilder(['id', 'name', 'Full Name'])
    const row = build(['1', 'ann', 'Ann Lee'])
    expect(row).toEqual({ id: '1', name: 'ann', 'Full Name': 'Ann Lee' })
    expect(Object.keys(row)).toEqual(['id', 'name', 'Full Name'])
  })

  it('keeps hostile names as plain field names', () => {
    const names = [
      '"}; throw new Error("x"); ({"',
      "'); process.exit(1); //",
      '\u2028',
      '`${1}`',
      '\\',
      'constructor',
    ]
    const row = rowBuilder(names)(names.map((_, i) => i))
    expect(Object.keys(row)).toEqual(names)
    expect(Object.values(row)).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('treats __proto__ as an ordinary field, not the prototype', () => {
    const row = rowBuilder(['__proto__', 'a'])(['x', 'y'])
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
    expect(Object.keys(row)).toEqual(['__proto__', 'a'])
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('x')
  })

  it('gives undefined for missing values and ignores extra ones', () => {
    expect(rowBuilder(['a', 'b'])(['1'])).toEqual({ a: '1', b: undefined })
    expect(rowBuilder(['a'])(['1', '2'])).toEqual({ a: '1' })
  })

  it('lets a later duplicate name win', () => {
    expect(rowBuilder(['a', 'a'])(['1', '2'])).toEqual({ a: '2' })
  })
})

describe('setField', () => {
  it('makes __proto__ an own field instead of replacing the prototype', () => {
    const row: Record<string, unknown> = {}
    setField(row, '__proto__', 'p')
    setField(row, 'constructor', 'c')
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
    expect(JSON.stringify(row)).toBe('{"__proto__":"p","constructor":"c"}')
  })
})
