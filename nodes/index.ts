import { createCatalog, type AnyNodeDefinition } from '../engine/index.ts'
import type { SyncDriver } from '../engine/sync/index.ts'
import { csvRead } from './csv-read.node.ts'
import { csvWrite } from './csv-write.node.ts'
import { excelRead } from './excel-read.node.ts'
import { excelWrite } from './excel-write.node.ts'
import { filter } from './filter.node.ts'
import { join } from './join.node.ts'
import { ldapRead } from './ldap-read.node.ts'
import { ldapSync, ldapSyncDriver } from './ldap-sync.node.ts'
import { map } from './map.node.ts'
import { sqlRead } from './sql-read.node.ts'
import { sqlSync, sqlSyncDriver } from './sql-sync.node.ts'
import { sqlWrite } from './sql-write.node.ts'
import { union } from './union.node.ts'

/** Every node type Syncgraph ships, in palette order: sources, transforms, join, destinations. */
export const definitions: AnyNodeDefinition[] = [
  csvRead,
  excelRead,
  sqlRead,
  ldapRead,
  filter,
  map,
  union,
  join,
  csvWrite,
  excelWrite,
  sqlWrite,
  ldapSync,
  sqlSync,
]

/** The catalog; worker threads load this module to find the same declarations. */
export const catalog = createCatalog(definitions, import.meta.url)

/** The plan/apply drivers of the sync node types, for `syncgraph plan` / `apply` and the server's plan mode. */
export const syncDrivers: readonly SyncDriver[] = [ldapSyncDriver, sqlSyncDriver]
