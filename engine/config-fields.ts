import { z } from 'zod'

/**
 * Config field builders with the UI hints the editor's form reads from the JSON Schema.
 * Hints live under `x-ui`; JSONata fields carry `format: "jsonata"`, which the validator also uses
 * to syntax-check every expression of every node without the node declaring it twice.
 */
export interface UiHint {
  widget?: 'column' | 'columns' | 'file' | 'connection' | 'code' | 'secret' | 'keyPairs'
  /** For column pickers: the input port whose known columns fill the list. */
  port?: string
  /** For file pickers: whether the node reads or writes the file. */
  mode?: 'read' | 'write'
  /** Show only in the "advanced" section of the form. */
  advanced?: boolean
}

interface FieldMeta {
  title: string
  description?: string
  ui?: UiHint
}

function meta({ title, description, ui }: FieldMeta): Record<string, unknown> {
  return {
    title,
    ...(description === undefined ? {} : { description }),
    ...(ui === undefined ? {} : { 'x-ui': ui }),
  }
}

/** A JSONata expression, syntax-checked at validation with its position. */
export const jsonataExpression = (field: FieldMeta) =>
  z
    .string()
    .min(1)
    .meta({ ...meta({ ...field, ui: { widget: 'code', ...field.ui } }), format: 'jsonata' })

/** A column of the rows arriving on `port`. */
export const columnName = (field: FieldMeta & { port?: string }) =>
  z
    .string()
    .min(1)
    .meta(meta({ ...field, ui: { widget: 'column', port: field.port ?? 'in', ...field.ui } }))

/** A file path, relative to the graph's folder (CLI) or the server's files folder. */
export const filePath = (field: FieldMeta & { mode: 'read' | 'write' }) =>
  z
    .string()
    .min(1)
    .meta(meta({ ...field, ui: { widget: 'file', mode: field.mode, ...field.ui } }))

/** A secret: a literal, or `{ "$env": "VAR" }` so graph files never hold passwords. */
export const secret = (field: FieldMeta) =>
  z
    .union([
      z.string(),
      z.object({ $env: z.string().min(1).meta({ title: 'Environment variable' }) }).strict(),
    ])
    .meta(meta({ ...field, ui: { widget: 'secret' } }))

/** JSON paths of every JSONata field in a JSON Schema, with `*` for array items and record values. */
export function jsonataFieldPaths(schema: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof schema !== 'object' || schema === null) return []
  const s = schema as Record<string, unknown>
  const found: (string | number)[][] = []
  if (s.format === 'jsonata') found.push(prefix)
  if (typeof s.properties === 'object' && s.properties !== null) {
    for (const [key, sub] of Object.entries(s.properties))
      found.push(...jsonataFieldPaths(sub, [...prefix, key]))
  }
  if (typeof s.additionalProperties === 'object')
    found.push(...jsonataFieldPaths(s.additionalProperties, [...prefix, '*']))
  if (typeof s.items === 'object') found.push(...jsonataFieldPaths(s.items, [...prefix, '*']))
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = s[key]
    if (Array.isArray(list)) for (const sub of list) found.push(...jsonataFieldPaths(sub, prefix))
  }
  return found
}
