import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, relative, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { z } from 'zod'
import type { FileResolver } from '../../engine/index.ts'
import type { AppEnv } from '../http/env.ts'
import { assertPermission } from '../auth/permissions.ts'
import { ApiError } from '../http/errors.ts'
import type { RouteDoc } from '../openapi/document.ts'

const fileEntry = z.object({ name: z.string(), size: z.number(), modifiedAt: z.string() })

export const fileDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/files',
    summary: 'Files in the files folder (paths relative to it)',
    response: z.object({ files: z.array(fileEntry) }),
  },
  {
    method: 'put',
    path: '/api/files/:name',
    summary: 'Upload a file (raw body); the name may contain / for subfolders',
    rawBody: 'application/octet-stream',
    response: fileEntry,
  },
  {
    method: 'get',
    path: '/api/files/:name',
    summary: 'Download a file',
    rawResponse: 'application/octet-stream',
  },
  {
    method: 'delete',
    path: '/api/files/:name',
    summary: 'Delete a file',
    response: z.object({ ok: z.boolean() }),
  },
]

/** Upload, download and list files inside FILES_DIR; every name goes through the same resolver as node paths. */
export function fileRoutes(options: { filesDir: string; files: FileResolver; maxUploadBytes: number }) {
  const { filesDir, files } = options
  const resolve = async (name: string, mode: 'read' | 'write') => {
    if (name === '' || name.includes('\0')) throw new ApiError(400, 'INVALID_NAME', 'Give a file name')
    return files.resolve(name, { mode, field: 'file name' })
  }
  return new Hono<AppEnv>()
    .get('/', async (c) => c.json({ files: await listFiles(filesDir) }))
    .put(
      '/:name{.+}',
      bodyLimit({
        maxSize: options.maxUploadBytes,
        onError: () => {
          throw new ApiError(413, 'TOO_LARGE', `Uploads are limited to ${options.maxUploadBytes} bytes`)
        },
      }),
      async (c) => {
        const name = c.req.param('name')
        const path = await resolve(name, 'write')
        if (path === filesDir || (await stat(path).catch(() => undefined))?.isDirectory()) {
          throw new ApiError(400, 'INVALID_NAME', `"${name}" is a folder`)
        }
        await mkdir(dirname(path), { recursive: true })
        // The resolver checked the folder; check again now that it exists, then write beside the target and rename.
        await resolve(name, 'write')
        const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.upload`)
        try {
          const body = c.req.raw.body
          const source = body === null ? Readable.from([]) : Readable.fromWeb(body as WebReadableStream)
          await pipeline(source, createWriteStream(temp, { flags: 'wx', mode: 0o640 }))
          await rename(temp, path)
        } catch (error) {
          await rm(temp, { force: true })
          throw error
        }
        const info = await stat(path)
        return c.json({
          name: relative(filesDir, path).split(sep).join('/'),
          size: info.size,
          modifiedAt: info.mtime.toISOString(),
        })
      },
    )
    .get('/:name{.+}', async (c) => {
      const name = c.req.param('name')
      const path = await resolve(name, 'read')
      const info = await stat(path).catch(() => undefined)
      if (info === undefined) throw new ApiError(404, 'NOT_FOUND', `No file "${name}" in the files folder`)
      if (!info.isFile()) throw new ApiError(400, 'INVALID_NAME', `"${name}" is not a file`)
      // A file only its owner may read (mode 0600: an LDAP sync's generated passwords) is not shared.
      if (process.platform !== 'win32' && (info.mode & 0o077) === 0)
        assertPermission(c.get('user'), 'manage-users', 'Downloading a file only its owner may read')
      const stream = Readable.toWeb(createReadStream(path)) as ReadableStream
      return c.body(stream, 200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(info.size),
        'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(basename(path))}`,
      })
    })
    .delete('/:name{.+}', async (c) => {
      const name = c.req.param('name')
      const path = await resolve(name, 'write')
      const info = await stat(path).catch(() => undefined)
      if (info === undefined || !info.isFile())
        throw new ApiError(404, 'NOT_FOUND', `No file "${name}" in the files folder`)
      await rm(path)
      return c.json({ ok: true })
    })
}

/** Regular files under `root`, recursively; symlinks and upload leftovers are not listed. */
async function listFiles(root: string): Promise<z.infer<typeof fileEntry>[]> {
  const out: z.infer<typeof fileEntry>[] = []
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile() && !entry.name.endsWith('.upload')) {
        const info = await stat(path)
        out.push({
          name: relative(root, path).split(sep).join('/'),
          size: info.size,
          modifiedAt: info.mtime.toISOString(),
        })
      }
    }
  }
  await walk(root)
  return out.sort((a, b) => a.name.localeCompare(b.name))
}
