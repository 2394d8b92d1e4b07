import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Client } from 'ldapts'
import { afterAll, beforeAll } from 'vitest'
import { prerequisitesMissing } from '../prerequisites.ts'
import { describeWithService } from '../services.ts'

const run = promisify(execFile)

/** A real OpenLDAP server for one test file: loopback only, in its own temp folder. */
export interface Slapd {
  /** `ldap://127.0.0.1:<port>` (StartTLS available on it). */
  url: string
  /** `ldaps://127.0.0.1:<port>`. */
  ldapsUrl: string
  suffix: string
  rootDn: string
  rootPw: string
  /** A user limited to 5 entries per unpaged search, password `limited`. */
  limitedDn: string
  /** PEM of the CA that signed the server certificate. */
  caPem: string
  caFile: string
  dir: string
  /** A new client bound as the root DN; close it with `unbind()`. */
  client(): Promise<Client>
  stop(): Promise<void>
}

const SLAPD = ['/usr/sbin/slapd', '/usr/local/sbin/slapd', '/usr/local/libexec/slapd'].find((p) =>
  existsSync(p),
)
const SCHEMA_DIR = ['/etc/ldap/schema', '/etc/openldap/schema', '/usr/local/etc/openldap/schema'].find((p) =>
  existsSync(join(p, 'core.schema')),
)
const MODULE_DIR = ['/usr/lib/ldap', '/usr/lib64/openldap', '/usr/lib/openldap'].find((p) => existsSync(p))

/** Why slapd cannot run here (naming the packages it lacks), or undefined when it can. */
export function slapdMissing(): string | undefined {
  const packages = prerequisitesMissing('slapd')
  if (packages !== undefined) return packages
  if (SLAPD === undefined || SCHEMA_DIR === undefined) return 'slapd or its schema files were not found'
  return undefined
}

/**
 * Declare a suite that needs slapd: one server started before the suite's tests and stopped after.
 * Without slapd the suite is reported as skipped with the reason, unless SYNCGRAPH_REQUIRE_SERVICES=1,
 * in which case it fails.
 */
export function describeWithSlapd(name: string, body: (server: () => Slapd) => void): void {
  describeWithService(name, slapdMissing(), () => {
    let server: Slapd | undefined
    beforeAll(async () => {
      server = await startSlapd()
    }, 60_000)
    afterAll(async () => {
      await server?.stop()
    })
    body(() => {
      if (server === undefined) throw new Error('slapd did not start')
      return server
    })
  })
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

async function waitForPort(port: number, child: ChildProcess, log: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}: ${await log()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`slapd did not listen on ${port}: ${await log()}`)
}

async function makeCertificates(dir: string): Promise<void> {
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir })
  await writeFile(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  )
  await ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key')
  await ssl(
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-days',
    '2',
    '-subj',
    '/CN=Syncgraph Test CA',
    '-out',
    'ca.pem',
  )
  await ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.ec.key')
  await ssl('pkcs8', '-topk8', '-nocrypt', '-in', 'server.ec.key', '-out', 'server.key')
  await ssl('req', '-new', '-key', 'server.key', '-subj', '/CN=127.0.0.1', '-out', 'server.csr')
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
}

/** Start slapd (mdb, dc=example,dc=com, core/cosine/inetorgperson/nis) on free loopback ports. */
export async function startSlapd(): Promise<Slapd> {
  const missing = slapdMissing()
  if (missing !== undefined) throw new Error(missing)
  const dir = await mkdtemp(join(tmpdir(), 'syncgraph-slapd-'))
  const suffix = 'dc=example,dc=com'
  const rootDn = `cn=admin,${suffix}`
  const rootPw = 'secret'
  await mkdir(join(dir, 'db'))
  await makeCertificates(dir)
  const schemas = ['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include ${SCHEMA_DIR}/${s}.schema`)
  const conf = [
    ...schemas,
    `pidfile ${dir}/slapd.pid`,
    `argsfile ${dir}/slapd.args`,
    ...(MODULE_DIR === undefined ? [] : [`modulepath ${MODULE_DIR}`, 'moduleload back_mdb']),
    `TLSCACertificateFile ${dir}/ca.pem`,
    `TLSCertificateFile ${dir}/server.pem`,
    `TLSCertificateKeyFile ${dir}/server.key`,
    'sizelimit size.soft=500000 size.hard=unlimited size.pr=unlimited size.prtotal=unlimited',
    'timelimit unlimited',
    'database mdb',
    'maxsize 2147483648',
    `suffix "${suffix}"`,
    `rootdn "${rootDn}"`,
    `rootpw ${rootPw}`,
    `directory ${dir}/db`,
    'dbnosync',
    'index objectClass eq',
    'index uid,cn,mail,employeeNumber eq',
    `limits dn.exact="cn=limited,${suffix}" size.soft=5 size.hard=5 size.prtotal=unlimited`,
    'access to * by * read',
    '',
  ].join('\n')
  await writeFile(join(dir, 'slapd.conf'), conf)
  const base = [
    `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example`,
    `dn: ou=People,${suffix}\nobjectClass: organizationalUnit\nou: People`,
    `dn: ou=Groups,${suffix}\nobjectClass: organizationalUnit\nou: Groups`,
    `dn: ou=Disabled,${suffix}\nobjectClass: organizationalUnit\nou: Disabled`,
    `dn: cn=limited,${suffix}\nobjectClass: person\nobjectClass: simpleSecurityObject\ncn: limited\nsn: limited\nuserPassword: limited`,
  ].join('\n\n')
  await writeFile(join(dir, 'base.ldif'), `${base}\n`)
  await run(SLAPD!, ['-T', 'add', '-f', join(dir, 'slapd.conf'), '-l', join(dir, 'base.ldif')])
  const port = await freePort()
  const ldapsPort = await freePort()
  const url = `ldap://127.0.0.1:${port}`
  const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`
  const child = spawn(SLAPD!, ['-f', join(dir, 'slapd.conf'), '-h', `${url}/ ${ldapsUrl}/`, '-d', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  await waitForPort(port, child, async () => stderr)
  await waitForPort(ldapsPort, child, async () => stderr)
  const caPem = await readFile(join(dir, 'ca.pem'), 'utf8')
  return {
    url,
    ldapsUrl,
    suffix,
    rootDn,
    rootPw,
    limitedDn: `cn=limited,${suffix}`,
    caPem,
    caFile: join(dir, 'ca.pem'),
    dir,
    async client() {
      const client = new Client({ url })
      await client.bind(rootDn, rootPw)
      return client
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
        if (child.exitCode === null) child.kill('SIGKILL')
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}
