import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { z } from 'zod'
import { ROLES, type AppEnv, type SessionUser } from '../http/env.ts'
import { ApiError } from '../http/errors.ts'
import { validate } from '../http/validate.ts'
import { component, type RouteDoc } from '../openapi/document.ts'
import { policyDocument } from './policy.ts'
import { policyView, type PolicyService } from './service.ts'

component(policyDocument, 'PolicyDocument')
component(policyView, 'Policy')
const roleParam = z.object({ role: z.enum(ROLES) })

export const policyDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/policies',
    summary:
      'The policy of every role (null: none) and the connector names a policy may use; a graph outside its runner’s policy cannot run',
    response: z.object({ policies: z.array(policyView), connectors: z.array(z.string()) }),
  },
  {
    method: 'get',
    path: '/api/policies/:role',
    summary: 'The policy of one role (admin, designer, operator, viewer)',
    response: policyView,
  },
  {
    method: 'put',
    path: '/api/policies/:role',
    summary:
      'Set a role’s policy: allowed source and destination connectors, and write rules (connector, objectClass or table, attributes, actions); admins only',
    body: policyDocument,
    response: policyView,
  },
  {
    method: 'delete',
    path: '/api/policies/:role',
    summary: 'Remove a role’s policy, lifting its restrictions; admins only',
    response: z.object({ ok: z.boolean() }),
  },
]

/** Policies are changed by admins only. */
const requireAdmin = (user: SessionUser) => {
  if (user.role !== 'admin') throw new ApiError(403, 'FORBIDDEN', 'Only an admin may change policies')
}
const adminOnly = createMiddleware<AppEnv>(async (c, next) => {
  requireAdmin(c.get('user'))
  await next()
})

export function policyRoutes(service: PolicyService) {
  return new Hono<AppEnv>()
    .get('/', (c) => c.json({ policies: service.list(), connectors: service.connectors() }))
    .get('/:role', validate('param', roleParam), (c) => c.json(service.get(c.req.valid('param').role)))
    .put('/:role', adminOnly, validate('param', roleParam), validate('json', policyDocument), (c) => {
      return c.json(service.put(c.req.valid('param').role, c.req.valid('json'), c.get('user').id))
    })
    .delete('/:role', adminOnly, validate('param', roleParam), (c) => {
      service.remove(c.req.valid('param').role)
      return c.json({ ok: true })
    })
}
