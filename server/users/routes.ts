import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../http/env.ts'
import { validate } from '../http/validate.ts'
import { component, type RouteDoc } from '../openapi/document.ts'
import { createUserBody, resetPasswordBody, updateUserBody, userView, type UserStore } from './store.ts'

component(userView, 'User')
const ok = z.object({ ok: z.boolean() })

export const userDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/users',
    summary: 'Users with their role and permissions (needs manage-users); no password hash is ever returned',
    response: z.object({ users: z.array(userView) }),
  },
  {
    method: 'post',
    path: '/api/users',
    summary: 'Create a user with a role (needs manage-users); 409 USERNAME_TAKEN',
    body: createUserBody,
    response: userView,
    status: 201,
  },
  {
    method: 'put',
    path: '/api/users/:id',
    summary:
      'Change a user’s role or disable/enable them (needs manage-users); disabling ends their sessions; 409 LAST_ADMIN for the last enabled admin',
    body: updateUserBody,
    response: userView,
  },
  {
    method: 'post',
    path: '/api/users/:id/password',
    summary: 'Reset a user’s password (needs manage-users); their sessions end',
    body: resetPasswordBody,
    response: ok,
  },
  {
    method: 'delete',
    path: '/api/users/:id',
    summary:
      'Delete a user (needs manage-users); what they created stays; 409 LAST_ADMIN for the last enabled admin',
    response: ok,
  },
]

/** /api/users: the permission check (manage-users) is the route guard's (server/auth/guards.ts). */
export function userRoutes(store: UserStore) {
  return new Hono<AppEnv>()
    .get('/', (c) => c.json({ users: store.list() }))
    .post('/', validate('json', createUserBody), async (c) =>
      c.json(await store.create(c.req.valid('json')), 201),
    )
    .put('/:id', validate('json', updateUserBody), (c) =>
      c.json(store.update(c.req.param('id'), c.req.valid('json'))),
    )
    .post('/:id/password', validate('json', resetPasswordBody), async (c) => {
      await store.resetPassword(c.req.param('id'), c.req.valid('json').password)
      return c.json({ ok: true })
    })
    .delete('/:id', (c) => {
      store.delete(c.req.param('id'))
      return c.json({ ok: true })
    })
}
