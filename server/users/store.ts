import { and, asc, eq, ne } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { hashPassword, type PasswordCost } from '../auth/passwords.ts'
import { permissionsOf } from '../auth/permissions.ts'
import type { Db } from '../db/client.ts'
import { sessions, users, type UserRow } from '../db/schema.ts'
import { ROLES } from '../http/env.ts'
import { ApiError, notFound } from '../http/errors.ts'

const password = z.string().min(12, 'use at least 12 characters').max(1000)

export const createUserBody = z
  .object({
    username: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\s]+$/, 'no spaces'),
    password,
    role: z.enum(ROLES),
  })
  .strict()
export const updateUserBody = z
  .object({
    role: z.enum(ROLES).optional(),
    disabled: z.boolean().optional().describe('A disabled user cannot sign in; their sessions end at once'),
  })
  .strict()
export const resetPasswordBody = z.object({ password }).strict()

export const userView = z.object({
  id: z.string(),
  username: z.string(),
  role: z.enum(ROLES),
  disabled: z.boolean(),
  permissions: z.array(z.string()),
  createdAt: z.string(),
  passwordChangedAt: z.string().nullable(),
})
export type UserView = z.infer<typeof userView>

const viewOf = (row: UserRow): UserView => ({
  id: row.id,
  username: row.username,
  role: row.role,
  disabled: row.disabled,
  permissions: permissionsOf(row),
  createdAt: row.createdAt.toISOString(),
  passwordChangedAt: row.passwordChangedAt?.toISOString() ?? null,
})

const lastAdmin = () =>
  new ApiError(
    409,
    'LAST_ADMIN',
    'This is the last enabled admin: make another user an admin first, so someone can still manage users',
  )

/** Users as admins manage them (issue 8 point 5). Password hashes never leave this module. */
export class UserStore {
  constructor(
    private readonly db: Db,
    private readonly cost: PasswordCost,
  ) {}

  list(): UserView[] {
    return this.db.select().from(users).orderBy(asc(users.username)).all().map(viewOf)
  }

  get(id: string): UserView {
    return viewOf(this.row(id))
  }

  async create(input: z.infer<typeof createUserBody>): Promise<UserView> {
    const passwordHash = await hashPassword(input.password, this.cost)
    const id = randomUUID()
    try {
      this.db.insert(users).values({ id, username: input.username, role: input.role, passwordHash }).run()
    } catch (error) {
      if (/UNIQUE/.test((error as Error).message))
        throw new ApiError(409, 'USERNAME_TAKEN', `There is already a user "${input.username}"`)
      throw error
    }
    return this.get(id)
  }

  /** Change role and/or disabled; the last enabled admin stays an enabled admin. Disabling ends the user's sessions. */
  update(id: string, change: z.infer<typeof updateUserBody>): UserView {
    this.db.transaction((tx) => {
      const row = tx.select().from(users).where(eq(users.id, id)).get()
      if (row === undefined) throw notFound('user', id)
      const role = change.role ?? row.role
      const disabled = change.disabled ?? row.disabled
      if (row.role === 'admin' && !row.disabled && (role !== 'admin' || disabled)) this.keepAnAdmin(tx, id)
      tx.update(users).set({ role, disabled }).where(eq(users.id, id)).run()
      if (disabled && !row.disabled) tx.delete(sessions).where(eq(sessions.userId, id)).run()
    })
    return this.get(id)
  }

  /** Set a new password (an admin's reset); the user's sessions end. */
  async resetPassword(id: string, newPassword: string): Promise<void> {
    this.row(id)
    const passwordHash = await hashPassword(newPassword, this.cost)
    this.db.transaction((tx) => {
      tx.update(users).set({ passwordHash, passwordChangedAt: new Date() }).where(eq(users.id, id)).run()
      tx.delete(sessions).where(eq(sessions.userId, id)).run()
    })
  }

  /** Delete a user (their sessions go with them); what they created stays, visible to roles with view-any. */
  delete(id: string): void {
    this.db.transaction((tx) => {
      const row = tx.select().from(users).where(eq(users.id, id)).get()
      if (row === undefined) throw notFound('user', id)
      if (row.role === 'admin' && !row.disabled) this.keepAnAdmin(tx, id)
      tx.delete(users).where(eq(users.id, id)).run()
    })
  }

  private keepAnAdmin(tx: Pick<Db, 'select'>, exceptId: string): void {
    const other = tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.role, 'admin'), eq(users.disabled, false), ne(users.id, exceptId)))
      .get()
    if (other === undefined) throw lastAdmin()
  }

  private row(id: string): UserRow {
    const row = this.db.select().from(users).where(eq(users.id, id)).get()
    if (row === undefined) throw notFound('user', id)
    return row
  }
}
