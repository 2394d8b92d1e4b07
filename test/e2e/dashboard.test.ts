import { execFileSync } from 'node:child_process'
import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, expect, it } from 'vitest'
import {
  SQLITE_SYNC_TOTALS,
  sqliteSyncGraph,
  writeSqliteSyncFiles,
} from '../../server/testing/sqlite-sync-fixture.ts'
import {
  describeE2E,
  openSignedIn,
  screenshot,
  useE2E,
  startE2E,
  unnamedControls,
  type E2E,
} from './harness.ts'

interface Dashboard {
  runsToday: { total: number; successRate: number | null; byStatus: Record<string, number> }
  changes: { totals: Record<string, number> }
  failingJobs: { name: string }[]
  nextRuns: { name: string }[]
  pendingApprovals: { total: number }
}

/** Machine load varies 10x: wait for states generously, never for durations. */
const POLL = { timeout: 20_000, interval: 100 }

describeE2E('dashboard and history in Chromium', () => {
  let e2e: E2E
  let page: Page
  let errors: string[]
  let base: string

  /** An API call with the browser's session (the page's cookies). */
  const api = async <T>(method: 'GET' | 'POST' | 'PUT', path: string, data?: unknown): Promise<T> => {
    const res = await page.request.fetch(`${base}${path}`, {
      method,
      ...(data === undefined ? {} : { data }),
    })
    if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${await res.text()}`)
    return (await res.json()) as T
  }
  const createGraph = async (graph: unknown) =>
    (await api<{ id: string }>('POST', '/api/graphs', { graph })).id
  const runToEnd = async (body: unknown): Promise<{ status: string }> => {
    const { id } = await api<{ id: string }>('POST', '/api/runs', body)
    for (;;) {
      const run = await api<{ status: string }>('GET', `/api/runs/${id}`)
      if (run.status !== 'queued' && run.status !== 'running') return run
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const text = async (testId: string) => (await page.getByTestId(testId).textContent())?.trim()

  beforeAll(async () => {
    e2e = await startE2E()
    writeSqliteSyncFiles(e2e.filesDir)
    base = e2e.server.url
    ;({ page, errors } = await openSignedIn(e2e, { width: 1440, height: 1000 }))

    // Real runs of real sync graphs (csv.read → sql.sync on SQLite) fill runs and history.
    const hr = await createGraph(sqliteSyncGraph('HR feed', 'hr'))
    const it = await createGraph(sqliteSyncGraph('IT feed', 'it'))
    const broken = await createGraph(sqliteSyncGraph('Contractors feed', 'hr', { path: 'missing.csv' }))
    const guarded = await createGraph(sqliteSyncGraph('Guarded feed', 'it'))
    expect(await runToEnd({ graphId: hr, mode: 'plan' })).toMatchObject({ status: 'succeeded' })
    expect(await runToEnd({ graphId: hr })).toMatchObject({ status: 'succeeded' })
    expect(await runToEnd({ graphId: it })).toMatchObject({ status: 'succeeded' })
    expect(await runToEnd({ graphId: broken })).toMatchObject({ status: 'failed' })
    await api('PUT', `/api/schedules/graph/${hr}`, { cron: '0 3 * * *' })
    await api('PUT', `/api/approval-rules/graph/${guarded}`, {})
    await api('POST', '/api/runs', { graphId: guarded })
  }, 180_000)

  useE2E({ e2e: () => e2e, pages: () => [page] })

  it('shows the numbers the API gives, with the change chart', async () => {
    const d = await api<Dashboard>('GET', '/api/dashboard')
    // The plan-only run is not a run of the day; the failed one is.
    expect(d.runsToday).toMatchObject({ total: 3, byStatus: { succeeded: 2, failed: 1 } })
    expect(d.changes.totals).toEqual(SQLITE_SYNC_TOTALS)

    await page.getByRole('link', { name: 'Dashboard' }).click()
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor()
    await page.getByTestId('runs-today-value').waitFor()
    expect(await text('runs-today-value')).toBe(String(d.runsToday.total))
    expect(await text('success-rate-value')).toBe(`${Math.round(d.runsToday.successRate! * 1000) / 10}%`)
    expect(await text('pending-approvals-value')).toBe(String(d.pendingApprovals.total))
    expect(d.pendingApprovals.total).toBe(1)
    expect(await text('running-now-value')).toBe('0')
    for (const [series, n] of Object.entries(d.changes.totals))
      expect(await page.getByTestId(`total-${series}`).locator('strong').textContent()).toBe(String(n))
    expect(await text('objects-changed-value')).toBe('7')
    await page.getByRole('button', { name: '7 days' }).click()
    await expect.poll(() => page.getByTestId('objects-changed').textContent(), POLL).toContain('7 days')
    expect(await text('objects-changed-value')).toBe('7')

    const failing = page.getByRole('table', { name: 'Failing jobs' })
    expect(await failing.locator('tbody tr').count()).toBe(d.failingJobs.length)
    expect(await failing.textContent()).toContain('Contractors feed')
    expect(await page.getByRole('table', { name: 'Next scheduled runs' }).textContent()).toContain('HR feed')
    expect(await page.getByRole('table', { name: 'Pending approvals' }).textContent()).toContain(
      'Guarded feed',
    )
    expect(await page.getByTestId('running').textContent()).toContain('Nothing is running.')

    // The chart is loaded lazily; one bar per series has today's changes.
    await page.locator('.recharts-bar-rectangle').first().waitFor()
    await screenshot(page, 'dashboard')
    expect(await unnamedControls(page)).toEqual([])
  })

  it('drills from runs today into the runs behind the number', async () => {
    await page.getByTestId('runs-today').click()
    await page.getByRole('heading', { name: 'Runs' }).waitFor()
    const rows = page.getByRole('table', { name: 'Runs' }).locator('tbody tr')
    await expect.poll(() => rows.count(), POLL).toBe(3)
    expect(await page.getByLabel('Mode', { exact: true }).inputValue()).toBe('run,apply')
    // Showing plan-only runs as well adds the plan run.
    await page.getByLabel('Mode', { exact: true }).selectOption('')
    await expect.poll(() => rows.count(), POLL).toBe(4)
    await screenshot(page, 'runs-list')
    await page.getByLabel('Status', { exact: true }).selectOption('failed')
    await expect.poll(() => rows.count(), POLL).toBe(1)
    expect(await rows.first().textContent()).toContain('Contractors feed')
  })

  it('drills from a bar of the chart into the history of that day and action', async () => {
    await page.goto(`${base}/#/dashboard`)
    // The "deleted" series is the fourth bar layer; today's bar is its right-most rectangle.
    const bars = page.locator('.recharts-bar').nth(3).locator('.recharts-bar-rectangle path')
    await bars.first().waitFor()
    const boxes = await bars.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().x))
    await bars.nth(boxes.indexOf(Math.max(...boxes))).click()
    await page.getByRole('heading', { name: 'History' }).waitFor()
    const rows = page.locator('.history-table tbody tr[data-entry]')
    await expect.poll(() => rows.count(), POLL).toBe(SQLITE_SYNC_TOTALS.deleted)
    expect(await rows.first().getAttribute('data-action')).toBe('delete')
    expect(page.url()).toContain('action=delete')
  })

  it('filters the history by action and text, shows before/after per attribute, exports CSV', async () => {
    await page.goto(`${base}/#/dashboard`)
    await page.getByTestId('objects-changed').click()
    await page.getByRole('heading', { name: 'History' }).waitFor()
    const rows = page.locator('.history-table tbody tr[data-entry]')
    await expect.poll(() => rows.count(), POLL).toBe(7)
    expect(await text('history-total')).toBe('7 changes')

    await page.getByRole('button', { name: 'update', exact: true }).click()
    await expect.poll(() => rows.count(), POLL).toBe(SQLITE_SYNC_TOTALS.updated)
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-action')))).toEqual([
      'update',
      'update',
    ])
    expect(await api<{ total: number }>('GET', '/api/history?action=update')).toMatchObject({ total: 2 })

    // One graph's changes only.
    await page.getByLabel('Graph', { exact: true }).selectOption({ label: 'IT feed' })
    await expect.poll(() => rows.count(), POLL).toBe(1)
    expect(await rows.first().getByTestId('history-object').textContent()).toBe('id=10')
    await page.getByLabel('Graph', { exact: true }).selectOption('')
    await expect.poll(() => rows.count(), POLL).toBe(SQLITE_SYNC_TOTALS.updated)

    // Ann's title: Staff before, Manager after.
    await page.getByLabel('Key or DN contains').fill('"1"')
    await expect.poll(() => rows.count(), POLL).toBe(1)
    await page.getByRole('button', { name: /^Before and after of/ }).click()
    const diff = page.locator('.diff-table tr[data-attribute="title"]')
    await diff.waitFor()
    expect(await diff.locator('.diff-del').textContent()).toBe('Staff')
    expect(await diff.locator('.diff-add').textContent()).toBe('Manager')

    const csv = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')
    expect(csv).toContain('/api/history.csv?')
    expect(csv).toContain('action=update')
    const exported = await (await page.request.get(`${base}${csv}`)).text()
    expect(exported.trim().split('\n')).toHaveLength(2)
    expect(exported).toContain('Manager')

    await page.getByLabel('Key or DN contains').fill('')
    await expect.poll(() => rows.count(), POLL).toBe(2)
    await page
      .getByRole('button', { name: /^Before and after of/ })
      .last()
      .click()
    await screenshot(page, 'change-history')
    expect(await unnamedControls(page)).toEqual([])

    // A deep link from another screen: the run filter.
    const { entries } = await api<{ entries: { runId: string }[] }>('GET', '/api/history?action=create')
    const runId = entries.at(-1)!.runId
    await page.goto(`${base}/#/history?run=${runId}&action=create`)
    await expect.poll(() => rows.count(), POLL).toBe(entries.filter((e) => e.runId === runId).length)
    expect(await page.getByLabel('Run', { exact: true }).inputValue()).toBe(runId)
    expect(errors).toEqual([])

    // A filter the server refuses is said in words, not JSON.
    await page.goto(`${base}/#/history?action=explode`)
    const alert = page.getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).toContain('actions are create, update')
    expect(await alert.textContent()).not.toContain('{')
    // The 400 of that request is expected; only errors after this point count.
    errors.length = 0
  })

  it('shows a running run with live row counts over the WebSocket, and drops it when it ends', async () => {
    // The run reads a named pipe: it stays running, and its counts move exactly when the test writes rows.
    const fifo = join(e2e.filesDir, 'stream.csv')
    execFileSync('mkfifo', [fifo])
    const graphId = await createGraph({
      syncgraph: 1,
      name: 'Live feed',
      settings: { batchSize: 1 },
      nodes: [
        { id: 'feed', type: 'csv.read', config: { path: 'stream.csv' } },
        { id: 'out', type: 'csv.write', config: { path: 'live-out.csv' } },
      ],
      edges: [{ from: 'feed', to: 'out' }],
    })
    const { id: runId } = await api<{ id: string }>('POST', '/api/runs', { graphId })
    // Non-blocking open fails (ENXIO) until the run has opened the pipe for reading.
    let writer: FileHandle | undefined
    while (writer === undefined) {
      writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENXIO') throw error
          return undefined
        },
      )
      if (writer !== undefined) break
      const run = await api<{ status: string; errors: unknown[] }>('GET', `/api/runs/${runId}`)
      if (run.status !== 'running' && run.status !== 'queued')
        throw new Error(`run ended: ${JSON.stringify(run)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    /** The server's sum of rows in over the run's nodes, once its writer has read at least `n` rows. */
    const rowsIn = async (n: number): Promise<string> => {
      for (;;) {
        const run = await api<{ status: string; nodes: Record<string, { rowsIn: number }> }>(
          'GET',
          `/api/runs/${runId}`,
        )
        if ((run.nodes.out?.rowsIn ?? 0) >= n)
          return String(Object.values(run.nodes).reduce((sum, node) => sum + node.rowsIn, 0))
        if (run.status !== 'running') throw new Error(`run is ${run.status}: ${JSON.stringify(run)}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    /** The page shows what the server counts (the CSV parser may hold the last line until the next one comes). */
    const showsServerCount = async (n: number) => {
      await expect.poll(async () => (await live.textContent()) === (await rowsIn(n)), POLL).toBe(true)
      return Number(await live.textContent())
    }
    const row = page.locator(`tr[data-run="${runId}"]`)
    const live = row.getByTestId('live-in')
    try {
      await writer.write('id,name\n1,a\n2,b\n3,c\n')
      await page.goto(`${base}/#/dashboard`)
      await row.waitFor()
      expect(await text('running-now-value')).toBe('1')
      const first = await showsServerCount(2)
      expect(first).toBeGreaterThanOrEqual(2)
      // The page stays as it is: the new counts come over the WebSocket.
      await writer.write('4,d\n5,e\n6,f\n7,g\n')
      expect(await showsServerCount(6)).toBeGreaterThan(first)
    } finally {
      await writer.close()
    }
    // The run ends; its finish message makes the dashboard reload without it.
    await expect.poll(() => page.getByTestId('running').textContent(), POLL).toContain('Nothing is running.')
    expect(await text('runs-today-value')).toBe('4')
    expect(errors).toEqual([])
  })
})
