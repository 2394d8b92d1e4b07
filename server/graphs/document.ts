import { z } from 'zod'
import { graphSchema, parseGraph, type Graph } from '../../engine/index.ts'
import { ApiError } from '../http/errors.ts'
import { component } from '../openapi/document.ts'

/**
 * A graph document in a request body: parsed (and migrated) with the engine's graph schema, its
 * problems reported as zod issues with their JSON paths.
 */
export const graphDocument = component(
  z.unknown().transform((doc, ctx): Graph => {
    const parsed = parseGraph(doc)
    if (parsed.ok) return parsed.graph
    for (const issue of parsed.issues)
      ctx.addIssue({ code: 'custom', message: `${issue.path}: ${issue.message}`, input: doc })
    return z.NEVER
  }),
  'Graph',
  graphSchema,
)

/** A stored document, parsed on read so an old one is migrated or fails loudly. */
export function readStoredGraph(text: string, where: string): Graph {
  const parsed = parseGraph(JSON.parse(text))
  if (parsed.ok) return parsed.graph
  throw new ApiError(
    500,
    'STORED_GRAPH_INVALID',
    `The stored ${where} no longer parses: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
  )
}

component(graphSchema, 'Graph')
