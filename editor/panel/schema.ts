import type { JsonSchema } from '../api/types.ts'
import { isParamRef } from '../../engine/graph.ts'

export { isParamRef }

/** The schema with `null` alternatives removed: `anyOf [X, null]` → X, `type: [string, null]` → string. */
export function resolveSchema(schema: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  let nullable = false
  let s = schema
  const alternatives = s.anyOf ?? s.oneOf
  if (alternatives) {
    const rest = alternatives.filter((a) => a.type !== 'null')
    nullable = rest.length < alternatives.length
    if (rest.length === 1) {
      const { anyOf: _a, oneOf: _o, ...own } = s
      s = { ...rest[0], ...own }
    }
  }
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== 'null')
    nullable ||= types.length < s.type.length
    if (types.length === 1) s = { ...s, type: types[0]! }
  }
  return { schema: s, nullable }
}

export type FieldKind =
  | 'code'
  | 'column'
  | 'columns'
  | 'file'
  | 'connection'
  | 'secret'
  | 'keyPairs'
  | 'enum'
  | 'boolean'
  | 'number'
  | 'string'
  | 'objectList'
  | 'list'
  | 'object'
  | 'json'

export function fieldKind(schema: JsonSchema): FieldKind {
  const widget = schema['x-ui']?.widget
  if (widget === 'code' || schema.format === 'jsonata') return 'code'
  if (schema.type === 'array' && schema.items && resolveSchema(schema.items).schema.type === 'object')
    return 'objectList'
  if (
    widget === 'column' ||
    widget === 'columns' ||
    widget === 'file' ||
    widget === 'connection' ||
    widget === 'secret' ||
    widget === 'keyPairs'
  )
    return widget
  if (Array.isArray(schema.enum)) return 'enum'
  if (schema.const !== undefined) return 'enum'
  switch (schema.type) {
    case 'boolean':
      return 'boolean'
    case 'number':
    case 'integer':
      return 'number'
    case 'string':
      return 'string'
    case 'array': {
      const items = schema.items ? resolveSchema(schema.items).schema : undefined
      if (items?.type === 'object' && items.properties) return 'objectList'
      if (items && (items.type === 'string' || items.type === 'number' || items.type === 'integer')) {
        return items['x-ui']?.widget === 'column' ? 'columns' : 'list'
      }
      return 'json'
    }
    case 'object':
      if (schema.properties) return 'object'
      if (typeof schema.additionalProperties === 'object') return 'keyPairs'
      return 'json'
    default:
      return 'json'
  }
}

/** Title of a field: the schema's, else the key in words (`rightPrefix` → `Right prefix`). */
export function fieldTitle(key: string, schema: JsonSchema): string {
  if (schema.title) return schema.title
  const words = key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** A JSON path string like the validator's (`$.on[0].left`). */
export function pathString(path: readonly (string | number)[]): string {
  let out = '$'
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`
    else out += `[${JSON.stringify(key)}]`
  }
  return out
}

export function setIn(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value
  const [head, ...rest] = path as [string | number, ...(string | number)[]]
  if (typeof head === 'number') {
    const arr = Array.isArray(root) ? [...root] : []
    arr[head] = setIn(arr[head], rest, value)
    return arr
  }
  const obj =
    typeof root === 'object' && root !== null && !Array.isArray(root)
      ? { ...(root as Record<string, unknown>) }
      : {}
  const next = setIn(obj[head], rest, value)
  if (next === undefined) delete obj[head]
  else obj[head] = next
  return obj
}

/** Leaves of a config with their JSON paths: what a template may turn into parameters. */
export function configLeaves(
  value: unknown,
  path: (string | number)[] = [],
): { path: (string | number)[]; value: unknown }[] {
  if (isParamRef(value)) return [{ path, value }]
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return [{ path, value }]
    return value.flatMap((v, i) => configLeaves(v, [...path, i]))
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => configLeaves(v, [...path, k]))
  }
  return [{ path, value }]
}

/** A validator message as a person reads it next to the field it concerns. */
export function fieldMessage(message: string): string {
  if (/received undefined/.test(message)) return 'Required'
  const stripped = message.replace(/^Node "[^"]+" (config )?[^:]*: /, '')
  return stripped.charAt(0).toUpperCase() + stripped.slice(1)
}
