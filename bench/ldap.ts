import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createFileResolver, runGraph, type RunSummary } from '../engine/index.ts'
import { catalog } from '../nodes/index.ts'
import { startSlapd, type Slapd } from '../test/ldap/slapd.ts'

/**
 * `npm run bench:ldap [-- --entries N] [--reconcile M]`: provisioning N entries through ldap.sync
 * against `ldapadd` of the same LDIF (each into its own fresh slapd), then a no-change reconcile of
 * M entries (loaded with ldapadd, then synced from a CSV of the same people).
 */
const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '10000' },
    reconcile: { type: 'string', default: '100000' },
    connections: { type: 'string', default: '4' },
  },
})
const entries = Number(values.entries)
const reconcile = Number(values.reconcile)
const connections = Number(values.connections)
for (const [name, n] of [
  ['--entries', entries],
  ['--reconcile', reconcile],
] as const) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} takes a positive whole number`)
}

const PEOPLE = 'ou=People,dc=example,dc=com'

interface Person {
  employeeNumber: string
  uid: string
  cn: string
  sn: string
  givenName: string
  mail: string
  title: string
}

const person = (i: number): Person => ({
  employeeNumber: `e${i}`,
  uid: `u${i}`,
  cn: `User ${i}`,
  sn: `Last${i}`,
  givenName: `First${i}`,
  mail: `u${i}@example.com`,
  title: ['Staff', 'Engineer', 'Manager', 'Analyst'][i % 4]!,
})

const FIELDS = ['employeeNumber', 'uid', 'cn', 'sn', 'givenName', 'mail', 'title'] as const

function ldif(n: number): string {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const p = person(i)
    out.push(
      `dn: uid=${p.uid},${PEOPLE}\nobjectClass: inetOrgPerson\n${FIELDS.map((f) => `${f}: ${p[f]}`).join('\n')}\n`,
    )
  }
  return out.join('\n')
}

function csv(n: number): string {
  const lines = [FIELDS.join(',')]
  for (let i = 0; i < n; i++) {
    const p = person(i)
    lines.push(FIELDS.map((f) => p[f]).join(','))
  }
  return `${lines.join('\n')}\n`
}

async function ldapadd(server: Slapd, file: string): Promise<number> {
  return ldapTool('ldapadd', ['-x', '-H', server.url, '-D', server.rootDn, '-w', server.rootPw, '-f', file])
}

/** The server's own floor for a reconcile: ldapsearch of the scope, paged, output discarded. */
async function ldapsearch(server: Slapd): Promise<number> {
  return ldapTool('ldapsearch', [
    '-x',
    '-LLL',
    '-H',
    server.url,
    '-D',
    server.rootDn,
    '-w',
    server.rootPw,
    '-E',
    'pr=5000/noprompt',
    '-b',
    PEOPLE,
    '-s',
    'one',
    '(objectClass=inetOrgPerson)',
    ...FIELDS,
  ])
}

async function ldapTool(tool: string, args: string[]): Promise<number> {
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${tool} exited ${code}: ${stderr}`)),
    )
  })
  return (performance.now() - started) / 1000
}

function syncGraph(server: Slapd, csvFile: string) {
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

async function runSync(
  server: Slapd,
  dir: string,
  csvFile: string,
): Promise<{ seconds: number; cpu: number; log: string }> {
  const logs: string[] = []
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const summary: RunSummary = await runGraph(syncGraph(server, csvFile), {
    catalog,
    files: createFileResolver({ baseDir: dir }),
    onEvent: (e) => {
      if (e.type === 'log' && e.nodeId === 'dir')
        logs.push(`${e.message} at ${((performance.now() - started) / 1000).toFixed(2)} s`)
    },
  })
  const seconds = (performance.now() - started) / 1000
  const used = process.cpuUsage(cpuBefore)
  const cpu = (used.user + used.system) / 1e6
  if (summary.status !== 'succeeded')
    throw new Error(`the sync ${summary.status}: ${JSON.stringify(summary.errors)}`)
  return { seconds, cpu, log: logs.join('; ') }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

console.log(
  `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, load average (1 min) ${loadavg()[0]!.toFixed(1)}`,
)
const dir = await mkdtemp(join(tmpdir(), 'syncgraph-bench-ldap-'))
const servers: Slapd[] = []
try {
  // 1. Provisioning: ldapadd of the LDIF into one fresh slapd, ldap.sync of the same people into another.
  await writeFile(join(dir, 'people.ldif'), ldif(entries))
  await writeFile(join(dir, 'people.csv'), csv(entries))
  const [forLdapadd, forSync] = await Promise.all([startSlapd(), startSlapd()])
  servers.push(forLdapadd!, forSync!)
  const addSeconds = await ldapadd(forLdapadd!, join(dir, 'people.ldif'))
  const provision = await runSync(forSync!, dir, 'people.csv')
  const addRate = entries / addSeconds
  const syncRate = entries / provision.seconds
  console.log(`\nProvision ${fmt(entries)} entries (ldap.sync with ${connections} write connection(s))`)
  console.log(`  ldapadd (one connection):  ${addSeconds.toFixed(2)} s, ${fmt(addRate)} entries/s`)
  console.log(
    `  ldap.sync (csv.read →):    ${provision.seconds.toFixed(2)} s, ${fmt(syncRate)} entries/s, Node CPU ${provision.cpu.toFixed(2)} s (${provision.log})`,
  )
  console.log(`  ratio ldap.sync / ldapadd: ${(syncRate / addRate).toFixed(2)}× (goal ≥ 1.3×)`)
  const again = await runSync(forSync!, dir, 'people.csv')
  console.log(
    `  re-run without change:     ${again.seconds.toFixed(2)} s, Node CPU ${again.cpu.toFixed(2)} s (${again.log})`,
  )
  await Promise.all(servers.splice(0).map((s) => s.stop()))

  // 2. No-change reconcile of M entries.
  await writeFile(join(dir, 'big.ldif'), ldif(reconcile))
  await writeFile(join(dir, 'big.csv'), csv(reconcile))
  const big = await startSlapd()
  servers.push(big)
  const loadSeconds = await ldapadd(big, join(dir, 'big.ldif'))
  console.log(
    `\nNo-change reconcile of ${fmt(reconcile)} entries (loaded by ldapadd in ${loadSeconds.toFixed(1)} s)`,
  )
  console.log(`  ldapsearch of the scope (server floor): ${(await ldapsearch(big)).toFixed(2)} s`)
  for (let round = 1; round <= 3; round++) {
    const run = await runSync(big, dir, 'big.csv')
    console.log(
      `  round ${round}: ${run.seconds.toFixed(2)} s (goal < 5 s), Node CPU ${run.cpu.toFixed(2)} s (${run.log})`,
    )
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()))
  await rm(dir, { recursive: true, force: true })
}
