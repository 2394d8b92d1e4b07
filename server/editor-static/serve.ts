import { serveStatic } from '@hono/node-server/serve-static'
import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { Env, Hono } from 'hono'

/** Serve the built editor from `dir`, answering unknown non-API paths with its index.html (SPA routing). */
export function serveEditor<E extends Env>(app: Hono<E>, dir: string): boolean {
  const index = join(dir, 'index.html')
  if (!existsSync(index)) return false
  const root = relative(process.cwd(), dir) || '.'
  const html = readFileSync(index, 'utf8')
  app.use('*', async (c, next) => {
    if (c.req.path.startsWith('/api/') || c.req.path === '/api') return next()
    return serveStatic({ root })(c, next)
  })
  app.get('*', (c) => (c.req.path.startsWith('/api') ? c.notFound() : c.html(html)))
  return true
}
