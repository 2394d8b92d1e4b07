import { existsSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * What each test service needs from the machine, package by package (Debian 12 names), with a file
 * each package installs that the service cannot run without. The suites' `…Missing()` checks and
 * `.ci/run` (through `npx tsx test/prerequisites.ts`) read this one table, so a package that a
 * fresh machine lacks is installed by CI and, where it is still missing, named in the failure.
 */
export interface Prerequisite {
  /** The Debian package that provides it. */
  package: string
  /** What it is for, in the message. */
  role: string
  /** Candidate paths below the machine root; any one present satisfies it. `*` stands for the multiarch triplet. */
  paths: readonly string[]
}

export type ServiceName = 'slapd' | 'samba' | 'chromium'

const LIB_DIRS = ['/usr/lib/*', '/usr/lib64', '/usr/lib']

export const PREREQUISITES: Record<ServiceName, readonly Prerequisite[]> = {
  slapd: [
    { package: 'slapd', role: 'the OpenLDAP server', paths: ['/usr/sbin/slapd'] },
    { package: 'slapd', role: 'the OpenLDAP core schema', paths: ['/etc/ldap/schema/core.schema'] },
    { package: 'slapd', role: 'the mdb backend module', paths: ['/usr/lib/ldap/back_mdb.so'] },
    { package: 'ldap-utils', role: 'ldapadd (the LDAP benchmark baseline)', paths: ['/usr/bin/ldapadd'] },
    { package: 'openssl', role: 'test certificates for ldaps', paths: ['/usr/bin/openssl'] },
  ],
  samba: [
    { package: 'samba', role: 'the Samba daemon', paths: ['/usr/sbin/samba'] },
    { package: 'samba-common-bin', role: 'samba-tool', paths: ['/usr/bin/samba-tool'] },
    {
      package: 'samba-dsdb-modules',
      role: 'the directory database modules a DC loads',
      paths: LIB_DIRS.map((dir) => `${dir}/samba/ldb/samba_dsdb.so`),
    },
    {
      package: 'samba-ad-provision',
      role: 'the AD schema `samba-tool domain provision` loads',
      paths: ['/usr/share/samba/setup/ad-schema'],
    },
    {
      package: 'samba-vfs-modules',
      role: 'the acl_xattr VFS module provisioning sets ACLs with',
      paths: LIB_DIRS.map((dir) => `${dir}/samba/vfs/acl_xattr.so`),
    },
    { package: 'openssl', role: 'test certificates for ldaps', paths: ['/usr/bin/openssl'] },
  ],
  chromium: [{ package: 'chromium', role: 'the browser for the editor tests', paths: ['/usr/bin/chromium'] }],
}

/** The multiarch triplets the machine may use for `*` in a path. */
const TRIPLETS = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'i386-linux-gnu']

function present(root: string, path: string): boolean {
  const expanded = path.includes('*') ? TRIPLETS.map((t) => path.replace('*', t)) : [path]
  return expanded.some((p) => existsSync(join(root, p)))
}

/** The prerequisites of a service that are not on the machine (under `root`, for tests). */
export function missingPrerequisites(service: ServiceName, root = '/'): Prerequisite[] {
  return PREREQUISITES[service].filter((p) => !p.paths.some((path) => present(root, path)))
}

/** Why a service cannot run here, naming the packages to install, or undefined when it can. */
export function prerequisitesMissing(service: ServiceName, root = '/'): string | undefined {
  const missing = missingPrerequisites(service, root)
  if (missing.length === 0) return undefined
  const packages = [...new Set(missing.map((p) => p.package))]
  const what = missing.map((p) => `${p.role} (${p.package})`).join(', ')
  return `${service} cannot run: missing ${what}; install with apt-get install ${packages.join(' ')}`
}

/** Every package some service lacks on this machine: what `.ci/run` installs. */
export function packagesToInstall(root = '/'): string[] {
  const services = Object.keys(PREREQUISITES) as ServiceName[]
  return [...new Set(services.flatMap((s) => missingPrerequisites(s, root).map((p) => p.package)))]
}

// `npx tsx test/prerequisites.ts` prints the packages this machine lacks, for `.ci/run`.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(packagesToInstall().join(' ') + '\n')
}
