import { describe, expect, it } from 'vitest'
import { childDn, escapeDnValue, formatDn, isWithin, normalizeDn, parseDn, sameDn, splitDn } from './dn.ts'
import { and, eq, escapeFilterValue, wrapFilter } from './filter.ts'
import { hostileValues } from '../../test/ldap/hostile.ts'

describe('escapeDnValue', () => {
  it('escapes the RFC 4514 specials and leaves unicode alone', () => {
    expect(hostileValues.map((v) => escapeDnValue(v))).toMatchInlineSnapshot(`
      [
        "*)(uid\\=*",
        "Smith\\, John",
        "a\\+b",
        "back\\\\slash",
        "ends with backslash\\\\",
        "\\#hash",
        "\\ leading space",
        "trailing space\\ ",
        "say \\"hi\\"",
        "\\<a\\>\\;b\\=c",
        "nul\\00byte",
        "Zoë Łukasz 山田 🙂",
        "'\\; DROP TABLE users\\; --",
      ]
    `)
  })

  it('can write backslashes as hex', () => {
    expect(escapeDnValue('a\\', { hexBackslash: true })).toBe('a\\5C')
  })
})

describe('parseDn / formatDn', () => {
  it('round-trips every hostile value', () => {
    for (const value of hostileValues) {
      const dn = childDn('cn', value, 'ou=People,dc=example,dc=com')
      const parsed = parseDn(dn)
      expect(parsed[0]).toEqual([{ type: 'cn', value }])
      expect(parsed.slice(1).map((r) => r[0]!.value)).toEqual(['People', 'example', 'com'])
      expect(formatDn(parsed)).toBe(dn)
      expect(parseDn(formatDn(parsed, { hexBackslash: true }))).toEqual(parsed)
    }
  })

  it('reads hex escapes as UTF-8, spaces around separators, and multi-valued RDNs', () => {
    expect(parseDn('CN = Zo\\C3\\AB + uid=z1 , OU=People,  DC=example,DC=com')).toMatchInlineSnapshot(`
      [
        [
          {
            "type": "CN",
            "value": "Zoë",
          },
          {
            "type": "uid",
            "value": "z1",
          },
        ],
        [
          {
            "type": "OU",
            "value": "People",
          },
        ],
        [
          {
            "type": "DC",
            "value": "example",
          },
        ],
        [
          {
            "type": "DC",
            "value": "com",
          },
        ],
      ]
    `)
  })

  it('rejects malformed DNs with the position', () => {
    expect(() => parseDn('cn=a,=b')).toThrowErrorMatchingInlineSnapshot(
      `[DnSyntaxError: Invalid DN "cn=a,=b": expected an attribute type at position 5]`,
    )
    expect(() => parseDn('cn=a\\')).toThrowErrorMatchingInlineSnapshot(
      `[DnSyntaxError: Invalid DN "cn=a\\\\": dangling "\\" at position 4]`,
    )
    expect(() => parseDn('cn')).toThrowErrorMatchingInlineSnapshot(
      `[DnSyntaxError: Invalid DN "cn": expected "=" at position 2]`,
    )
  })

  it('splits the leaf RDN from its parent', () => {
    expect(splitDn('cn=Smith\\, John,ou=People,dc=example,dc=com')).toEqual({
      rdn: 'cn=Smith\\, John',
      parent: 'ou=People,dc=example,dc=com',
    })
  })
})

describe('normalizeDn', () => {
  it('ignores case, spacing, escaping style and RDN part order', () => {
    expect(normalizeDn('CN=Smith\\2C  John , OU=People,DC=Example,DC=com')).toBe(
      'cn=smith\\, john,ou=people,dc=example,dc=com',
    )
    expect(sameDn('uid=a+cn=B,dc=x', 'CN=b+UID=A, DC=X')).toBe(true)
    expect(sameDn('cn=a,dc=x', 'cn=b,dc=x')).toBe(false)
  })

  it('knows what is inside a base', () => {
    expect(isWithin('cn=a,ou=People,dc=example,dc=com', 'OU=people, dc=example,dc=com')).toBe(true)
    expect(isWithin('cn=a,ou=Groups,dc=example,dc=com', 'ou=People,dc=example,dc=com')).toBe(false)
    expect(isWithin('cn=a,xou=People,dc=example,dc=com', 'ou=People,dc=example,dc=com')).toBe(false)
  })
})

describe('filters', () => {
  it('escapes the RFC 4515 specials', () => {
    expect(hostileValues.map((v) => escapeFilterValue(v))).toMatchInlineSnapshot(`
      [
        "\\2a\\29\\28uid=\\2a",
        "Smith, John",
        "a+b",
        "back\\5cslash",
        "ends with backslash\\5c",
        "#hash",
        " leading space",
        "trailing space ",
        "say "hi"",
        "<a>;b=c",
        "nul\\00byte",
        "Zoë Łukasz 山田 🙂",
        "'; DROP TABLE users; --",
      ]
    `)
    expect(escapeFilterValue(Buffer.from([0x00, 0xff, 0x2a]))).toBe('\\00\\ff\\2a')
  })

  it('builds filters from values and refuses odd attribute names', () => {
    expect(and(eq('objectClass', 'person'), eq('uid', '*)(uid=*'))).toBe(
      '(&(objectClass=person)(uid=\\2a\\29\\28uid=\\2a))',
    )
    expect(() => eq('uid)(cn', 'x')).toThrowErrorMatchingInlineSnapshot(
      `[Error: Invalid LDAP attribute name "uid)(cn"]`,
    )
    expect(wrapFilter('uid=x')).toBe('(uid=x)')
    expect(wrapFilter(undefined)).toBe('(objectClass=*)')
  })
})
