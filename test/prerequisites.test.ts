import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { PREREQUISITES, packagesToInstall, prerequisitesMissing, type ServiceName } from './prerequisites.ts'
import { servicesRequired } from './services.ts'

const services = Object.keys(PREREQUISITES) as ServiceName[]
const root = mkdtempSync(join(tmpdir(), 'syncgraph-prereq-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A fake machine root holding every prerequisite's first path but those of `without`. */
function machineWithout(without: string): string {
  const dir = mkdtempSync(join(root, 'machine-'))
  for (const service of services) {
    for (const p of PREREQUISITES[service]) {
      if (p.package === without) continue
      const file = join(dir, p.paths[0]!.replace('*', 'x86_64-linux-gnu'))
      mkdirSync(dirname(file), { recursive: true })
      writeFileSync(file, '')
    }
  }
  return dir
}

describe('test service prerequisites', () => {
  const packages = [...new Set(services.flatMap((s) => PREREQUISITES[s].map((p) => p.package)))]

  it.each(packages)(
    'a machine without %s: the service fails naming the package, and CI installs it',
    (pkg) => {
      const machine = machineWithout(pkg)
      const failing = services.filter((s) => PREREQUISITES[s].some((p) => p.package === pkg))
      for (const service of failing) {
        expect(prerequisitesMissing(service, machine)).toContain(`apt-get install ${pkg}`)
      }
      for (const service of services.filter((s) => !failing.includes(s))) {
        expect(prerequisitesMissing(service, machine)).toBeUndefined()
      }
      expect(packagesToInstall(machine)).toEqual([pkg])
    },
  )

  it('samba without its VFS modules names samba-vfs-modules (provisioning needs acl_xattr.so)', () => {
    expect(prerequisitesMissing('samba', machineWithout('samba-vfs-modules'))).toMatchInlineSnapshot(
      `"samba cannot run: missing the acl_xattr VFS module provisioning sets ACLs with (samba-vfs-modules); install with apt-get install samba-vfs-modules"`,
    )
  })

  it.runIf(servicesRequired)('this machine has every prerequisite (SYNCGRAPH_REQUIRE_SERVICES=1)', () => {
    expect(packagesToInstall()).toEqual([])
  })
})
