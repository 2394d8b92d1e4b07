import { describe, it } from 'vitest'

/**
 * The one policy for suites that need a real service (slapd, a Samba DC, a database, Chromium):
 * when `missing` says why the service cannot run here, the suite is reported as skipped with that
 * reason, unless SYNCGRAPH_REQUIRE_SERVICES=1 (what `.ci/run` sets), under which it fails instead.
 * `optional` services (SQL Server, Oracle: only when their URL is set) are skipped whatever that says.
 */
export function describeWithService(
  name: string,
  missing: string | undefined,
  body: () => void,
  options: { optional?: boolean } = {},
): void {
  if (missing !== undefined && servicesRequired && options.optional !== true) {
    describe(name, () => {
      it('needs its service', () => {
        throw new Error(`SYNCGRAPH_REQUIRE_SERVICES=1 but ${missing}`)
      })
    })
    return
  }
  describe.skipIf(missing !== undefined)(missing === undefined ? name : `${name} (skipped: ${missing})`, body)
}

export const servicesRequired = process.env.SYNCGRAPH_REQUIRE_SERVICES === '1'
