import { z } from 'zod'
import { ConnectorError, defineNode, rows, type NodeIssue, type Row } from '../engine/index.ts'
import { LdapConnection, ldapConnectionField, resolveLdapSettings } from './ldap/connection.ts'
import { filterProblem, wrapFilter } from './ldap/filter.ts'

/** Read directory entries with a paged search; each entry is a row with its `dn`. */
export const ldapRead = defineNode({
  type: 'ldap.read',
  version: 1,
  title: 'LDAP read',
  category: 'source',
  description:
    'Searches an LDAP directory (OpenLDAP, Active Directory…) with RFC 2696 paged results. Each entry becomes a row with its "dn"; multi-valued attributes are arrays, single-valued ones scalars; binary values are text (objectGUID as a GUID, objectSid as S-1-…, others base64).',
  inputs: {},
  outputs: { out: rows({ title: 'Entries' }) },
  config: z
    .object({
      connection: ldapConnectionField(),
      base: z.string().meta({ title: 'Search base', description: 'e.g. ou=People,dc=example,dc=com' }),
      scope: z.enum(['base', 'one', 'sub']).default('sub').meta({ title: 'Scope' }),
      filter: z
        .string()
        .default('(objectClass=*)')
        .meta({ title: 'Filter', description: 'An RFC 4515 filter, e.g. (&(objectClass=person)(mail=*))' }),
      attributes: z
        .array(z.string().min(1))
        .default([])
        .meta({ title: 'Attributes', description: 'Empty reads all user attributes' }),
      pageSize: z
        .number()
        .int()
        .min(0)
        .max(100_000)
        .default(1000)
        .meta({ title: 'Page size', description: '0 sends one unpaged search', 'x-ui': { advanced: true } }),
    })
    .strict(),
  infer: ({ config }) => ({
    issues: filterIssues(config.filter),
    outputs: {
      out:
        config.attributes.length === 0 || config.attributes.some((a) => a === '*' || a === '+')
          ? undefined
          : ['dn', ...config.attributes],
    },
  }),
  async setup(ctx) {
    const problem = filterProblem(wrapFilter(ctx.config.filter))
    if (problem !== undefined) {
      throw new ConnectorError('INVALID_FILTER', `not an LDAP filter: ${problem}`, {
        nodeId: ctx.nodeId,
        field: 'filter',
      })
    }
    const settings = await resolveLdapSettings(ctx, ctx.config.connection)
    const connection = await LdapConnection.open(settings, { nodeId: ctx.nodeId, field: 'connection' })
    ctx.onCleanup(() => connection.close())
    return connection
  },
  async *run({ state: connection, config, settings, signal }) {
    let pending: Row[] = []
    for await (const page of connection.search({
      base: config.base,
      scope: config.scope,
      filter: wrapFilter(config.filter),
      attributes: config.attributes,
      pageSize: config.pageSize,
    })) {
      signal.throwIfAborted()
      pending.push(...page)
      while (pending.length >= settings.batchSize) {
        yield { out: pending.slice(0, settings.batchSize) }
        pending = pending.slice(settings.batchSize)
      }
    }
    if (pending.length > 0) yield { out: pending }
  },
})

/** A validation issue for a filter that does not parse. */
export function filterIssues(filter: string | undefined, path = '$.filter'): NodeIssue[] {
  const problem = filterProblem(wrapFilter(filter))
  return problem === undefined
    ? []
    : [{ code: 'INVALID_FILTER', severity: 'error', path, message: `not an LDAP filter: ${problem}` }]
}
