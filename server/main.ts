import { serve, type ServerType } from '@hono/node-server'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../engine/index.ts'
import { createApp } from './app.ts'
import { createServices, type ServerOptions, type Services } from './services.ts'

export { createApp, type AppType } from './app.ts'
export { createServices, type ServerOptions, type Services } from './services.ts'

export interface RunningServer {
  url: string
  port: number
  services: Services
  app: ReturnType<typeof createApp>['app']
  close(): Promise<void>
}

/** Start the HTTP + WebSocket server; `port: 0` picks a free port. */
export async function createServer(
  options: ServerOptions & { port?: number; host?: string },
): Promise<RunningServer> {
  const services = await createServices(options)
  const { app, injectWebSocket } = createApp(services)
  const host = options.host ?? '127.0.0.1'
  let server!: ServerType
  const port = await new Promise<number>((resolve, reject) => {
    server = serve({ fetch: app.fetch, port: options.port ?? 8787, hostname: host }, (info) =>
      resolve(info.port),
    )
    server.once('error', reject)
  })
  injectWebSocket(server)
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    services,
    app,
    async close() {
      await services.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
      })
    },
  }
}

/**
 * `syncgraph serve [--port N] [--host H] [--data-dir D] [--files-dir F]` / `npm start`; the flags
 * override PORT, HOST, DATA_DIR and FILES_DIR; the other settings come from the environment
 * (SYNCGRAPH_MAX_RUNS, _ADMIN_PASSWORD, _SECRET_KEY, _HISTORY_DAYS, _GRAPH_ENV, _WEBHOOK_ALLOW; the
 * README's quick start lists them).
 */
export async function main(
  args: readonly string[] = [],
  processEnv: Record<string, string | undefined> = process.env,
): Promise<RunningServer> {
  const env = { ...processEnv, ...parseFlags(args) }
  const dataDir = env.DATA_DIR ?? './data'
  const editorDir = join(packageRoot, 'dist', 'editor')
  const maxRuns = env.SYNCGRAPH_MAX_RUNS === undefined ? 2 : Number(env.SYNCGRAPH_MAX_RUNS)
  if (!Number.isInteger(maxRuns) || maxRuns < 1)
    throw new Error('SYNCGRAPH_MAX_RUNS must be a whole number of at least 1')
  const port = env.PORT === undefined ? 8787 : Number(env.PORT)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('PORT must be a port number')
  const historyDays =
    env.SYNCGRAPH_HISTORY_DAYS === undefined ? undefined : Number(env.SYNCGRAPH_HISTORY_DAYS)
  if (historyDays !== undefined && (!Number.isInteger(historyDays) || historyDays < 1))
    throw new Error('SYNCGRAPH_HISTORY_DAYS must be a whole number of days, at least 1')
  const server = await createServer({
    port,
    host: env.HOST ?? '127.0.0.1',
    dataDir,
    ...(env.FILES_DIR === undefined ? {} : { filesDir: env.FILES_DIR }),
    maxRuns,
    ...(env.SYNCGRAPH_ADMIN_PASSWORD === undefined ? {} : { adminPassword: env.SYNCGRAPH_ADMIN_PASSWORD }),
    ...(env.SYNCGRAPH_SECRET_KEY === undefined ? {} : { secretKey: env.SYNCGRAPH_SECRET_KEY }),
    ...(env.SYNCGRAPH_GRAPH_ENV === undefined ? {} : { graphEnv: env.SYNCGRAPH_GRAPH_ENV.split(',') }),
    ...(env.SYNCGRAPH_WEBHOOK_ALLOW === undefined
      ? {}
      : { webhookAllow: env.SYNCGRAPH_WEBHOOK_ALLOW.split(',') }),
    ...(historyDays === undefined ? {} : { historyRetentionDays: historyDays }),
    editorDir,
  })
  const log = server.services.log
  if (!existsSync(join(editorDir, 'index.html')))
    log.warn(`the editor is not built (no ${editorDir}); run "npm run build" — serving the API only`)
  log.info(
    `listening on ${server.url} (data in ${server.services.dataDir}, files in ${server.services.filesDir})`,
  )
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info(`${signal}: stopping; runs in flight are marked interrupted`)
    void server.close().then(() => process.exit(0))
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
  return server
}

const FLAGS: Record<string, string> = {
  '--port': 'PORT',
  '--host': 'HOST',
  '--data-dir': 'DATA_DIR',
  '--files-dir': 'FILES_DIR',
}

function parseFlags(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined]
    const name = FLAGS[flag]
    const value = inline ?? args[++i]
    if (name === undefined || value === undefined)
      throw new Error(`syncgraph serve: bad option ${arg}; use ${Object.keys(FLAGS).join(', ')} with a value`)
    out[name] = value
  }
  return out
}
