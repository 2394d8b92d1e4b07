import { and, desc, eq, like, or } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import type { Graph } from '../../engine/index.ts'
import type { Db } from '../db/client.ts'
import { graphRevisions, graphs, type GraphRow } from '../db/schema.ts'
import { ApiError, notFound } from '../http/errors.ts'
import { readStoredGraph } from './document.ts'

export interface StoredGraph {
  id: string
  revision: number
  graph: Graph
  updatedAt: string
}

const toStored = (row: GraphRow): StoredGraph => ({
  id: row.id,
  revision: row.revision,
  graph: readStoredGraph(row.document, `graph ${row.id}`),
  updatedAt: row.updatedAt.toISOString(),
})

/** Graphs with their revisions: every save writes a new revision; a save against an old one is refused. */
export class GraphStore {
  constructor(private readonly db: Db) {}

  list(q?: string) {
    const pattern = q === undefined || q === '' ? undefined : `%${q.replace(/[%_\\]/g, (ch) => `\\${ch}`)}%`
    return this.db
      .select({
        id: graphs.id,
        name: graphs.name,
        description: graphs.description,
        revision: graphs.revision,
        updatedAt: graphs.updatedAt,
      })
      .from(graphs)
      .where(
        pattern === undefined ? undefined : or(like(graphs.name, pattern), like(graphs.description, pattern)),
      )
      .orderBy(desc(graphs.updatedAt))
      .all()
      .map((g) => ({ ...g, updatedAt: g.updatedAt.toISOString() }))
  }

  row(id: string): GraphRow {
    const row = this.db.select().from(graphs).where(eq(graphs.id, id)).get()
    if (row === undefined) throw notFound('graph', id)
    return row
  }

  get(id: string): StoredGraph {
    return toStored(this.row(id))
  }

  create(graph: Graph, userId: string | undefined): StoredGraph {
    const id = randomUUID()
    const now = new Date()
    const document = JSON.stringify(graph)
    this.db.transaction((tx) => {
      tx.insert(graphs)
        .values({
          id,
          name: graph.name,
          description: graph.description ?? '',
          revision: 1,
          document,
          updatedAt: now,
          createdBy: userId,
        })
        .run()
      tx.insert(graphRevisions)
        .values({ graphId: id, revision: 1, document, savedAt: now, savedBy: userId })
        .run()
    })
    return { id, revision: 1, graph, updatedAt: now.toISOString() }
  }

  /** Save a new revision; `revision` must be the latest one (409 otherwise). */
  update(id: string, graph: Graph, revision: number, userId: string | undefined): StoredGraph {
    const now = new Date()
    const document = JSON.stringify(graph)
    return this.db.transaction((tx) => {
      const current = tx.select({ revision: graphs.revision }).from(graphs).where(eq(graphs.id, id)).get()
      if (current === undefined) throw notFound('graph', id)
      if (current.revision !== revision) {
        throw new ApiError(
          409,
          'STALE_REVISION',
          `The graph was saved by someone else since revision ${revision}; the latest is ${current.revision}. Reload it and apply your changes again.`,
          { latestRevision: current.revision },
        )
      }
      const next = revision + 1
      tx.update(graphs)
        .set({
          name: graph.name,
          description: graph.description ?? '',
          revision: next,
          document,
          updatedAt: now,
        })
        .where(and(eq(graphs.id, id), eq(graphs.revision, revision)))
        .run()
      tx.insert(graphRevisions)
        .values({ graphId: id, revision: next, document, savedAt: now, savedBy: userId })
        .run()
      return { id, revision: next, graph, updatedAt: now.toISOString() }
    })
  }

  delete(id: string): void {
    const result = this.db.delete(graphs).where(eq(graphs.id, id)).run()
    if (result.changes === 0) throw notFound('graph', id)
  }

  revisions(id: string) {
    this.row(id)
    return this.db
      .select({
        revision: graphRevisions.revision,
        savedAt: graphRevisions.savedAt,
        savedBy: graphRevisions.savedBy,
      })
      .from(graphRevisions)
      .where(eq(graphRevisions.graphId, id))
      .orderBy(desc(graphRevisions.revision))
      .all()
      .map((r) => ({ revision: r.revision, savedAt: r.savedAt.toISOString() }))
  }

  revision(id: string, revision: number) {
    const row = this.db
      .select()
      .from(graphRevisions)
      .where(and(eq(graphRevisions.graphId, id), eq(graphRevisions.revision, revision)))
      .get()
    if (row === undefined) throw new ApiError(404, 'NOT_FOUND', `Graph "${id}" has no revision ${revision}`)
    return {
      revision: row.revision,
      savedAt: row.savedAt.toISOString(),
      graph: readStoredGraph(row.document, `graph ${id} revision ${revision}`),
    }
  }
}
