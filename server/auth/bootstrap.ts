import { randomUUID } from 'node:crypto'
import type { Db } from '../db/client.ts'
import { users } from '../db/schema.ts'
import { generatePassword, hashPassword, type PasswordCost } from './passwords.ts'

/**
 * On first start (no users yet) create `admin` with the given password, or a generated one that the
 * caller prints once. Returns the generated password, if any.
 */
export async function ensureAdmin(
  db: Db,
  password: string | undefined,
  cost: PasswordCost,
): Promise<string | undefined> {
  if (db.select({ id: users.id }).from(users).limit(1).get() !== undefined) return undefined
  const chosen = password === undefined || password === '' ? generatePassword() : password
  db.insert(users)
    .values({
      id: randomUUID(),
      username: 'admin',
      passwordHash: await hashPassword(chosen, cost),
      role: 'admin',
    })
    .run()
  return chosen === password ? undefined : chosen
}
