import { expect, it } from 'vitest'
import { describeWithSlapd } from './slapd.ts'

describeWithSlapd('slapd test harness', (server) => {
  it('serves the suffix on loopback, with ldaps beside it', async () => {
    const client = await server().client()
    try {
      const { searchEntries } = await client.search(server().suffix, {
        scope: 'one',
        attributes: ['ou', 'cn'],
      })
      expect(searchEntries.map((e) => e.dn).sort()).toEqual([
        'cn=limited,dc=example,dc=com',
        'ou=Disabled,dc=example,dc=com',
        'ou=Groups,dc=example,dc=com',
        'ou=People,dc=example,dc=com',
      ])
      expect(server().url).toMatch(/^ldap:\/\/127\.0\.0\.1:\d+$/)
    } finally {
      await client.unbind()
    }
  })
})
