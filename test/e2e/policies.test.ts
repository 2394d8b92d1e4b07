import type { Page } from 'playwright-core'
import { beforeAll, expect, it } from 'vitest'
import { addUser } from '../../server/approvals/test-helpers.ts'
import {
  api,
  describeE2E,
  openPage,
  openSignedIn,
  screenshot,
  useE2E,
  startE2E,
  type E2E,
} from './harness.ts'

/** A CSV file copied to another CSV file: its destination connector is `csv`. */
const graph = {
  syncgraph: 1,
  name: 'People export',
  nodes: [
    { id: 'hr', type: 'csv.read', config: { path: 'people.csv' }, position: { x: 0, y: 0 } },
    { id: 'out', type: 'csv.write', config: { path: 'export.csv' }, position: { x: 320, y: 0 } },
  ],
  edges: [{ from: 'hr', to: 'out' }],
}

const VIOLATION = 'node "out" writes to csv; the operator policy allows destinations: sql'

describeE2E('policies per role in Chromium', () => {
  let e2e: E2E
  let admin: Page
  let adminErrors: string[]
  let base: string
  let graphId: string
  const pages: Page[] = []

  beforeAll(async () => {
    e2e = await startE2E({ 'people.csv': 'id,name\n1,Ann\n2,Bob\n' })
    base = e2e.server.url
    ;({ page: admin, errors: adminErrors } = await openSignedIn(e2e, { width: 1440, height: 1000 }))
    pages.push(admin)
    graphId = await api(
      () => admin,
      () => base,
    ).createGraph(graph)
  }, 180_000)

  useE2E({ e2e: () => e2e, pages: () => pages, label: 'policies' })

  it('an admin restricts operator destinations; an operator’s run of a graph writing elsewhere shows the violation', async () => {
    // The admin edits the operator policy: destinations limited to SQL databases.
    await admin.goto(`${base}/#/admin/policies`)
    const section = admin.getByRole('region', { name: 'Policies' })
    await section.getByRole('group', { name: 'Role' }).getByRole('button', { name: 'operator' }).click()
    const destinations = section.getByRole('group', { name: 'Destinations' })
    await destinations.getByRole('switch').check()
    await destinations.getByRole('checkbox', { name: 'sql', exact: true }).check()
    await section.getByRole('button', { name: 'Save operator policy' }).click()
    await admin.getByText('The operator policy is saved').waitFor()
    await screenshot(admin, 'admin-policies')
    const stored = await admin.request.get(`${base}/api/policies/operator`)
    expect(((await stored.json()) as { policy: unknown }).policy).toEqual({
      destinations: { allow: ['sql'] },
    })

    // A write rule without attributes is refused in the form, with a readable message.
    await section.getByRole('group', { name: 'Writes' }).getByRole('switch').check()
    await section.getByRole('button', { name: 'Add write rule' }).click()
    await section.getByRole('button', { name: 'Save operator policy' }).click()
    expect(await section.getByRole('alert').textContent()).toBe(
      'Write rule 1: name the objectClass or table (or * for any)',
    )

    // An operator opens the graph: validation marks the node, and Run shows the rule it breaks.
    const olga = await addUser({ services: e2e.server.services, app: e2e.server.app }, 'olga', 'operator')
    const { page, errors } = await openPage(e2e, { width: 1440, height: 1000 })
    pages.push(page)
    await page.goto(`${base}/`)
    await page.getByLabel('Username').fill('olga')
    await page.getByLabel('Password').fill('olga password long enough')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Graphs' }).waitFor()
    await page.goto(`${base}/#/graphs/${graphId}`)
    const marker = page.locator('.react-flow__node[data-id="out"] .sg-node-issue.error')
    await marker.waitFor()
    expect(await marker.getAttribute('title')).toBe(VIOLATION)
    await page.getByRole('button', { name: 'Run graph' }).click()
    const issues = page.getByRole('list', { name: 'Validation issues' })
    await issues.waitFor()
    expect(await issues.textContent()).toContain(VIOLATION)
    await screenshot(page, 'policy-violation')

    // The server refuses the run itself too, naming the rule.
    const refused = await olga.call('POST', '/api/runs', { graphId })
    expect(refused.status).toBe(403)
    const body = (await refused.json()) as { error: { code: string; message: string } }
    expect(body.error).toMatchObject({
      code: 'POLICY_VIOLATION',
      message: `The graph breaks the operator policy: ${VIOLATION}`,
    })
    const runs = await admin.request.get(`${base}/api/runs?graphId=${graphId}`)
    expect(((await runs.json()) as { runs: unknown[] }).runs).toEqual([])
    expect(errors).toEqual([])
    expect(adminErrors).toEqual([])
  })

  it('an admin requires approval for designers’ runs that write; a designer’s run waits for an approver', async () => {
    await admin.goto(`${base}/#/admin/policies`)
    const section = admin.getByRole('region', { name: 'Policies' })
    await section.getByRole('group', { name: 'Role' }).getByRole('button', { name: 'designer' }).click()
    const approval = section.getByRole('group', { name: 'Approval' })
    await approval.getByLabel('Runs by this role wait for an approver').selectOption('writes')
    await approval.getByLabel('A request expires after (hours)').fill('8')
    await section.getByRole('button', { name: 'Save designer policy' }).click()
    await admin.getByText('The designer policy is saved').waitFor()
    const stored = await admin.request.get(`${base}/api/policies/designer`)
    expect(((await stored.json()) as { policy: unknown }).policy).toEqual({
      approval: { for: 'writes', expiresHours: 8 },
    })

    const dee = await addUser({ services: e2e.server.services, app: e2e.server.app }, 'dee', 'designer')
    const created = await dee.call('POST', '/api/graphs', { graph: { ...graph, name: 'Dee export' } })
    const { id } = (await created.json()) as { id: string }
    const asked = await dee.call('POST', '/api/runs', { graphId: id })
    expect(asked.status).toBe(202)
    expect(await asked.json()).toMatchObject({ status: 'pending-approval' })
    expect(adminErrors).toEqual([])
  })
})
