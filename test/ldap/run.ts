import {
  createCatalog,
  createConnectionResolver,
  createFileResolver,
  runGraph,
  type ConnectionResolver,
  type Row,
  type RunSummary,
} from '../../engine/index.ts'
import { collect, collected, values } from '../../engine/testing/test-nodes.ts'
import { ldapRead } from '../../nodes/ldap-read.node.ts'
import { ldapSync } from '../../nodes/ldap-sync.node.ts'

/** The LDAP nodes with the engine's in-memory source and sink. */
export const ldapCatalog = createCatalog([ldapRead, ldapSync, values, collect])

export interface LdapTestGraph {
  nodes: { id: string; type: string; config?: Record<string, unknown> }[]
  edges?: { from: string; to: string; fromPort?: string; toPort?: string }[]
  settings?: Record<string, unknown>
}

/** Run a graph on this thread; returns the summary and what each `test.collect` node received. */
export async function runLdapGraph(
  graph: LdapTestGraph,
  options: { dir?: string; connections?: ConnectionResolver } = {},
): Promise<{ summary: RunSummary; rows: (id: string) => Row[]; logs: string[] }> {
  collected.clear()
  const logs: string[] = []
  const summary = await runGraph(
    { syncgraph: 1, ...graph, settings: { workers: 0, ...graph.settings } },
    {
      catalog: ldapCatalog,
      files: createFileResolver({ baseDir: options.dir ?? process.cwd() }),
      connections: options.connections ?? createConnectionResolver(),
      progressIntervalMs: 1000,
      onEvent: (event) => {
        if (event.type === 'log') logs.push(`${event.nodeId ?? '-'} ${event.level}: ${event.message}`)
      },
    },
  )
  return { summary, rows: (id) => [...(collected.get(id) ?? [])], logs }
}

/** The run's first error message, with the server's port shown as <port>. */
export function firstError(summary: RunSummary): string {
  return (summary.errors[0]?.message ?? `no error (status ${summary.status})`).replace(
    /127\.0\.0\.1:\d+/g,
    '127.0.0.1:<port>',
  )
}
