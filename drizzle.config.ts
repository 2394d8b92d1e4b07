import { defineConfig } from 'drizzle-kit'

/** `npm run db:generate` writes a migration for every change to server/db/schema.ts; commit them. */
export default defineConfig({
  dialect: 'sqlite',
  schema: './server/db/schema.ts',
  out: './server/db/migrations',
})
