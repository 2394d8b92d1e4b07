import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { Client, InvalidCredentialsError } from 'ldapts'
import { expect, it } from 'vitest'
import { createFileResolver, type Row } from '../engine/index.ts'
import { applyPlanDocument, planGraph, type ResultRow } from '../engine/sync/index.ts'
import { tempDir } from '../test/helpers.ts'
import { ldapCatalog, runLdapGraph } from '../test/ldap/run.ts'
import { describeWithSlapd } from '../test/ldap/slapd.ts'
import { ldapSyncDriver } from './ldap-sync.node.ts'

const PEOPLE = 'ou=People,dc=example,dc=com'

describeWithSlapd('ldap.sync generated passwords against slapd', (server) => {
  const conn = () => ({ url: server().url, bindDN: server().rootDn, password: server().rootPw })
  const config = (password: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    connection: conn(),
    base: PEOPLE,
    filter: '(objectClass=inetOrgPerson)',
    key: [{ source: 'id', target: 'employeeNumber' }],
    dn: { rdn: 'uid', parent: PEOPLE },
    objectClass: ['inetOrgPerson'],
    attributes: { employeeNumber: 'id', cn: 'name', sn: 'name' },
    password: { attribute: 'userPassword', length: 16, ...password },
    ...extra,
  })
  const graph = (cfg: Record<string, unknown>, rows: Row[]) => ({
    syncgraph: 1,
    settings: { workers: 0 },
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
  const canBind = async (dn: string, password: string) => {
    const client = new Client({ url: server().url })
    try {
      await client.bind(dn, password)
      return true
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return false
      throw error
    } finally {
      await client.unbind().catch(() => undefined)
    }
  }
  const storedPassword = async (dn: string) => {
    const client = await server().client()
    try {
      const { searchEntries } = await client.search(dn, { scope: 'base', attributes: ['userPassword'] })
      return String(searchEntries[0]?.userPassword)
    } finally {
      await client.unbind()
    }
  }

  it('sets a generated password on create and delivers it on the passwords port only', async () => {
    const rows = [
      { id: '1', uid: 'ada', name: 'Ada' },
      { id: '2', uid: 'alan', name: 'Alan' },
    ]
    const run = await runLdapGraph(graph(config({}), rows))
    expect(run.summary.errors).toEqual([])
    const results = run.rows('out') as ResultRow[]
    expect(results.map((r) => [r.action, r.outcome])).toEqual([
      ['create', 'applied'],
      ['create', 'applied'],
    ])
    // Passwords arrive as their objects are written (pipelined), so in no set order.
    const passwords = run.rows('pw').sort((a, b) => String(a.dn).localeCompare(String(b.dn)))
    expect(passwords.map((p) => [p.dn, p.key])).toEqual([
      [`uid=ada,${PEOPLE}`, { id: '1' }],
      [`uid=alan,${PEOPLE}`, { id: '2' }],
    ])
    for (const p of passwords) {
      const secret = String(p.password)
      expect(secret).toHaveLength(16)
      expect(await canBind(String(p.dn), secret)).toBe(true)
      expect(await canBind(String(p.dn), `${secret}?`)).toBe(false)
      // The directory holds a salted hash, never the password itself.
      expect(await storedPassword(String(p.dn))).toMatch(/^\{SSHA\}/)
      expect(JSON.stringify(results)).not.toContain(secret)
      expect(run.logs.join('\n')).not.toContain(secret)
    }
    const again = await runLdapGraph(graph(config({}), rows))
    expect(again.rows('pw')).toEqual([])
  })

  it('appends passwords to an owner-only file when applying a plan outside a run, never into the plan', async () => {
    const dir = await tempDir()
    const options = {
      catalog: ldapCatalog,
      drivers: [ldapSyncDriver],
      files: createFileResolver({ baseDir: dir }),
    }
    const rows = [{ id: '3', uid: 'grace', name: 'Grace' }]
    const portGraph = graph(config({}), rows)
    const portPlan = await planGraph(portGraph, options)
    await expect(applyPlanDocument(portPlan, portGraph, options)).rejects.toThrowErrorMatchingInlineSnapshot(
      `[ConnectorError: generated passwords go to the "passwords" port, which only a graph run has; set password.deliver = file to apply this plan outside a run]`,
    )

    const fileGraph = graph(config({ deliver: 'file', file: 'passwords.csv' }), rows)
    const plan = await planGraph(fileGraph, options)
    expect(plan.plans[0]!.target.password).toBe('generated on create (userPassword), delivered to file')
    const planText = JSON.stringify(plan)
    expect(planText).not.toMatch(/userPassword"?:/)
    const applied = await applyPlanDocument(plan, fileGraph, options)
    expect(applied.results.dir!.map((r) => [r.action, r.outcome])).toEqual([
      ['create', 'applied'],
      ['none', 'unchanged'],
      ['none', 'unchanged'],
    ])
    const file = join(dir, 'passwords.csv')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const records = parse(await readFile(file, 'utf8')) as string[][]
    expect(records[0]).toEqual(['dn', 'password', 'key'])
    const [dn, password, key] = records[1]!
    expect([dn, key]).toEqual([`uid=grace,${PEOPLE}`, '{"id":"3"}'])
    expect(await canBind(dn!, password!)).toBe(true)
  })

  it('refuses to send unicodePwd over an unencrypted connection', async () => {
    const run = await runLdapGraph(
      graph(config({ attribute: 'unicodePwd' }), [{ id: '4', uid: 'edsger', name: 'E' }]),
    )
    expect(run.summary.status).toBe('failed')
    expect(run.summary.errors[0]).toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(
        'Active Directory sets unicodePwd only over an encrypted connection: use an ldaps:// URL or startTLS',
      ),
    })
  })
})
