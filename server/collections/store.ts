import { asc, desc, eq } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { Db } from '../db/client.ts'
import { collections, collectionTemplates, type CollectionRow } from '../db/schema.ts'
import { ApiError, notFound } from '../http/errors.ts'
import type { GraphStore } from '../graphs/store.ts'
import { scheduleSpec } from '../schedules/spec.ts'

export const collectionStep = z
  .object({
    graphId: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}).describe('Parameter values for this graph'),
    onFailure: z
      .enum(['abort', 'continue'])
      .default('abort')
      .describe('When this step fails: stop the collection, or go on with the next step'),
  })
  .strict()
export type CollectionStep = z.infer<typeof collectionStep>

export const collectionBody = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    steps: z.array(collectionStep).min(1).max(200),
  })
  .strict()
export type CollectionInput = z.infer<typeof collectionBody>

export const collectionTemplateBody = z
  .object({
    name: z.string().min(1).max(200),
    description: z.string().max(2000).optional(),
    steps: z.array(collectionStep).min(1).max(200),
    schedule: scheduleSpec.optional(),
  })
  .strict()

export interface CollectionView {
  id: string
  name: string
  description: string
  steps: (CollectionStep & { graphName: string | null })[]
  updatedAt: string
}

/** Collections (ordered graph steps) and collection templates. */
export class CollectionStore {
  constructor(
    private readonly db: Db,
    private readonly graphs: GraphStore,
  ) {}

  list(): CollectionView[] {
    return this.db
      .select()
      .from(collections)
      .orderBy(asc(collections.name))
      .all()
      .map((r) => this.view(r))
  }

  get(id: string): CollectionView {
    return this.view(this.row(id))
  }

  row(id: string): CollectionRow {
    const row = this.db.select().from(collections).where(eq(collections.id, id)).get()
    if (row === undefined) throw notFound('collection', id)
    return row
  }

  steps(row: CollectionRow): CollectionStep[] {
    return z.array(collectionStep).parse(JSON.parse(row.steps))
  }

  create(input: CollectionInput, userId: string | undefined): CollectionView {
    this.checkGraphs(input.steps)
    const id = randomUUID()
    this.db
      .insert(collections)
      .values({
        id,
        name: input.name,
        description: input.description ?? '',
        steps: JSON.stringify(input.steps),
        updatedAt: new Date(),
        createdBy: userId,
      })
      .run()
    return this.get(id)
  }

  update(id: string, input: CollectionInput): CollectionView {
    this.row(id)
    this.checkGraphs(input.steps)
    this.db
      .update(collections)
      .set({
        name: input.name,
        description: input.description ?? '',
        steps: JSON.stringify(input.steps),
        updatedAt: new Date(),
      })
      .where(eq(collections.id, id))
      .run()
    return this.get(id)
  }

  delete(id: string): void {
    if (this.db.delete(collections).where(eq(collections.id, id)).run().changes === 0)
      throw notFound('collection', id)
  }

  createTemplate(input: z.infer<typeof collectionTemplateBody>, userId: string | undefined): string {
    this.checkGraphs(input.steps)
    const id = randomUUID()
    this.db
      .insert(collectionTemplates)
      .values({
        id,
        name: input.name,
        description: input.description ?? '',
        steps: JSON.stringify(input.steps),
        schedule: input.schedule === undefined ? null : JSON.stringify(input.schedule),
        createdBy: userId,
      })
      .run()
    return id
  }

  listTemplates() {
    return this.db
      .select()
      .from(collectionTemplates)
      .orderBy(desc(collectionTemplates.createdAt))
      .all()
      .map((t) => this.templateView(t))
  }

  template(id: string) {
    const row = this.db.select().from(collectionTemplates).where(eq(collectionTemplates.id, id)).get()
    if (row === undefined) throw notFound('collection template', id)
    return this.templateView(row)
  }

  deleteTemplate(id: string): void {
    if (this.db.delete(collectionTemplates).where(eq(collectionTemplates.id, id)).run().changes === 0)
      throw notFound('collection template', id)
  }

  private templateView(row: typeof collectionTemplates.$inferSelect) {
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      steps: z.array(collectionStep).parse(JSON.parse(row.steps)),
      schedule: row.schedule === null ? null : scheduleSpec.parse(JSON.parse(row.schedule)),
    }
  }

  private checkGraphs(steps: CollectionStep[]): void {
    const missing = steps.filter((s) => !this.graphExists(s.graphId)).map((s) => s.graphId)
    if (missing.length > 0)
      throw new ApiError(
        400,
        'UNKNOWN_GRAPH',
        `No graph with id ${missing.map((m) => `"${m}"`).join(', ')}`,
        {
          graphIds: missing,
        },
      )
  }

  private graphExists(id: string): boolean {
    try {
      this.graphs.row(id)
      return true
    } catch {
      return false
    }
  }

  private graphName(id: string): string | null {
    try {
      return this.graphs.row(id).name
    } catch {
      return null
    }
  }

  private view(row: CollectionRow): CollectionView {
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      steps: this.steps(row).map((s) => ({ ...s, graphName: this.graphName(s.graphId) })),
      updatedAt: row.updatedAt.toISOString(),
    }
  }
}
