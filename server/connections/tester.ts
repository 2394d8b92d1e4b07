import Database from 'better-sqlite3'
import { connect } from 'node:net'
import type { FileResolver } from '../../engine/index.ts'

export interface ConnectionTestResult {
  ok: boolean
  message: string
}

/** Checks a stored connection; the message never contains a setting or a secret value. */
export type ConnectionTester = (connection: {
  kind: 'sql' | 'ldap'
  settings: Record<string, unknown>
}) => Promise<ConnectionTestResult>

const DEFAULT_PORTS: Record<string, number> = {
  postgres: 5432,
  mysql: 3306,
  mssql: 1433,
  oracle: 1521,
  ldap: 389,
  ldaps: 636,
}

/**
 * The built-in test: a SQLite file is opened read-only and queried; other databases and directories
 * are checked for TCP reachability (credentials are checked by the first run).
 */
export function createConnectionTester(files: FileResolver): ConnectionTester {
  return async ({ kind, settings }) => {
    if (kind === 'sql' && settings.driver === 'sqlite') {
      const file = settings.path ?? settings.filename
      if (typeof file !== 'string')
        return {
          ok: false,
          message: 'a sqlite connection needs "path" (the database file in the files folder)',
        }
      try {
        const db = new Database(await files.resolve(file, { mode: 'read', field: 'path' }), {
          readonly: true,
          fileMustExist: true,
        })
        try {
          db.prepare('select 1').get()
        } finally {
          db.close()
        }
        return { ok: true, message: 'opened the SQLite database' }
      } catch (error) {
        return {
          ok: false,
          message: `cannot open the SQLite database (${(error as { code?: string }).code ?? 'error'})`,
        }
      }
    }
    let host = typeof settings.host === 'string' ? settings.host : undefined
    let port = typeof settings.port === 'number' ? settings.port : Number(settings.port) || undefined
    if (kind === 'ldap' && typeof settings.url === 'string') {
      try {
        const url = new URL(settings.url)
        host = url.hostname
        port = Number(url.port) || DEFAULT_PORTS[url.protocol.replace(':', '')]
      } catch {
        return { ok: false, message: '"url" is not a valid ldap:// or ldaps:// URL' }
      }
    }
    port ??= DEFAULT_PORTS[String(settings.driver ?? kind)]
    if (host === undefined || port === undefined)
      return { ok: false, message: 'the connection needs a host and port (or url)' }
    return new Promise((resolve) => {
      const socket = connect({ host, port, timeout: 5000 })
      const done = (result: ConnectionTestResult) => {
        socket.destroy()
        resolve(result)
      }
      socket.once('connect', () =>
        done({ ok: true, message: `reached ${host}:${port} (credentials are checked by the first run)` }),
      )
      socket.once('timeout', () => done({ ok: false, message: `no answer from ${host}:${port} within 5 s` }))
      socket.once('error', (error: NodeJS.ErrnoException) =>
        done({ ok: false, message: `cannot reach ${host}:${port} (${error.code ?? 'error'})` }),
      )
    })
  }
}
