import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../http/env.ts'
import { validate } from '../http/validate.ts'
import type { RouteDoc } from '../openapi/document.ts'
import type { ConnectionStore } from './store.ts'
import type { ConnectionTester } from './tester.ts'

const name = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_. -]{0,99}$/, 'letters, digits, _ . - and spaces, up to 100')
const kind = z.enum(['sql', 'ldap'])
const settings = z.record(z.string(), z.unknown())
export const createConnectionBody = z.object({
  name,
  kind,
  driver: z.string().min(1).max(50).optional(),
  settings: settings.default({}),
  secrets: z
    .record(z.string(), z.string())
    .optional()
    .describe('Write-only: stored encrypted, never returned'),
})
export const updateConnectionBody = z.object({
  name: name.optional(),
  kind: kind.optional(),
  driver: z.string().min(1).max(50).nullable().optional(),
  settings: settings.optional(),
  secrets: z
    .record(z.string(), z.string().nullable())
    .optional()
    .describe('Write-only: a string sets a secret, null removes it, a missing key keeps it'),
})
const connectionView = z.object({
  id: z.string(),
  name: z.string(),
  kind,
  driver: z.string().optional(),
  settings,
  hasSecret: z.boolean(),
  secretFields: z.array(z.string()),
  updatedAt: z.string(),
})

export const connectionDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/connections',
    summary: 'Stored connections (no secrets)',
    response: z.object({ connections: z.array(connectionView) }),
  },
  {
    method: 'post',
    path: '/api/connections',
    summary: 'Store a connection; secrets are encrypted and write-only',
    body: createConnectionBody,
    response: connectionView,
    status: 201,
  },
  {
    method: 'get',
    path: '/api/connections/:id',
    summary: 'One connection (no secrets)',
    response: connectionView,
  },
  {
    method: 'put',
    path: '/api/connections/:id',
    summary:
      'Change a connection; pointing it elsewhere (settings, driver, kind, a non-credential secret) needs every stored secret again (400 SECRETS_REQUIRED)',
    body: updateConnectionBody,
    response: connectionView,
  },
  {
    method: 'delete',
    path: '/api/connections/:id',
    summary: 'Delete a connection',
    response: z.object({ ok: z.boolean() }),
  },
  {
    method: 'post',
    path: '/api/connections/:id/test',
    summary: 'Check that the connection answers',
    response: z.object({ ok: z.boolean(), message: z.string() }),
  },
]

export function connectionRoutes(store: ConnectionStore, test: ConnectionTester) {
  return new Hono<AppEnv>()
    .get('/', (c) => c.json({ connections: store.list() }))
    .post('/', validate('json', createConnectionBody), (c) => c.json(store.create(c.req.valid('json')), 201))
    .get('/:id', (c) => c.json(store.get(c.req.param('id'))))
    .put('/:id', validate('json', updateConnectionBody), (c) =>
      c.json(store.update(c.req.param('id'), c.req.valid('json'))),
    )
    .delete('/:id', (c) => {
      store.delete(c.req.param('id'))
      return c.json({ ok: true })
    })
    .post('/:id/test', async (c) => c.json(await test(store.fullById(c.req.param('id')))))
}
