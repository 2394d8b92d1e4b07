import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'engine/**/*.test.ts',
      'nodes/**/*.test.ts',
      'server/**/*.test.ts',
      'editor/**/*.test.ts',
      'test/**/*.test.ts',
      'bin/**/*.test.ts',
      'cli/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One run folder for test/databases.ts: the PostgreSQL / MariaDB every test file shares.
    globalSetup: ['test/databases.setup.ts'],
  },
})
