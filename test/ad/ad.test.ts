import { Attribute, Change, Client, InvalidCredentialsError } from 'ldapts'
import { beforeAll, expect, it } from 'vitest'
import type { Row } from '../../engine/index.ts'
import type { ResultRow } from '../../engine/sync/index.ts'
import { isAccountEnabled } from '../../nodes/ldap/ad.ts'
import { LdapConnection, ldapConnectionObject } from '../../nodes/ldap/connection.ts'
import { eq, toFilter } from '../../nodes/ldap/filter.ts'
import { guidToBytes } from '../../nodes/ldap/values.ts'
import { runLdapGraph } from '../ldap/run.ts'
import { describeWithSamba } from './samba.ts'

describeWithSamba('Active Directory (Samba AD DC)', (dc) => {
  const OU = () => `OU=Sync,${dc().baseDn}`
  const conn = () => ({
    url: dc().url,
    bindDN: dc().adminUpn,
    password: dc().adminPw,
    tls: { ca: dc().caPem },
  })
  let client: Client

  interface Person extends Row {
    id: string
    name: string
    sam: string
    last: string
    active: string
  }
  const person = (i: number, active = 'true'): Person => ({
    id: `E${i}`,
    name: `Test User ${i}`,
    sam: `tuser${i}`,
    last: `User${i}`,
    active,
  })
  const upn = (p: Person) => `${p.sam}@${dc().realm.toLowerCase()}`

  const config = (extra: Record<string, unknown> = {}) => ({
    connection: conn(),
    base: OU(),
    filter: '(&(objectClass=user)(employeeID=*))',
    key: [{ source: 'id', target: 'employeeID' }],
    dn: { rdn: 'cn', from: 'name', parent: OU() },
    objectClass: ['user'],
    attributes: {
      employeeID: 'id',
      sAMAccountName: { source: 'sam', flow: 'createOnly' },
      userPrincipalName: { source: 'upn', flow: 'createOnly' },
      displayName: 'name',
      sn: 'last',
    },
    account: { enabledFrom: 'active' },
    password: { length: 20 },
    ...extra,
  })

  const sync = async (cfg: Record<string, unknown>, rows: Row[]) => {
    const run = await runLdapGraph({
      nodes: [
        { id: 'hr', type: 'test.values', config: { rows } },
        { id: 'dir', type: 'ldap.sync', config: cfg },
        { id: 'out', type: 'test.collect' },
        { id: 'pw', type: 'test.collect' },
      ],
      edges: [
        { from: 'hr', to: 'dir' },
        { from: 'dir', fromPort: 'results', to: 'out' },
        { from: 'dir', fromPort: 'passwords', to: 'pw' },
      ],
    })
    return { ...run, results: run.rows('out') as ResultRow[], passwords: run.rows('pw') }
  }

  const uac = async (sam: string) => {
    const { searchEntries } = await client.search(OU(), {
      filter: eq('sAMAccountName', sam),
      attributes: ['userAccountControl'],
    })
    return Number(searchEntries[0]?.userAccountControl)
  }

  const canBind = async (user: string, password: string) => {
    const c = new Client({ url: dc().url, tlsOptions: { ca: dc().caPem } })
    try {
      await c.bind(user, password)
      return true
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return false
      throw error
    } finally {
      await c.unbind().catch(() => undefined)
    }
  }

  let people: (Person & { upn: string })[] = []

  beforeAll(async () => {
    people = [person(1), person(2), person(3, 'false')].map((p) => ({ ...p, upn: upn(p) }))
    client = await dc().client()
    await client.add(OU(), { objectClass: ['organizationalUnit'], ou: 'Sync' })
    return () => client.unbind()
  })

  it('creates users over ldaps with sAMAccountName, UPN, userAccountControl and a generated unicodePwd', async () => {
    const run = await sync(config(), people)
    expect(run.summary.errors).toEqual([])
    expect(run.results.map((r) => [r.action, r.outcome, r.error])).toEqual([
      ['create', 'applied', null],
      ['create', 'applied', null],
      ['create', 'applied', null],
    ])
    // The passwords went to the passwords port only: not in the results, not in the logs.
    // Passwords arrive as their objects are written (pipelined), so in no set order.
    const byDn = new Map(run.passwords.map((p) => [String(p.dn), String(p.password)]))
    expect([...byDn.keys()].sort()).toEqual(people.map((p) => `cn=${p.name},${OU()}`).sort())
    const secrets = people.map((p) => byDn.get(`cn=${p.name},${OU()}`)!)
    for (const secret of secrets) {
      expect(secret).toHaveLength(20)
      expect(JSON.stringify(run.results)).not.toContain(secret)
      expect(run.logs.join('\n')).not.toContain(secret)
    }
    expect(await uac('tuser1')).toBe(512)
    expect(await uac('tuser3')).toBe(514)
    // AD took the UTF-16LE quoted password: the enabled users can sign in with it.
    expect(await canBind(people[0]!.upn, secrets[0]!)).toBe(true)
    expect(await canBind(people[1]!.upn, secrets[1]!)).toBe(true)
    expect(await canBind(people[1]!.upn, `${secrets[1]!}x`)).toBe(false)
    // Disabled on create: the right password does not sign in.
    expect(await canBind(people[2]!.upn, secrets[2]!)).toBe(false)

    const again = await sync(config(), people)
    expect(again.results.map((r) => r.action)).toEqual(['none', 'none', 'none'])
    expect(again.passwords).toEqual([])
  })

  it('enables and disables through the ACCOUNTDISABLE bit, keeping the other flags', async () => {
    await client.modify(
      `cn=Test User 2,${OU()}`,
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'userAccountControl', values: ['66048'] }),
      }),
    )
    const flipped = people.map((p) => ({ ...p, active: p.id === 'E3' ? 'yes' : 'no' }))
    const run = await sync(config(), flipped)
    expect(run.results.map((r) => [r.action, r.changed, r.outcome])).toEqual([
      ['update', ['userAccountControl'], 'applied'],
      ['update', ['userAccountControl'], 'applied'],
      ['update', ['userAccountControl'], 'applied'],
    ])
    expect(await uac('tuser1')).toBe(514)
    expect(await uac('tuser2')).toBe(66050)
    expect(isAccountEnabled(await uac('tuser3'))).toBe(true)
  })

  it('de-provisions with the activeDirectory disable preset', async () => {
    const active = people.slice(0, 2).map((p) => ({ ...p, active: 'true' }))
    const run = await sync(config({ deprovision: { action: 'disable', preset: 'activeDirectory' } }), active)
    expect(run.results.map((r) => [r.dn, r.action, r.outcome])).toEqual([
      [`CN=Test User 1,${OU()}`, 'update', 'applied'],
      [`CN=Test User 2,${OU()}`, 'update', 'applied'],
      [`CN=Test User 3,${OU()}`, 'disable', 'applied'],
    ])
    expect(await uac('tuser1')).toBe(512)
    expect(await uac('tuser2')).toBe(66048)
    expect(await uac('tuser3')).toBe(514)
  })

  it('reads objectGUID as a GUID string and objectSid as S-1-…, and links on objectGUID', async () => {
    const read = await runLdapGraph({
      nodes: [
        {
          id: 'dir',
          type: 'ldap.read',
          config: {
            connection: { ...conn(), url: dc().ldapUrl, startTLS: true },
            base: OU(),
            filter: '(objectClass=user)',
            attributes: ['sAMAccountName', 'objectGUID', 'objectSid'],
          },
        },
        { id: 'sink', type: 'test.collect' },
      ],
      edges: [{ from: 'dir', to: 'sink' }],
    })
    expect(read.summary.errors).toEqual([])
    const rows = read.rows('sink')
    expect(rows).toHaveLength(3)
    for (const row of rows) {
      expect(row.objectGUID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      expect(row.objectSid).toMatch(/^S-1-5-21-\d+-\d+-\d+-\d+$/)
      // The GUID string turns back into the bytes AD stores: a filter on them finds the same user.
      const { searchEntries } = await client.search(OU(), {
        filter: toFilter(eq('objectGUID', guidToBytes(String(row.objectGUID)))),
        attributes: ['sAMAccountName'],
      })
      expect(searchEntries.map((e) => e.sAMAccountName)).toEqual([row.sAMAccountName])
    }

    // Linked by objectGUID (given in upper case with braces), a new name renames the same object.
    const tuser1 = rows.find((r) => r.sAMAccountName === 'tuser1')!
    const run = await sync(
      {
        ...config(),
        key: [{ source: 'guid', target: 'objectGUID' }],
        attributes: { displayName: 'name' },
        account: undefined,
        password: undefined,
        create: false,
      },
      [{ guid: `{${String(tuser1.objectGUID).toUpperCase()}}`, name: 'Renamed User 1' }],
    )
    // The two users not in the source are left alone (deprovision none).
    expect(run.results.map((r) => [r.action, r.newDn, r.outcome])).toEqual([
      ['rename', `cn=Renamed User 1,${OU()}`, 'applied'],
      ['none', null, 'unchanged'],
      ['none', null, 'unchanged'],
    ])
    const { searchEntries } = await client.search(OU(), {
      filter: toFilter(eq('objectGUID', guidToBytes(String(tuser1.objectGUID)))),
      attributes: ['displayName'],
    })
    expect(searchEntries.map((e) => [e.dn, e.displayName])).toEqual([
      [`CN=Renamed User 1,${OU()}`, 'Renamed User 1'],
    ])
  })

  it('follows the server’s ranged answers (member;range=…) to the whole member list', async () => {
    // Samba does not slice unasked (Windows does past MaxValRange, 1,500), so the first slice is asked
    // for explicitly; every later slice is the server's own ranged answer to `member;range=<n>-*`.
    const group = `CN=Ranged,${OU()}`
    const members = Array.from({ length: 25 }, (_, i) => `CN=Ranged Contact ${i},${OU()}`)
    for (const dn of members)
      await client.add(dn, { objectClass: ['contact'], cn: dn.slice(3, dn.indexOf(',')) })
    await client.add(group, { objectClass: ['group'], sAMAccountName: 'ranged', member: members })
    const connection = await LdapConnection.open({
      ...ldapConnectionObject.parse(conn()),
      password: dc().adminPw,
    })
    const asked: string[] = []
    const search = connection.client.search.bind(connection.client)
    connection.client.search = (base, options) => {
      asked.push(...(options?.attributes ?? []).filter((a) => a.includes(';range=')))
      return search(base, options)
    }
    try {
      // Unpaged (ldapts) and paged (the raw page decoder) searches both follow the slices.
      for (const pageSize of [0, 100]) {
        asked.length = 0
        const rows = []
        for await (const page of connection.search({
          base: group,
          scope: 'base',
          filter: '(objectClass=*)',
          attributes: ['member;range=0-9'],
          pageSize,
        }))
          rows.push(...page)
        expect(asked, `pageSize ${pageSize}`).toEqual(
          pageSize === 0 ? ['member;range=0-9', 'member;range=10-*'] : ['member;range=10-*'],
        )
        expect(rows).toHaveLength(1)
        const got = rows[0]!.member as string[]
        expect(got.map((dn) => dn.toLowerCase()).sort()).toEqual(members.map((dn) => dn.toLowerCase()).sort())
      }
    } finally {
      await connection.client.unbind()
    }
  })
})
