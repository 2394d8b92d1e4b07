import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createFileResolver, runGraph } from '../engine/index.ts'
import { catalog } from '../nodes/index.ts'
import { startSlapd } from '../test/ldap/slapd.ts'
import { csv, syncGraph } from './ldap-people.ts'

/**
 * `node --import tsx bench/ldap-writes.ts [--entries N] [--rounds R] [--connections C]`: only the
 * provisioning sync of `bench/ldap.ts` (csv.read → ldap.sync of N people into a fresh slapd), with
 * when the plan was ready and how much Node CPU the run used, so write paths can be compared in
 * interleaved processes (e.g. `SYNCGRAPH_LDAP_LEAN_WRITES=0` for ldapts's own writes).
 */
const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '1' },
    connections: { type: 'string', default: '4' },
  },
})
const entries = Number(values.entries)
const rounds = Number(values.rounds)
const connections = Number(values.connections)

const dir = await mkdtemp(join(tmpdir(), 'syncgraph-bench-ldap-writes-'))
try {
  await writeFile(join(dir, 'people.csv'), csv(entries))
  const writes = process.env.SYNCGRAPH_LDAP_LEAN_WRITES === '0' ? 'ldapts' : 'lean encoder'
  for (let round = 1; round <= rounds; round++) {
    const server = await startSlapd()
    try {
      const graph = syncGraph(server, 'people.csv', connections)
      let planned = Number.NaN
      const cpu = process.cpuUsage()
      const started = performance.now()
      const summary = await runGraph(graph, {
        catalog,
        files: createFileResolver({ baseDir: dir }),
        onEvent: (e) => {
          if (e.type === 'log' && e.nodeId === 'dir' && e.message.startsWith('plan:'))
            planned = (performance.now() - started) / 1000
        },
      })
      const seconds = (performance.now() - started) / 1000
      const used = process.cpuUsage(cpu)
      if (summary.status !== 'succeeded') throw new Error(`the sync ${summary.status}`)
      console.log(
        `${writes}, ${connections} connection(s), load ${loadavg()[0]!.toFixed(1)}: ${seconds.toFixed(2)} s, plan at ${planned.toFixed(2)} s, writes ${(seconds - planned).toFixed(2)} s, Node CPU ${((used.user + used.system) / 1e6).toFixed(2)} s`,
      )
    } finally {
      await server.stop()
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
