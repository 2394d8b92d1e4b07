import type { ConnectionResolver } from './define-node.ts'
import { ConnectorError } from './errors.ts'

/**
 * Resolve a node's `connection` value: an inline object (its `{ "$env": "VAR" }` values read from the
 * environment) or the name of a stored connection, looked up through `named`.
 */
export function createConnectionResolver(
  options: {
    named?: (name: string) => Promise<Record<string, unknown> | undefined>
    env?: Record<string, string | undefined>
    /** Appended to "is not set" errors, e.g. how the server decides which variables graphs may read. */
    envNote?: string
  } = {},
): ConnectionResolver {
  const env = options.env ?? process.env
  const note = options.envNote === undefined ? '' : ` ${options.envNote}`
  return {
    async resolve(ref, { field }) {
      let connection: unknown = ref
      if (typeof ref === 'string') {
        if (options.named === undefined) {
          throw new ConnectorError(
            'CONNECTION_NOT_FOUND',
            `${field}: "${ref}" names a stored connection, but stored connections exist only on the server; give the connection inline`,
            { field },
          )
        }
        connection = await options.named(ref)
        if (connection === undefined) {
          throw new ConnectorError(
            'CONNECTION_NOT_FOUND',
            `${field}: no stored connection is named "${ref}"`,
            { field },
          )
        }
      }
      if (typeof connection !== 'object' || connection === null || Array.isArray(connection)) {
        throw new ConnectorError(
          'CONNECTION_INVALID',
          `${field}: expected a connection object or a stored connection name`,
          { field },
        )
      }
      const resolved: Record<string, unknown> = {}
      for (const [key, value] of Object.entries(connection)) {
        resolved[key] = readEnvRef(value, env, `${field}.${key}`, note)
      }
      return resolved
    },
  }
}

function readEnvRef(
  value: unknown,
  env: Record<string, string | undefined>,
  field: string,
  note: string,
): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && '$env' in value) {
    const name = (value as { $env: unknown }).$env
    if (typeof name !== 'string')
      throw new ConnectorError('CONNECTION_INVALID', `${field}: $env must name a variable`, { field })
    const found = env[name]
    if (found === undefined) {
      throw new ConnectorError('SECRET_MISSING', `${field}: environment variable ${name} is not set${note}`, {
        field,
      })
    }
    return found
  }
  return value
}
