import type { Entry } from 'ldapts'
import { describe, expect, it } from 'vitest'
import { completeRanges, entryToRow } from './connection.ts'
import { parseAttributeTypes } from './schema.ts'
import { binaryToText, guidToBytes, guidToString, sidToString } from './values.ts'

describe('binary values', () => {
  it('reads objectGUID in AD byte order and writes it back', () => {
    const bytes = Buffer.from('e3ba4e3e5ab75c4b9d8f0c7a1b2c3d4e', 'hex')
    expect(guidToString(bytes)).toBe('3e4ebae3-b75a-4b5c-9d8f-0c7a1b2c3d4e')
    expect(guidToBytes('{3E4EBAE3-B75A-4B5C-9D8F-0C7A1B2C3D4E}')).toEqual(bytes)
  })

  it('reads objectSid as S-1-…', () => {
    // S-1-5-21-1004336348-1177238915-682003330-512 (Domain Admins)
    const sid = Buffer.from('010500000000000515000000dcf4dc3b833d2b46828ba62800020000', 'hex')
    expect(sidToString(sid)).toBe('S-1-5-21-1004336348-1177238915-682003330-512')
    expect(binaryToText('objectSid', sid)).toBe('S-1-5-21-1004336348-1177238915-682003330-512')
    expect(binaryToText('jpegPhoto', Buffer.from([0xff, 0xd8]))).toBe('/9g=')
  })
})

describe('schema', () => {
  const schema = parseAttributeTypes([
    "( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )",
    "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s)' SUP name )",
    "( 2.16.840.1.113730.3.1.241 NAME 'displayName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 2.5.4.31 NAME 'member' SUP distinguishedName )",
    "( 2.5.4.49 NAME 'distinguishedName' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
    "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
    "( 0.9.2342.19200300.100.1.60 NAME 'jpegPhoto' SYNTAX 1.3.6.1.4.1.1466.115.121.1.28 )",
  ])

  it('knows single-valued, DN, numeric and binary attributes, following SUP', () => {
    expect(schema.get('commonName')).toMatchInlineSnapshot(`
      {
        "binary": false,
        "caseExact": false,
        "dn": false,
        "name": "cn",
        "numeric": false,
        "single": false,
      }
    `)
    expect(schema.get('member')?.dn).toBe(true)
    expect(schema.get('displayName')?.single).toBe(true)
    expect(schema.get('uidnumber')?.numeric).toBe(true)
    expect(schema.get('jpegPhoto;binary')?.binary).toBe(true)
  })

  it('shapes rows by it: multi-valued as arrays, single-valued as scalars', () => {
    const entry = {
      dn: 'cn=x',
      cn: 'x',
      displayName: 'X',
      jpegPhoto: Buffer.from([1, 2]),
      other: ['a', 'b'],
    } as Entry
    expect(entryToRow(entry, ['cn', 'displayName', 'jpegPhoto', 'other', 'mail'], schema)).toEqual({
      dn: 'cn=x',
      cn: ['x'],
      displayName: 'X',
      jpegPhoto: ['AQI='],
      other: ['a', 'b'],
    })
  })
})

describe('AD range retrieval', () => {
  it('fetches every slice of a ranged attribute', async () => {
    const all = Array.from({ length: 3500 }, (_, i) => `cn=m${i}`)
    const slices: string[] = []
    const entry = { dn: 'cn=big', 'member;range=0-1499': all.slice(0, 1500) } as Entry
    await completeRanges(entry, async (dn, attribute) => {
      slices.push(attribute)
      const start = Number(/range=(\d+)/.exec(attribute)![1])
      const last = start + 1500 >= all.length
      const key = `member;range=${start}-${last ? '*' : start + 1499}`
      return { dn, [key]: all.slice(start, start + 1500) } as Entry
    })
    expect(slices).toEqual(['member;range=1500-*', 'member;range=3000-*'])
    expect(entry.member).toEqual(all)
    expect(Object.keys(entry)).toEqual(['dn', 'member'])
  })

  it('takes an unsliced rest as the end, and refuses to keep a partial list', async () => {
    const entry = { dn: 'cn=g', 'member;range=0-1': ['cn=a', 'cn=b'] } as Entry
    await completeRanges(entry, async (dn) => ({ dn, member: ['cn=c'] }) as Entry)
    expect(entry.member).toEqual(['cn=a', 'cn=b', 'cn=c'])
    for (const answer of [undefined, { dn: 'cn=g' } as Entry]) {
      const cut = { dn: 'cn=g', 'member;range=0-1': ['cn=a', 'cn=b'] } as Entry
      await expect(completeRanges(cut, async () => answer)).rejects.toMatchObject({
        code: 'RANGE_INCOMPLETE',
        message:
          'the directory stopped answering the ranged values of "member" of cn=g after 2 values (asked for member;range=2-*)',
      })
    }
  })
})
