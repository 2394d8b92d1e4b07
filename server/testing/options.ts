import { memoryLogger } from '../logger.ts'
import type { ServerOptions } from '../services.ts'
import { catalog } from './catalog.ts'

export const ADMIN_PASSWORD = 'correct horse battery staple'
/** Cheap scrypt parameters so tests do not spend seconds hashing; production uses the default cost. */
export const TEST_COST = { N: 1024, r: 8, p: 1 }

/** Server options for tests: the test catalog, a known admin password, quick progress. */
export function testOptions(dataDir: string, overrides: Partial<ServerOptions> = {}): ServerOptions {
  return {
    dataDir,
    catalog,
    adminPassword: ADMIN_PASSWORD,
    passwordCost: TEST_COST,
    log: memoryLogger(),
    print: () => undefined,
    workers: 0,
    progressIntervalMs: 50,
    persistIntervalMs: 100,
    // Test receivers listen on loopback, which webhooks refuse by default (the guard's own test passes []).
    webhookAllow: ['127.0.0.0/8'],
    ...overrides,
  }
}
