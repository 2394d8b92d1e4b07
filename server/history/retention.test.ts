import { describe, expect, it } from 'vitest'
import { main } from '../main.ts'
import { tempDir } from '../testing/harness.ts'

describe('history retention from the environment', () => {
  it('SYNCGRAPH_HISTORY_DAYS sets the retention the history reports; nonsense is refused', async () => {
    const dataDir = await tempDir()
    const env = { DATA_DIR: dataDir, PORT: '0', SYNCGRAPH_ADMIN_PASSWORD: 'retention-test-password' }
    const server = await main([], { ...env, SYNCGRAPH_HISTORY_DAYS: '30' })
    try {
      const login = await fetch(`${server.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: env.SYNCGRAPH_ADMIN_PASSWORD }),
      })
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
      const page = (await (await fetch(`${server.url}/api/history`, { headers: { cookie } })).json()) as {
        retentionDays: number
      }
      expect(page.retentionDays).toBe(30)
    } finally {
      await server.close()
    }
    await expect(main([], { ...env, SYNCGRAPH_HISTORY_DAYS: 'forever' })).rejects.toThrow(
      'SYNCGRAPH_HISTORY_DAYS must be a whole number of days, at least 1',
    )
  })
})
