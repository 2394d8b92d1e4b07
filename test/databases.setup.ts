import type { TestProject } from 'vitest/node'
import { runDirFor, stopDatabases } from './databases.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run folder of test/databases.ts: where test files agree on one server per kind. */
    syncgraphDatabases: string
  }
}

/**
 * vitest globalSetup: one run folder (created only when used) for test/databases.ts, so every test file of the run shares one
 * PostgreSQL and one MariaDB. Nothing starts here: the first file that needs a server decides (standard
 * service or a private one); this stops the private servers and removes the folder when the run ends.
 */
export default function setup(project: TestProject): () => Promise<void> {
  const dir = runDirFor()
  project.provide('syncgraphDatabases', dir)
  return () => stopDatabases(dir)
}
