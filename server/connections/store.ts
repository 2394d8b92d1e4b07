import { asc, eq } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import type { Db } from '../db/client.ts'
import { connections, type ConnectionRow } from '../db/schema.ts'
import { ApiError, notFound } from '../http/errors.ts'
import type { SecretBox } from './secret-box.ts'

export interface ConnectionInput {
  name: string
  kind: 'sql' | 'ldap'
  driver?: string | undefined
  settings: Record<string, unknown>
  secrets?: Record<string, string> | undefined
}

export interface ConnectionPatch {
  name?: string | undefined
  kind?: 'sql' | 'ldap' | undefined
  driver?: string | null | undefined
  settings?: Record<string, unknown> | undefined
  /** A string sets a secret, null removes it, a missing key keeps it. */
  secrets?: Record<string, string | null> | undefined
}

/** What the API returns: never a secret value, only which secret fields are set. */
export interface ConnectionView {
  id: string
  name: string
  kind: 'sql' | 'ldap'
  driver?: string
  settings: Record<string, unknown>
  hasSecret: boolean
  secretFields: string[]
  updatedAt: string
}

/** Settings keys that hold secrets; they belong under `secrets`, which is write-only. */
const SECRET_KEY = /pass(word|wd|phrase)?$|secret|token|credential|private.?key|api.?key/i

/** A URL carrying a password in its user info, e.g. `postgres://user:pass@host/db`. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@]*:[^/?#@]*@/i

function checkSettings(settings: Record<string, unknown>): void {
  const bad = Object.entries(settings)
    .filter(([k, v]) => SECRET_KEY.test(k) || (typeof v === 'string' && URL_WITH_PASSWORD.test(v)))
    .map(([k]) => k)
  if (bad.length > 0) {
    throw new ApiError(
      400,
      'SECRET_IN_SETTINGS',
      `Put ${bad.map((k) => `"${k}"`).join(', ')} under "secrets": settings are shown to every user, secrets never are`,
      {
        fields: bad,
      },
    )
  }
}

/** Stored connections; secrets sealed with AES-256-GCM and bound to the connection id. */
export class ConnectionStore {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
  ) {}

  list(): ConnectionView[] {
    return this.db
      .select()
      .from(connections)
      .orderBy(asc(connections.name))
      .all()
      .map((r) => this.view(r))
  }

  get(id: string): ConnectionView {
    return this.view(this.row(id))
  }

  create(input: ConnectionInput): ConnectionView {
    checkSettings(input.settings)
    const id = randomUUID()
    this.unique(input.name)
    const secrets = input.secrets ?? {}
    this.db
      .insert(connections)
      .values({
        id,
        name: input.name,
        kind: input.kind,
        driver: input.driver ?? null,
        settings: JSON.stringify(input.settings),
        secrets: this.seal(id, secrets),
        updatedAt: new Date(),
      })
      .run()
    return this.get(id)
  }

  update(id: string, patch: ConnectionPatch): ConnectionView {
    const row = this.row(id)
    if (patch.settings !== undefined) checkSettings(patch.settings)
    if (patch.name !== undefined && patch.name !== row.name) this.unique(patch.name)
    const secrets = this.secretsOf(row)
    // Pointing the connection elsewhere would send its stored secrets there: give them again.
    const repoints =
      (patch.settings !== undefined && JSON.stringify(patch.settings) !== row.settings) ||
      (patch.driver !== undefined && patch.driver !== row.driver) ||
      (patch.kind !== undefined && patch.kind !== row.kind) ||
      Object.keys(patch.secrets ?? {}).some((k) => !SECRET_KEY.test(k))
    const missing = repoints ? Object.keys(secrets).filter((k) => !(k in (patch.secrets ?? {}))) : []
    if (missing.length > 0)
      throw new ApiError(
        400,
        'SECRETS_REQUIRED',
        `Changing where connection "${row.name}" points needs its secrets again (${missing.map((k) => `"${k}"`).join(', ')}), so they are never sent somewhere their owner did not choose`,
        { fields: missing.sort() },
      )
    for (const [key, value] of Object.entries(patch.secrets ?? {})) {
      if (value === null) delete secrets[key]
      else secrets[key] = value
    }
    this.db
      .update(connections)
      .set({
        name: patch.name ?? row.name,
        kind: patch.kind ?? row.kind,
        driver: patch.driver === undefined ? row.driver : patch.driver,
        settings: patch.settings === undefined ? row.settings : JSON.stringify(patch.settings),
        secrets: this.seal(id, secrets),
        updatedAt: new Date(),
      })
      .where(eq(connections.id, id))
      .run()
    return this.get(id)
  }

  delete(id: string): void {
    if (this.db.delete(connections).where(eq(connections.id, id)).run().changes === 0)
      throw notFound('connection', id)
  }

  /** Settings with secrets, for a run's connection resolver only; never for a response. */
  resolve(name: string): Record<string, unknown> | undefined {
    const row = this.db.select().from(connections).where(eq(connections.name, name)).get()
    return row === undefined ? undefined : this.full(row)
  }

  fullById(id: string): { kind: 'sql' | 'ldap'; settings: Record<string, unknown> } {
    const row = this.row(id)
    return { kind: row.kind, settings: this.full(row) }
  }

  private full(row: ConnectionRow): Record<string, unknown> {
    return {
      ...(row.driver === null ? {} : { driver: row.driver }),
      ...(JSON.parse(row.settings) as Record<string, unknown>),
      ...this.secretsOf(row),
    }
  }

  private row(id: string): ConnectionRow {
    const row = this.db.select().from(connections).where(eq(connections.id, id)).get()
    if (row === undefined) throw notFound('connection', id)
    return row
  }

  private unique(name: string): void {
    if (
      this.db.select({ id: connections.id }).from(connections).where(eq(connections.name, name)).get() !==
      undefined
    ) {
      throw new ApiError(409, 'NAME_TAKEN', `A connection named "${name}" exists already`)
    }
  }

  private seal(id: string, secrets: Record<string, string>): string | null {
    return Object.keys(secrets).length === 0
      ? null
      : this.box.seal(JSON.stringify(secrets), `connection:${id}`)
  }

  private secretsOf(row: ConnectionRow): Record<string, string> {
    return row.secrets === null
      ? {}
      : (JSON.parse(this.box.open(row.secrets, `connection:${row.id}`)) as Record<string, string>)
  }

  private view(row: ConnectionRow): ConnectionView {
    const secretFields = Object.keys(this.secretsOf(row)).sort()
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      ...(row.driver === null ? {} : { driver: row.driver }),
      settings: JSON.parse(row.settings) as Record<string, unknown>,
      hasSecret: secretFields.length > 0,
      secretFields,
      updatedAt: row.updatedAt.toISOString(),
    }
  }
}
