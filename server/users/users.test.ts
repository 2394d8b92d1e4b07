import { describe, expect, it } from 'vitest'
import { errorOf } from '../approvals/test-helpers.ts'
import { json } from '../collections/test-helpers.ts'
import { login, testApp, type TestApp } from '../testing/harness.ts'

type User = { id: string; username: string; role: string; disabled: boolean; permissions: string[] }
const PASSWORD = 'a password long enough'

const signIn = (t: TestApp, username: string, password = PASSWORD) =>
  t.app.request('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
const asCookie = (t: TestApp, cookie: string) => (method: string, path: string) =>
  t.app.request(path, { method, headers: { cookie } })

describe('users management (/api/users)', () => {
  it('creates, lists, changes role and removes users; never returns a password hash', async () => {
    const t = await testApp()
    const created = await t.call('POST', '/api/users', {
      username: 'olga',
      password: PASSWORD,
      role: 'operator',
    })
    expect(created.status).toBe(201)
    const olga = (await created.json()) as User
    expect(olga).toMatchObject({
      username: 'olga',
      role: 'operator',
      disabled: false,
      permissions: ['run', 'view-any', 'approve'],
    })
    expect(
      await errorOf(t.call('POST', '/api/users', { username: 'olga', password: PASSWORD, role: 'viewer' })),
    ).toMatchObject({ status: 409, code: 'USERNAME_TAKEN' })
    expect(
      await errorOf(t.call('POST', '/api/users', { username: 'weak', password: 'short', role: 'viewer' })),
    ).toMatchObject({ status: 400, code: 'INVALID_INPUT' })

    const listText = await (await t.call('GET', '/api/users')).text()
    expect(listText).not.toMatch(/scrypt|passwordHash|password_hash/)
    const list = JSON.parse(listText) as { users: User[] }
    expect(list.users.map((u) => [u.username, u.role])).toEqual([
      ['admin', 'admin'],
      ['olga', 'operator'],
    ])

    // The new user signs in and gets the role's permissions.
    const cookie = await login(t.app, 'olga', PASSWORD)
    const me = await json<{ user: User }>(asCookie(t, cookie)('GET', '/api/auth/me'))
    expect(me.user).toMatchObject({
      username: 'olga',
      role: 'operator',
      permissions: ['run', 'view-any', 'approve'],
    })

    const changed = await json<User>(t.call('PUT', `/api/users/${olga.id}`, { role: 'designer' }))
    expect(changed).toMatchObject({ role: 'designer', permissions: ['create', 'edit', 'delete', 'run'] })
    // The session sees the new role at once.
    expect((await json<{ user: User }>(asCookie(t, cookie)('GET', '/api/auth/me'))).user.role).toBe(
      'designer',
    )

    expect((await t.call('DELETE', `/api/users/${olga.id}`)).status).toBe(200)
    expect((await asCookie(t, cookie)('GET', '/api/auth/me')).status).toBe(401)
    expect(await errorOf(t.call('DELETE', `/api/users/${olga.id}`))).toMatchObject({ status: 404 })
  })

  it('disabling ends the user’s sessions; a disabled user’s sign-in answers like a wrong password', async () => {
    const t = await testApp()
    const vic = await json<User>(
      t.call('POST', '/api/users', { username: 'vic', password: PASSWORD, role: 'viewer' }),
    )
    const cookie = await login(t.app, 'vic', PASSWORD)
    expect((await asCookie(t, cookie)('GET', '/api/graphs')).status).toBe(200)

    expect(await json<User>(t.call('PUT', `/api/users/${vic.id}`, { disabled: true }))).toMatchObject({
      disabled: true,
    })
    expect((await asCookie(t, cookie)('GET', '/api/graphs')).status).toBe(401)
    const disabled = await signIn(t, 'vic')
    const wrong = await signIn(t, 'nobody-at-all')
    expect([disabled.status, await disabled.json()]).toEqual([wrong.status, await wrong.json()])
    expect(disabled.status).toBe(401)

    await t.call('PUT', `/api/users/${vic.id}`, { disabled: false })
    expect((await signIn(t, 'vic')).status).toBe(200)
  })

  it('a password reset sets the new password and ends the user’s sessions', async () => {
    const t = await testApp()
    const pat = await json<User>(
      t.call('POST', '/api/users', { username: 'pat', password: PASSWORD, role: 'designer' }),
    )
    const cookie = await login(t.app, 'pat', PASSWORD)
    const reset = await t.call('POST', `/api/users/${pat.id}/password`, { password: 'another long password' })
    expect(await reset.json()).toEqual({ ok: true })
    expect((await asCookie(t, cookie)('GET', '/api/auth/me')).status).toBe(401)
    expect((await signIn(t, 'pat')).status).toBe(401)
    expect((await signIn(t, 'pat', 'another long password')).status).toBe(200)
  })

  it('keeps one enabled admin: the last one cannot be deleted, demoted or disabled', async () => {
    const t = await testApp()
    const admin = (await json<{ users: User[] }>(t.call('GET', '/api/users'))).users[0]!
    for (const [method, body] of [
      ['DELETE', undefined],
      ['PUT', { role: 'designer' }],
      ['PUT', { disabled: true }],
    ] as const)
      expect(await errorOf(t.call(method, `/api/users/${admin.id}`, body))).toMatchObject({
        status: 409,
        code: 'LAST_ADMIN',
      })
    // With a second enabled admin, the first may step down.
    const ada = await json<User>(
      t.call('POST', '/api/users', { username: 'ada', password: PASSWORD, role: 'admin' }),
    )
    await t.call('PUT', `/api/users/${ada.id}`, { disabled: true })
    // A disabled admin does not count.
    expect(await errorOf(t.call('PUT', `/api/users/${admin.id}`, { role: 'viewer' }))).toMatchObject({
      code: 'LAST_ADMIN',
    })
    await t.call('PUT', `/api/users/${ada.id}`, { disabled: false })
    expect(await json<User>(t.call('PUT', `/api/users/${admin.id}`, { role: 'viewer' }))).toMatchObject({
      role: 'viewer',
    })
    // Now a viewer: no more user management.
    expect(await errorOf(t.call('GET', '/api/users'))).toMatchObject({ status: 403, code: 'FORBIDDEN' })
  })
})
