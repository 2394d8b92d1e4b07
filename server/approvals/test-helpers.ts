import { randomUUID } from 'node:crypto'
import { hashPassword } from '../auth/passwords.ts'
import { users, type UserRow } from '../db/schema.ts'
import { login, TEST_COST, type TestApp } from '../testing/harness.ts'

/** A second user stored directly (user management is issue 8 point 5), signed in; `call` sends as them. */
export async function addUser(
  t: Pick<TestApp, 'services' | 'app'>,
  username: string,
  role: UserRow['role'] = 'operator',
): Promise<{ id: string; call: TestApp['call'] }> {
  const id = randomUUID()
  const password = `${username} password long enough`
  t.services.db
    .insert(users)
    .values({ id, username, role, passwordHash: await hashPassword(password, TEST_COST) })
    .run()
  const cookie = await login(t.app, username, password)
  const call: TestApp['call'] = async (method, path, body, headers = {}) =>
    t.app.request(path, {
      method,
      headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  return { id, call }
}

/** Status and error code of a response. */
export async function errorOf(res: Response | Promise<Response>) {
  const r = await res
  const body = (await r.json()) as { error?: { code: string; details?: Record<string, unknown> } }
  return { status: r.status, code: body.error?.code, details: body.error?.details }
}
