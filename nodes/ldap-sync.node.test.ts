import type { Client } from 'ldapts'
import { beforeAll, describe, expect, it } from 'vitest'
import { analyzeGraph, type Row } from '../engine/index.ts'
import { applyPlanDocument, planGraph, type ResultRow } from '../engine/sync/index.ts'
import { hostileValues } from '../test/ldap/hostile.ts'
import { firstError, ldapCatalog, runLdapGraph } from '../test/ldap/run.ts'
import { describeWithSlapd } from '../test/ldap/slapd.ts'
import { normalizeDn, parseDn } from './ldap/dn.ts'
import { ldapSyncDriver } from './ldap-sync.node.ts'

const SUFFIX = 'dc=example,dc=com'
const PEOPLE = `ou=People,${SUFFIX}`
const MOVED = `ou=Moved,${SUFFIX}`
const GROUPS = `ou=Groups,${SUFFIX}`
const N = 10_000

interface Person extends Row {
  employeeNumber: string
  uid: string
  cn: string
  sn: string
  mail: string[]
  title: string
  container: string
}

const person = (i: number): Person => ({
  employeeNumber: `e${i}`,
  uid: `u${i}`,
  cn: `User ${i}`,
  sn: `Last${i}`,
  mail: [`u${i}@example.com`],
  title: 'Staff',
  container: PEOPLE,
})

describeWithSlapd('ldap.sync against slapd', (server) => {
  const conn = () => ({ url: server().url, bindDN: server().rootDn, password: server().rootPw })
  let client: Client
  let people: Person[] = Array.from({ length: N }, (_, i) => person(i))

  const peopleConfig = (extra: Record<string, unknown> = {}) => ({
    connection: conn(),
    base: SUFFIX,
    filter: '(&(objectClass=inetOrgPerson)(employeeNumber=*))',
    key: [{ source: 'employeeNumber', target: 'employeeNumber' }],
    dn: { rdn: 'uid', parent: PEOPLE, parentFrom: 'container' },
    objectClass: ['inetOrgPerson'],
    attributes: { employeeNumber: 'employeeNumber', cn: 'cn', sn: 'sn', mail: 'mail', title: 'title' },
    ...extra,
  })

  const graphOf = (config: Record<string, unknown>, rows: Row[], onRowError?: 'fail' | 'skip' | 'route') => ({
    name: 'people to directory',
    nodes: [
      { id: 'hr', type: 'test.values', config: { rows } },
      { id: 'dir', type: 'ldap.sync', config },
      { id: 'out', type: 'test.collect' },
      ...(onRowError === 'route' ? [{ id: 'bad', type: 'test.collect' }] : []),
    ],
    edges: [
      { from: 'hr', to: 'dir' },
      { from: 'dir', fromPort: 'results', to: 'out' },
      ...(onRowError === 'route' ? [{ from: 'dir', fromPort: 'rejected', to: 'bad' }] : []),
    ],
    ...(onRowError === undefined ? {} : { settings: { onRowError } }),
  })

  const sync = async (
    config: Record<string, unknown>,
    rows: Row[],
    onRowError?: 'fail' | 'skip' | 'route',
  ) => {
    const run = await runLdapGraph(graphOf(config, rows, onRowError))
    return { ...run, results: run.rows('out') as ResultRow[], rejected: run.rows('bad') }
  }

  /** entryCSN of every entry under the suffix: any write to an entry changes its CSN. */
  const csns = async (): Promise<Map<string, string>> => {
    const out = new Map<string, string>()
    for await (const page of client.searchPaginated(SUFFIX, {
      filter: '(objectClass=*)',
      attributes: ['entryCSN'],
      paged: { pageSize: 1000 },
    })) {
      for (const e of page.searchEntries) out.set(normalizeDn(e.dn), String(e.entryCSN))
    }
    return out
  }
  const changedSince = (before: Map<string, string>, after: Map<string, string>) => {
    const changed: string[] = []
    for (const [dn, csn] of after) if (before.get(dn) !== csn) changed.push(dn)
    for (const dn of before.keys()) if (!after.has(dn)) changed.push(`-${dn}`)
    return changed.sort()
  }
  const count = (results: ResultRow[]) => {
    const out: Record<string, number> = {}
    for (const r of results) out[`${r.action}/${r.outcome}`] = (out[`${r.action}/${r.outcome}`] ?? 0) + 1
    return out
  }

  beforeAll(async () => {
    client = await server().client()
    await client.add(MOVED, { objectClass: ['organizationalUnit'], ou: 'Moved' })
    return () => client.unbind()
  })

  it(`provisions ${N.toLocaleString('en')} entries`, async () => {
    const t0 = performance.now()
    const { summary, results, logs } = await sync(peopleConfig(), people)
    const ms = performance.now() - t0
    expect(summary.status).toBe('succeeded')
    expect(count(results)).toEqual({ 'create/applied': N })
    expect(logs.filter((l) => l.includes('applied:'))).toEqual([`dir info: applied: ${N} write(s), 0 failed`])
    const { searchEntries } = await client.search(PEOPLE, {
      filter: '(uid=u42)',
      attributes: ['cn', 'mail', 'title', 'employeeNumber'],
    })
    expect(searchEntries).toEqual([
      {
        dn: `uid=u42,${PEOPLE}`,
        cn: 'User 42',
        mail: 'u42@example.com',
        title: 'Staff',
        employeeNumber: 'e42',
      },
    ])
    console.info(`provisioned ${N} entries in ${Math.round(ms)} ms (${Math.round(N / (ms / 1000))}/s)`)
  })

  it('writes nothing on a re-run without source changes, whatever the case and value order', async () => {
    const before = await csns()
    const shuffled = people
      .map((p, i) => (i % 2 === 0 ? { ...p, title: 'STAFF', cn: ` ${p.cn.toLowerCase()} ` } : p))
      .reverse()
    const { summary, results, logs } = await sync(peopleConfig(), shuffled)
    expect(summary.status).toBe('succeeded')
    expect(count(results)).toEqual({ 'none/unchanged': N })
    expect(logs.filter((l) => l.includes('applied:'))).toEqual(['dir info: applied: 0 write(s), 0 failed'])
    expect(changedSince(before, await csns())).toEqual([])
  })

  it('applies 1% changes as small modifies, touching only those entries', async () => {
    const before = await csns()
    people = people.map((p, i) =>
      i % 100 === 7 ? { ...p, title: 'Manager', mail: [...p.mail, `${p.uid}.alias@example.com`] } : p,
    )
    const planned = await sync(peopleConfig({ mode: 'plan' }), people)
    expect(count(planned.results)).toEqual({ 'none/unchanged': N - N / 100, 'update/planned': N / 100 })
    expect(changedSince(before, await csns())).toEqual([])
    expect(planned.results.find((r) => r.dn === `uid=u7,${PEOPLE}`)).toMatchInlineSnapshot(`
      {
        "action": "update",
        "after": {
          "mail": [
            "u7@example.com",
            "u7.alias@example.com",
          ],
          "title": [
            "Manager",
          ],
        },
        "before": {
          "mail": [
            "u7@example.com",
          ],
          "title": [
            "Staff",
          ],
        },
        "changed": [
          "mail",
          "title",
        ],
        "changes": [
          {
            "attribute": "mail",
            "op": "add",
            "values": [
              "u7.alias@example.com",
            ],
          },
          {
            "attribute": "title",
            "op": "replace",
            "values": [
              "Manager",
            ],
          },
        ],
        "dn": "uid=u7,ou=People,dc=example,dc=com",
        "error": null,
        "key": {
          "employeeNumber": "e7",
        },
        "newDn": null,
        "outcome": "planned",
      }
    `)

    const { summary, results, logs } = await sync(peopleConfig(), people)
    expect(summary.status).toBe('succeeded')
    expect(count(results)).toEqual({ 'none/unchanged': N - N / 100, 'update/applied': N / 100 })
    expect(logs.filter((l) => l.includes('applied:'))).toEqual([
      `dir info: applied: ${N / 100} write(s), 0 failed`,
    ])
    const changed = changedSince(before, await csns())
    expect(changed).toHaveLength(N / 100)
    expect(changed).toContain(normalizeDn(`uid=u107,${PEOPLE}`))
    const { searchEntries } = await client.search(PEOPLE, {
      filter: '(uid=u107)',
      attributes: ['mail', 'title'],
    })
    expect(searchEntries[0]).toEqual({
      dn: `uid=u107,${PEOPLE}`,
      mail: ['u107@example.com', 'u107.alias@example.com'],
      title: 'Manager',
    })
  })

  it('renames and moves by ModifyDN', async () => {
    people = people.map((p, i) =>
      i === 1
        ? { ...p, uid: 'renamed1' }
        : i === 2
          ? { ...p, container: MOVED }
          : i === 3
            ? { ...p, uid: 'both3', container: MOVED, title: 'Moved' }
            : p,
    )
    const { summary, results } = await sync(
      peopleConfig({
        dn: { rdn: 'uid', parent: PEOPLE, parentFrom: 'container' },
        attributes: { ...peopleConfig().attributes, uid: 'uid' },
      }),
      people,
    )
    expect(summary.status).toBe('succeeded')
    expect(
      results.filter((r) => r.action !== 'none').map((r) => [r.dn, r.action, r.newDn, r.changed, r.outcome]),
    ).toMatchInlineSnapshot(`
      [
        [
          "uid=u1,ou=People,dc=example,dc=com",
          "rename",
          "uid=renamed1,ou=People,dc=example,dc=com",
          [],
          "applied",
        ],
        [
          "uid=u2,ou=People,dc=example,dc=com",
          "move",
          "uid=u2,ou=Moved,dc=example,dc=com",
          [],
          "applied",
        ],
        [
          "uid=u3,ou=People,dc=example,dc=com",
          "move",
          "uid=both3,ou=Moved,dc=example,dc=com",
          [
            "title",
          ],
          "applied",
        ],
      ]
    `)
    const moved = await client.search(MOVED, { scope: 'one', attributes: ['uid', 'title'] })
    expect(moved.searchEntries.map((e) => [e.dn, e.uid, e.title]).sort()).toEqual([
      [`uid=both3,${MOVED}`, 'both3', 'Moved'],
      [`uid=u2,${MOVED}`, 'u2', 'Staff'],
    ])
    const again = await sync(
      peopleConfig({ attributes: { ...peopleConfig().attributes, uid: 'uid' } }),
      people,
    )
    expect(count(again.results)).toEqual({ 'none/unchanged': N })
  })

  it('refuses deletes over a threshold and writes nothing', async () => {
    const before = await csns()
    const kept = people.slice(0, N - 150)
    const { summary, results } = await sync(
      peopleConfig({ deprovision: { action: 'delete' }, maxDeletes: 100 }),
      kept,
    )
    expect(summary.status).toBe('failed')
    expect(summary.errors[0]?.code).toBe('THRESHOLD_EXCEEDED')
    expect(firstError(summary)).toMatchInlineSnapshot(
      `"Node "dir" (ldap.sync) maxDeletes: the plan de-provisions (deletes, disables or moves) 150 of 10000 objects in scope (1.5%), more than maxDeletes 100; nothing was written"`,
    )
    expect(results).toEqual([])
    expect(changedSince(before, await csns())).toEqual([])

    const percent = await sync(
      peopleConfig({
        deprovision: { action: 'disable', attributes: { title: 'Disabled' } },
        maxDeletePercent: 1,
      }),
      kept,
    )
    expect(percent.summary.errors[0]?.code).toBe('THRESHOLD_EXCEEDED')
    expect(firstError(percent.summary)).toMatchInlineSnapshot(
      `"Node "dir" (ldap.sync) maxDeletePercent: the plan de-provisions (deletes, disables or moves) 150 of 10000 objects in scope (1.5%), more than maxDeletePercent 1%; nothing was written"`,
    )
    expect(changedSince(before, await csns())).toEqual([])
  })

  it('de-provisions within the thresholds: disable, move, delete', async () => {
    const kept = people.slice(0, N - 3)
    const disabled = await sync(
      peopleConfig({ deprovision: { action: 'disable', attributes: { title: 'Disabled' } }, maxDeletes: 3 }),
      kept,
    )
    expect(count(disabled.results)).toEqual({ 'none/unchanged': N - 3, 'disable/applied': 3 })
    const moved = await sync(
      peopleConfig({ deprovision: { action: 'move', container: MOVED }, maxDeletes: 3 }),
      kept,
    )
    expect(count(moved.results)).toEqual({ 'none/unchanged': N - 3, 'move/applied': 3 })
    const { searchEntries } = await client.search(MOVED, { filter: `(uid=u${N - 1})`, attributes: ['title'] })
    expect(searchEntries).toEqual([{ dn: `uid=u${N - 1},${MOVED}`, title: 'Disabled' }])
    const deleted = await sync(peopleConfig({ deprovision: { action: 'delete' }, maxDeletes: 3 }), kept)
    expect(count(deleted.results)).toEqual({ 'none/unchanged': N - 3, 'delete/applied': 3 })
    people = kept
    expect(
      (
        await client.search(SUFFIX, {
          filter: '(employeeNumber=*)',
          attributes: ['1.1'],
          paged: { pageSize: 1000 },
        })
      ).searchEntries,
    ).toHaveLength(N - 3)
  })

  it('reports ambiguous matches and never writes them', async () => {
    await client.add(`uid=twin-a,${PEOPLE}`, {
      objectClass: 'inetOrgPerson',
      uid: 'twin-a',
      cn: 'Twin',
      sn: 'A',
      employeeNumber: 'twin',
    })
    await client.add(`uid=twin-b,${PEOPLE}`, {
      objectClass: 'inetOrgPerson',
      uid: 'twin-b',
      cn: 'Twin',
      sn: 'B',
      employeeNumber: 'twin',
    })
    const before = await csns()
    const rows = [...people, { ...person(0), employeeNumber: 'twin', uid: 'twin', cn: 'Twin Changed' }]
    const config = peopleConfig({ deprovision: { action: 'delete' }, maxDeletes: 0 })
    // onRowError fail (the default): an object that cannot be written fails the run before any write.
    const failed = await sync(config, rows)
    expect(failed.summary.status).toBe('failed')
    expect(firstError(failed.summary)).toMatchInlineSnapshot(
      `"Node "dir" (ldap.sync) row 9998: the object with key {"employeeNumber":"twin"}: 2 objects in scope match this key: uid=twin-a,ou=People,dc=example,dc=com; uid=twin-b,ou=People,dc=example,dc=com; nothing was written (onRowError "skip" or "route" writes the others)"`,
    )
    expect(failed.summary.nodes.dir!.outcomes).toEqual({ failed: 1 })
    const { summary, results, rejected } = await sync(config, rows, 'route')
    expect(summary.status).toBe('succeeded')
    expect(summary.nodes.dir).toMatchObject({
      rowsRejected: 1,
      outcomes: { unchanged: people.length, failed: 1 },
    })
    expect(rejected).toEqual([
      {
        ...rows.at(-1),
        _error: { code: 'AMBIGUOUS', message: expect.stringContaining('2 objects in scope match this key') },
      },
    ])
    expect(results.filter((r) => r.action === 'ambiguous')).toMatchInlineSnapshot(`
      [
        {
          "action": "ambiguous",
          "after": null,
          "before": null,
          "changed": [],
          "dn": "",
          "error": {
            "code": "AMBIGUOUS",
            "message": "2 objects in scope match this key: uid=twin-a,ou=People,dc=example,dc=com; uid=twin-b,ou=People,dc=example,dc=com",
          },
          "key": {
            "employeeNumber": "twin",
          },
          "newDn": null,
          "outcome": "failed",
        },
      ]
    `)
    expect(changedSince(before, await csns())).toEqual([])
  })

  it('fails a create the schema refuses in the plan, and follows onRowError for failed writes (issue 12)', async () => {
    const config = peopleConfig({ attributes: { employeeNumber: 'employeeNumber', cn: 'cn', sn: 'sn' } })
    // No sn: the subschema says inetOrgPerson (through person) requires it, so the plan knows.
    const rows = [...people, { ...person(N + 1), sn: '' }, person(N + 2)]
    const planned = await sync({ ...config, mode: 'plan' }, rows)
    expect(
      planned.results.filter((r) => r.action !== 'none').map((r) => [r.action, r.dn, r.outcome, r.error]),
    ).toMatchInlineSnapshot(`
      [
        [
          "error",
          "uid=u10001,ou=People,dc=example,dc=com",
          "skipped",
          {
            "code": "LDAP_OBJECT_CLASS_VIOLATION",
            "message": "object class 'person' requires attribute 'sn', which this row does not give (the directory would refuse the create)",
          },
        ],
        [
          "create",
          "uid=u10002,ou=People,dc=example,dc=com",
          "planned",
          null,
        ],
      ]
    `)
    const before = await csns()
    const failing = await sync(config, rows)
    expect(failing.summary.status).toBe('failed')
    expect(failing.summary.errors[0]).toMatchObject({
      code: 'LDAP_OBJECT_CLASS_VIOLATION',
      nodeId: 'dir',
      row: rows.length - 1,
    })
    expect(changedSince(before, await csns())).toEqual([])

    const skipped = await sync(config, rows, 'skip')
    expect(skipped.summary.status).toBe('succeeded')
    expect(skipped.summary.nodes.dir).toMatchObject({
      rowsRejected: 1,
      errors: 1,
      // The two twins of the ambiguity test are in scope too, left alone.
      outcomes: { created: 1, unchanged: people.length + 2, failed: 1 },
    })
    people = [...people, person(N + 2)]
  })

  it('adds one member to a 5,000-member group with one small modify', async () => {
    const members = people.slice(0, 5000).map((p) => `uid=${p.uid},${p.container}`)
    const groupConfig = (extra: Record<string, unknown> = {}) => ({
      connection: conn(),
      base: GROUPS,
      filter: '(objectClass=groupOfNames)',
      key: [{ source: 'name', target: 'cn' }],
      dn: { rdn: 'cn', from: 'name', parent: GROUPS },
      objectClass: ['groupOfNames'],
      attributes: { member: 'members' },
      ...extra,
    })
    const created = await sync(groupConfig(), [{ name: 'everyone', members }])
    expect(count(created.results)).toEqual({ 'create/applied': 1 })

    // Same members, other order, other DN spelling: nothing to do.
    const respelled = members.map((m) => m.toUpperCase().replaceAll(',', ', ')).reverse()
    const same = await sync(groupConfig(), [{ name: 'everyone', members: respelled }])
    expect(count(same.results)).toEqual({ 'none/unchanged': 1 })

    const newcomer = `uid=${people[5000]!.uid},${PEOPLE}`
    const graph = graphOf(groupConfig(), [{ name: 'everyone', members: [...members, newcomer] }])
    const document = await planGraph(
      { syncgraph: 1, settings: { workers: 0 }, ...graph },
      { catalog: ldapCatalog, drivers: [ldapSyncDriver] },
    )
    expect(document.plans[0]!.items.map((i) => [i.action, i.changes])).toEqual([
      ['update', [{ attribute: 'member', op: 'add', values: [newcomer] }]],
    ])
    const applied = await applyPlanDocument(
      document,
      { syncgraph: 1, settings: { workers: 0 }, ...graph },
      { catalog: ldapCatalog, drivers: [ldapSyncDriver] },
    )
    expect(applied.writes).toBe(1)
    expect(applied.results.dir!.map((r) => [r.action, r.changed, r.outcome])).toEqual([
      ['update', ['member'], 'applied'],
    ])
    const { searchEntries } = await client.search(GROUPS, { filter: '(cn=everyone)', attributes: ['member'] })
    expect((searchEntries[0]!.member as string[]).length).toBe(5001)
  })

  it('refuses to apply a plan document when the graph changed', async () => {
    const graph = { syncgraph: 1, settings: { workers: 0 }, ...graphOf(peopleConfig(), people) }
    const document = await planGraph(graph, { catalog: ldapCatalog, drivers: [ldapSyncDriver] })
    expect(Object.entries(document.plans[0]!.counts).filter(([, n]) => n > 0)).toEqual([
      ['update', 1],
      ['none', people.length + 1],
    ])
    const changed = {
      ...graph,
      nodes: graph.nodes.map((n) => (n.id === 'dir' ? { ...n, config: peopleConfig({ maxDeletes: 5 }) } : n)),
    }
    await expect(
      applyPlanDocument(document, changed, { catalog: ldapCatalog, drivers: [ldapSyncDriver] }),
    ).rejects.toThrowErrorMatchingInlineSnapshot(
      `[GraphError: the graph (or its parameter values) changed since this plan was made; make a new plan]`,
    )
    const moved = { ...graph, nodes: graph.nodes.map((n) => ({ ...n, position: { x: 1, y: 2 } })) }
    const applied = await applyPlanDocument(document, moved, {
      catalog: ldapCatalog,
      drivers: [ldapSyncDriver],
    })
    // The object created with fewer attributes by the failure test gets its mail and title now.
    expect(applied.writes).toBe(1)
  })

  it('stores hostile values literally in DNs and attributes, and finds them again', async () => {
    const rows = hostileValues.map((value, i) => ({ id: `h${i}`, name: value, desc: value }))
    const config = {
      connection: conn(),
      base: PEOPLE,
      filter: '(&(objectClass=person)(description=h*))',
      key: [{ source: 'id', target: 'description' }],
      dn: { rdn: 'cn', from: 'name', parent: PEOPLE },
      objectClass: ['person'],
      attributes: { description: 'id', sn: 'desc' },
    }
    const first = await sync(config, rows)
    expect(count(first.results)).toEqual({ 'create/applied': hostileValues.length })
    for (const [i, value] of hostileValues.entries()) {
      const { searchEntries } = await client.search(PEOPLE, {
        filter: `(description=h${i})`,
        attributes: ['cn', 'sn'],
      })
      expect(searchEntries).toHaveLength(1)
      expect(searchEntries[0]!.sn).toBe(value)
      expect(parseDn(searchEntries[0]!.dn)[0]).toEqual([{ type: 'cn', value }])
    }
    const again = await sync(config, rows)
    expect(count(again.results)).toEqual({ 'none/unchanged': hostileValues.length })
    const byExpression = await sync(
      { ...config, dn: { expression: '"cn=" & $dnEscape(name) & ",ou=People,dc=example,dc=com"' } },
      rows,
    )
    expect(count(byExpression.results)).toEqual({ 'none/unchanged': hostileValues.length })
    const renamed = await sync(
      {
        ...config,
        mode: 'plan',
        dn: { expression: '"cn=" & $dnEscape(name & "!") & ",ou=People,dc=example,dc=com"' },
      },
      rows.slice(0, 1),
    )
    expect(renamed.results.filter((r) => r.action === 'rename')).toMatchInlineSnapshot(`
      [
        {
          "action": "rename",
          "after": {},
          "before": {},
          "changed": [],
          "changes": [],
          "dn": "cn=*)(uid\\3D*,ou=People,dc=example,dc=com",
          "error": null,
          "key": {
            "id": "h0",
          },
          "newDn": "cn=*)(uid\\=*!,ou=People,dc=example,dc=com",
          "outcome": "planned",
        },
      ]
    `)
  })

  describe('trust (issue 12, issue 13 M6)', () => {
    const TRUST = `ou=Trust,${SUFFIX}`
    const ADMINS = `ou=Admins,${SUFFIX}`
    const FENCE = `ou=Fence,${SUFFIX}`
    const WRITES = `ou=Writes,${SUFFIX}`
    const entriesUnder = async (base: string, filter = '(objectClass=inetOrgPerson)') =>
      (
        await client.search(base, { filter, attributes: ['employeeNumber', 'departmentNumber'] })
      ).searchEntries
        .map(
          (e) =>
            `${e.dn} ${[e.employeeNumber].flat().join(',') || '-'} ${[e.departmentNumber].flat().join(',') || '-'}`,
        )
        .sort()
    const trustConfig = (base: string, extra: Record<string, unknown> = {}) => ({
      connection: conn(),
      base,
      filter: '(objectClass=inetOrgPerson)',
      key: [{ source: 'id', target: 'employeeNumber' }],
      dn: { rdn: 'uid', from: 'login', parent: base },
      objectClass: ['inetOrgPerson'],
      // The flow leaves the key's target attribute out.
      attributes: { cn: 'name', sn: 'name' },
      ...extra,
    })
    const staff = [
      { id: 'x1', login: 'ann', name: 'Ann', dept: 'HR' },
      { id: 'x2', login: 'bob', name: 'Bob', dept: 'HR' },
      { id: 'x1', login: 'ann.it', name: 'Ann', dept: 'IT' },
    ]

    beforeAll(async () => {
      for (const ou of ['Trust', 'Composite', 'Admins', 'Fence', 'Writes'])
        await client.add(`ou=${ou},${SUFFIX}`, { objectClass: ['organizationalUnit'], ou })
    })

    it('writes the key on create whatever the flow lists, so a re-run plans and writes nothing', async () => {
      const config = trustConfig(TRUST)
      const rows = staff.slice(0, 2)
      const planned = await sync({ ...config, mode: 'plan' }, rows)
      expect(planned.results.map((r) => r.after)).toEqual(
        [
          { cn: ['Ann'], sn: ['Ann'], employeeNumber: ['x1'], uid: ['ann'], objectClass: ['inetOrgPerson'] },
          { cn: ['Bob'], sn: ['Bob'], employeeNumber: ['x2'], uid: ['bob'], objectClass: ['inetOrgPerson'] },
        ].map(({ objectClass, ...rest }) => ({ objectClass, ...rest })),
      )
      const first = await sync(config, rows)
      expect(first.summary.nodes.dir!.outcomes).toEqual({ created: 2 })
      expect(await entriesUnder(TRUST)).toEqual([`uid=ann,${TRUST} x1 -`, `uid=bob,${TRUST} x2 -`])
      const before = await csns()
      const again = await sync(config, rows)
      expect(again.summary.nodes.dir!.outcomes).toEqual({ unchanged: 2 })
      expect(changedSince(before, await csns())).toEqual([])
    })

    it('writes every part of a composite key with other names on create; a re-run writes nothing', async () => {
      const base = `ou=Composite,${SUFFIX}`
      const config = trustConfig(base, {
        key: [
          { source: 'id', target: 'employeeNumber' },
          { source: 'dept', target: 'departmentNumber' },
        ],
      })
      const first = await sync(config, [staff[0]!, staff[2]!])
      expect(first.summary.nodes.dir!.outcomes).toEqual({ created: 2 })
      expect(await entriesUnder(base)).toEqual([`uid=ann,${base} x1 HR`, `uid=ann.it,${base} x1 IT`])
      const before = await csns()
      const again = await sync(config, [staff[2]!, staff[0]!])
      expect(again.summary.nodes.dir!.outcomes).toEqual({ unchanged: 2 })
      expect(changedSince(before, await csns())).toEqual([])
    })

    it('follows onRowError for writes the directory refuses: route, skip, fail after the writes in flight', async () => {
      const config = trustConfig(WRITES, { attributes: { cn: 'name', sn: 'name', mail: 'mail' } })
      // mail is IA5: the directory refuses "ü" only when written, so the plan cannot know.
      const bad = { id: 'w1', login: 'muller', name: 'Müller', mail: 'müller@example.com' }
      const good = (n: number) => ({ id: `w${n}`, login: `w${n}`, name: `W${n}`, mail: `w${n}@example.com` })
      const routed = await sync(config, [bad, good(2)], 'route')
      expect(routed.summary.status).toBe('succeeded')
      expect(routed.summary.nodes.dir).toMatchObject({ rowsRejected: 1, outcomes: { created: 1, failed: 1 } })
      expect(routed.rejected).toEqual([
        {
          ...bad,
          _error: {
            code: 'LDAP_INVALID_SYNTAX',
            message: expect.stringContaining(`create uid=muller,${WRITES}: `),
          },
        },
      ])
      expect(routed.results.map((r) => [r.dn, r.outcome])).toEqual([
        [`uid=muller,${WRITES}`, 'failed'],
        [`uid=w2,${WRITES}`, 'applied'],
      ])
      const skipped = await sync(config, [bad, good(2), good(3)], 'skip')
      expect(skipped.summary.status).toBe('succeeded')
      expect(skipped.summary.nodes.dir!.outcomes).toEqual({ created: 1, unchanged: 1, failed: 1 })

      // fail: the run fails naming the row once the writes in flight settle; what they wrote is in the results.
      const failed = await sync(config, [good(2), good(3), bad, good(4)])
      expect(failed.summary.status).toBe('failed')
      expect(failed.summary.errors[0]).toMatchObject({ code: 'LDAP_INVALID_SYNTAX', row: 3 })
      expect(firstError(failed.summary)).toMatchInlineSnapshot(
        `"Node "dir" (ldap.sync) row 3: create uid=muller,ou=Writes,dc=example,dc=com: mail: value #0 invalid per syntax; no write started after the first failure"`,
      )
      const settled = failed.results.filter((r) => r.action === 'create').map((r) => [r.dn, r.outcome])
      // w4 was sent with the failing write (pipelined) or not at all; either way its row says so.
      expect([
        [[`uid=muller,${WRITES}`, 'failed']],
        [
          [`uid=muller,${WRITES}`, 'failed'],
          [`uid=w4,${WRITES}`, 'applied'],
        ],
      ]).toContainEqual(settled)
    })

    it('refuses DNs outside its base, from dn.parentFrom, a DN expression or dn.parent', async () => {
      const config = trustConfig(FENCE, {
        dn: { rdn: 'uid', from: 'login', parent: FENCE, parentFrom: 'container' },
      })
      const rows = [
        { id: 'm1', login: 'mallory', name: 'Mallory', container: ADMINS },
        { id: 'm2', login: 'root', name: 'Root', container: SUFFIX },
        { id: 'm3', login: 'carol', name: 'Carol', container: FENCE },
      ]
      const failed = await sync(config, rows)
      expect(failed.summary.status).toBe('failed')
      expect(firstError(failed.summary)).toMatchInlineSnapshot(
        `"Node "dir" (ldap.sync) row 1: the object with key {"id":"m1"}: the DN "uid=mallory,ou=Admins,dc=example,dc=com" is outside the node's scope: ldap.sync creates, renames and moves objects only below its base "ou=Fence,dc=example,dc=com" (2 objects cannot be written); nothing was written (onRowError "skip" or "route" writes the others)"`,
      )
      const routed = await sync(config, rows, 'route')
      expect(routed.summary.nodes.dir!.outcomes).toEqual({ created: 1, failed: 2 })
      expect(routed.rejected.map((r) => [r.login, r._error])).toMatchInlineSnapshot(`
        [
          [
            "mallory",
            {
              "code": "DN_OUTSIDE_BASE",
              "message": "the object with key {"id":"m1"}: the DN "uid=mallory,ou=Admins,dc=example,dc=com" is outside the node's scope: ldap.sync creates, renames and moves objects only below its base "ou=Fence,dc=example,dc=com"",
            },
          ],
          [
            "root",
            {
              "code": "DN_OUTSIDE_BASE",
              "message": "the object with key {"id":"m2"}: the DN "uid=root,dc=example,dc=com" is outside the node's scope: ldap.sync creates, renames and moves objects only below its base "ou=Fence,dc=example,dc=com"",
            },
          ],
        ]
      `)
      expect(await entriesUnder(ADMINS)).toEqual([])
      expect(await entriesUnder(SUFFIX, '(uid=root)')).toEqual([])
      expect(await entriesUnder(FENCE, '(uid=carol)')).toEqual([`uid=carol,${FENCE} m3 -`])

      const byExpression = await sync(
        trustConfig(FENCE, {
          dn: { expression: '"uid=" & $dnEscape(login) & ",ou=Admins,dc=example,dc=com"' },
        }),
        [{ id: 'm4', login: 'eve', name: 'Eve' }],
        'skip',
      )
      expect(byExpression.summary.nodes.dir!.outcomes).toMatchObject({ failed: 1 })
      expect(await entriesUnder(ADMINS)).toEqual([])

      const fixed = trustConfig(FENCE, { dn: { rdn: 'uid', from: 'login', parent: ADMINS } })
      const issues = analyzeGraph({ syncgraph: 1, ...graphOf(fixed, []) }, ldapCatalog).issues
      expect(issues.filter((i) => i.severity === 'error').map((i) => [i.path, i.message]))
        .toMatchInlineSnapshot(`
        [
          [
            "$.dn.parent",
            "the container "ou=Admins,dc=example,dc=com" is outside the node's scope: new objects must go below its base "ou=Fence,dc=example,dc=com", or the next run would not find them",
          ],
        ]
      `)
    })

    it('plans a create whose DN an entry already has, or whose container is missing, as a failure', async () => {
      await client.add(`uid=squatter,${TRUST}`, {
        objectClass: 'inetOrgPerson',
        uid: 'squatter',
        cn: 'S',
        sn: 'S',
      })
      await client.add(`uid=outsider,${TRUST}`, { objectClass: 'account', uid: 'outsider' })
      const rows = [
        { id: 'y1', login: 'squatter', name: 'New', container: TRUST },
        { id: 'y2', login: 'outsider', name: 'New', container: TRUST },
        { id: 'y3', login: 'nobody', name: 'New', container: `ou=Nowhere,${TRUST}` },
        { id: 'y4', login: 'dave', name: 'Dave', container: TRUST },
        { id: 'y5', login: 'dave', name: 'Dave 2', container: TRUST },
      ]
      const config = trustConfig(TRUST, {
        dn: { rdn: 'uid', from: 'login', parent: TRUST, parentFrom: 'container' },
      })
      const before = await csns()
      const planned = await sync({ ...config, mode: 'plan' }, rows)
      expect(
        planned.results
          .filter((r) => r.key.id !== undefined && String(r.key.id).startsWith('y'))
          .map((r) => [r.key.id, r.action, r.error?.code ?? null, r.error?.message ?? null]),
      ).toMatchInlineSnapshot(`
        [
          [
            "y1",
            "error",
            "LDAP_ALREADY_EXISTS",
            "an entry uid=squatter,ou=Trust,dc=example,dc=com already exists in scope but does not match this row's key (it has employeeNumber: none)",
          ],
          [
            "y2",
            "error",
            "LDAP_ALREADY_EXISTS",
            "an entry uid=outsider,ou=Trust,dc=example,dc=com already exists outside the node's scope (base and filter), so this node does not own it",
          ],
          [
            "y3",
            "error",
            "NO_SUCH_OBJECT",
            "its container "ou=Nowhere,ou=Trust,dc=example,dc=com" does not exist in the directory",
          ],
          [
            "y4",
            "create",
            null,
            null,
          ],
          [
            "y5",
            "error",
            "LDAP_ALREADY_EXISTS",
            "row 4 of the input gets the same DN uid=dave,ou=Trust,dc=example,dc=com",
          ],
        ]
      `)
      const failed = await sync(config, rows)
      expect(failed.summary.status).toBe('failed')
      expect(changedSince(before, await csns())).toEqual([])
    })
  })
})
