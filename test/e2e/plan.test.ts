import Database from 'better-sqlite3'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, expect, it } from 'vitest'
import { addUser } from '../../server/approvals/test-helpers.ts'
import {
  api,
  describeE2E,
  openSignedIn,
  screenshot,
  useE2E,
  startE2E,
  unnamedControls,
  type E2E,
} from './harness.ts'

// The table holds ids 1–60; the source has ids 1–50 (1–10 renamed) and 61–130 (new).
// Plan: create 70, update 10, delete 10 (51–60 left the source), unchanged 40.
const source = (rename: (id: number) => string | undefined = () => undefined) => {
  const lines = ['id,name']
  for (let id = 1; id <= 50; id++)
    lines.push(`${id},${rename(id) ?? (id <= 10 ? `Renamed ${id}` : `Name ${id}`)}`)
  for (let id = 61; id <= 130; id++) lines.push(`${id},New ${id}`)
  return lines.join('\n') + '\n'
}

const graph = {
  syncgraph: 1,
  name: 'People to table',
  nodes: [
    { id: 'hr', type: 'csv.read', config: { path: 'people.csv' }, position: { x: 0, y: 0 } },
    {
      id: 'sync',
      type: 'sql.sync',
      config: {
        connection: { driver: 'sqlite', path: 'target.db' },
        table: 'people',
        key: ['id'],
        deprovision: { action: 'delete' },
      },
      position: { x: 320, y: 0 },
    },
  ],
  edges: [{ from: 'hr', to: 'sync' }],
}

interface Plan {
  nodes: { counts: Record<string, number>; total: number }[]
  appliedBy: { id: string; status: string }[]
}

describeE2E('plan review, apply and approvals in Chromium', () => {
  let e2e: E2E
  let page: Page
  let errors: string[]
  let graphId: string
  let base: string
  let dbPath: string

  const table = (): Record<number, string> => {
    const db = new Database(dbPath, { readonly: true })
    try {
      const rows = db.prepare('SELECT id, name FROM people ORDER BY id').all() as {
        id: number
        name: string
      }[]
      return Object.fromEntries(rows.map((r) => [r.id, r.name]))
    } finally {
      db.close()
    }
  }
  const { get, createGraph } = api(
    () => page,
    () => base,
  )
  const waitForRun = async (id: string) => {
    await expect
      .poll(async () => (await get<{ status: string }>(`/runs/${id}`)).status, { timeout: 60_000 })
      .toMatch(/succeeded|failed|cancelled|interrupted/)
    return get<{ status: string; mode: string; planRunId: string | null }>(`/runs/${id}`)
  }
  const chipCount = async (action: string) =>
    Number(await page.getByTestId(`chip-${action}`).getAttribute('data-count'))
  const runIdOfPage = () => decodeURIComponent(new URL(page.url()).hash.replace('#/runs/', ''))

  /** Open the graph and press Plan; the run page of the plan run opens. */
  const planFromEditor = async (): Promise<string> => {
    await page.goto(`${base}/#/graphs/${graphId}`)
    await page.getByRole('button', { name: 'Plan graph' }).click()
    await page.waitForURL(/#\/runs\//)
    await page.getByTestId('plan').waitFor({ timeout: 60_000 })
    return runIdOfPage()
  }

  beforeAll(async () => {
    e2e = await startE2E({ 'people.csv': source() })
    base = e2e.server.url
    dbPath = join(e2e.filesDir, 'target.db')
    const db = new Database(dbPath)
    db.exec('CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)')
    const insert = db.prepare('INSERT INTO people (id, name) VALUES (?, ?)')
    for (let id = 1; id <= 60; id++) insert.run(id, `Name ${id}`)
    db.close()
    ;({ page, errors } = await openSignedIn(e2e, { width: 1440, height: 1000 }))
    graphId = await createGraph(graph)
  }, 180_000)

  useE2E({ e2e: () => e2e, pages: () => [page] })

  it('plans from the editor; the counts per action match the API and nothing is written', async () => {
    const runId = await planFromEditor()
    expect(await page.getByTestId('run-mode').textContent()).toBe('plan mode')
    const plan = await get<Plan>(`/runs/${runId}/plan`)
    expect(plan.nodes[0]!.counts).toMatchObject({ create: 70, update: 10, delete: 10, none: 40 })
    for (const action of ['create', 'update', 'delete', 'none', 'disable'])
      expect(await chipCount(action), action).toBe(plan.nodes[0]!.counts[action])
    expect(await page.getByTestId('plan-range').textContent()).toBe('1–50 of 130')
    await expect.poll(() => page.getByTestId('plan-row').count()).toBe(50)
    // Planning wrote nothing.
    expect(Object.keys(table())).toHaveLength(60)
    expect(table()[3]).toBe('Name 3')
  }, 120_000)

  it('filters by action and by key, shows before/after, pages, and exports the filtered CSV', async () => {
    await page.getByTestId('chip-update').click()
    await expect.poll(() => page.getByTestId('plan-range').textContent()).toBe('1–10 of 10')
    const rows = page.getByTestId('plan-row')
    expect(await rows.count()).toBe(10)
    const third = rows.filter({ hasText: 'id=3' }).first()
    expect(await third.locator('del').textContent()).toBe('Name 3')
    expect(await third.locator('ins').textContent()).toBe('Renamed 3')
    await screenshot(page, 'plan')

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ])
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n')
    expect(csv[0]).toBe('node,action,dn,newDn,key,changed,before,after,reason,outcome,error')
    expect(csv).toHaveLength(11)
    expect(csv.slice(1).every((line) => line.startsWith('sync,update,'))).toBe(true)
    expect(csv.find((line) => line.includes('Renamed 3'))).toContain('Name 3')

    await page.getByTestId('chip-all').click()
    await page.getByLabel('Search key or DN').fill('105')
    await expect.poll(() => page.getByTestId('plan-range').textContent()).toBe('1–1 of 1')
    expect(await rows.first().textContent()).toContain('New 105')
    await page.getByLabel('Search key or DN').fill('')
    await expect.poll(() => page.getByTestId('plan-range').textContent()).toBe('1–50 of 130')
    await page.getByRole('button', { name: 'Next page' }).click()
    await expect.poll(() => page.getByTestId('plan-range').textContent()).toBe('51–100 of 130')
    await page.getByRole('button', { name: 'Next page' }).click()
    await expect.poll(() => page.getByTestId('plan-range').textContent()).toBe('101–130 of 130')
    expect(await rows.count()).toBe(30)
  }, 120_000)

  it('applies after confirming the counts, follows the apply run, and a new plan shows no changes', async () => {
    const planRunId = runIdOfPage()
    await page.getByRole('button', { name: 'Apply', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Apply this plan?' })
    await dialog.waitFor()
    expect(await dialog.getByTestId('apply-summary').textContent()).toContain(
      'create 70, update 10, delete 10',
    )
    await dialog.getByRole('button', { name: 'Apply' }).click()
    const applyRun = page.getByTestId('apply-run')
    await applyRun.waitFor()
    await expect
      .poll(() => applyRun.getByTestId('run-status').textContent(), { timeout: 60_000 })
      .toBe('succeeded')
    const plan = await get<Plan>(`/runs/${planRunId}/plan`)
    expect(plan.appliedBy).toHaveLength(1)
    expect(await waitForRun(plan.appliedBy[0]!.id)).toMatchObject({
      status: 'succeeded',
      mode: 'apply',
      planRunId,
    })

    const rows = table()
    expect(Object.keys(rows)).toHaveLength(120)
    expect(rows[3]).toBe('Renamed 3')
    expect(rows[55]).toBeUndefined()
    expect(rows[130]).toBe('New 130')
    // The plan cannot be applied twice; the page says so and links to the apply run.
    await expect.poll(() => page.getByTestId('apply-reason').textContent()).toContain('applied already')

    // The apply run's own page shows each object's outcome.
    await applyRun.getByRole('link').first().click()
    await page.waitForURL(/#\/runs\//)
    await expect
      .poll(() => page.getByTestId('outcomes').textContent(), { timeout: 30_000 })
      .toContain('applied 90')

    await planFromEditor()
    await page.getByTestId('no-changes').waitFor()
    expect(await chipCount('none')).toBe(120)
    for (const action of ['create', 'update', 'delete']) expect(await chipCount(action)).toBe(0)
    expect(await page.getByTestId('apply-reason').textContent()).toContain('no changes')
  }, 120_000)

  it('with an approval rule, another user asks; the admin reviews the plan and approves, which applies it', async () => {
    const rule = await page.request.put(`${base}/api/approval-rules/graph/${graphId}`, { data: {} })
    expect(rule.status()).toBe(200)
    writeFileSync(
      join(e2e.filesDir, 'people.csv'),
      source((id) => (id === 1 ? 'Approved name' : undefined)),
    )
    const bob = await addUser({ services: e2e.server.services, app: e2e.server.app }, 'bob')
    const asked = await bob.call('POST', '/api/runs', { graphId, mode: 'plan' })
    expect(asked.status).toBe(202)
    const { approvalId, id: planRunId } = (await asked.json()) as { approvalId: string; id: string }

    await page.goto(`${base}/#/approvals`)
    const card = page.getByTestId('pending-request')
    await card.waitFor()
    expect(await card.textContent()).toContain('bob')
    await expect
      .poll(() => card.getByTestId('chip-update').getAttribute('data-count'), { timeout: 60_000 })
      .toBe('1')
    expect(await card.getByTestId('plan-range').textContent()).toBe('1–50 of 120')
    await card.getByTestId('chip-update').click()
    await expect.poll(() => card.getByTestId('plan-row').count()).toBe(1)
    expect(await card.getByTestId('plan-row').locator('ins').textContent()).toBe('Approved name')
    await card.getByLabel('Comment').fill('Checked with HR')
    // Toasts from the previous page fade on their own; none belongs in the screenshot.
    await expect.poll(() => page.locator('.toast').count(), { timeout: 10_000 }).toBe(0)
    await screenshot(page, 'approvals')
    expect(await unnamedControls(page)).toEqual([])
    await card.getByRole('button', { name: 'Approve and apply' }).click()

    const decided = page.getByTestId('decided-row').first()
    await decided.waitFor()
    expect(await decided.textContent()).toContain('approved')
    expect(await decided.textContent()).toContain('Checked with HR')
    const request = await get<{ status: string; runId: string; planRunId: string }>(
      `/approvals/${approvalId}`,
    )
    expect(request).toMatchObject({ status: 'approved', planRunId })
    expect(await waitForRun(request.runId)).toMatchObject({ status: 'succeeded', mode: 'apply', planRunId })
    expect(table()[1]).toBe('Approved name')
    expect(Object.keys(table())).toHaveLength(120)
  }, 120_000)

  it('says readably that nobody approves their own request, and lets the requester withdraw it', async () => {
    writeFileSync(
      join(e2e.filesDir, 'people.csv'),
      source((id) => (id === 1 ? 'Approved name' : id === 2 ? 'Self approved' : undefined)),
    )
    // With the rule, Plan from the editor asks for approval; the plan run's page says it waits.
    await planFromEditor()
    await expect.poll(() => page.getByTestId('apply-reason').textContent()).toContain('waits for approval')
    await page.goto(`${base}/#/approvals`)
    const card = page.getByTestId('pending-request')
    await card.waitFor()
    expect(await card.textContent()).toContain('You asked for this run')
    await expect
      .poll(() => card.getByTestId('chip-update').getAttribute('data-count'), { timeout: 60_000 })
      .toBe('1')
    await card.getByRole('button', { name: 'Approve and apply' }).click()
    const alert = card.getByTestId('decision-error')
    await alert.waitFor()
    expect(await alert.textContent()).toBe('Nobody approves their own request; ask another approver')
    // The refused approval is the one expected failed response.
    // (the browser logs it twice: the response and a console line).
    const refused = (e: string) => e.includes('403') && e.includes(`/api/approvals/`)
    expect(errors.filter(refused)).toHaveLength(2)
    errors.splice(0, errors.length, ...errors.filter((e) => !refused(e)))
    await card.getByRole('button', { name: 'Withdraw' }).click()
    await expect.poll(() => page.getByTestId('pending-request').count()).toBe(0)
    expect(await page.getByTestId('decided-row').first().textContent()).toContain('denied')
    expect(table()[2]).toBe('Renamed 2')
  }, 120_000)

  it('refuses to apply a plan over a threshold or of a graph changed since, and says why', async () => {
    expect((await page.request.delete(`${base}/api/approval-rules/graph/${graphId}`)).status()).toBe(200)
    const stored = await get<{ revision: number; graph: typeof graph }>(`/graphs/${graphId}`)
    const strict = structuredClone(stored.graph)
    ;(strict.nodes[1]!.config as Record<string, unknown>).maxDeletes = 1
    const saved = await page.request.put(`${base}/api/graphs/${graphId}`, {
      data: { graph: strict, revision: stored.revision },
    })
    expect(saved.status(), await saved.text()).toBe(200)
    // Ids 121–130 leave the source: 10 deletes, over maxDeletes 1.
    writeFileSync(
      join(e2e.filesDir, 'people.csv'),
      source((id) => (id === 1 ? 'Approved name' : undefined))
        .split('\n')
        .filter((line) => !/^12[1-9],|^130,/.test(line))
        .join('\n'),
    )
    const runId = await planFromEditor()
    await page.getByRole('alert').filter({ hasText: 'over a threshold' }).waitFor()
    expect(await chipCount('delete')).toBe(10)
    expect(await page.getByRole('button', { name: 'Apply', exact: true }).isDisabled()).toBe(true)
    expect(await page.getByTestId('apply-reason').textContent()).toContain('Over a threshold')
    expect(await unnamedControls(page)).toEqual([])

    // Loosen the threshold: the plan made before is now stale, and its page says so.
    const again = await get<{ revision: number; graph: typeof graph }>(`/graphs/${graphId}`)
    ;(again.graph.nodes[1]!.config as Record<string, unknown>).maxDeletes = 100
    const resaved = await page.request.put(`${base}/api/graphs/${graphId}`, {
      data: { graph: again.graph, revision: again.revision },
    })
    expect(resaved.status()).toBe(200)
    await page.reload()
    await page.getByTestId('plan').waitFor()
    await expect
      .poll(() => page.getByTestId('apply-reason').textContent())
      .toContain('The graph changed since this plan was made')
    expect(runIdOfPage()).toBe(runId)
    expect(Object.keys(table())).toHaveLength(120)
  }, 120_000)

  it('shows a run with rejected rows and a failed run with its errors linked to the graph', async () => {
    const mapGraph = (onRowError: string) => ({
      syncgraph: 1,
      name: 'Reserved ids',
      settings: { onRowError },
      nodes: [
        { id: 'hr', type: 'csv.read', config: { path: 'people.csv' }, position: { x: 0, y: 0 } },
        {
          id: 'map',
          type: 'map',
          // Every 25th id gives a string instead of an object: those rows fail in the map node.
          config: { expression: '$number(id) % 25 = 0 ? "reserved" : { "id": id }' },
          position: { x: 300, y: 0 },
        },
        { id: 'out', type: 'csv.write', config: { path: 'mapped.csv' }, position: { x: 600, y: 0 } },
      ],
      edges: [
        { from: 'hr', to: 'map' },
        { from: 'map', to: 'out' },
      ],
    })
    const created = await page.request.post(`${base}/api/graphs`, { data: { graph: mapGraph('route') } })
    const { id: mapGraphId, revision } = (await created.json()) as { id: string; revision: number }
    const started = await page.request.post(`${base}/api/runs`, { data: { graphId: mapGraphId } })
    const { id: runId } = (await started.json()) as { id: string }
    await waitForRun(runId)

    // The editor's run history links each run to its page.
    await page.goto(`${base}/#/graphs/${mapGraphId}`)
    await page.getByRole('button', { name: 'History' }).click()
    await page.getByRole('link', { name: `Open the page of run ${runId.slice(0, 8)}` }).click()
    await page.waitForURL(/#\/runs\//)
    expect(runIdOfPage()).toBe(runId)
    expect(await page.getByTestId('run-mode').textContent()).toBe('run')
    const mapRow = page.getByTestId('node-row-map')
    await mapRow.waitFor()
    // people.csv holds 110 rows after the threshold test: ids 25, 50, 75 and 100 fail.
    expect(await mapRow.locator('td').nth(5).textContent()).toBe('4')
    await page.getByRole('button', { name: 'View rejected rows of map' }).click()
    const rejected = page.getByRole('table', { name: 'Rejected rows of map' })
    await rejected.waitFor()
    await expect.poll(() => rejected.locator('tbody tr').count()).toBe(4)
    expect(await rejected.locator('tbody').textContent()).toContain('MAP_NOT_OBJECT')
    expect(await page.getByTestId('plan').count()).toBe(0)

    const saved = await page.request.put(`${base}/api/graphs/${mapGraphId}`, {
      data: { graph: mapGraph('fail'), revision },
    })
    expect(saved.status()).toBe(200)
    const failing = await page.request.post(`${base}/api/runs`, { data: { graphId: mapGraphId } })
    const { id: failedId } = (await failing.json()) as { id: string }
    expect(await waitForRun(failedId)).toMatchObject({ status: 'failed' })
    await page.goto(`${base}/#/runs/${failedId}`)
    const list = page.getByRole('list', { name: 'Run errors' })
    await list.waitFor()
    expect(await list.textContent()).toContain('MAP_NOT_OBJECT')
    expect(await list.getByRole('link', { name: 'map' }).getAttribute('href')).toBe(`#/graphs/${mapGraphId}`)
    expect(await unnamedControls(page)).toEqual([])
  }, 120_000)

  it('had no console errors', () => {
    expect(errors).toEqual([])
  })
})
