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
        '/api/runs/{id}/apply',
        '/api/runs/{id}/cancel',
        '/api/runs/{id}/plan',
        '/api/runs/{id}/rejected',
        '/api/templates',
        '/api/templates/{id}',
        '/api/templates/{id}/instantiate',
        '/api/users',
        '/api/users/{id}',
        '/api/users/{id}/password',
        '/api/validate',
        '/api/collections',
        '/api/collections/{id}',
        '/api/collections/{id}/run',
        '/api/collections/{id}/runs',
        '/api/collections/{id}/template',
        '/api/collection-runs/{id}',
        '/api/collection-runs/{id}/cancel',
        '/api/collection-templates',
        '/api/collection-templates/{id}',
        '/api/collection-templates/{id}/instantiate',
        '/api/schedules',
        '/api/schedules/{kind}/{jobId}',
        '/api/schedules/{kind}/{jobId}/events',
        '/api/notifications/settings',
        '/api/notifications/rules',
        '/api/notifications/rules/{id}',
        '/api/notifications/deliveries',
        '/api/approval-rules',
        '/api/approval-rules/{kind}/{jobId}',
        '/api/approvals',
        '/api/approvals/{id}',
        '/api/approvals/{id}/plan',
        '/api/approvals/{id}/approve',
        '/api/approvals/{id}/deny',
        '/api/history',
        '/api/history.csv',
        '/api/policies',
        '/api/policies/{role}',
        '/api/dashboard',
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
    // Plan mode: the run body's mode, the plan view and its CSV export, apply.
    expect(JSON.stringify(doc.paths['/api/runs']!.post!.requestBody)).toContain('"enum":["run","plan"]')
    const plan = doc.paths['/api/runs/{id}/plan']!.get! as unknown as {
      parameters: { name: string; in: string }[]
      responses: Record<string, { content: Record<string, { schema: unknown }> }>
    }
    expect(plan.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(
      expect.arrayContaining(['nodeId', 'action', 'q', 'offset', 'limit', 'format']),
    )
    expect(plan.responses['200']!.content['application/json']!.schema).toMatchObject({
      properties: { nodes: { type: 'array' }, stale: { type: 'boolean' } },
    })
    expect(doc.paths['/api/runs/{id}/apply']!.post).toBeDefined()
  })
})

describe('GET /api/openapi.json: jobs', () => {
  it('documents the next scheduled run on graphs and collections, and the write-only SMTP password', async () => {
    const { call } = await testApp()
    const doc = (await (await call('GET', '/api/openapi.json')).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> }
    }
    const response = (path: string, method: string) =>
      (
        doc.paths[path]![method]!.responses as Record<
          string,
          { content: Record<string, { schema: unknown }> }
        >
      )[method === 'post' ? '201' : '200']!.content['application/json']!.schema as {
        properties: Record<string, { items?: unknown }>
      }
    expect(response('/api/graphs/{id}', 'get').properties).toHaveProperty('nextRunAt')
    expect(response('/api/graphs', 'get').properties.graphs!.items).toMatchObject({
      properties: { nextRunAt: expect.anything() },
    })
    expect(doc.components.schemas.Collection!.properties).toHaveProperty('nextRunAt')
    expect(doc.components.schemas.Schedule!.properties).toHaveProperty('nextRunAt')
    expect(response('/api/notifications/settings', 'get')).toMatchObject({
      properties: { smtp: expect.anything() },
    })
    expect(JSON.stringify(response('/api/notifications/settings', 'get'))).not.toContain('password')
  })
})

describe('GET /api/openapi.json: approvals, history, dashboard', () => {
  it('documents the pending-approval answer, the history filters and CSV, and the dashboard drill-down links', async () => {
    const { call } = await testApp()
    const doc = (await (await call('GET', '/api/openapi.json')).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> }
    }
    expect(JSON.stringify(doc.paths['/api/runs']!.post!.responses)).toContain('pending-approval')
    const history = doc.paths['/api/history']!.get! as { parameters: { name: string }[] }
    expect(history.parameters.map((p) => p.name)).toEqual(
      expect.arrayContaining(['q', 'runId', 'action', 'from', 'to', 'offset', 'limit']),
    )
    expect(JSON.stringify(doc.paths['/api/history.csv']!.get!.responses)).toContain('text/csv')
    expect(doc.components.schemas.HistoryEntry!.properties).toHaveProperty('before')
    expect(doc.components.schemas.ApprovalRequest!.properties).toHaveProperty('planRunId')
    expect(JSON.stringify(doc.components.schemas.Dashboard)).toContain('failingJobs')
  })
})
