import { expect, it } from 'vitest'
import type { Row, RunSummary } from '../../engine/index.ts'
import type { SqlConnector } from '../../nodes/sql/types.ts'
import { firstError, runTest, type TestGraph } from '../../nodes/test-kit.ts'
import { tempDir } from '../helpers.ts'
import { uniqueTable, type Connection } from './services.ts'

/**
 * What sql.sync must do on every driver (issue 12): write the key's target columns on create whatever
 * the column flow lists, so a re-run changes nothing; count each object's outcome; and send failed
 * writes through onRowError. `db` is the suite's own connector for setup and checks.
 */
export function sqlSyncSuite(options: {
  connection: Connection
  db: () => SqlConnector
  dropped: string[]
}): void {
  const { connection } = options
  const q = (name: string) => options.db().dialect.quoteIdent(name)
  /** A table without a primary key: rows are known by the match key alone, as in the issue. */
  const table = async (prefix: string, notNullName = false) => {
    const t = uniqueTable(prefix)
    await options
      .db()
      .execute(
        `CREATE TABLE ${q(t)} (${q('employee_id')} VARCHAR(20), ${q('company')} VARCHAR(20), ${q('name')} VARCHAR(100)${notNullName ? ' NOT NULL' : ''})`,
      )
    options.dropped.push(t)
    return t
  }
  const contents = async (t: string): Promise<string[]> => {
    const out: string[] = []
    const sql = `SELECT ${['employee_id', 'company', 'name'].map(q).join(', ')} FROM ${q(t)}`
    for await (const batch of options.db().query(sql, [], 1000, new AbortController().signal)) {
      for (const r of batch)
        out.push([r.employee_id, r.company, r.name].map((v) => String(v ?? '-')).join(' '))
    }
    return out.sort()
  }
  const sync = async (
    config: Record<string, unknown>,
    rows: Row[],
    onRowError?: 'fail' | 'skip' | 'route',
  ): Promise<{ summary: RunSummary; results: Row[]; rejected: Row[]; error: string }> => {
    const graph: TestGraph = {
      nodes: [
        { id: 'src', type: 'test.values', config: { rows } },
        { id: 'sync', type: 'sql.sync', config: { connection, ...config } },
        { id: 'out', type: 'test.collect' },
        ...(onRowError === 'route' ? [{ id: 'bad', type: 'test.collect' }] : []),
      ],
      edges: [
        { from: 'src', to: 'sync' },
        { from: 'sync', fromPort: 'results', to: 'out' },
        ...(onRowError === 'route' ? [{ from: 'sync', fromPort: 'rejected', to: 'bad' }] : []),
      ],
      ...(onRowError === undefined ? {} : { settings: { onRowError } }),
    }
    const { summary, rows: got } = await runTest(graph, await tempDir())
    return { summary, results: got('out'), rejected: got('bad'), error: firstError(summary) }
  }
  const staff = [
    { id: 'e1', co: 'ACME', name: 'Ann' },
    { id: 'e2', co: 'ACME', name: 'Bob' },
    { id: 'e1', co: 'INITECH', name: 'Ann I' },
  ]

  it('sql.sync writes the key column on create whatever the columns list; a re-run changes nothing', async () => {
    const t = await table('synckey')
    const config = { table: t, key: [{ source: 'id', target: 'employee_id' }], columns: { name: 'name' } }
    const rows = staff.slice(0, 2)
    const planned = await sync({ ...config, mode: 'plan' }, rows)
    expect(planned.results.map((r) => r.after)).toEqual([
      { name: ['Ann'], employee_id: ['e1'] },
      { name: ['Bob'], employee_id: ['e2'] },
    ])
    for (let run = 1; run <= 3; run++) {
      const { summary, error } = await sync(config, rows)
      expect(error).toBe('no error (status succeeded)')
      expect(summary.nodes.sync!.outcomes).toEqual(run === 1 ? { created: 2 } : { unchanged: 2 })
    }
    expect(await contents(t)).toEqual(['e1 - Ann', 'e2 - Bob'])
  })

  it('sql.sync writes every column of a composite key with other names; a re-run changes nothing', async () => {
    const t = await table('synccomp')
    const config = {
      table: t,
      key: [
        { source: 'id', target: 'employee_id' },
        { source: 'co', target: 'company' },
      ],
      columns: { name: 'name' },
    }
    const first = await sync(config, staff)
    expect(first.summary.nodes.sync!.outcomes).toEqual({ created: 3 })
    const again = await sync(config, [...staff].reverse())
    expect(again.summary.nodes.sync!.outcomes).toEqual({ unchanged: 3 })
    expect(await contents(t)).toEqual(['e1 ACME Ann', 'e1 INITECH Ann I', 'e2 ACME Bob'])
  })

  it('sql.sync sends failed writes through onRowError: route, skip, and fail once the batch settles', async () => {
    const t = await table('syncerr', true)
    const config = { table: t, key: [{ source: 'id', target: 'employee_id' }], columns: { name: 'name' } }
    const bad = { id: 'e9', name: null }
    const routed = await sync(config, [staff[0]!, bad], 'route')
    expect(routed.summary.status).toBe('succeeded')
    expect(routed.summary.nodes.sync).toMatchObject({ rowsRejected: 1, outcomes: { created: 1, failed: 1 } })
    expect(routed.rejected).toEqual([
      {
        ...bad,
        _error: {
          code: 'SQL_CONSTRAINT',
          message: expect.stringMatching(/^create with key \{"id":"e9"\}: /),
        },
      },
    ])
    expect(routed.results.map((r) => r.outcome)).toEqual(['applied', 'failed'])

    const skipped = await sync(config, [staff[0]!, bad, staff[1]!], 'skip')
    expect(skipped.summary.status).toBe('succeeded')
    expect(skipped.summary.nodes.sync!.outcomes).toEqual({ unchanged: 1, created: 1, failed: 1 })

    // fail (the default): the run fails naming the row; what was written before it is committed and
    // reported, nothing after it is started.
    const failed = await sync(config, [{ id: 'e3', name: 'Cid' }, bad, { id: 'e4', name: 'Dee' }])
    expect(failed.summary.status).toBe('failed')
    expect(failed.summary.errors[0]).toMatchObject({ code: 'SQL_CONSTRAINT', nodeId: 'sync', row: 2 })
    expect(failed.error).toMatch(
      /^Node "sync" \(sql\.sync\) row 2: create with key \{"id":"e9"\}: .*; no write started after the first failure$/,
    )
    expect(failed.summary.nodes.sync!.outcomes).toEqual({ created: 1, failed: 1 })
    expect(failed.results.map((r) => [r.key, r.outcome])).toEqual([
      [{ id: 'e3' }, 'applied'],
      [{ id: 'e9' }, 'failed'],
    ])
    expect(await contents(t)).toEqual(['e1 - Ann', 'e2 - Bob', 'e3 - Cid'])
  })
}
