import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterEach, beforeAll, expect, it } from 'vitest'
import {
  api,
  describeE2E,
  openPage,
  openSignedIn,
  screenshot,
  useE2E,
  startE2E,
  unnamedControls,
  type E2E,
} from './harness.ts'

const csv = (n: number) =>
  ['id,name', ...Array.from({ length: n }, (_, i) => `${i + 1},Name ${i + 1}`)].join('\n') + '\n'
const ROWS_A = 7
const ROWS_B = 12

const copyGraph = (name: string, path: unknown, out: string, params?: Record<string, unknown>) => ({
  syncgraph: 1,
  name,
  ...(params ? { params } : {}),
  nodes: [
    { id: 'read', type: 'csv.read', config: { path }, position: { x: 0, y: 0 } },
    { id: 'write', type: 'csv.write', config: { path: out }, position: { x: 300, y: 0 } },
  ],
  edges: [{ from: 'read', to: 'write' }],
})

const shot = async (page: Page, name: string) => {
  // Toasts of earlier steps would cover the screen.
  const dismiss = page.locator('.toasts').getByRole('button', { name: 'Dismiss' })
  while ((await dismiss.count()) > 0) await dismiss.first().click()
  await screenshot(page, name)
}

describeE2E('collections, schedules and notifications in Chromium', () => {
  let e2e: E2E
  let base: string
  let page: Page
  let errors: string[]
  let collectionId: string

  const { get, createGraph } = api(
    () => page,
    () => base,
  )

  beforeAll(async () => {
    e2e = await startE2E({ 'a.csv': csv(ROWS_A), 'b.csv': csv(ROWS_B) })
    base = e2e.server.url
    ;({ page, errors } = await openSignedIn(e2e, { width: 1440, height: 1000 }))
    const graphs = [
      copyGraph('Copy A', 'a.csv', 'out-a.csv'),
      // The second graph reads the file its parameter names; the collection step sets it to b.csv.
      copyGraph('Copy B', { $param: 'inFile' }, 'out-b.csv', {
        inFile: { type: 'path', title: 'Input file', default: 'missing.csv' },
      }),
    ]
    for (const graph of graphs) await createGraph(graph)
  }, 180_000)

  useE2E({ e2e: () => e2e, pages: () => [page] })

  afterEach(() => {
    expect(errors).toEqual([])
  })

  it('builds a collection of both graphs, with a parameter value from the graph’s form', async () => {
    await page.goto(`${base}/#/collections`)
    await page.getByRole('heading', { name: 'Collections', level: 1 }).waitFor()
    await page.getByRole('button', { name: 'New collection' }).click()
    const dialog = page.getByRole('dialog', { name: 'New collection' })
    await dialog.getByLabel('Name', { exact: true }).fill('Nightly copies')
    await dialog.getByRole('button', { name: 'Add step' }).click()
    await dialog.getByRole('button', { name: 'Add step' }).click()
    // Added in the wrong order, then reordered.
    await dialog.getByLabel('Step 1 graph').selectOption({ label: 'Copy B' })
    await dialog.getByLabel('Step 2 graph').selectOption({ label: 'Copy A' })
    await dialog.getByLabel('Input file').fill('b.csv')
    await dialog.getByLabel('Step 1 on failure').selectOption('continue')
    await dialog.getByRole('button', { name: 'Move step 2 up' }).click()
    expect(await dialog.getByLabel('Step 1 graph').locator('option:checked').textContent()).toBe('Copy A')
    expect(await dialog.getByLabel('Step 2 graph').locator('option:checked').textContent()).toBe('Copy B')
    expect(await unnamedControls(page)).toEqual([])
    await dialog.getByRole('button', { name: 'Create collection' }).click()
    await page.getByRole('heading', { name: 'Nightly copies', level: 1 }).waitFor()
    collectionId = decodeURIComponent(new URL(page.url()).hash.replace('#/collections/', ''))

    const stored = await get<{ steps: { graphName: string; params: unknown; onFailure: string }[] }>(
      `/collections/${collectionId}`,
    )
    expect(stored.steps).toEqual([
      expect.objectContaining({ graphName: 'Copy A', params: {}, onFailure: 'abort' }),
      expect.objectContaining({ graphName: 'Copy B', params: { inFile: 'b.csv' }, onFailure: 'continue' }),
    ])
  })

  it('runs it and shows both steps succeeded with their row counts and links to their runs', async () => {
    await page.getByRole('button', { name: 'Run now' }).click()
    const run = page.getByTestId('collection-run').first()
    await expect.poll(() => run.getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded')
    for (const [index, rows] of [
      [0, ROWS_A],
      [1, ROWS_B],
    ] as const) {
      const step = run.getByTestId(`step-${index}`)
      expect(await step.getByText('succeeded').count()).toBe(1)
      expect(await step.getByTestId('rows-read').textContent()).toBe(String(rows))
      expect(await step.getByTestId('rows-written').textContent()).toBe(String(rows))
    }
    const link = run.getByRole('link', { name: 'Run of step 2' })
    const runId = decodeURIComponent((await link.getAttribute('href'))!.replace('#/runs/', ''))
    expect(await get<{ status: string; graphId: string }>(`/runs/${runId}`)).toMatchObject({
      status: 'succeeded',
    })
    expect(readFileSync(join(e2e.filesDir, 'out-b.csv'), 'utf8').trim().split('\n')).toHaveLength(ROWS_B + 1)
  })

  it('adds a notification rule to the collection', async () => {
    const section = page.getByRole('region', { name: 'Notifications' })
    await section.getByLabel('Recipients').fill('ops@example.com, it@example.com')
    await section.getByLabel('Always').check()
    await section.getByRole('button', { name: 'Add rule' }).click()
    await section.getByRole('table', { name: 'Notification rules' }).waitFor()
    expect(await section.getByRole('row').count()).toBe(2)
    const { rules } = await get<{ rules: unknown[] }>(
      `/notifications/rules?jobKind=collection&jobId=${collectionId}`,
    )
    expect(rules).toEqual([
      expect.objectContaining({
        channel: 'email',
        to: ['ops@example.com', 'it@example.com'],
        on: ['failure', 'always'],
      }),
    ])

    // A signed webhook: the secret is sent once and never shown back.
    await section.getByLabel('Channel').selectOption('webhook')
    await section.getByLabel('Webhook URL').fill('https://hooks.example.com/sync')
    await section.getByLabel(/Signing secret/).fill('a-signing-secret-of-32-characters')
    await section.getByLabel('On failure').uncheck()
    await section.getByLabel('Changes made').check()
    await section.getByRole('button', { name: 'Add rule' }).click()
    await expect.poll(() => section.getByRole('row').count()).toBe(3)
    expect(await section.getByRole('row').last().textContent()).toContain('signed')
    const text = await (
      await page.request.get(`${base}/api/notifications/rules?jobKind=collection&jobId=${collectionId}`)
    ).text()
    expect(text).not.toContain('a-signing-secret')
    expect(JSON.parse(text).rules[1]).toMatchObject({
      channel: 'webhook',
      url: 'https://hooks.example.com/sync',
      signed: true,
      on: ['always', 'changes'],
    })
  })

  it('schedules the collection with a simple repeat and shows its next run', async () => {
    await page.getByRole('button', { name: 'Add schedule' }).click()
    const dialog = page.getByRole('dialog', { name: 'New schedule' })
    await dialog.getByLabel('Repeat every').fill('15')
    await dialog.getByLabel('Repeat unit').selectOption('minutes')
    await dialog.getByLabel('Time zone').selectOption('Europe/Paris')
    expect(await dialog.getByTestId('cadence-preview').textContent()).toBe('Every 15 minutes')
    await dialog.getByRole('button', { name: 'Save schedule' }).click()
    const card = page.getByRole('region', { name: 'Schedule' })
    await card.getByTestId('next-run').waitFor()
    expect(await card.textContent()).toContain('Every 15 minutes')
    const view = await get<{ nextRunAt: string; schedule: { repeat: unknown; timezone: string } }>(
      `/collections/${collectionId}`,
    )
    expect(view.schedule).toMatchObject({
      repeat: { every: 15, unit: 'minutes' },
      timezone: 'Europe/Paris',
    })
    expect(Date.parse(view.nextRunAt) - Date.now()).toBeLessThanOrEqual(15 * 60_000)
    await page.getByRole('region', { name: 'Runs' }).scrollIntoViewIfNeeded()
    await shot(page, 'collections')
  })

  it('lists the schedules with cadence and next run, and schedules a graph from the graph list', async () => {
    await page.goto(`${base}/#/`)
    await page.getByRole('heading', { name: 'Graphs' }).waitFor()
    await page.getByRole('button', { name: 'Schedule Copy A' }).click()
    const dialog = page.getByRole('dialog', { name: 'New schedule' })
    await dialog.getByLabel('Repeat every').fill('2')
    await dialog.getByLabel('Repeat unit').selectOption('hours')
    for (const day of ['Sun', 'Sat']) await dialog.getByLabel(day, { exact: true }).uncheck()
    expect(await dialog.getByTestId('cadence-preview').textContent()).toBe('Every 2 hours on weekdays')
    await dialog.getByLabel('Maximum run time (minutes)').fill('30')
    await dialog.getByLabel('Missed-run policy').selectOption('skip')
    await dialog.getByRole('button', { name: 'Save schedule' }).click()
    const row = page.getByRole('row').filter({ hasText: 'Copy A' })
    await row.getByTestId('next-run').waitFor()
    expect(await page.getByRole('row').filter({ hasText: 'Copy B' }).getByTestId('next-run').count()).toBe(0)
    // The editor of the scheduled graph shows its next run too.
    const { graphs } = await get<{ graphs: { id: string; name: string }[] }>('/graphs')
    await page.goto(`${base}/#/graphs/${encodeURIComponent(graphs.find((g) => g.name === 'Copy A')!.id)}`)
    await page.getByTestId('editor-next-run').getByTestId('next-run').waitFor()

    await page.goto(`${base}/#/schedules`)
    const table = page.getByRole('table', { name: 'Schedules' })
    await table.waitFor()
    expect(await table.getByRole('row').count()).toBe(3)

    // A new schedule from this screen: a daily run of the graph with a parameter value.
    await page.getByRole('button', { name: 'New schedule' }).click()
    const fresh = page.getByRole('dialog', { name: 'New schedule' })
    await fresh.getByLabel('Job').selectOption({ label: 'Graph: Copy B' })
    // A bad cron expression is refused with a readable reason, and the dialog stays open.
    await fresh.getByLabel('Cron expression').check()
    await fresh.getByLabel(/^Cron \(minute/).fill('61 * * * *')
    await fresh.getByRole('button', { name: 'Save schedule' }).click()
    const alert = fresh.getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).toContain('not a cron expression')
    expect(await alert.textContent()).not.toContain('{')
    // The 400 of that refusal is expected; only errors after this point count.
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.filter((e) => !(e.includes('400') && e.includes('/api/schedules/graph/')))).toEqual([])
    errors.length = 0
    await fresh.getByLabel('Simple repeat').check()
    await fresh.getByLabel('Repeat unit').selectOption('days')
    await fresh.getByLabel('Time of day').fill('06:30')
    await fresh.getByLabel('Input file').fill('b.csv')
    expect(await fresh.getByTestId('cadence-preview').textContent()).toBe('Every day at 06:30')
    await fresh.getByRole('button', { name: 'Save schedule' }).click()
    await expect.poll(() => table.getByRole('row').count()).toBe(4)
    const daily = (
      await get<{ schedules: { jobId: string; repeat?: unknown; params: unknown }[] }>('/schedules')
    ).schedules.filter((s) => s.params && Object.keys(s.params).length > 0)
    expect(daily).toEqual([
      expect.objectContaining({
        repeat: { every: 1, unit: 'days', at: '06:30' },
        params: { inFile: 'b.csv' },
      }),
    ])
    await page.getByRole('button', { name: 'What the scheduler did for Copy B' }).click()
    const events = page.getByRole('dialog', { name: /Scheduler events/ })
    await events.getByText('The schedule has not fired yet.').waitFor()
    await events.getByRole('button', { name: 'Close' }).last().click()
    const collectionRow = table.getByRole('row').filter({ hasText: 'Nightly copies' })
    expect(await collectionRow.textContent()).toContain('Every 15 minutes')
    await collectionRow.getByTestId('next-run').waitFor()
    const graphRow = table.getByRole('row').filter({ hasText: 'Copy A' })
    expect(await graphRow.textContent()).toContain('Every 2 hours on weekdays')
    expect(await graphRow.textContent()).toContain('max 30 min')
    expect(await graphRow.textContent()).toContain('skips missed runs')
    expect(await unnamedControls(page)).toEqual([])
    await shot(page, 'schedules')

    // Disabling keeps the schedule and hides its next run.
    await graphRow.getByRole('switch', { name: 'Schedule of Copy A enabled' }).uncheck()
    await expect.poll(() => graphRow.getByTestId('next-run').count()).toBe(0)
    const { schedules } = await get<{
      schedules: { jobKind: string; enabled: boolean; missedRunGraceMinutes: number }[]
    }>('/schedules')
    expect(schedules.find((s) => s.jobKind === 'graph')).toMatchObject({
      enabled: false,
      missedRunGraceMinutes: 0,
    })
  })

  it('opens a graph’s notification rules from the editor', async () => {
    const { graphs } = await get<{ graphs: { id: string; name: string }[] }>('/graphs')
    const graphId = graphs.find((g) => g.name === 'Copy B')!.id
    await page.goto(`${base}/#/graphs/${encodeURIComponent(graphId)}`)
    await page.getByRole('button', { name: 'Notifications of this graph' }).click()
    const dialog = page.getByRole('dialog', { name: 'Notifications of “Copy B”' })
    await dialog.getByText('No notifications yet.').waitFor()
    await dialog.getByLabel('Recipients').fill('data-team@example.com')
    await dialog.getByRole('button', { name: 'Add rule' }).click()
    await dialog.getByRole('table', { name: 'Notification rules' }).waitFor()
    expect(await unnamedControls(page)).toEqual([])
    await dialog.getByRole('button', { name: 'Close' }).last().click()
    const { rules } = await get<{ rules: unknown[] }>(`/notifications/rules?jobKind=graph&jobId=${graphId}`)
    expect(rules).toEqual([
      expect.objectContaining({ channel: 'email', to: ['data-team@example.com'], on: ['failure'] }),
    ])
  })

  it('saves the collection as a template, makes a new one from it, requires approval, deletes it', async () => {
    await page.goto(`${base}/#/collections/${encodeURIComponent(collectionId)}`)
    await page.getByRole('button', { name: 'Save as template' }).click()
    const save = page.getByRole('dialog', { name: 'Save as template' })
    await save.getByLabel('Template name').fill('Copies template')
    await save.getByRole('button', { name: 'Save template' }).click()

    await page.goto(`${base}/#/collections`)
    const templates = page.getByRole('table', { name: 'Collection templates' })
    await templates.waitFor()
    expect(await templates.textContent()).toContain('Every 15 minutes')
    await templates.getByRole('button', { name: 'New collection from Copies template' }).click()
    const use = page.getByRole('dialog', { name: 'New collection from template' })
    await use.getByLabel('Name').fill('Copies, second')
    await use.getByRole('button', { name: 'Create collection' }).click()
    await page.getByRole('heading', { name: 'Copies, second', level: 1 }).waitFor()
    const secondId = decodeURIComponent(new URL(page.url()).hash.replace('#/collections/', ''))
    const copy = await get<{ steps: { graphName: string; params: unknown; onFailure: string }[] }>(
      `/collections/${secondId}`,
    )
    expect(copy.steps.map((s) => [s.graphName, s.onFailure])).toEqual([
      ['Copy A', 'abort'],
      ['Copy B', 'continue'],
    ])
    await page.getByRole('region', { name: 'Schedule' }).getByTestId('next-run').waitFor()

    // With approval required, Run now leaves a pending request instead of a run.
    const approval = page.getByRole('region', { name: 'Approval' })
    await approval.getByRole('switch').check()
    await expect
      .poll(async () =>
        (await get<{ rules: { jobId: string }[] }>('/approval-rules')).rules.map((r) => r.jobId),
      )
      .toEqual([secondId])
    await page.getByRole('button', { name: 'Run now' }).click()
    await page.getByText('needs approval').waitFor()
    const { approvals } = await get<{ approvals: { jobId: string; status: string }[] }>(
      `/approvals?status=pending`,
    )
    expect(approvals).toEqual([expect.objectContaining({ jobId: secondId, status: 'pending' })])
    expect((await get<{ runs: unknown[] }>(`/collections/${secondId}/runs`)).runs).toEqual([])
    await approval.getByRole('switch').uncheck()
    await expect.poll(async () => (await get<{ rules: unknown[] }>('/approval-rules')).rules).toEqual([])

    // Delete asks first.
    await page.getByRole('button', { name: 'Delete collection' }).click()
    const confirm = page.getByRole('dialog', { name: 'Delete collection' })
    expect(await confirm.textContent()).toContain('Copies, second')
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click()
    await page.getByRole('heading', { name: 'Collections', level: 1 }).waitFor()
    const { collections } = await get<{ collections: { id: string }[] }>('/collections')
    expect(collections.map((c) => c.id)).toEqual([collectionId])
  })

  it('shows an operator and a viewer only what their role may do', async () => {
    const password = 'a-long-enough-password'
    for (const [username, role] of [
      ['otto', 'operator'],
      ['vera', 'viewer'],
    ]) {
      const res = await page.request.post(`${base}/api/users`, { data: { username, password, role } })
      expect(res.status(), await res.text()).toBe(201)
    }
    const seen: Record<string, Record<string, number>> = {}
    for (const username of ['otto', 'vera']) {
      const other = await openPage(e2e, { width: 1440, height: 1000 })
      try {
        await other.page.goto(`${base}/`)
        await other.page.getByLabel('Username').fill(username)
        await other.page.getByLabel('Password').fill(password)
        await other.page.getByRole('button', { name: 'Sign in' }).click()
        await other.page.getByRole('heading', { name: 'Graphs' }).waitFor()
        await other.page.goto(`${base}/#/collections/${encodeURIComponent(collectionId)}`)
        await other.page.getByRole('heading', { name: 'Nightly copies', level: 1 }).waitFor()
        await other.page.getByRole('region', { name: 'Approval' }).getByRole('switch').waitFor()
        const count = (name: string) => other.page.getByRole('button', { name, exact: true }).count()
        seen[username] = {
          run: await count('Run now'),
          edit: await count('Edit'),
          template: await count('Save as template'),
          delete: await count('Delete collection'),
          schedule: await count('Edit schedule'),
          addRule: await count('Add rule'),
          approvalSwitch: (await other.page
            .getByRole('region', { name: 'Approval' })
            .getByRole('switch')
            .isEnabled())
            ? 1
            : 0,
        }
        expect(other.errors).toEqual([])
      } finally {
        await other.page.context().close()
      }
    }
    expect(seen).toEqual({
      otto: { run: 1, edit: 0, template: 0, delete: 0, schedule: 1, addRule: 1, approvalSwitch: 0 },
      vera: { run: 0, edit: 0, template: 0, delete: 0, schedule: 0, addRule: 0, approvalSwitch: 0 },
    })
  })

  it('keeps the SMTP password write-only', async () => {
    await page.goto(`${base}/#/admin/mail`)
    const section = page.getByRole('region', { name: 'Mail' })
    await section.getByLabel('Host', { exact: true }).fill('smtp.example.com')
    await section.getByLabel('Port', { exact: true }).fill('2525')
    await section.getByLabel('User name', { exact: true }).fill('mailer')
    await section.getByLabel(/^Password/).fill('s3cret-pass')
    await section.getByLabel('Sender', { exact: true }).fill('Syncgraph <sync@example.com>')
    await section.getByRole('button', { name: 'Save', exact: true }).click()
    await section.getByText('stored, encrypted').waitFor()
    expect(await section.locator('input[type="password"]').count()).toBe(0)
    const settings = await page.request.get(`${base}/api/notifications/settings`)
    const text = await settings.text()
    expect(text).not.toContain('s3cret-pass')
    expect(JSON.parse(text)).toMatchObject({
      smtp: { host: 'smtp.example.com', port: 2525, hasPassword: true },
    })
  })
})
