import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runConformanceSuite } from './conformance.ts'

// The suite sits beside the project (../shared/jsonata-suite, not copied in); SYNCGRAPH_JSONATA_SUITE
// points elsewhere, e.g. for a checkout in another folder.
const suite =
  process.env.SYNCGRAPH_JSONATA_SUITE ??
  fileURLToPath(new URL('../../../shared/jsonata-suite', import.meta.url))

describe('JSONata conformance suite (../shared/jsonata-suite)', () => {
  it('passes every case through the compiler with fallback', async () => {
    expect(existsSync(suite), `the suite is read from ${suite}`).toBe(true)
    const report = await runConformanceSuite(suite)
    expect(report.failures).toEqual([])
    expect(report.total).toBeGreaterThan(1000)
    expect(report.passed).toBe(report.total)
    // The compiled share is reported, and must not silently drop to nothing.
    expect(report.compiled).toBeGreaterThan(300)
  }, 180_000)
})
