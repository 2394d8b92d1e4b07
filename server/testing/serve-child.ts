import { createServer } from '../main.ts'
import { testOptions } from './options.ts'

/**
 * A test server in its own process (restart tests, the WebSocket benchmark): prints its URL, then
 * serves until killed; on SIGUSR2 it prints `hub <stats as JSON>`. argv: dataDir [progressIntervalMs].
 */
const progress = process.argv[3] === undefined ? {} : { progressIntervalMs: Number(process.argv[3]) }
const server = await createServer({ ...testOptions(process.argv[2]!, progress), port: 0 })
process.stdout.write(`${server.url}\n`)
process.on('SIGUSR2', () => process.stdout.write(`hub ${JSON.stringify(server.services.hub.stats)}\n`))
