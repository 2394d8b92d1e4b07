import type { Slapd } from '../test/ldap/slapd.ts'

/**
 * The people the LDAP benchmarks provision and reconcile (`bench/ldap.ts`, `bench/ldap-writes.ts`):
 * N generated inetOrgPerson entries as LDIF and as CSV, and the csv.read → ldap.sync graph that
 * syncs the CSV into a directory.
 */

export const PEOPLE = 'ou=People,dc=example,dc=com'

export interface Person {
  employeeNumber: string
  uid: string
  cn: string
  sn: string
  givenName: string
  mail: string
  title: string
}

export const person = (i: number): Person => ({
  employeeNumber: `e${i}`,
  uid: `u${i}`,
  cn: `User ${i}`,
  sn: `Last${i}`,
  givenName: `First${i}`,
  mail: `u${i}@example.com`,
  title: ['Staff', 'Engineer', 'Manager', 'Analyst'][i % 4]!,
})

export const FIELDS = ['employeeNumber', 'uid', 'cn', 'sn', 'givenName', 'mail', 'title'] as const

export function ldif(n: number): string {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const p = person(i)
    out.push(
      `dn: uid=${p.uid},${PEOPLE}\nobjectClass: inetOrgPerson\n${FIELDS.map((f) => `${f}: ${p[f]}`).join('\n')}\n`,
    )
  }
  return out.join('\n')
}

export function csv(n: number): string {
  const lines = [FIELDS.join(',')]
  for (let i = 0; i < n; i++) {
    const p = person(i)
    lines.push(FIELDS.map((f) => p[f]).join(','))
  }
  return `${lines.join('\n')}\n`
}

/** csv.read of `csvFile` → ldap.sync of every row into `server`'s People, over `connections` write connections. */
export function syncGraph(server: Slapd, csvFile: string, connections: number) {
  return {
    syncgraph: 1,
    name: 'bench: people to directory',
    nodes: [
      { id: 'hr', type: 'csv.read', config: { path: csvFile } },
      {
        id: 'dir',
        type: 'ldap.sync',
        config: {
          connection: { url: server.url, bindDN: server.rootDn, password: server.rootPw },
          base: PEOPLE,
          scope: 'one',
          filter: '(objectClass=inetOrgPerson)',
          key: [{ source: 'employeeNumber', target: 'employeeNumber' }],
          dn: { rdn: 'uid', parent: PEOPLE },
          objectClass: ['inetOrgPerson'],
          attributes: Object.fromEntries(FIELDS.map((f) => [f, f])),
          pageSize: 5000,
          connections,
        },
      },
    ],
    edges: [{ from: 'hr', to: 'dir' }],
  }
}
