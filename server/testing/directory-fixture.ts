/**
 * A people directory for server suites that sync into the test slapd (plan mode, approvals, history):
 * each suite gets its own OU, its own ids, and one graph shape, test.values → ldap.sync.
 */
export const SUFFIX = 'dc=example,dc=com'

/** `label` names the OU (`ou=<label>People`) and the cn; `employeePrefix` and `uidPrefix` the ids. */
export function peopleFixture(label: string, employeePrefix: string, uidPrefix: string) {
  const people = `ou=${label}People,${SUFFIX}`
  const person = (n: number, title = 'Staff') => ({
    employeeNumber: `${employeePrefix}${n}`,
    uid: `${uidPrefix}${n}`,
    cn: `${label} User ${n}`,
    sn: `Last${n}`,
    title,
  })
  /** A graph syncing `rows` into the OU with ldap.sync (delete de-provisioning); `extra` overrides its config. */
  const syncGraph = (name: string, rows: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({
    syncgraph: 1,
    name,
    settings: { workers: 0 },
    nodes: [
      { id: 'hr', type: 'test.values', config: { rows } },
      {
        id: 'dir',
        type: 'ldap.sync',
        config: {
          connection: 'directory',
          base: people,
          filter: '(objectClass=inetOrgPerson)',
          key: [{ source: 'employeeNumber', target: 'employeeNumber' }],
          dn: { rdn: 'uid', parent: people },
          objectClass: ['inetOrgPerson'],
          attributes: { employeeNumber: 'employeeNumber', cn: 'cn', sn: 'sn', title: 'title' },
          deprovision: { action: 'delete' },
          ...extra,
        },
      },
    ],
    edges: [{ from: 'hr', to: 'dir' }],
  })
  return { PEOPLE: people, person, syncGraph }
}
