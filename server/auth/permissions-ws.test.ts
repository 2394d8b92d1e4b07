import { describe, expect, it } from 'vitest'
import { generatorGraph, login, tempDir, testServer } from '../testing/harness.ts'
import { openSocket } from '../testing/ws-client.ts'

const PASSWORD = 'a password long enough'

describe('WebSocket subscriptions follow owner-only access', () => {
  it('a designer cannot watch a run they may not view; a viewer (view-any) can', async () => {
    const server = await testServer(await tempDir())
    const post = async (path: string, body: unknown, cookie = server.cookie) => {
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(res.status, await res.clone().text()).toBeLessThan(300)
      return (await res.json()) as { id: string }
    }
    const app = { request: (path: string, init: RequestInit) => fetch(server.url + path, init) }
    for (const [username, role] of [
      ['dora', 'designer'],
      ['vera', 'viewer'],
    ])
      await post('/api/users', { username, password: PASSWORD, role })
    const dora = await login(app, 'dora', PASSWORD)
    const vera = await login(app, 'vera', PASSWORD)

    const adminRun = (await post('/api/runs', { graph: generatorGraph(1000) })).id
    const { id: graphId } = await post('/api/graphs', { graph: generatorGraph(10) }, dora)
    const doraRun = (await post('/api/runs', { graphId }, dora)).id

    const designer = await openSocket(server.url, dora)
    designer.send({ type: 'subscribe', runId: adminRun })
    const refused = await designer.next('error', (m) => m.runId === adminRun)
    // Answered exactly like a run that does not exist.
    expect(refused.message).toBe(`no run with id "${adminRun}"`)
    expect(designer.messages.some((m) => m.type === 'snapshot' && m.runId === adminRun)).toBe(false)
    // Their own run is theirs to watch.
    designer.send({ type: 'subscribe', runId: doraRun })
    expect(await designer.next('snapshot', (m) => m.runId === doraRun)).toMatchObject({
      run: { id: doraRun },
    })

    const viewer = await openSocket(server.url, vera)
    viewer.send({ type: 'subscribe', runId: adminRun })
    expect(await viewer.next('snapshot', (m) => m.runId === adminRun)).toMatchObject({
      run: { id: adminRun },
    })
    designer.ws.close()
    viewer.ws.close()
  })
})
