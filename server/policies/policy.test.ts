import { describe, expect, it } from 'vitest'
import { analyzeGraph, parseGraph, type Graph } from '../../engine/index.ts'
import { catalog } from '../../nodes/index.ts'
import { checkPolicy, connectorOf, policyDocument, type PolicyDocument } from './policy.ts'

function graphOf(
  nodes: { id: string; type: string; config: Record<string, unknown> }[],
  edges: [string, string][] = [],
): Graph {
  const parsed = parseGraph({
    syncgraph: 1,
    name: 'g',
    nodes,
    edges: edges.map(([from, to]) => ({ from, to })),
  })
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues))
  return parsed.graph
}

const ldap = { url: 'ldap://dir.example.com:389', bindDN: 'cn=admin,dc=example,dc=com' }
const hrCsv = { id: 'hr', type: 'csv.read', config: { path: 'hr.csv' } }
const people = (config: Record<string, unknown> = {}) => ({
  id: 'sync1',
  type: 'ldap.sync',
  config: {
    connection: ldap,
    base: 'ou=People,dc=example,dc=com',
    filter: '(objectClass=person)',
    key: [{ source: 'id', target: 'employeeNumber' }],
    create: false,
    attributes: { mail: 'email', title: 'title' },
    ...config,
  },
})

const check = (graph: Graph, policy: PolicyDocument, connectionDriver?: (n: string) => string | undefined) =>
  checkPolicy(graph, policyDocument.parse(policy), {
    role: 'operator',
    catalog,
    columns: analyzeGraph(graph, catalog).columns,
    ...(connectionDriver === undefined ? {} : { connectionDriver }),
  })

describe('policy documents', () => {
  it('accepts the documented shape and refuses unknown keys and bad connector names', () => {
    expect(
      policyDocument.safeParse({
        sources: { allow: ['csv', 'sql'] },
        destinations: { allow: ['ldap', 'sql:postgres'] },
        writes: [{ connector: 'ldap', object: 'person', attributes: ['mail'], actions: ['update'] }],
      }).success,
    ).toBe(true)
    expect(policyDocument.safeParse({}).success).toBe(true)
    expect(policyDocument.safeParse({ source: { allow: [] } }).success).toBe(false)
    expect(policyDocument.safeParse({ sources: { allow: ['csv; rm'] } }).success).toBe(false)
    expect(
      policyDocument.safeParse({ writes: [{ connector: 'ldap', object: 'person', attributes: 'mail' }] })
        .success,
    ).toBe(false)
  })

  it('names connectors: files, ldap, sql by inline driver or stored connection', () => {
    expect(connectorOf({ type: 'csv.write', config: {} })).toBe('csv')
    expect(connectorOf({ type: 'excel.read', config: {} })).toBe('excel')
    expect(connectorOf({ type: 'ldap.sync', config: {} })).toBe('ldap')
    expect(connectorOf({ type: 'sql.read', config: { connection: { driver: 'postgres' } } })).toBe(
      'sql:postgres',
    )
    expect(
      connectorOf({ type: 'sql.write', config: { connection: 'hr' } }, (n) =>
        n === 'hr' ? 'mysql' : undefined,
      ),
    ).toBe('sql:mysql')
    expect(connectorOf({ type: 'sql.write', config: { connection: 'missing' } }, () => undefined)).toBe(
      'sql:?',
    )
    expect(connectorOf({ type: 'test.discard', config: {} })).toBe('test.discard')
  })
})

describe('checkPolicy', () => {
  const csvToCsv = graphOf(
    [hrCsv, { id: 'out', type: 'csv.write', config: { path: 'out.csv' } }],
    [['hr', 'out']],
  )

  it('an empty policy allows everything', () => {
    expect(check(csvToCsv, {})).toEqual([])
  })

  it('sources: a source whose connector is not allowed', () => {
    expect(check(csvToCsv, { sources: { allow: ['sql', 'ldap'] } })).toEqual([
      {
        nodeId: 'hr',
        rule: 'sources',
        value: 'csv',
        message: 'node "hr" reads from csv; the operator policy allows sources: sql, ldap',
      },
    ])
    expect(check(csvToCsv, { sources: { allow: ['*'] } })).toEqual([])
  })

  it('destinations: a destination or sync whose connector is not allowed; `sql` covers every driver', () => {
    expect(check(csvToCsv, { destinations: { allow: [] } })).toMatchObject([
      {
        nodeId: 'out',
        rule: 'destinations',
        value: 'csv',
        message: 'node "out" writes to csv; the operator policy allows destinations: none',
      },
    ])
    const toSql = (connection: unknown) =>
      graphOf([hrCsv, { id: 'w', type: 'sql.write', config: { connection, table: 'people' } }], [['hr', 'w']])
    expect(check(toSql({ driver: 'sqlite', path: 'a.db' }), { destinations: { allow: ['sql'] } })).toEqual([])
    expect(
      check(toSql({ driver: 'sqlite', path: 'a.db' }), { destinations: { allow: ['sql:postgres'] } }),
    ).toMatchObject([{ nodeId: 'w', rule: 'destinations', value: 'sql:sqlite' }])
    // A stored connection's driver decides; an unknown one matches only `sql`.
    expect(check(toSql('hrdb'), { destinations: { allow: ['sql:postgres'] } }, () => 'postgres')).toEqual([])
    expect(
      check(toSql('nope'), { destinations: { allow: ['sql:postgres'] } }, () => undefined),
    ).toMatchObject([
      {
        rule: 'destinations',
        value: 'sql:?',
        message: expect.stringContaining('a driver not known before the run'),
      },
    ])
    // The sources rule does not look at destinations.
    expect(check(csvToCsv, { sources: { allow: ['csv'] } })).toEqual([])
  })

  it('writes.attribute: an LDAP sync writing an attribute the rule does not list', () => {
    const graph = graphOf(
      [hrCsv, people({ attributes: { mail: 'email', telephoneNumber: 'phone' } })],
      [['hr', 'sync1']],
    )
    const policy: PolicyDocument = {
      writes: [{ connector: 'ldap', object: 'person', attributes: ['mail', 'title'] }],
    }
    expect(check(graph, policy)).toEqual([
      {
        nodeId: 'sync1',
        rule: 'writes.attribute',
        value: 'telephoneNumber',
        message:
          'node "sync1" writes attribute "telephoneNumber" of objectClass "person"; the operator policy allows only mail, title',
      },
    ])
    // Attribute names compare case-insensitively; `*` allows any.
    expect(
      check(graph, {
        writes: [{ connector: 'ldap', object: 'PERSON', attributes: ['MAIL', 'telephonenumber'] }],
      }),
    ).toEqual([])
    expect(check(graph, { writes: [{ connector: '*', object: '*', attributes: '*' }] })).toEqual([])
  })

  it('writes.attribute: what AD account, password, naming and disable settings write counts too', () => {
    const graph = graphOf(
      [
        hrCsv,
        people({
          create: true,
          objectClass: ['top', 'person', 'user'],
          dn: { rdn: 'cn', from: 'name', parent: 'ou=People,dc=example,dc=com' },
          account: { enabledFrom: 'active' },
          password: { attribute: 'unicodePwd' },
          deprovision: { action: 'disable', preset: 'activeDirectory' },
          attributes: { mail: 'email' },
        }),
      ],
      [['hr', 'sync1']],
    )
    const violations = check(graph, { writes: [{ connector: 'ldap', object: 'user', attributes: ['mail'] }] })
    expect(violations.map((v) => [v.rule, v.value])).toEqual([
      ['writes.attribute', 'userAccountControl'],
      ['writes.attribute', 'unicodePwd'],
      ['writes.attribute', 'cn'],
    ])
  })

  it('writes.object: an objectClass or table no rule covers', () => {
    const groups = graphOf(
      [hrCsv, people({ filter: '(&(objectClass=groupOfNames)(!(objectClass=person)))' })],
      [['hr', 'sync1']],
    )
    expect(check(groups, { writes: [{ connector: 'ldap', object: 'person', attributes: '*' }] })).toEqual([
      {
        nodeId: 'sync1',
        rule: 'writes.object',
        value: 'groupOfNames',
        message:
          'node "sync1" writes objectClass "groupOfNames" (ldap); the operator policy allows writing only objectClass person',
      },
    ])
    // A rule for another connector does not cover it.
    expect(check(groups, { writes: [{ connector: 'sql', object: '*', attributes: '*' }] })).toMatchObject([
      { rule: 'writes.object', message: expect.stringContaining('allows no ldap writes') },
    ])
    const unknownClass = graphOf([hrCsv, people({ filter: '(uid=*)' })], [['hr', 'sync1']])
    expect(
      check(unknownClass, { writes: [{ connector: 'ldap', object: 'person', attributes: '*' }] }),
    ).toMatchObject([{ rule: 'writes.object', value: '?' }])
    const table = graphOf(
      [
        hrCsv,
        {
          id: 'w',
          type: 'sql.write',
          config: { connection: { driver: 'sqlite', path: 'a.db' }, table: 'salaries' },
        },
      ],
      [['hr', 'w']],
    )
    expect(
      check(table, { writes: [{ connector: 'sql:sqlite', object: 'people', attributes: '*' }] }),
    ).toMatchObject([
      {
        nodeId: 'w',
        rule: 'writes.object',
        value: 'salaries',
        message: expect.stringContaining('table "salaries"'),
      },
    ])
  })

  it('writes.action: de-provisioning or creating when the rule allows only updates', () => {
    const graph = graphOf(
      [
        hrCsv,
        people({
          create: true,
          objectClass: ['person'],
          dn: { rdn: 'cn', parent: 'ou=People,dc=example,dc=com' },
          deprovision: { action: 'delete' },
        }),
      ],
      [['hr', 'sync1']],
    )
    const violations = check(graph, {
      writes: [{ connector: 'ldap', object: 'person', attributes: '*', actions: ['update'] }],
    })
    expect(violations.map((v) => [v.rule, v.value])).toEqual([
      ['writes.action', 'create'],
      ['writes.action', 'delete'],
      // With a DN rule, updating renames or moves a linked object whose DN differs.
      ['writes.action', 'move'],
    ])
    expect(violations[1]!.message).toBe(
      'node "sync1" may delete objects of objectClass "person"; the operator policy allows only update',
    )
  })

  it('sql.write writes the columns known upstream; unknown columns break an attribute list', () => {
    const mapped = graphOf(
      [
        hrCsv,
        { id: 'm', type: 'map', config: { expression: '{ "id": id, "name": name, "salary": salary }' } },
        {
          id: 'w',
          type: 'sql.write',
          config: {
            connection: { driver: 'sqlite', path: 'a.db' },
            table: 'people',
            mode: 'update',
            key: ['id'],
          },
        },
      ],
      [
        ['hr', 'm'],
        ['m', 'w'],
      ],
    )
    const policy: PolicyDocument = { writes: [{ connector: 'sql', object: 'people', attributes: ['name'] }] }
    // Update mode: the key only finds the row, so it is not written.
    expect(check(mapped, policy)).toMatchObject([{ nodeId: 'w', rule: 'writes.attribute', value: 'salary' }])
    const direct = graphOf(
      [
        hrCsv,
        {
          id: 'w',
          type: 'sql.write',
          config: { connection: { driver: 'sqlite', path: 'a.db' }, table: 'people' },
        },
      ],
      [['hr', 'w']],
    )
    expect(check(direct, policy)).toMatchObject([
      {
        nodeId: 'w',
        rule: 'writes.attribute',
        value: '?',
        message: expect.stringContaining('not known before the run'),
      },
    ])
    // Columns given on the CSV reader are known.
    const named = graphOf(
      [
        { ...hrCsv, config: { path: 'hr.csv', columns: ['name'] } },
        {
          id: 'w',
          type: 'sql.write',
          config: { connection: { driver: 'sqlite', path: 'a.db' }, table: 'people' },
        },
      ],
      [['hr', 'w']],
    )
    expect(check(named, policy)).toEqual([])
  })

  it('sql.sync writes its column flow, created keys and scope, and flag columns', () => {
    const graph = graphOf(
      [
        hrCsv,
        {
          id: 's',
          type: 'sql.sync',
          config: {
            connection: { driver: 'sqlite', path: 'a.db' },
            table: 'people',
            key: ['id'],
            scope: { source: 'hr' },
            columns: { name: 'name' },
            deprovision: { action: 'flag', set: { active: false } },
          },
        },
      ],
      [['hr', 's']],
    )
    const violations = check(graph, {
      writes: [{ connector: 'sql', object: 'people', attributes: ['name'], actions: ['create', 'update'] }],
    })
    expect(violations.map((v) => [v.rule, v.value])).toEqual([
      ['writes.action', 'disable'],
      ['writes.attribute', 'id'],
      ['writes.attribute', 'source'],
      ['writes.attribute', 'active'],
    ])
  })

  it('file destinations are governed by destinations only, not by write rules', () => {
    expect(check(csvToCsv, { writes: [] })).toEqual([])
  })
})
