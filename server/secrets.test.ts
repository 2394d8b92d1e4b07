import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { graphEnvironment } from './services.ts'
import { tempDir, testApp, waitForRun } from './testing/harness.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const token = (prefix: string) => `${prefix}-${randomBytes(9).toString('hex')}`

describe('secrets, through a real `syncgraph serve` process', () => {
  it('no response, WebSocket message, log line or database page holds a password, a secret or the key', async () => {
    const dataDir = await tempDir()
    const filesDir = await tempDir('syncgraph-files-')
    const secret = token('conn')
    const adminPassword = token('admin')
    const newPassword = token('changed')
    const wrongPassword = token('wrong')
    const key = randomBytes(32).toString('hex')
    const envSecret = token('env')
    const forbidden = { secret, adminPassword, newPassword, wrongPassword, key, envSecret }

    const child = spawn(process.execPath, [join(ROOT, 'bin/syncgraph.js'), 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        FILES_DIR: filesDir,
        SYNCGRAPH_ADMIN_PASSWORD: adminPassword,
        SYNCGRAPH_SECRET_KEY: key,
        SG_TEST_DIRECTORY_PASSWORD: envSecret,
        SYNCGRAPH_GRAPH_ENV: 'SG_TEST_*',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const exited = new Promise((r) => child.once('exit', r))
    const seen: string[] = []
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" line: ${output}`)), 30_000)
        child.stdout.on('data', () => {
          const found = /listening on (http:\/\/\S+)/.exec(output)
          if (found) {
            clearTimeout(timer)
            resolve(found[1]!)
          }
        })
        child.once('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)))
      })
      let cookie = ''
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(url + path, {
          method,
          headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
        const text = await res.text()
        seen.push(`${method} ${path} ${res.status} ${JSON.stringify([...res.headers])} ${text}`)
        return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> }
      }

      // Failed sign-ins, rate-limited after five; then the admin signs in and changes the password.
      const failures: number[] = []
      for (let i = 0; i < 6; i++)
        failures.push(
          (await call('POST', '/api/auth/login', { username: 'root', password: wrongPassword })).status,
        )
      expect(failures).toEqual([401, 401, 401, 401, 401, 429])
      const login = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: adminPassword }),
      })
      expect(login.status).toBe(200)
      cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
      seen.push(await login.text())
      const changed = await call('POST', '/api/auth/password', {
        currentPassword: adminPassword,
        newPassword,
      })
      expect(changed.status).toBe(200)

      // Connections with secrets: created, listed, updated, tested against hosts that refuse.
      const pg = await call('POST', '/api/connections', {
        name: 'hr-db',
        kind: 'sql',
        driver: 'postgres',
        settings: { host: '127.0.0.1', port: 1, database: 'hr', user: 'sync' },
        secrets: { password: secret },
      })
      expect(pg.status).toBe(201)
      const dir = await call('POST', '/api/connections', {
        name: 'directory',
        kind: 'ldap',
        settings: { url: 'ldap://127.0.0.1:1', bindDN: 'cn=admin,dc=example,dc=com' },
        secrets: { password: secret },
      })
      expect(dir.status).toBe(201)
      for (const id of [pg.json().id, dir.json().id]) {
        await call('GET', `/api/connections/${String(id)}`)
        await call('PUT', `/api/connections/${String(id)}`, { secrets: { password: secret } })
        expect((await call('POST', `/api/connections/${String(id)}/test`)).json()).toMatchObject({
          ok: false,
        })
      }
      await call('GET', '/api/connections')

      // Runs that use them (stored by name, and inline with an $env secret) and fail, watched over WebSocket.
      const graphs = [
        {
          syncgraph: 1,
          name: 'stored connection',
          nodes: [{ id: 'people', type: 'sql.read', config: { connection: 'hr-db', table: 'people' } }],
          edges: [],
        },
        {
          syncgraph: 1,
          name: 'inline connection',
          nodes: [
            {
              id: 'dir',
              type: 'ldap.read',
              config: {
                connection: {
                  url: 'ldap://127.0.0.1:1',
                  bindDN: 'cn=admin,dc=example,dc=com',
                  password: { $env: 'SG_TEST_DIRECTORY_PASSWORD' },
                },
                base: 'dc=example,dc=com',
              },
            },
          ],
          edges: [],
        },
      ]
      const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws`, { headers: { cookie } })
      ws.on('message', (data) => seen.push(String(data)))
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
      for (const graph of graphs) {
        const stored = await call('POST', '/api/graphs', { graph })
        const started = await call('POST', '/api/runs', { graphId: stored.json().id })
        expect(started.status).toBe(202)
        const id = String(started.json().id)
        ws.send(JSON.stringify({ type: 'subscribe', runId: id }))
        for (;;) {
          const run = (await call('GET', `/api/runs/${id}`)).json()
          if (run.status !== 'queued' && run.status !== 'running') {
            expect(run.status).toBe('failed')
            break
          }
          await new Promise((r) => setTimeout(r, 50))
        }
        await call('GET', `/api/runs/${id}/rejected`)
      }
      for (const path of ['/api/runs', '/api/graphs', '/api/auth/me', '/api/openapi.json'])
        await call('GET', path)
      ws.close()
      child.kill('SIGTERM')
      await exited
    } finally {
      child.kill('SIGKILL')
    }
    // PORT, HOST, DATA_DIR and FILES_DIR from the environment.
    expect(output).toMatch(
      new RegExp(`listening on http://127\\.0\\.0\\.1:\\d+ \\(data in ${dataDir}, files in ${filesDir}\\)`),
    )
    expect(seen.length).toBeGreaterThan(20)
    const pages = await Promise.all(
      ['syncgraph.db', 'syncgraph.db-wal'].map((f) => readFile(join(dataDir, f), 'latin1').catch(() => '')),
    )
    for (const [name, value] of Object.entries(forbidden)) {
      expect(output, `${name} in the server's output`).not.toContain(value)
      for (const text of seen) expect(text, `${name} in a response or message`).not.toContain(value)
      for (const page of pages) expect(page.includes(value), `${name} in the database file`).toBe(false)
    }
  })
})

describe('the environment graphs may read on the server', () => {
  it('offers only the variables SYNCGRAPH_GRAPH_ENV names, never Syncgraph’s own secrets', () => {
    const env = {
      HR_DB_PASSWORD: 'a',
      HR_LDAP_PASSWORD: 'b',
      AWS_SECRET_ACCESS_KEY: 'c',
      SYNCGRAPH_SECRET_KEY: 'd',
      SYNCGRAPH_ADMIN_PASSWORD: 'e',
    }
    expect(graphEnvironment(env, [])).toEqual({})
    expect(graphEnvironment(env, ['HR_*', ' AWS_SECRET_ACCESS_KEY '])).toEqual({
      HR_DB_PASSWORD: 'a',
      HR_LDAP_PASSWORD: 'b',
      AWS_SECRET_ACCESS_KEY: 'c',
    })
    expect(graphEnvironment(env, ['*'])).toEqual({
      HR_DB_PASSWORD: 'a',
      HR_LDAP_PASSWORD: 'b',
      AWS_SECRET_ACCESS_KEY: 'c',
    })
  })

  it('a graph naming a variable the server does not offer fails with how to offer it', async () => {
    process.env.SG_HIDDEN_FROM_GRAPHS = token('hidden')
    try {
      const app = await testApp({ graphEnv: ['SG_OFFERED_*'] })
      const res = await app.call('POST', '/api/runs', {
        graph: {
          syncgraph: 1,
          nodes: [
            {
              id: 'people',
              type: 'sql.read',
              config: {
                connection: {
                  driver: 'postgres',
                  host: '127.0.0.1',
                  user: 'x',
                  password: { $env: 'SG_HIDDEN_FROM_GRAPHS' },
                },
                table: 'people',
              },
            },
          ],
        },
      })
      expect(res.status).toBe(202)
      const run = await waitForRun(app.call, String(((await res.json()) as { id: string }).id))
      expect(run).toMatchObject({
        status: 'failed',
        errors: [
          expect.objectContaining({
            code: 'SECRET_MISSING',
            nodeId: 'people',
            message: expect.stringContaining(
              'environment variable SG_HIDDEN_FROM_GRAPHS is not set (the server lets graphs read only the variables SYNCGRAPH_GRAPH_ENV names',
            ) as unknown,
          }),
        ],
      })
    } finally {
      delete process.env.SG_HIDDEN_FROM_GRAPHS
    }
  })
})
