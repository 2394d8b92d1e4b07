import { describe, expect, it } from 'vitest'
import { testApp } from '../testing/harness.ts'
import { parseJsonPath } from './json-path.ts'

const graph = {
  syncgraph: 1,
  name: 'Feed',
  settings: { workers: 0 },
  nodes: [
    { id: 'src', type: 'test.generate', config: { count: 10 } },
    { id: 'keep', type: 'filter', config: { expression: 'group = 1' } },
    { id: 'sink', type: 'test.discard', config: {} },
  ],
  edges: [
    { from: 'src', to: 'keep' },
    { from: 'keep', to: 'sink' },
  ],
}

describe('templates', () => {
  it('saves chosen config values as typed parameters and instantiates with checked values', async () => {
    const { call } = await testApp()
    const saved = await call('POST', '/api/templates', {
      name: 'Generator',
      description: 'count rows',
      graph,
      params: {
        rows: { type: 'number', title: 'Rows', targets: [{ nodeId: 'src', path: '$.count' }] },
        rule: { type: 'string', targets: [{ nodeId: 'keep', path: 'expression' }] },
      },
    })
    expect(saved.status).toBe(201)
    const { id } = (await saved.json()) as { id: string }

    const list = (await (await call('GET', '/api/templates')).json()) as { templates: unknown[] }
    expect(list.templates).toEqual([
      {
        id,
        name: 'Generator',
        description: 'count rows',
        params: {
          rows: { type: 'number', title: 'Rows', default: 10 },
          rule: { type: 'string', default: 'group = 1' },
        },
      },
    ])
    const one = (await (await call('GET', `/api/templates/${id}`)).json()) as {
      graph: { nodes: { config: unknown }[] }
    }
    expect(one.graph.nodes[0]!.config).toEqual({ count: { $param: 'rows' } })
    expect(one.graph.nodes[1]!.config).toEqual({ expression: { $param: 'rule' } })

    const made = await call('POST', `/api/templates/${id}/instantiate`, {
      name: 'My feed',
      values: { rows: '25' },
    })
    expect(made.status).toBe(201)
    const { id: graphId } = (await made.json()) as { id: string }
    const stored = (await (await call('GET', `/api/graphs/${graphId}`)).json()) as {
      graph: { name: string; params: unknown; nodes: { config: unknown }[] }
    }
    expect(stored.graph.name).toBe('My feed')
    expect(stored.graph.params).toEqual({})
    expect(stored.graph.nodes.map((n) => n.config)).toEqual([{ count: 25 }, { expression: 'group = 1' }, {}])

    const wrong = await call('POST', `/api/templates/${id}/instantiate`, {
      name: 'x',
      values: { rows: 'lots' },
    })
    expect(wrong.status).toBe(400)
    expect(await wrong.json()).toMatchObject({
      error: { code: 'INVALID_PARAM', message: 'Parameter "rows" must be a number, got "lots"' },
    })
    const unknown = await call('POST', `/api/templates/${id}/instantiate`, { name: 'x', values: { nope: 1 } })
    expect(await unknown.json()).toMatchObject({
      error: { code: 'INVALID_PARAM', message: expect.stringContaining('Unknown parameter "nope"') },
    })
  })

  it('checks enum values and refuses targets that do not exist', async () => {
    const { call } = await testApp()
    const { id } = (await (
      await call('POST', '/api/templates', {
        name: 'Enum',
        graph,
        params: {
          rule: {
            type: 'enum',
            values: ['group = 1', 'group = 2'],
            targets: [{ nodeId: 'keep', path: '$.expression' }],
          },
        },
      })
    ).json()) as { id: string }
    expect(
      (await call('POST', `/api/templates/${id}/instantiate`, { name: 'a', values: { rule: 'group = 2' } }))
        .status,
    ).toBe(201)
    expect(
      (await call('POST', `/api/templates/${id}/instantiate`, { name: 'b', values: { rule: 'true' } }))
        .status,
    ).toBe(400)

    const missingNode = await call('POST', '/api/templates', {
      name: 't',
      graph,
      params: { p: { type: 'string', targets: [{ nodeId: 'zz', path: '$.x' }] } },
    })
    expect(await missingNode.json()).toMatchObject({
      error: { code: 'INVALID_TARGET', message: 'Parameter "p": the graph has no node "zz"' },
    })
    const missingPath = await call('POST', '/api/templates', {
      name: 't',
      graph,
      params: { p: { type: 'string', targets: [{ nodeId: 'src', path: '$.nope' }] } },
    })
    expect(await missingPath.json()).toMatchObject({ error: { code: 'INVALID_TARGET' } })
    const badDefault = await call('POST', '/api/templates', {
      name: 't',
      graph,
      params: { p: { type: 'boolean', targets: [{ nodeId: 'src', path: '$.count' }] } },
    })
    expect(await badDefault.json()).toMatchObject({ error: { code: 'INVALID_PARAM' } })
  })

  it('parses JSON paths', () => {
    expect(parseJsonPath('$.a.b[0]["c d"]')).toEqual(['a', 'b', 0, 'c d'])
    expect(parseJsonPath("on[1]['left']")).toEqual(['on', 1, 'left'])
    expect(() => parseJsonPath('$')).toThrow(/whole config/)
    expect(() => parseJsonPath('$..x')).toThrow(/not a JSON path/)
  })
})
