import { createCatalog, type AnyNodeDefinition } from '../engine/index.ts'
import { csvRead } from './csv-read.node.ts'
import { csvWrite } from './csv-write.node.ts'
import { filter } from './filter.node.ts'
import { join } from './join.node.ts'
import { map } from './map.node.ts'
import { sqlRead } from './sql-read.node.ts'
import { sqlWrite } from './sql-write.node.ts'
import { union } from './union.node.ts'

/** Every node type Syncgraph ships, in palette order: sources, transforms, join, destinations. */
export const definitions: AnyNodeDefinition[] = [
  csvRead,
  sqlRead,
  filter,
  map,
  union,
  join,
  csvWrite,
  sqlWrite,
]

/** The catalog; worker threads load this module to find the same declarations. */
export const catalog = createCatalog(definitions, import.meta.url)
