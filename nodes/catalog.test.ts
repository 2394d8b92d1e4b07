import { describe, expect, it } from 'vitest'
import { configJsonSchema, outputPorts, type AnyNodeDefinition } from '../engine/index.ts'
import { catalog, definitions } from './index.ts'

interface Schema {
  type?: unknown
  title?: unknown
  description?: unknown
  properties?: Record<string, Schema>
  items?: Schema
  anyOf?: Schema[]
}

/** JSON paths of properties (at any depth) that have no title. */
function untitled(schema: Schema, path = '$'): string[] {
  const missing: string[] = []
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const at = `${path}.${name}`
    if (typeof prop.title !== 'string' || prop.title === '') missing.push(at)
    missing.push(...untitled(prop, at))
  }
  if (schema.items !== undefined) missing.push(...untitled(schema.items, `${path}[]`))
  for (const branch of schema.anyOf ?? []) missing.push(...untitled(branch, path))
  return missing
}

const palette: AnyNodeDefinition['category'][] = ['source', 'transform', 'join', 'destination', 'sync']

describe('node catalog', () => {
  it('has the node types of DESIGN.md §4, in palette order', () => {
    expect(definitions.map((d) => d.type)).toEqual(
      expect.arrayContaining([
        'csv.read',
        'sql.read',
        'filter',
        'map',
        'union',
        'join',
        'csv.write',
        'sql.write',
      ]),
    )
    const ranks = definitions.map((d) => palette.indexOf(d.category))
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b))
    expect(catalog.list()).toEqual(definitions)
  })

  it.each(definitions.map((d) => [d.type, d] as const))(
    '%s: config is an object schema with a title on every property',
    (_type, def) => {
      const schema = configJsonSchema(def) as Schema
      expect(schema.type).toBe('object')
      expect(untitled(schema)).toEqual([])
      expect(JSON.parse(JSON.stringify(schema))).toEqual(schema)
    },
  )

  it.each(definitions.map((d) => [d.type, d] as const))('%s: declaration is complete', (_type, def) => {
    expect(def.title).not.toBe('')
    expect(def.description.length).toBeGreaterThan(40)
    expect(def.version).toBeGreaterThanOrEqual(1)
    expect(Object.keys(def.inputs).length + Object.keys(def.outputs).length).toBeGreaterThan(0)
    if (def.rowErrors) expect(Object.keys(outputPorts(def, 'route'))).toContain('rejected')
    if (def.category === 'source') expect(def.inputs).toEqual({})
  })

  it('names the ports of DESIGN.md §4', () => {
    const ports = Object.fromEntries(
      definitions.map((d) => [d.type, [Object.keys(d.inputs), Object.keys(d.outputs)]]),
    )
    expect(ports).toMatchInlineSnapshot(`
      {
        "csv.read": [
          [],
          [
            "out",
          ],
        ],
        "csv.write": [
          [
            "in",
          ],
          [],
        ],
        "excel.read": [
          [],
          [
            "out",
          ],
        ],
        "excel.write": [
          [
            "in",
          ],
          [],
        ],
        "filter": [
          [
            "in",
          ],
          [
            "out",
            "unmatched",
          ],
        ],
        "join": [
          [
            "left",
            "right",
          ],
          [
            "out",
          ],
        ],
        "ldap.read": [
          [],
          [
            "out",
          ],
        ],
        "ldap.sync": [
          [
            "in",
          ],
          [
            "results",
            "passwords",
          ],
        ],
        "map": [
          [
            "in",
          ],
          [
            "out",
          ],
        ],
        "sql.read": [
          [],
          [
            "out",
          ],
        ],
        "sql.sync": [
          [
            "in",
          ],
          [
            "results",
          ],
        ],
        "sql.write": [
          [
            "in",
          ],
          [
            "results",
          ],
        ],
        "union": [
          [
            "in",
          ],
          [
            "out",
          ],
        ],
      }
    `)
  })
})
