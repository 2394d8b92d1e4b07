import { defineNode, results, rows, type NodeIssue, type Row } from '../engine/index.ts'
import { plannedRows, reportApplied } from '../engine/sync/index.ts'
import {
  applyLdapSync,
  ldapSyncConfig,
  ldapSyncDriver,
  openWritePool,
  parentProblem,
  planLdapSync,
  readLdapScope,
  thresholdError,
  type PasswordRow,
} from './ldap/sync-driver.ts'
import { filterIssues } from './ldap-read.node.ts'

export { ldapSyncDriver }

/** Make a directory scope look like the input rows: create, update, rename/move, de-provision; plan first. */
export const ldapSync = defineNode({
  type: 'ldap.sync',
  version: 1,
  title: 'LDAP sync',
  category: 'sync',
  description:
    'Provisions, updates and de-provisions directory objects within a scope (base + filter) from the input rows. It reads the scope once, correlates by key (two or more matches are reported as ambiguous and never written), computes a plan with the smallest changes, checks maxDeletes / maxDeletePercent on it, then applies it over a few pipelined connections. The plan already fails what the directory would refuse where it can know it: a create missing an attribute its object classes require (from the subschema; not on Active Directory), a DN an entry already has or two rows would get, a missing container, and any DN outside `base` (also from `dn.parentFrom` or a DN expression). Every object ends as one outcome (created, updated, renamed, deleted, disabled, unchanged, failed), counted in the run; a failed one follows onRowError: fail (the default) fails the run — before any write when the plan knows, else once the writes in flight settle — skip counts it, route sends its source row with `_error` to "rejected". In plan mode it only emits the plan. One row per object on "results".',
  inputs: { in: rows({ title: 'Source rows' }) },
  outputs: {
    results: results({ title: 'Results' }),
    passwords: rows({ title: 'Generated passwords' }),
  },
  config: ldapSyncConfig,
  rowErrors: true,
  holdsData: 'every input row, to correlate them with the directory scope',
  infer: ({ config, inputs }) => {
    const issues: NodeIssue[] = filterIssues(config.filter)
    if (config.create && config.dn === undefined) {
      issues.push({
        code: 'CONFIG_INVALID',
        severity: 'error',
        path: '$.dn',
        message: 'creating objects needs dn',
      })
    }
    const outside = parentProblem(config)
    if (outside !== undefined) {
      issues.push({ code: 'CONFIG_INVALID', severity: 'error', path: '$.dn.parent', message: outside })
    }
    if (config.create && config.objectClass.length === 0) {
      issues.push({
        code: 'CONFIG_INVALID',
        severity: 'error',
        path: '$.objectClass',
        message: 'creating objects needs at least one object class',
      })
    }
    const known = inputs.in
    if (known !== undefined) {
      const fields = [
        ...config.key.map((k, i) => ({ field: k.source, path: `$.key[${i}].source` })),
        ...(config.dn === undefined || 'expression' in config.dn
          ? []
          : [{ field: config.dn.from ?? config.dn.rdn, path: '$.dn.from' }]),
        ...Object.entries(config.attributes).map(([a, r]) => ({
          field: typeof r === 'string' ? r : (r.source ?? a),
          path: `$.attributes.${a}`,
        })),
      ]
      for (const { field, path } of fields) {
        if (!known.includes(field)) {
          issues.push({
            code: 'UNKNOWN_COLUMN',
            severity: 'warning',
            path,
            message: `"${field}" is not among the input columns (${known.join(', ')})`,
          })
        }
      }
    }
    return {
      issues,
      outputs: {
        results: ['key', 'dn', 'newDn', 'action', 'changed', 'outcome', 'error'],
        passwords: ['key', 'dn', 'password'],
      },
    }
  },
  async *run(ctx) {
    const { config, inputs, nodeId } = ctx
    // Read the scope, and open the write connections, while the input rows arrive.
    const scope = readLdapScope({ ...ctx, config })
    scope.catch(() => undefined)
    const pool = config.mode === 'apply' ? openWritePool({ ...ctx, config }) : undefined
    pool?.catch(() => undefined)
    try {
      const held: Row[] = []
      for await (const batch of inputs.in!) for (const row of batch) held.push(row)
      const plan = await planLdapSync({ ...ctx, config, rows: held, scope })
      if (config.mode === 'plan') {
        const out = plannedRows(plan, { detail: true })
        for (let i = 0; i < out.length; i += ctx.settings.batchSize)
          yield { results: out.slice(i, i + ctx.settings.batchSize) }
        return
      }
      if (plan.thresholds.exceeded) throw thresholdError(plan, nodeId)
      const stats = { writes: 0 }
      const passwords: PasswordRow[] = []
      const onPassword = (row: PasswordRow) => passwords.push(row)
      const halt = ctx.settings.onRowError === 'fail'
      const applied = applyLdapSync({ ...ctx, config, plan, stats, onPassword, pool, halt })
      for await (const chunk of reportApplied(ctx, plan, held, applied, stats)) {
        yield passwords.length === 0 ? { results: chunk } : { results: chunk, passwords: passwords.splice(0) }
      }
    } finally {
      await pool?.then(
        (p) => p.close(),
        () => undefined,
      )
    }
  },
})
