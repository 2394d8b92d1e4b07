import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Attribute } from 'ldapts'
import { beforeAll, expect, it } from 'vitest'
import { createConnectionResolver } from '../engine/index.ts'
import { describeWithSlapd } from '../test/ldap/slapd.ts'
import { firstError, runLdapGraph } from '../test/ldap/run.ts'
import { tempDir } from '../test/helpers.ts'
import { hostileValues } from '../test/ldap/hostile.ts'
import { childDn, parseDn } from './ldap/dn.ts'
import { eq } from './ldap/filter.ts'

const PEOPLE = 'ou=People,dc=example,dc=com'

describeWithSlapd('ldap.read against slapd', (server) => {
  const conn = () => ({ url: server().url, bindDN: server().rootDn, password: server().rootPw })
  const read = (config: Record<string, unknown>) =>
    runLdapGraph({
      nodes: [
        { id: 'dir', type: 'ldap.read', config: { connection: conn(), base: PEOPLE, ...config } },
        { id: 'sink', type: 'test.collect' },
      ],
      edges: [{ from: 'dir', to: 'sink' }],
    })

  beforeAll(async () => {
    const client = await server().client()
    try {
      for (const [i, value] of hostileValues.entries()) {
        await client.add(childDn('cn', value, PEOPLE), {
          objectClass: ['inetOrgPerson'],
          cn: value,
          sn: `hostile${i}`,
          employeeNumber: String(i),
        })
      }
      for (let i = 0; i < 25; i++) {
        await client.add(`uid=p${i},${PEOPLE}`, {
          objectClass: ['inetOrgPerson'],
          uid: `p${i}`,
          cn: `Person ${i}`,
          sn: 'Paged',
          mail: i === 0 ? [`p0@example.com`, `p0.alias@example.com`] : [`p${i}@example.com`],
          displayName: `Person Number ${i}`,
        })
      }
      await client.add(`uid=photo,${PEOPLE}`, [
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

  it('finds every hostile value literally with an escaped filter', async () => {
    for (const value of hostileValues) {
      const { summary, rows } = await read({ filter: eq('cn', value), attributes: ['cn', 'employeeNumber'] })
      expect(summary.status).toBe('succeeded')
      const got = rows('sink')
      expect(got.map(({ dn: _dn, ...rest }) => rest)).toEqual([
        { cn: [value], employeeNumber: String(hostileValues.indexOf(value)) },
      ])
      // slapd writes its own escapes (\3D for =); the DN names the same entry with the value intact.
      expect(parseDn(String(got[0]!.dn))).toEqual(parseDn(childDn('cn', value, PEOPLE)))
    }
  })

  it('pages through results; multi-valued attributes are arrays, single-valued scalars', async () => {
    const { summary, rows } = await read({
      filter: '(&(objectClass=inetOrgPerson)(sn=Paged))',
      attributes: ['uid', 'mail', 'displayName'],
      pageSize: 7,
    })
    expect(summary.status).toBe('succeeded')
    const got = rows('sink')
    expect(got).toHaveLength(25)
    expect(got.find((r) => r.uid?.toString() === 'p0')).toEqual({
      dn: `uid=p0,${PEOPLE}`,
      uid: ['p0'],
      mail: ['p0@example.com', 'p0.alias@example.com'],
      displayName: 'Person Number 0',
    })
    expect(got.find((r) => r.uid?.toString() === 'p1')?.mail).toEqual(['p1@example.com'])
    expect(summary.nodes.dir!.rowsOut).toBe(25)
  })

  it('returns binary values as base64', async () => {
    const { rows } = await read({ filter: eq('uid', 'photo'), attributes: ['jpegPhoto'] })
    expect(rows('sink')).toEqual([{ dn: `uid=photo,${PEOPLE}`, jpegPhoto: ['/9j/AID+'] }])
  })

  it('reads all user attributes when none are listed', async () => {
    const { rows } = await read({ scope: 'one', filter: eq('uid', 'p3') })
    expect(rows('sink')).toEqual([
      {
        dn: `uid=p3,${PEOPLE}`,
        objectClass: ['inetOrgPerson'],
        uid: ['p3'],
        cn: ['Person 3'],
        sn: ['Paged'],
        mail: ['p3@example.com'],
        displayName: 'Person Number 3',
      },
    ])
  })

  it('fails with SIZE_LIMIT on an unpaged search over the server limit, and pages around it', async () => {
    const limited = { url: server().url, bindDN: server().limitedDn, password: 'limited' }
    const graph = (pageSize: number) => ({
      nodes: [
        {
          id: 'dir',
          type: 'ldap.read',
          config: { connection: limited, base: PEOPLE, filter: '(sn=Paged)', pageSize },
        },
        { id: 'sink', type: 'test.collect' },
      ],
      edges: [{ from: 'dir', to: 'sink' }],
    })
    const unpaged = await runLdapGraph(graph(0))
    expect(unpaged.summary.status).toBe('failed')
    expect(unpaged.summary.errors[0]?.code).toBe('SIZE_LIMIT')
    expect(firstError(unpaged.summary)).toMatchInlineSnapshot(
      `"Node "dir" (ldap.read) pageSize: ldap://127.0.0.1:<port> stopped the search at its size limit; set pageSize (paged results) or ask for a higher limit"`,
    )
    const paged = await runLdapGraph(graph(4))
    expect(paged.summary.status).toBe('succeeded')
    expect(paged.rows('sink')).toHaveLength(25)
  })

  it('names bad credentials, an unreachable server, a missing base and a bad filter', async () => {
    const bad = await read({ connection: { ...conn(), password: 'wrong' } })
    expect(bad.summary.errors[0]?.code).toBe('INVALID_CREDENTIALS')
    expect(firstError(bad.summary)).toMatchInlineSnapshot(
      `"Node "dir" (ldap.read) connection: ldap://127.0.0.1:<port> refused the credentials of "cn=admin,dc=example,dc=com" (invalid credentials)"`,
    )

    const down = await read({ connection: { ...conn(), url: 'ldap://127.0.0.1:1' } })
    expect(down.summary.errors[0]?.code).toBe('SERVER_UNREACHABLE')
    expect(firstError(down.summary).replace(/:1\b/, ':<port>')).toMatchInlineSnapshot(
      `"Node "dir" (ldap.read) connection: cannot reach ldap://127.0.0.1:<port>: connect ECONNREFUSED 127.0.0.1:<port>"`,
    )

    const nobase = await read({ base: 'ou=Nowhere,dc=example,dc=com' })
    expect(nobase.summary.errors[0]?.code).toBe('NO_SUCH_OBJECT')
    expect(firstError(nobase.summary)).toMatchInlineSnapshot(
      `"Node "dir" (ldap.read) base: the search base "ou=Nowhere,dc=example,dc=com" does not exist on ldap://127.0.0.1:<port>"`,
    )

    await expect(read({ filter: '(cn=a' })).rejects.toThrowErrorMatchingInlineSnapshot(
      `[GraphError: The graph has 1 error(s): not an LDAP filter: Unbalanced parens: (cn=a. Full string: (cn=a]`,
    )
  })

  it('connects over ldaps and StartTLS with a CA bundle, and refuses an unknown CA', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'ca.pem'), server().caPem)
    const ldaps = await read({
      connection: { ...conn(), url: server().ldapsUrl, tls: { ca: server().caPem } },
      filter: eq('uid', 'p1'),
      attributes: ['uid'],
    })
    expect(ldaps.summary.status).toBe('succeeded')
    expect(ldaps.rows('sink')).toEqual([{ dn: `uid=p1,${PEOPLE}`, uid: ['p1'] }])

    const startTls = await runLdapGraph(
      {
        nodes: [
          {
            id: 'dir',
            type: 'ldap.read',
            config: {
              connection: { ...conn(), startTLS: true, tls: { ca: 'ca.pem' } },
              base: PEOPLE,
              filter: eq('uid', 'p2'),
              attributes: ['uid'],
            },
          },
          { id: 'sink', type: 'test.collect' },
        ],
        edges: [{ from: 'dir', to: 'sink' }],
      },
      { dir },
    )
    expect(startTls.summary.status).toBe('succeeded')
    expect(startTls.rows('sink')).toEqual([{ dn: `uid=p2,${PEOPLE}`, uid: ['p2'] }])

    const untrusted = await read({ connection: { ...conn(), url: server().ldapsUrl } })
    expect(untrusted.summary.errors[0]?.code).toBe('TLS_FAILED')
    expect(firstError(untrusted.summary)).toMatchInlineSnapshot(
      `"Node "dir" (ldap.read) connection: TLS with ldaps://127.0.0.1:<port> failed: self-signed certificate in certificate chain"`,
    )
  })

  it('resolves a stored connection by name with its password from the environment', async () => {
    const connections = createConnectionResolver({
      named: async (name) =>
        name === 'corp' ? { ...conn(), password: { $env: 'LDAP_TEST_PW' } } : undefined,
      env: { LDAP_TEST_PW: server().rootPw },
    })
    const { summary, rows } = await runLdapGraph(
      {
        nodes: [
          {
            id: 'dir',
            type: 'ldap.read',
            config: { connection: 'corp', base: PEOPLE, filter: eq('uid', 'p4'), attributes: ['uid'] },
          },
          { id: 'sink', type: 'test.collect' },
        ],
        edges: [{ from: 'dir', to: 'sink' }],
      },
      { connections },
    )
    expect(summary.status).toBe('succeeded')
    expect(rows('sink')).toEqual([{ dn: `uid=p4,${PEOPLE}`, uid: ['p4'] }])
  })
})
