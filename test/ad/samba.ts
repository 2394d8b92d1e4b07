import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Client } from 'ldapts'
import { afterAll, beforeAll } from 'vitest'
import { prerequisitesMissing } from '../prerequisites.ts'
import { describeWithService } from '../services.ts'

const run = promisify(execFile)

/** A real Samba AD DC (LDAP service only) for one test file: loopback ports 389 and 636, temp dir. */
export interface SambaDc {
  /** `ldaps://127.0.0.1:636` (Samba refuses simple binds without TLS). */
  url: string
  /** `ldap://127.0.0.1:389`, for StartTLS. */
  ldapUrl: string
  realm: string
  baseDn: string
  /** `Administrator@<realm>`. */
  adminUpn: string
  adminPw: string
  caPem: string
  dir: string
  /** A new client bound as Administrator over ldaps; close it with `unbind()`. */
  client(): Promise<Client>
  stop(): Promise<void>
}

const REALM = 'SYNCGRAPH.TEST'
const BASE_DN = 'DC=syncgraph,DC=test'
const ADMIN_PW = 'Adm1n!Syncgraph-Test'

const which = (name: string) =>
  ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']
    .map((d) => join(d, name))
    .find((p) => existsSync(p))

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Why a Samba DC cannot run here (naming the packages it lacks), or undefined when it can. */
export function sambaMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'a Samba AD DC needs root (it binds ports 389 and 636)'
  return prerequisitesMissing('samba')
}

/**
 * Declare a suite that needs a Samba AD DC: one DC provisioned and started before the suite, stopped
 * after. Skipped with the reason when Samba cannot run, unless SYNCGRAPH_REQUIRE_SERVICES=1.
 * Ports 389/636 are fixed, so only one test file may use it.
 */
export function describeWithSamba(name: string, body: (dc: () => SambaDc) => void): void {
  describeWithService(name, sambaMissing(), () => {
    let dc: SambaDc | undefined
    beforeAll(async () => {
      dc = await startSamba()
    }, 180_000)
    afterAll(async () => {
      await dc?.stop()
    }, 30_000)
    body(() => {
      if (dc === undefined) throw new Error('the Samba DC did not start')
      return dc
    })
  })
}

async function waitForPort(port: number, child: ChildProcess, log: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`samba exited with ${child.exitCode}: ${await log()}`)
    if (await portInUse(port)) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`samba did not listen on ${port}: ${await log()}`)
}

async function makeCertificates(dir: string): Promise<void> {
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir })
  await writeFile(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  )
  await ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-days',
    '2',
    '-subj',
    '/CN=Syncgraph AD Test CA',
    '-out',
    'ca.pem',
  )
  await ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-subj',
    '/CN=127.0.0.1',
    '-out',
    'server.csr',
  )
  await ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.pem',
  )
  await chmod(join(dir, 'server.key'), 0o600)
}

/** Provision a DC (rfc2307, no DNS) in a temp dir and start only its LDAP service. */
export async function startSamba(): Promise<SambaDc> {
  for (const port of [389, 636]) {
    if (await portInUse(port)) throw new Error(`port ${port} is in use on 127.0.0.1: a Samba DC needs it`)
  }
  const dir = await mkdtemp(join(tmpdir(), 'syncgraph-samba-'))
  await makeCertificates(dir)
  const options = [
    'interfaces=lo',
    'bind interfaces only=yes',
    'server services=ldap',
    `log file=${dir}/log.%m`,
    'tls enabled=yes',
    `tls keyfile=${dir}/server.key`,
    `tls certfile=${dir}/server.pem`,
    `tls cafile=${dir}/ca.pem`,
  ]
  await run(
    which('samba-tool')!,
    [
      'domain',
      'provision',
      '--use-rfc2307',
      `--realm=${REALM}`,
      '--domain=SYNCGRAPH',
      '--server-role=dc',
      '--dns-backend=NONE',
      `--adminpass=${ADMIN_PW}`,
      `--targetdir=${join(dir, 'dc')}`,
      ...options.map((o) => `--option=${o}`),
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  )
  const conf = join(dir, 'dc', 'etc', 'smb.conf')
  const child = spawn(which('samba')!, ['-s', conf, '-F', '--debug-stdout', '-d', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  })
  let output = ''
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  await waitForPort(636, child, async () => output)
  await waitForPort(389, child, async () => output)
  const caPem = await readFile(join(dir, 'ca.pem'), 'utf8')
  const url = 'ldaps://127.0.0.1:636'
  const adminUpn = `Administrator@${REALM.toLowerCase()}`
  return {
    url,
    ldapUrl: 'ldap://127.0.0.1:389',
    realm: REALM,
    baseDn: BASE_DN,
    adminUpn,
    adminPw: ADMIN_PW,
    caPem,
    dir,
    async client() {
      const client = new Client({ url, tlsOptions: { ca: caPem } })
      await client.bind(adminUpn, ADMIN_PW)
      return client
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
        if (child.exitCode === null) child.kill('SIGKILL')
      }
      // Samba's own child processes may still be writing for a moment after the master exits.
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 })
    },
  }
}
