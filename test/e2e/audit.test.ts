/**
 * Accessibility and console audit of the editor (issue 4, point 10): every screen and dialog is
 * visited in a real Chromium; each step fails on a console error, a page error or a failed request
 * since the previous step, and on any control (button, input, select, tab…) without an accessible
 * name in Chromium's accessibility tree.
 *
 * Adding a screen is one line in `steps`: `route(name, hash, heading)` for a page reached by its URL,
 * or `{ name, visit }` (and `leave` for a dialog) for anything that needs clicks.
 */
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { definitions } from '../../nodes/index.ts'
import { describeE2E, openPage, signIn, startE2E, unnamedControls, type E2E } from './harness.ts'

const PEOPLE = 600
const people = ['id,first,last,status']
for (let i = 1; i <= PEOPLE; i++) people.push(`${i},First${i},Last${i},${i % 4 ? 'active' : 'inactive'}`)

/** What the steps share: the page and the ids of the graphs made for the audit. */
interface Audit {
  page: Page
  url: string
  pipelineId: string
  allTypesId: string
  emptyId: string
  runId: string
  collectionId: string
}

interface Step {
  name: string
  /** Bring the screen or dialog up and wait until it is ready. */
  visit(audit: Audit): Promise<void>
  /** Close it again, for dialogs. */
  leave?(audit: Audit): Promise<void>
  /** Failed requests the step causes on purpose (matched against the recorded error text). */
  expected?: RegExp
}

/** A screen reached by its URL, ready when its heading shows. */
const route = (name: string, hash: string, heading: string | RegExp): Step => ({
  name,
  visit: async ({ page, url }) => {
    await page.goto(`${url}/${hash}`)
    await page.getByRole('heading', { name: heading }).first().waitFor()
  },
})

const openEditor = async ({ page, url }: Audit, graphId: string) => {
  if (!page.url().endsWith(`#/graphs/${graphId}`)) await page.goto(`${url}/#/graphs/${graphId}`)
  await page.locator('.react-flow__node').first().waitFor()
}

const selectNode = async (page: Page, id: string) => {
  await page.locator(`[data-testid="node-${id}"] .sg-node-head`).click()
  await page.locator(`[aria-label="Settings of ${id}"]`).waitFor()
}

const closeDialog = async ({ page }: Audit) => {
  await page.keyboard.press('Escape')
  await page.locator('dialog[open]').waitFor({ state: 'hidden' })
}

/** A dialog opened from the graph list by a row's button. */
const listDialog = (name: string, button: string, title: string): Step => ({
  name,
  visit: async ({ page, url }) => {
    if (!page.url().endsWith('/#/')) await page.goto(`${url}/#/`)
    await page.getByRole('button', { name: button }).first().click()
    await page.getByRole('dialog', { name: title }).waitFor()
  },
  leave: closeDialog,
})

const nodeId = (type: string) => `n_${type.replace(/\W/g, '_')}`

const steps: Step[] = [
  route('graph list', '#/', 'Graphs'),
  listDialog('new graph dialog', 'New graph', 'New graph'),
  listDialog('rename dialog', 'Rename Audit pipeline', 'Rename graph'),
  listDialog('duplicate dialog', 'Duplicate Audit pipeline', 'Duplicate graph'),
  listDialog('delete dialog', 'Delete Audit pipeline', 'Delete graph'),
  {
    name: 'editor with an empty graph',
    visit: async ({ page, url, emptyId }) => {
      await page.goto(`${url}/#/graphs/${emptyId}`)
      await page.getByText('An empty graph').waitFor()
    },
  },
  { name: 'editor', visit: (a) => openEditor(a, a.pipelineId) },
  ...definitions.map((d): Step => ({
    name: `inspector of ${d.type}`,
    visit: async (a) => {
      await openEditor(a, a.allTypesId)
      await selectNode(a.page, nodeId(d.type))
    },
  })),
  {
    name: 'inspector of a node with upstream columns',
    visit: async (a) => {
      await openEditor(a, a.pipelineId)
      await selectNode(a.page, 'shape')
      await a.page.getByRole('textbox', { name: 'New row' }).waitFor()
      await a.page.getByTestId('live-result').first().waitFor({ timeout: 15_000 })
    },
  },
  {
    name: 'preview',
    visit: async ({ page }) => {
      await page.keyboard.press('p')
      await page.getByRole('table', { name: 'Preview of shape' }).locator('tbody tr').first().waitFor()
    },
  },
  {
    name: 'issues panel',
    visit: async ({ page }) => {
      await page.getByRole('tab', { name: /Issues/ }).click()
      await page.locator('#drawer-panel').waitFor()
    },
  },
  {
    name: 'runs panel during and after a run',
    visit: async ({ page }) => {
      await page.keyboard.press('Escape')
      await page.getByRole('button', { name: 'Run graph' }).click()
      await expect
        .poll(() => page.getByTestId('run-status').first().textContent(), { timeout: 30_000 })
        .toBe('succeeded')
    },
  },
  {
    name: 'rejected rows',
    visit: async ({ page }) => {
      await page.getByRole('button', { name: 'View rejected rows of shape' }).click()
      await page.getByRole('table', { name: 'Rejected rows of shape' }).locator('tbody tr').first().waitFor()
    },
  },
  {
    name: 'run history',
    visit: async ({ page }) => {
      await page.getByRole('tab', { name: 'History' }).click()
      await page.getByRole('list', { name: 'Run history' }).getByRole('button').first().click()
      await page.getByTestId('run-row-out').waitFor()
    },
  },
  {
    name: 'graph settings inspector',
    visit: async ({ page }) => {
      await page.locator('.canvas .react-flow__pane').click({ position: { x: 5, y: 5 } })
      await page.getByRole('region', { name: 'Graph settings' }).waitFor()
    },
  },
  {
    name: 'conflict dialog (saved elsewhere meanwhile)',
    visit: async ({ page, pipelineId }) => {
      await page.getByLabel('Graph name').fill('Audit pipeline (mine)')
      // Someone else saves the graph: the editor's revision is now stale, and its save answers 409.
      await page.evaluate(async (id) => {
        const stored = (await (await fetch(`/api/graphs/${id}`)).json()) as {
          revision: number
          graph: unknown
        }
        await fetch(`/api/graphs/${id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ graph: stored.graph, revision: stored.revision }),
        })
      }, pipelineId)
      await page.keyboard.press('Control+s')
      await page.getByRole('dialog', { name: 'Newer version saved elsewhere' }).waitFor()
    },
    leave: async ({ page }) => {
      await page.getByRole('button', { name: 'Load their version' }).click()
      await page.locator('dialog[open]').waitFor({ state: 'hidden' })
    },
    expected: /\b409\b.*\/api\/graphs\//,
  },
  {
    name: 'keyboard shortcuts dialog',
    visit: async ({ page }) => {
      await page.getByRole('button', { name: 'Keyboard shortcuts' }).click()
      await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor()
    },
    leave: closeDialog,
  },
  {
    name: 'save as template dialog',
    visit: async ({ page }) => {
      await page.getByRole('button', { name: 'Save as template' }).click()
      await page.getByRole('dialog', { name: 'Save as template' }).waitFor()
    },
    leave: closeDialog,
  },
  route('templates gallery', '#/templates', 'Templates'),
  {
    name: 'new graph from template dialog',
    visit: async ({ page }) => {
      await page.getByRole('button', { name: 'Use template Audit template' }).click()
      await page.getByRole('dialog').getByLabel('Graph name').waitFor()
    },
    leave: closeDialog,
  },
  // The operations screens (issue 8).
  route('dashboard', '#/dashboard', 'Dashboard'),
  route('runs list', '#/runs', 'Runs'),
  {
    name: 'run detail',
    visit: async ({ page, url, runId }) => {
      await page.goto(`${url}/#/runs/${runId}`)
      await page.getByRole('heading', { name: /^Run / }).first().waitFor()
      await page.getByText('succeeded').first().waitFor()
    },
  },
  route('change history', '#/history', 'History'),
  route('collections', '#/collections', 'Collections'),
  {
    name: 'new collection dialog',
    visit: async ({ page }) => {
      await page.getByRole('button', { name: 'New collection' }).first().click()
      await page.locator('dialog[open]').waitFor()
    },
    leave: closeDialog,
  },
  {
    name: 'collection detail',
    visit: async ({ page, url, collectionId }) => {
      await page.goto(`${url}/#/collections/${collectionId}`)
      await page.getByRole('heading', { name: 'Audit collection' }).waitFor()
    },
  },
  route('schedules', '#/schedules', 'Schedules'),
  {
    name: 'new schedule dialog',
    visit: async ({ page }) => {
      await page.getByRole('button', { name: 'New schedule' }).first().click()
      await page.locator('dialog[open]').waitFor()
    },
    leave: closeDialog,
  },
  route('approvals', '#/approvals', 'Approvals'),
  route('admin: users', '#/admin/users', 'Users and roles'),
  route('admin: policies', '#/admin/policies', 'Policies per role'),
  route('admin: mail', '#/admin/mail', 'Mail server'),
]

describeE2E('accessibility and console audit', () => {
  let e2e: E2E
  let audit: Audit
  let errors: string[]

  beforeAll(async () => {
    e2e = await startE2E({ 'people.csv': people.join('\n') + '\n' })
    const opened = await openPage(e2e)
    errors = opened.errors
    const page = opened.page
    const url = e2e.server.url

    // The login page first, before any session exists.
    await page.goto(`${url}/`)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    loginUnnamed = await unnamedControls(page)
    loginErrors = [...errors]
    await signIn(page, url)

    const post = (path: string, body: unknown) =>
      page.evaluate(
        async ({ path, body }) => {
          const r = await fetch(path, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          })
          if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`)
          return (await r.json()) as { id: string }
        },
        { path, body },
      )
    const pipeline = {
      syncgraph: 1,
      name: 'Audit pipeline',
      nodes: [
        { id: 'people', type: 'csv.read', config: { path: 'people.csv' }, position: { x: 0, y: 0 } },
        {
          id: 'shape',
          type: 'map',
          // Every 100th row gives a string instead of an object and goes to "rejected".
          config: { expression: '$number(id) % 100 = 0 ? "reserved" : { "uid": $lowercase(first) }' },
          onRowError: 'route',
          position: { x: 280, y: 0 },
        },
        { id: 'out', type: 'csv.write', config: { path: 'audit-out.csv' }, position: { x: 560, y: 0 } },
      ],
      edges: [
        { from: 'people', to: 'shape' },
        { from: 'shape', to: 'out' },
      ],
    }
    const allTypes = {
      syncgraph: 1,
      name: 'Audit node types',
      nodes: definitions.map((d, i) => ({
        id: nodeId(d.type),
        type: d.type,
        config: {},
        position: { x: (i % 5) * 260, y: Math.floor(i / 5) * 200 },
      })),
      edges: [],
    }
    const pipelineId = (await post('/api/graphs', { graph: pipeline })).id
    const allTypesId = (await post('/api/graphs', { graph: allTypes })).id
    const emptyId = (await post('/api/graphs', { graph: { syncgraph: 1, name: 'Audit empty', nodes: [] } }))
      .id
    await post('/api/templates', { name: 'Audit template', graph: pipeline, params: {} })
    // A finished run and a collection, so the operations screens show rows rather than empty states.
    const runId = (await post('/api/runs', { graphId: pipelineId })).id
    const collectionId = (
      await post('/api/collections', { name: 'Audit collection', steps: [{ graphId: pipelineId }] })
    ).id
    await page.waitForFunction(
      async (id) => {
        const r = await fetch(`/api/runs/${id}`)
        return ((await r.json()) as { status: string }).status === 'succeeded'
      },
      runId,
      { polling: 200, timeout: 60_000 },
    )
    audit = { page, url, pipelineId, allTypesId, emptyId, runId, collectionId }
    // Leave the graph list loaded before these existed, so the first step loads the page afresh.
    await page.goto('about:blank')
  }, 180_000)

  afterAll(async () => {
    await e2e?.close()
  })

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') {
      mkdirSync(tmpdir(), { recursive: true })
      await audit?.page
        .screenshot({ path: join(tmpdir(), `syncgraph-audit-${context.task.name.replace(/\W+/g, '-')}.png`) })
        .catch(() => undefined)
    }
  })

  let loginUnnamed: string[] = []
  let loginErrors: string[] = []
  it('login', () => {
    expect(loginUnnamed).toEqual([])
    expect(loginErrors).toEqual([])
  })

  for (const step of steps) {
    it(
      step.name,
      async () => {
        errors.length = 0
        await step.visit(audit)
        expect(await unnamedControls(audit.page), 'controls without an accessible name').toEqual([])
        await step.leave?.(audit)
        const expected = step.expected
        const unexpected = expected ? errors.filter((e) => !expected.test(e)) : errors
        expect(unexpected, 'console errors, page errors and failed requests').toEqual([])
      },
      60_000,
    )
  }
})
