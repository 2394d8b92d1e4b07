import { runConformanceSuite, type SuiteReport } from '../engine/jsonata/conformance.ts'

/**
 * `syncgraph jsonata-check <suite-dir> [--json]`: every case of a folder in the JSONata test-suite
 * format through the compiler with fallback. Exit 0 when every case passes, 1 otherwise.
 */
export async function jsonataCheck(dir: string, json: boolean, out: NodeJS.WritableStream): Promise<number> {
  const report = await runConformanceSuite(dir)
  if (json) {
    out.write(`${JSON.stringify(report)}\n`)
  } else {
    out.write(describe(report))
  }
  return report.failed === 0 ? 0 : 1
}

function describe(report: SuiteReport): string {
  const share = (n: number) => `${((100 * n) / Math.max(1, report.total)).toFixed(1)}%`
  const lines = [
    `${report.total} cases: ${report.passed} passed, ${report.failed} failed`,
    `compiled: ${report.compiled} (${share(report.compiled)}); answered on the compiled path: ${report.compiledPath} (${share(report.compiledPath)})`,
    ...report.failures
      .slice(0, 50)
      .map(
        (f) =>
          `FAIL ${f.case}: ${f.expr}\n  expected ${JSON.stringify(f.expected)}\n  actual   ${JSON.stringify(f.actual)}`,
      ),
  ]
  if (report.failures.length > 50) lines.push(`… and ${report.failures.length - 50} more`)
  return `${lines.join('\n')}\n`
}
