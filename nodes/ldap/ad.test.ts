import { createHash } from 'node:crypto'
import type { EqualityFilter, SubstringFilter } from 'ldapts'
import { type AndFilter } from 'ldapts'
import { describe, expect, it } from 'vitest'
import {
  encodeUnicodePwd,
  generatePassword,
  isAccountEnabled,
  meetsAdComplexity,
  parseEnabled,
  sshaHash,
  UAC,
  withAccountEnabled,
} from './ad.ts'
import { and, eq, toFilter } from './filter.ts'
import { guidToBytes } from './values.ts'

const policy = { length: 20, lower: true, upper: true, digits: true, symbols: true }

describe('unicodePwd', () => {
  it('is the password in double quotes, UTF-16LE', () => {
    expect(encodeUnicodePwd('Pa1!').toString('hex')).toBe('220050006100310021002200')
    expect(encodeUnicodePwd('ü€').toString('hex')).toBe('2200fc00ac202200')
  })
})

describe('userAccountControl', () => {
  it('sets and clears ACCOUNTDISABLE only, keeping the other flags', () => {
    expect(withAccountEnabled('512', false)).toBe('514')
    expect(withAccountEnabled('514', true)).toBe('512')
    expect(withAccountEnabled('66048', false)).toBe('66050')
    expect(withAccountEnabled('66050', true)).toBe('66048')
    expect(withAccountEnabled('514', false)).toBe('514')
    expect(withAccountEnabled(undefined, true)).toBe(String(UAC.NORMAL_ACCOUNT))
    expect(withAccountEnabled(undefined, false)).toBe('514')
    expect(isAccountEnabled('66048')).toBe(true)
    expect(isAccountEnabled(546)).toBe(false)
  })

  it('reads enabled/disabled source values', () => {
    expect(['true', 'YES', '1', 'enabled', 'Active', true, 1].map(parseEnabled)).toEqual(Array(7).fill(true))
    expect(['false', 'no', '0', 'disabled', 'inactive', false, 0].map(parseEnabled)).toEqual(
      Array(7).fill(false),
    )
    expect(parseEnabled('maybe')).toBeUndefined()
  })
})

describe('generated passwords', () => {
  it('have the length and every chosen class, and meet AD complexity', () => {
    for (let i = 0; i < 200; i++) {
      const p = generatePassword(policy, { samAccountName: 'jsmith', displayName: 'John Smith' })
      expect(p).toHaveLength(20)
      expect(p).toMatch(/[a-z]/)
      expect(p).toMatch(/[A-Z]/)
      expect(p).toMatch(/[0-9]/)
      expect(p).toMatch(/[^A-Za-z0-9]/)
      expect(p).not.toMatch(/[lIO0o1]/)
      expect(meetsAdComplexity(p, { samAccountName: 'jsmith', displayName: 'John Smith' })).toBe(true)
    }
    const digitsOnly = generatePassword({ ...policy, length: 8, lower: false, upper: false, symbols: false })
    expect(digitsOnly).toMatch(/^[2-9]{8}$/)
    expect(new Set(Array.from({ length: 50 }, () => generatePassword(policy))).size).toBe(50)
  })

  it('refuse impossible policies', () => {
    expect(() =>
      generatePassword({ ...policy, lower: false, upper: false, digits: false, symbols: false }),
    ).toThrow('the password policy allows no character class')
    expect(() => generatePassword({ ...policy, length: 3 })).toThrow(
      'a 3-character password cannot hold 4 character classes',
    )
  })

  it('judge AD complexity: three of four kinds, no account name or display-name part', () => {
    expect(meetsAdComplexity('abcDEF123')).toBe(true)
    expect(meetsAdComplexity('abcdef123')).toBe(false)
    expect(meetsAdComplexity('abc!ef123')).toBe(true)
    expect(meetsAdComplexity('xJSmith!9', { samAccountName: 'jsmith' })).toBe(false)
    expect(meetsAdComplexity('Qx!9john', { displayName: 'John Smith' })).toBe(false)
    expect(meetsAdComplexity('Qx!9jo', { displayName: 'Jo Smith' })).toBe(true)
  })

  it('hash userPassword as {SSHA}', () => {
    const salt = Buffer.from('0102030405060708', 'hex')
    const digest = createHash('sha1').update('secret').update(salt).digest()
    expect(sshaHash('secret', salt)).toBe(`{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`)
  })
})

describe('toFilter', () => {
  it('sends escaped binary bytes as they are (objectGUID), not re-encoded as UTF-8', () => {
    const guid = guidToBytes('efeea62e-1bc9-4c17-a2cb-b147496927c1')
    const filter = toFilter(and(eq('objectClass', 'user'), eq('objectGUID', guid))) as AndFilter
    const value = (filter.filters[1] as EqualityFilter).value
    expect(Buffer.isBuffer(value) && value.equals(guid)).toBe(true)
    expect((filter.filters[0] as EqualityFilter).value).toBe('user')
  })

  it('sends unicode text, literal or escaped, as its UTF-8 bytes', () => {
    const literal = toFilter('(cn=Zoë 山田)') as EqualityFilter
    const escaped = toFilter('(cn=Zo\\c3\\ab \\e5\\b1\\b1\\e7\\94\\b0)') as EqualityFilter
    expect(literal.value).toEqual(Buffer.from('Zoë 山田', 'utf8'))
    expect(escaped.value).toEqual(Buffer.from('Zoë 山田', 'utf8'))
    const sub = toFilter('(cn=Zoë*田)') as SubstringFilter
    expect([sub.initial, sub.final]).toEqual(['Zoë', '田'])
    expect((toFilter(eq('cn', '*)(uid=*')) as EqualityFilter).value).toBe('*)(uid=*')
  })
})
