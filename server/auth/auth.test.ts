import { describe, expect, it } from 'vitest'
import { createApp } from '../app.ts'
import { memoryLogger } from '../logger.ts'
import { createServices } from '../services.ts'
import { ADMIN_PASSWORD, login, tempDir, testApp, testOptions } from '../testing/harness.ts'
import { hashPassword, verifyPassword } from './passwords.ts'

describe('auth', () => {
  it('answers /api/health without a session and 401 elsewhere', async () => {
    const { app } = await testApp()
    expect(await (await app.request('/api/health')).json()).toEqual({ ok: true, version: expect.any(String) })
    for (const path of [
      '/api/graphs',
      '/api/node-types',
      '/api/runs',
      '/api/connections',
      '/api/files',
      '/api/templates',
      '/api/auth/me',
      '/api/openapi.json',
      '/api/ws',
    ]) {
      const res = await app.request(path)
      expect(res.status, path).toBe(401)
      expect(await res.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } })
    }
    expect((await app.request('/api/graphs', { method: 'POST', body: '{}' })).status).toBe(401)
  })

  it('answers 401 without a session on every documented route but health and login', async () => {
    const { app, call } = await testApp()
    const doc = (await (await call('GET', '/api/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>
    }
    const open: string[] = []
    let checked = 0
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const url = path.replace(/\{[^}]+\}/g, 'x')
        const res = await app.request(url, {
          method: method.toUpperCase(),
          ...(method === 'get' ? {} : { headers: { 'content-type': 'application/json' }, body: '{}' }),
        })
        checked += 1
        if (res.status !== 401) open.push(`${method.toUpperCase()} ${path} ${res.status}`)
      }
    }
    expect(checked).toBeGreaterThan(40)
    expect(open).toEqual(['GET /api/health 200', 'POST /api/auth/login 400'])
  })

  it('signs in with an HttpOnly SameSite cookie, answers /me and signs out', async () => {
    const { app } = await testApp()
    const res = await app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ user: { username: 'admin', role: 'admin' } })
    const setCookie = res.headers.get('set-cookie')!
    expect(setCookie).toMatch(/^sg_session=[\w-]{43};/)
    expect(setCookie).toContain('HttpOnly')
    expect(setCookie).toContain('SameSite=Lax')
    const cookie = setCookie.split(';')[0]!
    const me = await app.request('/api/auth/me', { headers: { cookie } })
    expect(await me.json()).toMatchObject({ user: { username: 'admin' } })
    expect((await app.request('/api/auth/logout', { method: 'POST', headers: { cookie } })).status).toBe(200)
    expect((await app.request('/api/auth/me', { headers: { cookie } })).status).toBe(401)
  })

  it('stores only a hash of the session token', async () => {
    const { services, cookie } = await testApp()
    const token = cookie.split('=')[1]!
    const rows = services.sqlite.prepare('select token_hash from sessions').all() as { token_hash: string }[]
    expect(rows.length).toBe(1)
    expect(rows[0]!.token_hash).not.toContain(token)
  })

  it('refuses a wrong password and rate-limits failed sign-ins per username and address', async () => {
    const { app } = await testApp()
    const attempt = (password: string, username = 'admin') =>
      app.request('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      })
    for (let i = 0; i < 5; i++) {
      const res = await attempt('wrong')
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({
        error: { code: 'INVALID_CREDENTIALS', message: 'Wrong username or password' },
      })
    }
    const blocked = await attempt(ADMIN_PASSWORD)
    expect(blocked.status).toBe(429)
    expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(await blocked.json()).toMatchObject({ error: { code: 'TOO_MANY_ATTEMPTS' } })
    // Another username from the same address is not blocked by admin's failures.
    expect((await attempt('x', 'someone')).status).toBe(401)
  })

  it('changes the password: the old one stops working, other sessions end', async () => {
    const { app, call } = await testApp()
    const other = await login(app, 'admin', ADMIN_PASSWORD)
    expect(
      (
        await call('POST', '/api/auth/password', {
          currentPassword: 'nope',
          newPassword: 'a new long password',
        })
      ).status,
    ).toBe(403)
    expect(
      (await call('POST', '/api/auth/password', { currentPassword: ADMIN_PASSWORD, newPassword: 'short' }))
        .status,
    ).toBe(400)
    expect(
      (
        await call('POST', '/api/auth/password', {
          currentPassword: ADMIN_PASSWORD,
          newPassword: 'a new long password',
        })
      ).status,
    ).toBe(200)
    expect((await call('GET', '/api/auth/me')).status).toBe(200)
    expect((await app.request('/api/auth/me', { headers: { cookie: other } })).status).toBe(401)
    await expect(login(app, 'admin', ADMIN_PASSWORD)).rejects.toThrow(/401/)
    await login(app, 'admin', 'a new long password')
  })

  it('creates admin with a generated password printed once', async () => {
    const dataDir = await tempDir()
    const printed: string[] = []
    const options = testOptions(dataDir, {
      adminPassword: undefined,
      print: (line) => printed.push(line),
      log: memoryLogger(),
    })
    delete options.adminPassword
    const first = await createServices(options)
    const password = /password: (\S+)/.exec(printed.join('\n'))?.[1]
    expect(password).toMatch(/^[\w-]{24}$/)
    const { app } = createApp(first)
    await login(app, 'admin', password!)
    await first.close()
    const second = await createServices(options)
    expect(printed.length).toBe(1)
    await second.close()
  })

  it('hashes with scrypt: salted, and verifiable only with the right password', async () => {
    const cost = { N: 1024, r: 8, p: 1 }
    const a = await hashPassword('secret one', cost)
    const b = await hashPassword('secret one', cost)
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword('secret one', a)).toBe(true)
    expect(await verifyPassword('secret two', a)).toBe(false)
  })

  it('refuses state-changing requests from another origin', async () => {
    const { call } = await testApp()
    const res = await call(
      'POST',
      '/api/graphs',
      { graph: { syncgraph: 1, nodes: [] } },
      { origin: 'https://evil.example', host: 'localhost' },
    )
    expect(res.status).toBe(403)
  })
})
