import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BerWriter } from 'ldapts'
import { createFileResolver, runGraph, type RunSummary } from '../engine/index.ts'
import { catalog } from '../nodes/index.ts'
import { startSlapd, type Slapd } from '../test/ldap/slapd.ts'
import { csv, FIELDS, ldif, PEOPLE, person, syncGraph, type Person } from './ldap-people.ts'

/**
 * `npm run bench:ldap [-- --entries N] [--reconcile M] [--rounds R]`: provisioning N entries through
 * ldap.sync against `ldapadd` of the same LDIF (each into its own fresh slapd, R rounds, the order
 * alternating), with the server's own floor (pre-encoded adds pipelined over a raw socket), then a
 * no-change reconcile of M entries (loaded with ldapadd, then synced from a CSV of the same people).
 */
const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '10000' },
    reconcile: { type: 'string', default: '100000' },
    connections: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
  },
})
const rounds = Number(values.rounds)
const entries = Number(values.entries)
const reconcile = Number(values.reconcile)
const connections = Number(values.connections)
for (const [name, n] of [
  ['--entries', entries],
  ['--reconcile', reconcile],
  ['--rounds', rounds],
] as const) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} takes a positive whole number`)
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

/** CPU seconds slapd has used so far (user + system, from /proc). */
async function slapdCpu(server: Slapd): Promise<number> {
  const pid = (await readFile(join(server.dir, 'slapd.pid'), 'utf8')).trim()
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** One add request, BER-encoded (RFC 4511 §4.7). */
function addRequest(messageId: number, p: Person): Buffer {
  const w = new BerWriter()
  w.startSequence()
  w.writeInt(messageId)
  w.startSequence(0x68)
  w.writeString(`uid=${p.uid},${PEOPLE}`)
  w.startSequence()
  for (const [type, value] of [['objectClass', 'inetOrgPerson'], ...FIELDS.map((f) => [f, p[f]])]) {
    w.startSequence()
    w.writeString(type!)
    w.startSequence(0x31)
    w.writeString(value!)
    w.endSequence()
    w.endSequence()
  }
  w.endSequence()
  w.endSequence()
  w.endSequence()
  return w.buffer
}

/**
 * The server's floor for provisioning: every add encoded before the clock starts, then sent over one
 * raw socket with up to `window` in flight (slapd stops reading a connection with 1000 pending).
 * No client can add faster than this on this server; the results are only counted, not checked.
 */
async function floor(server: Slapd, n: number, window = 500): Promise<number> {
  const bind = new BerWriter()
  bind.startSequence()
  bind.writeInt(1)
  bind.startSequence(0x60)
  bind.writeInt(3)
  bind.writeString(server.rootDn)
  bind.writeString(server.rootPw, 0x80)
  bind.endSequence()
  bind.endSequence()
  const adds = Array.from({ length: n }, (_, i) => addRequest(i + 2, person(i)))
  const port = Number(new URL(server.url).port)
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let pending: Buffer = Buffer.alloc(0)
    let responses = 0
    let sent = 0
    socket.on('error', reject)
    socket.on('connect', () => socket.write(bind.buffer))
    socket.on('data', (data: Buffer) => {
      pending = pending.length === 0 ? data : Buffer.concat([pending, data])
      let offset = 0
      while (offset + 2 <= pending.length) {
        let length = pending[offset + 1]!
        let header = 2
        if (length & 0x80) {
          const bytes = length & 0x7f
          if (offset + 2 + bytes > pending.length) break
          length = 0
          for (let j = 0; j < bytes; j++) length = length * 256 + pending[offset + 2 + j]!
          header += bytes
        }
        if (offset + header + length > pending.length) break
        offset += header + length
        responses++
      }
      pending = pending.subarray(offset)
      const upTo = Math.min(n, responses - 1 + window)
      if (responses >= 1 && upTo > sent) {
        socket.write(Buffer.concat(adds.slice(sent, upTo)))
        sent = upTo
      }
      if (responses === n + 1) {
        socket.end()
        resolve()
      }
    })
  })
  return (performance.now() - started) / 1000
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024)

async function runSync(
  server: Slapd,
  dir: string,
  csvFile: string,
): Promise<{ seconds: number; cpu: number; log: string }> {
  const logs: string[] = []
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const summary: RunSummary = await runGraph(syncGraph(server, csvFile, connections), {
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
  // 1. Provisioning: ldapadd of the LDIF into one fresh slapd, ldap.sync of the same people into
  // another, the floor into a third; the order alternates between rounds.
  await writeFile(join(dir, 'people.ldif'), ldif(entries))
  await writeFile(join(dir, 'people.csv'), csv(entries))
  console.log(
    `\nProvision ${fmt(entries)} entries (ldap.sync with ${connections} write connection(s)), ${rounds} round(s)`,
  )
  const ratios: number[] = []
  const addTimes: number[] = []
  const syncTimes: number[] = []
  const floorTimes: number[] = []
  for (let round = 1; round <= rounds; round++) {
    const [forLdapadd, forSync, forFloor] = await Promise.all([startSlapd(), startSlapd(), startSlapd()])
    servers.push(forLdapadd!, forSync!, forFloor!)
    const measureAdd = async () => {
      const cpu = await slapdCpu(forLdapadd!)
      const seconds = await ldapadd(forLdapadd!, join(dir, 'people.ldif'))
      return { seconds, slapd: (await slapdCpu(forLdapadd!)) - cpu }
    }
    const measureSync = async () => {
      const cpu = await slapdCpu(forSync!)
      const run = await runSync(forSync!, dir, 'people.csv')
      return { ...run, slapd: (await slapdCpu(forSync!)) - cpu }
    }
    let add: Awaited<ReturnType<typeof measureAdd>>
    let provision: Awaited<ReturnType<typeof measureSync>>
    if (round % 2 === 1) {
      add = await measureAdd()
      provision = await measureSync()
    } else {
      provision = await measureSync()
      add = await measureAdd()
    }
    const floorCpu = await slapdCpu(forFloor!)
    const floorSeconds = await floor(forFloor!, entries)
    const floorSlapd = (await slapdCpu(forFloor!)) - floorCpu
    const ratio = add.seconds / provision.seconds
    ratios.push(ratio)
    addTimes.push(add.seconds)
    syncTimes.push(provision.seconds)
    floorTimes.push(floorSeconds)
    console.log(`  round ${round} (load average ${loadavg()[0]!.toFixed(1)}):`)
    console.log(
      `    ldapadd (one connection):  ${add.seconds.toFixed(2)} s, ${fmt(entries / add.seconds)} entries/s, slapd CPU ${add.slapd.toFixed(2)} s`,
    )
    console.log(
      `    ldap.sync (csv.read →):    ${provision.seconds.toFixed(2)} s, ${fmt(entries / provision.seconds)} entries/s, Node CPU ${provision.cpu.toFixed(2)} s, slapd CPU ${provision.slapd.toFixed(2)} s (${provision.log})`,
    )
    console.log(
      `    server floor (raw, pre-encoded, pipelined): ${floorSeconds.toFixed(2)} s, ${fmt(entries / floorSeconds)} entries/s, slapd CPU ${floorSlapd.toFixed(2)} s`,
    )
    console.log(
      `    ratio ldap.sync / ldapadd: ${ratio.toFixed(2)}×; floor / ldapadd: ${(add.seconds / floorSeconds).toFixed(2)}×`,
    )
    if (round === rounds) {
      const again = await runSync(forSync!, dir, 'people.csv')
      console.log(
        `    re-run without change:     ${again.seconds.toFixed(2)} s, Node CPU ${again.cpu.toFixed(2)} s (${again.log})`,
      )
    }
    await Promise.all(servers.splice(0).map((s) => s.stop()))
  }
  console.log(
    `  median: ldapadd ${fmt(entries / median(addTimes))} entries/s, ldap.sync ${fmt(entries / median(syncTimes))} entries/s, floor ${fmt(entries / median(floorTimes))} entries/s; ratio ldap.sync / ldapadd ${median(ratios).toFixed(2)}× (goal ≥ 1.3×), peak RSS so far ${peakMb()} MB`,
  )

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
  const reconciles: number[] = []
  for (let round = 1; round <= 3; round++) {
    const run = await runSync(big, dir, 'big.csv')
    reconciles.push(run.seconds)
    console.log(
      `  round ${round} (load average ${loadavg()[0]!.toFixed(1)}): ${run.seconds.toFixed(2)} s (goal < 5 s), Node CPU ${run.cpu.toFixed(2)} s (${run.log})`,
    )
  }
  console.log(`  median ${median(reconciles).toFixed(2)} s, peak RSS of the benchmark process ${peakMb()} MB`)
} finally {
  await Promise.all(servers.map((s) => s.stop()))
  await rm(dir, { recursive: true, force: true })
}
