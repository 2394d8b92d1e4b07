import { Attribute } from 'ldapts'
import { beforeAll, expect, it } from 'vitest'
import { hostileValues } from '../../test/ldap/hostile.ts'
import { describeWithSlapd } from '../../test/ldap/slapd.ts'
import { entryToRow, LdapConnection, requestedNames, type EntryRow } from './connection.ts'
import { childDn } from './dn.ts'
import { toFilter } from './filter.ts'
import { canSearchRaw } from './paged-search.ts'

const BASE = 'ou=People,dc=example,dc=com'

describeWithSlapd('lean paged search', (server) => {
  beforeAll(async () => {
    const client = await server().client()
    try {
      for (const [i, value] of hostileValues.entries()) {
        await client.add(childDn('cn', value, BASE), {
          objectClass: ['inetOrgPerson'],
          cn: value,
          sn: `hostile${i}`,
          employeeNumber: String(i),
          ...(i % 3 === 0 ? { mail: [`m${i}@example.com`, `alias${i}@example.com`] } : {}),
        })
      }
      await client.add(`uid=photo,${BASE}`, [
        new Attribute({ type: 'objectClass', values: ['inetOrgPerson'] }),
        new Attribute({ type: 'uid', values: ['photo'] }),
        new Attribute({ type: 'cn', values: ['Photo'] }),
        new Attribute({ type: 'sn', values: ['Photo'] }),
        new Attribute({ type: 'jpegPhoto', values: [Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x80, 0xfe])] }),
      ])
    } finally {
      await client.unbind()
    }
  })

  const open = () =>
    LdapConnection.open({
      url: server().url,
      bindDN: server().rootDn,
      password: server().rootPw,
      startTLS: false,
      timeoutMs: 30_000,
    })

  it('gives the same rows as ldapts, page by page, values and binary attributes included', async () => {
    const attributes = ['cn', 'sn', 'mail', 'employeeNumber', 'uid', 'jpegPhoto', 'title', 'displayName']
    const connection = await open()
    try {
      expect(canSearchRaw(connection.client)).toBe(true)
      const lean: EntryRow[] = []
      for await (const page of connection.search({
        base: BASE,
        scope: 'one',
        filter: '(objectClass=inetOrgPerson)',
        attributes,
        pageSize: 4,
      })) {
        expect(page.length).toBeLessThanOrEqual(4)
        lean.push(...page)
      }
      // The same search through ldapts, shaped the way rows were shaped before the lean decoder.
      const schema = await connection.schema()
      const expected: EntryRow[] = []
      for await (const page of connection.client.searchPaginated(BASE, {
        scope: 'one',
        filter: toFilter('(objectClass=inetOrgPerson)'),
        attributes,
        explicitBufferAttributes: ['jpegPhoto'],
        paged: { pageSize: 4 },
      })) {
        for (const entry of page.searchEntries)
          expected.push(entryToRow(entry, requestedNames(attributes), schema))
      }
      expect(lean).toHaveLength(hostileValues.length + 1)
      expect(lean).toEqual(expected)
      expect(lean.find((r) => r.dn.startsWith('uid=photo,'))?.jpegPhoto).toEqual([
        Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x80, 0xfe]).toString('base64'),
      ])
      expect(lean.map((r) => r.cn).flat()).toEqual(expect.arrayContaining([...hostileValues, 'Photo']))
      // The connection is ldapts's again afterwards.
      const after = await connection.client.search(BASE, { scope: 'base', attributes: ['ou'] })
      expect(after.searchEntries[0]?.ou).toBe('People')
    } finally {
      await connection.close()
    }
  })

  it('reports a missing base the way ldapts does', async () => {
    const connection = await open()
    try {
      const pages = connection.search({
        base: `ou=Nowhere,${BASE}`,
        scope: 'sub',
        filter: '(objectClass=*)',
        attributes: ['cn'],
        pageSize: 10,
      })
      await expect(pages.next()).rejects.toMatchObject({ code: 'NO_SUCH_OBJECT', field: 'base' })
    } finally {
      await connection.close()
    }
  })
})
