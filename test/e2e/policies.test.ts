import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { addUser } from '../../server/approvals/test-helpers.ts'
import { describeWithService } from '../services.ts'
import { hasChromium, openPage, screenshotDir, signIn, skipReason, startE2E, type E2E } from './harness.ts'

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

const shot = async (page: Page, name: string) => {
  mkdirSync(screenshotDir, { recursive: true })
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: false })
}

describeWithService('policies per role in Chromium', hasChromium ? undefined : skipReason, () => {
  let e2e: E2E
  let admin: Page
  let adminErrors: string[]
  let base: string
  let graphId: string
  const pages: Page[] = []

  beforeAll(async () => {
    e2e = await startE2E({ 'people.csv': 'id,name\n1,Ann\n2,Bob\n' })
    base = e2e.server.url
    ;({ page: admin, errors: adminErrors } = await openPage(e2e, { width: 1440, height: 1000 }))
    pages.push(admin)
    await signIn(admin, base)
    const res = await admin.request.post(`${base}/api/graphs`, { data: { graph } })
    expect(res.status(), await res.text()).toBe(201)
    graphId = ((await res.json()) as { id: string }).id
  }, 180_000)

  afterAll(async () => {
    await e2e?.close()
  })

  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return
    for (const [i, page] of pages.entries())
      await page
        .screenshot({ path: join(tmpdir(), `syncgraph-e2e-failed-policies-${i}.png`) })
        .catch(() => undefined)
  })

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
    await shot(admin, 'admin-policies')
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
    await shot(page, 'policy-violation')

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
})
