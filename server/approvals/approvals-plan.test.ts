import type { Client } from 'ldapts'
import { beforeAll, expect, it } from 'vitest'
import { describeWithSlapd } from '../../test/ldap/slapd.ts'
import { json } from '../collections/test-helpers.ts'
import type { PlanView } from '../runs/plans.ts'
import { testApp, waitForRun, type TestApp } from '../testing/harness.ts'
import { peopleFixture } from '../testing/directory-fixture.ts'
import { addUser, errorOf } from './test-helpers.ts'

const { PEOPLE, person, syncGraph } = peopleFixture('Approval', 'a', 'appr')

const graph = (rows: Record<string, unknown>[]) => syncGraph('HR to directory (approved)', rows)

type Approval = {
  id: string
  status: string
  planRunId: string | null
  runId: string | null
  trigger: string
}

describeWithSlapd('approvals with plan mode (real slapd)', (server) => {
  let client: Client

  /** uid → title of every entry in scope. */
  const directory = async (): Promise<Record<string, string>> => {
    const { searchEntries } = await client.search(PEOPLE, {
      scope: 'one',
      filter: '(objectClass=inetOrgPerson)',
      attributes: ['uid', 'title'],
    })
    return Object.fromEntries(searchEntries.map((e) => [String(e.uid), String(e.title)]))
  }

  beforeAll(async () => {
    client = await server().client()
    await client.add(PEOPLE, { objectClass: ['organizationalUnit'], ou: 'ApprovalPeople' })
    return () => client.unbind()
  })

  async function fresh(): Promise<{ t: TestApp; graphId: string }> {
    const { searchEntries } = await client.search(PEOPLE, { scope: 'one', attributes: ['dn'] })
    for (const e of searchEntries) await client.del(e.dn)
    for (const [n, title] of [
      [1, 'Staff'],
      [2, 'Staff'],
      [9, 'Leaver'],
    ] as const) {
      const p = person(n, title)
      await client.add(`uid=${p.uid},${PEOPLE}`, { objectClass: ['inetOrgPerson'], ...p })
    }
    const t = await testApp()
    await t.call('POST', '/api/connections', {
      name: 'directory',
      kind: 'ldap',
      settings: { url: server().url, bindDN: server().rootDn },
      secrets: { password: server().rootPw },
    })
    const { id: graphId } = await json<{ id: string }>(
      t.call('POST', '/api/graphs', { graph: graph([person(1, 'Manager'), person(2), person(3)]) }),
    )
    return { t, graphId }
  }

  it('a plan-mode request shows the approver the plan; approving applies exactly that plan', async () => {
    const { t, graphId } = await fresh()
    const bob = await addUser(t, 'bob')
    await t.call('PUT', `/api/approval-rules/graph/${graphId}`, {})

    const asked = await bob.call('POST', '/api/runs', { graphId, mode: 'plan' })
    expect(asked.status).toBe(202)
    const { id: planRunId, approvalId } = (await asked.json()) as { id: string; approvalId: string }
    expect(await waitForRun(t.call, planRunId)).toMatchObject({ status: 'succeeded', mode: 'plan' })
    expect(await directory()).toEqual({ appr1: 'Staff', appr2: 'Staff', appr9: 'Leaver' })

    // The approver reviews the plan through the request.
    const plan = await json<PlanView>(t.call('GET', `/api/approvals/${approvalId}/plan`))
    expect(plan).toMatchObject({ runId: planRunId, mode: 'plan' })
    expect(plan.nodes[0]).toMatchObject({ counts: { create: 1, update: 1, delete: 1, none: 1 } })
    expect(plan.nodes[0]!.entries.find((e) => e.action === 'update')).toMatchObject({
      dn: `uid=appr1,${PEOPLE}`,
      before: { title: ['Staff'] },
      after: { title: ['Manager'] },
    })
    const csv = await t.call('GET', `/api/approvals/${approvalId}/plan?format=csv`)
    expect(csv.headers.get('content-type')).toContain('text/csv')

    // Applying the plan directly is a run request too: it cannot go around the pending request.
    expect(await errorOf(bob.call('POST', `/api/runs/${planRunId}/apply`))).toMatchObject({
      status: 409,
      code: 'APPROVAL_PENDING',
    })
    expect(await errorOf(bob.call('POST', `/api/approvals/${approvalId}/approve`, {}))).toMatchObject({
      status: 403,
      code: 'SELF_APPROVAL',
    })

    // The directory changes after the review: approving must apply the reviewed plan, not a new one.
    const late = person(7, 'Contractor')
    await client.add(`uid=${late.uid},${PEOPLE}`, { objectClass: ['inetOrgPerson'], ...late })

    const approved = await json<Approval>(t.call('POST', `/api/approvals/${approvalId}/approve`, {}))
    expect(approved).toMatchObject({ status: 'approved', planRunId })
    const applied = await waitForRun(t.call, approved.runId!)
    expect(applied, JSON.stringify(applied.errors)).toMatchObject({
      status: 'succeeded',
      mode: 'apply',
      planRunId,
    })
    // appr7 (not in the plan) is untouched although the source does not have it.
    expect(await directory()).toEqual({
      appr1: 'Manager',
      appr2: 'Staff',
      appr3: 'Staff',
      appr7: 'Contractor',
    })
    const history = await json<{ entries: { dn: string; action: string; startedByName: string }[] }>(
      t.call('GET', `/api/history?runId=${approved.runId}`),
    )
    expect(history.entries.map((e) => [e.action, e.dn, e.startedByName]).sort()).toEqual([
      ['create', `uid=appr3,${PEOPLE}`, 'bob'],
      ['delete', `uid=appr9,${PEOPLE}`, 'bob'],
      ['update', `uid=appr1,${PEOPLE}`, 'bob'],
    ])
  })

  it('with reviewPlan, a run request first computes a plan; an apply request of an existing plan waits too; denial cancels', async () => {
    const { t, graphId } = await fresh()
    const bob = await addUser(t, 'bob')
    const { id: planRunId } = await json<{ id: string }>(
      t.call('POST', '/api/runs', { graphId, mode: 'plan' }),
    )
    await waitForRun(t.call, planRunId)
    await t.call('PUT', `/api/approval-rules/graph/${graphId}`, { reviewPlan: true })

    // Applying a plan made before the rule: a request bound to that plan.
    const apply = await bob.call('POST', `/api/runs/${planRunId}/apply`)
    expect(apply.status).toBe(202)
    const { approvalId } = (await apply.json()) as { approvalId: string }
    expect(await json(t.call('GET', `/api/approvals/${approvalId}`))).toMatchObject({
      planRunId,
      status: 'pending',
    })
    expect(await json(t.call('POST', `/api/approvals/${approvalId}/deny`, {}))).toMatchObject({
      status: 'denied',
    })
    expect(await directory()).toEqual({ appr1: 'Staff', appr2: 'Staff', appr9: 'Leaver' })

    // A plain run request with reviewPlan: a plan run for the approver, nothing written.
    const asked = await json<{ id: string; approvalId: string }>(bob.call('POST', '/api/runs', { graphId }))
    expect(asked.id).toBeDefined()
    expect(await waitForRun(t.call, asked.id)).toMatchObject({ mode: 'plan', status: 'succeeded' })
    const approved = await json<Approval>(t.call('POST', `/api/approvals/${asked.approvalId}/approve`, {}))
    expect(await waitForRun(t.call, approved.runId!)).toMatchObject({ mode: 'apply', status: 'succeeded' })
    expect(await directory()).toEqual({ appr1: 'Manager', appr2: 'Staff', appr3: 'Staff' })
  })
})
