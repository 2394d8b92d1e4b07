import { describe, expect, it } from 'vitest'
import { testApp } from '../testing/harness.ts'

describe('GET /api/openapi.json', () => {
  it('describes every route with the schemas the routes validate with', async () => {
    const { call } = await testApp()
    const doc = (await (await call('GET', '/api/openapi.json')).json()) as {
      openapi: string
      paths: Record<
        string,
        Record<
          string,
          {
            requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }
            security?: unknown[]
          }
        >
      >
      components: { schemas: Record<string, Record<string, unknown>> }
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/auth/login',
        '/api/auth/logout',
        '/api/auth/me',
        '/api/auth/password',
        '/api/connections',
        '/api/connections/{id}',
        '/api/connections/{id}/test',
        '/api/files',
        '/api/files/{name}',
        '/api/graphs',
        '/api/graphs/{id}',
        '/api/graphs/{id}/duplicate',
        '/api/graphs/{id}/revisions',
        '/api/graphs/{id}/revisions/{revision}',
        '/api/health',
        '/api/node-types',
        '/api/openapi.json',
        '/api/preview',
        '/api/runs',
        '/api/runs/{id}',
        '/api/runs/{id}/cancel',
        '/api/runs/{id}/rejected',
        '/api/templates',
        '/api/templates/{id}',
        '/api/templates/{id}/instantiate',
        '/api/validate',
      ].sort(),
    )
    const login = doc.paths['/api/auth/login']!.post!
    expect(login.security).toEqual([])
    expect(login.requestBody!.content['application/json']!.schema).toMatchObject({
      properties: { username: { type: 'string' }, password: { type: 'string' } },
    })
    const create = doc.paths['/api/graphs']!.post!.requestBody!.content['application/json']!.schema
    expect(create).toMatchObject({ properties: { graph: { $ref: '#/components/schemas/Graph' } } })
    expect(doc.components.schemas.Graph).toMatchObject({
      properties: { syncgraph: { const: 1 }, nodes: { type: 'array' } },
    })
    expect(doc.paths['/api/files/{name}']!.put!.requestBody!.content).toHaveProperty(
      'application/octet-stream',
    )
  })
})
