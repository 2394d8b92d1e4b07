import { spawn } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Client } from 'ldapts'
import { beforeAll, expect, it } from 'vitest'
import { tempDir } from '../test/helpers.ts'
import { describeWithSlapd } from '../test/ldap/slapd.ts'

const bin = fileURLToPath(new URL('../bin/syncgraph.js', import.meta.url))
const STAFF = 'ou=Staff,dc=example,dc=com'

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** Spawn the real `syncgraph` command in `dir`; the directory password comes from the environment. */
function syncgraph(args: string[], dir: string, env: Record<string, string> = {}) {
  return new Promise<Result>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => {
      const clean = (text: string) =>
        text.replaceAll(dir, '<dir>').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
      resolve({ code, stdout: clean(stdout), stderr: clean(stderr) })
    })
  })
}

const csv = (rows: [string, string, string][]) =>
  `id,name,title\n${rows.map((r) => r.map((v) => (v.includes(',') ? `"${v}"` : v)).join(',')).join('\n')}\n`

const staff: [string, string, string][] = [
  ['1', 'Ada Lovelace', 'Analyst'],
  ['2', 'Alan Turing', 'Engineer'],
  ['3', 'Grace Hopper', 'Admiral, retired'],
]

describeWithSlapd('syncgraph plan / apply against slapd', (server) => {
  let client: Client
  const env = () => ({ LDAP_PW: server().rootPw })

  const graph = (extra: Record<string, unknown> = {}, url = server().url) => ({
    syncgraph: 1,
    name: 'staff to directory',
    params: { hrFile: { type: 'string', default: 'staff.csv' } },
    nodes: [
      { id: 'hr', type: 'csv.read', config: { path: { $param: 'hrFile' } } },
      {
        id: 'dir',
        type: 'ldap.sync',
        config: {
          connection: { url, bindDN: server().rootDn, password: { $env: 'LDAP_PW' } },
          base: STAFF,
          filter: '(objectClass=inetOrgPerson)',
          key: [{ source: 'id', target: 'employeeNumber' }],
          dn: { rdn: 'cn', from: 'name', parent: STAFF },
          objectClass: ['inetOrgPerson'],
          attributes: { employeeNumber: 'id', sn: 'name', title: 'title' },
          ...extra,
        },
      },
    ],
    edges: [{ from: 'hr', to: 'dir' }],
  })

  const setup = async (g: unknown, rows = staff) => {
    const dir = await tempDir('syncgraph-plan-')
    await writeFile(join(dir, 'graph.json'), JSON.stringify(g, null, 2))
    await writeFile(join(dir, 'staff.csv'), csv(rows))
    return dir
  }

  /** Each entry's cn and title, sorted by cn. */
  const entries = async () => {
    const { searchEntries } = await client.search(STAFF, {
      scope: 'one',
      filter: '(objectClass=inetOrgPerson)',
      attributes: ['cn', 'title', 'entryCSN'],
    })
    return searchEntries
      .map((e) => ({ cn: String(e.cn), title: String(e.title), csn: String(e.entryCSN) }))
      .sort((a, b) => a.cn.localeCompare(b.cn))
  }

  beforeAll(async () => {
    client = await server().client()
    await client.add(STAFF, { objectClass: ['organizationalUnit'], ou: 'Staff' })
    return () => client.unbind()
  })

  it('plan writes the plan document and nothing else; apply applies exactly it', async () => {
    const dir = await setup(graph())
    const planned = await syncgraph(['plan', 'graph.json', '--out', 'plan.json'], dir, env())
    expect(planned.code).toBe(0)
    expect(planned.stderr).toMatchInlineSnapshot(`
      "Plan of "staff to directory" (graph.json):
        node "dir" (ldap.sync): 3 create
      Wrote plan.json; apply it with: syncgraph apply plan.json
      "
    `)
    expect(planned.stdout).toBe('')
    expect(await entries()).toEqual([])

    const text = await readFile(join(dir, 'plan.json'), 'utf8')
    expect(text).not.toContain(server().rootPw)
    expect((await stat(join(dir, 'plan.json'))).mode & 0o777).toBe(0o600)
    const document = JSON.parse(text) as {
      format: string
      graphFile: string
      params: unknown
      plans: { nodeId: string; items: { action: string; dn: string; after: unknown }[] }[]
    }
    expect(document.format).toBe('syncgraph-plan-document')
    expect(document.graphFile).toBe(join(dir, 'graph.json'))
    expect(document.plans[0]!.items.map((i) => [i.action, i.dn])).toEqual([
      ['create', `cn=Ada Lovelace,${STAFF}`],
      ['create', `cn=Alan Turing,${STAFF}`],
      ['create', `cn=Grace Hopper,${STAFF}`],
    ])

    // The source changes after planning: apply still applies the plan as it was reviewed.
    await writeFile(join(dir, 'staff.csv'), csv([...staff, ['4', 'Edsger Dijkstra', 'Professor']]))
    const applied = await syncgraph(['apply', 'plan.json', '--json'], dir, env())
    expect(applied.code).toBe(0)
    expect(applied.stderr).toMatchInlineSnapshot(`
      "Applied plan.json to "staff to directory" (3 write(s)):
        node "dir": 3 created
      "
    `)
    expect(JSON.parse(applied.stdout)).toEqual({
      status: 'succeeded',
      writes: 3,
      failed: 0,
      nodes: { dir: { outcomes: { created: 3 } } },
      failures: [],
    })
    expect((await entries()).map((e) => [e.cn, e.title])).toEqual([
      ['Ada Lovelace', 'Analyst'],
      ['Alan Turing', 'Engineer'],
      ['Grace Hopper', 'Admiral, retired'],
    ])

    // Applying the same plan again: the creates fail per object (they exist now), exit 1.
    const again = await syncgraph(['apply', 'plan.json'], dir, env())
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('Apply failed (onRowError "fail" stopped at the first failed write)')
    expect(again.stderr).toContain('node "dir": 3 failed')
    expect(again.stderr).toContain(
      `failed create cn=Ada Lovelace,${STAFF}: LDAP_ALREADY_EXISTS already exists`,
    )
  })

  it('run --json counts each write; failed writes fail the run, or under skip are never a plain success (issue 12)', async () => {
    const base = 'ou=NoSn,dc=example,dc=com'
    await client.add(base, { objectClass: ['organizationalUnit'], ou: 'NoSn' })
    // The flow gives no sn (inetOrgPerson requires it) and leaves the key's employeeNumber out.
    const config = { base, dn: { rdn: 'cn', from: 'name', parent: base }, attributes: { title: 'title' } }
    const dir = await setup(graph(config))
    const failed = await syncgraph(['run', 'graph.json', '--json'], dir, env())
    expect(failed.code).toBe(1)
    const summary = JSON.parse(failed.stdout) as {
      status: string
      nodes: Record<string, unknown>
      errors: { code: string; message: string }[]
    }
    expect(summary.status).toBe('failed')
    expect(summary.nodes.dir).toEqual({
      rowsIn: 3,
      rowsOut: 0,
      rowsRejected: 1,
      errors: 1,
      outcomes: { failed: 3 },
    })
    expect(summary.errors[0]!.message).toMatchInlineSnapshot(
      `"Node "dir" (ldap.sync) row 1: the object cn=Ada Lovelace,ou=NoSn,dc=example,dc=com: object class 'person' requires attribute 'sn', which this row does not give (the directory would refuse the create) (3 objects cannot be written); nothing was written (onRowError "skip" or "route" writes the others)"`,
    )

    const skip = graph(config) as ReturnType<typeof graph> & { settings?: unknown }
    skip.settings = { onRowError: 'skip' }
    await writeFile(join(dir, 'graph.json'), JSON.stringify(skip))
    const skipped = await syncgraph(['run', 'graph.json', '--json'], dir, env())
    expect(skipped.code).toBe(0)
    expect(JSON.parse(skipped.stdout)).toMatchObject({
      status: 'succeeded',
      nodes: { dir: { rowsRejected: 3, errors: 3, outcomes: { failed: 3 } } },
    })
    expect(skipped.stderr).toContain('Run succeeded with 3 failed write(s) in ')
    expect(skipped.stderr).toContain('  dir (ldap.sync): 3 failed')

    // With sn flowed the creates succeed, employeeNumber written by the key: a re-run writes nothing.
    const withSn = { ...config, attributes: { sn: 'name', title: 'title' } }
    await writeFile(join(dir, 'graph.json'), JSON.stringify(graph(withSn)))
    const created = await syncgraph(['run', 'graph.json', '--json'], dir, env())
    expect(JSON.parse(created.stdout)).toMatchObject({
      status: 'succeeded',
      nodes: { dir: { outcomes: { created: 3 } } },
    })
    const again = await syncgraph(['run', 'graph.json', '--json'], dir, env())
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({
      status: 'succeeded',
      nodes: { dir: { outcomes: { unchanged: 3 } } },
    })
    expect(again.stderr).toContain('  dir (ldap.sync): 3 unchanged')
  })

  it('plans with --param values, prints the document without --out, and finds nothing to do', async () => {
    const dir = await setup(graph())
    await writeFile(join(dir, 'other.csv'), csv(staff.slice(0, 2)))
    const planned = await syncgraph(['plan', 'graph.json', '--param', 'hrFile=other.csv'], dir, env())
    expect(planned.code).toBe(0)
    const document = JSON.parse(planned.stdout) as {
      params: unknown
      plans: { counts: Record<string, number> }[]
    }
    expect(document.params).toEqual({ hrFile: 'other.csv' })
    expect(document.plans[0]!.counts).toMatchObject({ create: 0, update: 0, none: 3 })
    expect(planned.stderr).toContain('node "dir" (ldap.sync): 3 none')
  })

  it('refuses a plan whose graph changed since, writing nothing (exit 2)', async () => {
    const dir = await setup(graph(), [
      ['1', 'Ada Lovelace', 'Countess'],
      ['2', 'Alan Turing', 'Engineer'],
      ['3', 'Grace Hopper', 'Admiral, retired'],
    ])
    const planned = await syncgraph(['plan', 'graph.json', '--out', 'plan.json'], dir, env())
    expect(planned.stderr).toContain('node "dir" (ldap.sync): 1 update, 2 none')
    const before = await entries()

    await writeFile(join(dir, 'graph.json'), JSON.stringify(graph({ maxDeletes: 0 }), null, 2))
    const stale = await syncgraph(['apply', 'plan.json'], dir, env())
    expect(stale).toMatchInlineSnapshot(`
      {
        "code": 2,
        "stderr": "plan.json: the graph (or its parameter values) changed since this plan was made; make a new plan; nothing was written
      ",
        "stdout": "",
      }
    `)
    expect(await entries()).toEqual(before)

    // Moving nodes on the canvas or renaming the graph is no change to what it does.
    const moved = graph()
    moved.name = 'renamed'
    moved.nodes = moved.nodes.map((n) => ({ ...n, position: { x: 10, y: 20 } }))
    await writeFile(join(dir, 'graph.json'), JSON.stringify(moved))
    const applied = await syncgraph(['apply', 'plan.json'], dir, env())
    expect(applied.code).toBe(0)
    expect((await entries()).find((e) => e.cn === 'Ada Lovelace')?.title).toBe('Countess')
  })

  it('refuses a plan over a threshold before any write (exit 1)', async () => {
    const dir = await setup(graph({ deprovision: { action: 'delete' }, maxDeletes: 1 }), staff.slice(0, 1))
    const planned = await syncgraph(['plan', 'graph.json', '--out', 'plan.json', '--json'], dir, env())
    expect(planned.code).toBe(0)
    expect(planned.stderr).toContain(
      'over a threshold, apply will refuse: the plan de-provisions (deletes, disables or moves) 2 of 3 objects in scope (66.67%), more than maxDeletes 1; nothing was written',
    )
    expect(JSON.parse(planned.stdout)).toMatchObject({
      status: 'planned',
      nodes: { dir: { counts: { update: 1, delete: 2 }, thresholds: { exceeded: true, removals: 2 } } },
    })
    const before = await entries()
    const refused = await syncgraph(['apply', 'plan.json'], dir, env())
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatchInlineSnapshot(`
      "syncgraph apply (node "dir"): THRESHOLD_EXCEEDED: node "dir": the plan de-provisions (deletes, disables or moves) 2 of 3 objects in scope (66.67%), more than maxDeletes 1; nothing was written
      "
    `)
    expect(await entries()).toEqual(before)
  })

  it('fails with exit 1 on an unreachable server or a missing secret, exit 2 on a bad plan file', async () => {
    const dir = await setup(graph({}, 'ldap://127.0.0.1:1'))
    const down = await syncgraph(['plan', 'graph.json', '--out', 'plan.json'], dir, env())
    expect(down.code).toBe(1)
    expect(down.stderr).toMatchInlineSnapshot(`
      "syncgraph plan (node "dir"): SERVER_UNREACHABLE: cannot reach ldap://127.0.0.1:<port>: connect ECONNREFUSED 127.0.0.1:<port>
      "
    `)
    await expect(stat(join(dir, 'plan.json'))).rejects.toThrow(/ENOENT/)

    const noSecret = await syncgraph(['plan', 'graph.json'], await setup(graph()), {})
    expect(noSecret.code).toBe(1)
    expect(noSecret.stderr).toContain('SECRET_MISSING')

    await writeFile(join(dir, 'bogus.json'), JSON.stringify({ format: 'something-else' }))
    const bogus = await syncgraph(['apply', 'bogus.json'], dir, env())
    expect(bogus.code).toBe(2)
    expect(bogus.stderr).toMatchInlineSnapshot(`
      "not a Syncgraph plan document (format syncgraph-plan-document, version 1) at format: Invalid input: expected "syncgraph-plan-document"
      "
    `)
    const missing = await syncgraph(['apply', 'nope.json'], dir, env())
    expect(missing).toMatchObject({ code: 2, stderr: 'nope.json: no such file\n' })
  })
})
