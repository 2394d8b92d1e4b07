import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { beforeAll, expect, it } from 'vitest'
import {
  connect,
  dragFromPalette,
  describeE2E,
  openPage,
  screenshot,
  useE2E,
  signIn,
  startE2E,
  unnamedControls,
  type E2E,
} from './harness.ts'

const PEOPLE = 3000
const people = ['id,first,last,dept,status']
for (let i = 1; i <= PEOPLE; i++)
  people.push(
    `${i},First${i},Last${i},${['hr', 'it', 'ops', 'sales', 'legal'][i % 5]},${i % 4 === 0 ? 'inactive' : 'active'}`,
  )
const depts = 'code,title\nhr,Human resources\nit,IT\nops,Operations\nsales,Sales\n'
// Active rows: i % 4 != 0 → 2250; of those, dept legal (i % 5 == 4) has no match → 2250 - 450 = 1800 joined.
const ACTIVE = 2250
const JOINED = 1800

const nodeCount = (page: Page) => page.locator('.react-flow__node').count()

async function typeInEditor(page: Page, fieldLabel: string, text: string) {
  const editor = page.getByRole('textbox', { name: fieldLabel })
  await editor.click()
  await page.keyboard.press('Control+a')
  await page.keyboard.press('Delete')
  // Typed key by key, as a person would: completion and the live result follow every key.
  await page.keyboard.type(text, { delay: 5 })
  await page.keyboard.press('Escape')
}

async function selectNode(page: Page, id: string) {
  await page.locator(`[data-testid="node-${id}"] .sg-node-head`).click()
  await page.locator(`[aria-label="Settings of ${id}"]`).waitFor()
}

describeE2E('editor in Chromium', () => {
  let e2e: E2E
  let page: Page
  let errors: string[]

  beforeAll(async () => {
    e2e = await startE2E({ 'people.csv': people.join('\n') + '\n', 'depts.csv': depts })
    ;({ page, errors } = await openPage(e2e))
  }, 180_000)

  useE2E({ e2e: () => e2e, pages: () => [page] })

  it('signs in and shows a readable error for a wrong password', async () => {
    await page.goto(`${e2e.server.url}/`)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await screenshot(page, 'login')
    expect(await unnamedControls(page)).toEqual([])
    await page.getByLabel('Password').fill('not the password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).not.toContain('{')
    // The 401 of the failed login is expected; only errors after this point count.
    errors.length = 0
    await signIn(page, e2e.server.url)
  })

  it('builds csv.read → filter → map → join → csv.write by dragging and connecting', async () => {
    await page.getByRole('button', { name: 'New graph' }).first().click()
    await page.getByLabel('Name').fill('People to directory')
    await page.getByRole('button', { name: 'Create' }).click()
    await page.locator('.palette').waitFor()

    await dragFromPalette(page, 'csv.read', { x: 140, y: 100 })
    await dragFromPalette(page, 'filter', { x: 380, y: 100 })
    await dragFromPalette(page, 'map', { x: 620, y: 100 })
    await dragFromPalette(page, 'csv.read', { x: 380, y: 320 })
    await dragFromPalette(page, 'join', { x: 860, y: 180 })
    // The palette is keyboard-usable too: search, arrow down, Enter adds the node.
    await page.getByLabel('Search nodes').fill('write csv')
    await page.getByLabel('Search nodes').press('ArrowDown')
    await page.keyboard.press('Enter')
    await page.getByLabel('Search nodes').fill('')
    expect(await nodeCount(page)).toBe(6)
    // Move the keyboard-added node to the right of the join.
    const write = page.locator('[data-testid="node-csv_write"] .sg-node-head')
    const box = (await write.boundingBox())!
    const canvas = (await page.locator('.canvas').boundingBox())!
    await page.mouse.move(box.x + 20, box.y + 10)
    await page.mouse.down()
    await page.mouse.move(canvas.x + 1100, canvas.y + 200, { steps: 8 })
    await page.mouse.up()

    await connect(page, 'csv_read', 'out', 'filter', 'in')
    await connect(page, 'filter', 'out', 'map', 'in')
    await connect(page, 'map', 'out', 'join', 'left')
    await connect(page, 'csv_read_2', 'out', 'join', 'right')
    await connect(page, 'join', 'out', 'csv_write', 'in')
    expect(await page.locator('.react-flow__edge').count()).toBe(5)

    // A second edge into a single input is refused with the reason on screen.
    await connect(page, 'csv_read_2', 'out', 'filter', 'in')
    await expect.poll(() => page.getByTestId('canvas-hint').textContent()).toContain('already has an edge')
    expect(await page.locator('.react-flow__edge').count()).toBe(5)
  })

  it('configures the nodes with the generated forms and the JSONata editor', async () => {
    const inspector = page.getByRole('complementary', { name: 'Inspector' })
    await selectNode(page, 'csv_read')
    await inspector.getByLabel('File', { exact: true }).fill('people.csv')
    await selectNode(page, 'csv_read_2')
    await inspector.getByLabel('File', { exact: true }).fill('depts.csv')

    await selectNode(page, 'filter')
    await typeInEditor(page, 'Keep a row when', 'status = ')
    // Syntax error marked while the expression is incomplete.
    await page.locator('.cm-lintRange-error').first().waitFor()
    await page.keyboard.type('"active"', { delay: 5 })
    await expect
      .poll(() => page.getByTestId('live-summary').textContent(), { timeout: 15_000 })
      .toMatch(/of 20 kept/)
    // The engine's path for the expression, from the server's validation.
    await expect
      .poll(() => page.getByTestId('expression-path').textContent(), { timeout: 10_000 })
      .toBe('Compiled')
    await screenshot(page, 'jsonata-editor')

    await selectNode(page, 'map')
    await typeInEditor(page, 'New row', '{ "uid": $lowercase(first & "." & last), "dept": dept }')
    await expect
      .poll(() => page.getByTestId('live-result').first().textContent(), { timeout: 15_000 })
      .toContain('"uid":"first1.last1"')
    // A lambda is outside the compiled subset: the editor says the expression is interpreted.
    await typeInEditor(page, 'New row', '$map([1], function($v) { $v })')
    await expect
      .poll(() => page.getByTestId('expression-path').textContent(), { timeout: 10_000 })
      .toBe('Interpreted')
    await typeInEditor(page, 'New row', '{ "uid": $lowercase(first & "." & last), "dept": dept }')
    await expect
      .poll(() => page.getByTestId('expression-path').textContent(), { timeout: 10_000 })
      .toBe('Compiled')

    await selectNode(page, 'join')
    await inspector.getByRole('button', { name: /Add key pair/ }).click()
    await expect
      .poll(() => inspector.getByLabel('Left column').locator('option').count(), { timeout: 10_000 })
      .toBeGreaterThan(1)
    await inspector.getByLabel('Left column').selectOption('dept')
    // The right side reads a CSV file: its columns come from sample rows of depts.csv.
    await expect
      .poll(() => inspector.getByLabel('Right column').locator('option').count(), { timeout: 10_000 })
      .toBeGreaterThan(1)
    await inspector.getByLabel('Right column').selectOption('code')

    await selectNode(page, 'csv_write')
    await inspector.getByLabel('File', { exact: true }).fill('out/people.csv')
    await inspector.getByLabel('File', { exact: true }).fill('people-out.csv')

    await page.keyboard.press('Escape')
    await expect
      .poll(() => page.getByTestId('issues-button').textContent(), { timeout: 10_000 })
      .toContain('Valid')
    await page.locator('.canvas .react-flow__pane').click({ position: { x: 5, y: 5 } })
    await page.keyboard.press('l')
    await page.waitForTimeout(700)
    await screenshot(page, 'canvas')
  })

  it('saves a revision, runs, and the counts reach the final numbers', async () => {
    await page.keyboard.press('Control+s')
    await expect.poll(() => page.getByTestId('save-state').textContent()).toMatch(/Saved · revision \d+/)

    await page.getByRole('button', { name: 'Run graph' }).click()
    await expect
      .poll(() => page.getByTestId('run-status').first().textContent(), { timeout: 30_000 })
      .toBe('succeeded')
    await expect
      .poll(() => page.locator('[data-testid="stats-csv_write"] [data-stat="in"]').textContent())
      .toBe(JOINED.toLocaleString('en-US'))
    // The filter passes the active rows on "Matched" (its edge to map); a node's "out" counts the rows
    // it emitted on all outputs (engine counter rowsOut), here matched and unmatched together.
    expect(await page.getByTestId('edge-count-filter-map').textContent()).toBe(ACTIVE.toLocaleString('en-US'))
    expect(await page.locator('[data-testid="stats-filter"] [data-stat="out"]').textContent()).toBe(
      PEOPLE.toLocaleString('en-US'),
    )
    expect(await page.getByTestId('edge-count-join-csv_write').textContent()).toBe(
      JOINED.toLocaleString('en-US'),
    )
    // The run drawer took the lower part of the canvas: fit the graph into what is left.
    await page.keyboard.press('f')
    await page.waitForTimeout(400)
    await screenshot(page, 'run')
    const written = readFileSync(join(e2e.filesDir, 'people-out.csv'), 'utf8').trim().split('\n')
    expect(written).toHaveLength(JOINED + 1)

    await page.getByRole('tab', { name: 'History' }).click()
    await page.getByRole('list', { name: 'Run history' }).getByRole('button').first().click()
    const writer = page.getByTestId('run-row-csv_write')
    await writer.waitFor()
    expect(await writer.locator('td').nth(3).textContent()).toBe(JOINED.toLocaleString('en-US'))
    await screenshot(page, 'history')
  })

  it('previews a node as a table with column types', async () => {
    await selectNode(page, 'join')
    await page.keyboard.press('p')
    const table = page.getByRole('table', { name: 'Preview of join' })
    await table.waitFor()
    await expect.poll(() => table.locator('tbody tr').count()).toBe(100)
    expect(await table.locator('thead').textContent()).toContain('uid')
    await screenshot(page, 'preview')
  })

  it('selects nodes with the keyboard and names every control', async () => {
    // A node on the canvas takes focus with Tab and is selected with Enter; its settings open.
    await page.locator('.react-flow__node[data-id="filter"]').focus()
    await page.keyboard.press('Enter')
    await page.locator('[aria-label="Settings of filter"]').waitFor()
    expect(await unnamedControls(page)).toEqual([])
    await page.getByRole('tab', { name: 'Run' }).click()
    expect(await unnamedControls(page)).toEqual([])
  })

  it('undoes and redoes a delete', async () => {
    await selectNode(page, 'map')
    await page.locator('.canvas .react-flow__pane').focus()
    await page.keyboard.press('Delete')
    expect(await nodeCount(page)).toBe(5)
    expect(await page.locator('.react-flow__edge').count()).toBe(3)
    await page.keyboard.press('Control+z')
    expect(await nodeCount(page)).toBe(6)
    expect(await page.locator('.react-flow__edge').count()).toBe(5)
    await page.keyboard.press('Control+Shift+z')
    expect(await nodeCount(page)).toBe(5)
    await page.getByRole('button', { name: 'Undo' }).click()
    expect(await nodeCount(page)).toBe(6)
  })

  it('saves as a template with a parameter and creates a graph from it', async () => {
    await page.getByRole('button', { name: 'Save as template' }).click()
    const dialog = page.getByRole('dialog', { name: 'Save as template' })
    await dialog.getByLabel('Template name').fill('People feed')
    await dialog.getByLabel('Make csv_read $.path a parameter').check()
    await dialog.getByLabel('Parameter name for csv_read $.path').fill('peopleFile')
    await dialog.getByLabel('Title for csv_read $.path').fill('People export')
    await screenshot(page, 'save-template')
    expect(await unnamedControls(page)).toEqual([])
    await dialog.getByRole('button', { name: /Save template/ }).click()
    await dialog.waitFor({ state: 'hidden' })

    // Copy the writer, to paste it into the graph made from the template.
    await selectNode(page, 'csv_write')
    await page.locator('.canvas .react-flow__pane').focus()
    await page.keyboard.press('Control+c')

    await page.keyboard.press('Control+s')
    await expect.poll(() => page.getByTestId('save-state').textContent()).toMatch(/Saved/)
    await page.getByRole('button', { name: 'Back to graphs' }).click()
    await page.getByRole('link', { name: 'Templates' }).click()
    await page.getByRole('button', { name: 'Use template People feed' }).click()
    const use = page.getByRole('dialog')
    await use.getByLabel('Graph name').fill('People (from template)')
    await expect.poll(() => use.getByLabel(/People export/).inputValue()).toBe('people.csv')
    await screenshot(page, 'templates')
    await use.getByRole('button', { name: 'Create graph' }).click()
    await page.getByLabel('Graph name').waitFor()
    expect(await page.getByLabel('Graph name').inputValue()).toBe('People (from template)')
    await expect.poll(() => nodeCount(page)).toBe(6)

    // Paste between graphs.
    await page.locator('.canvas .react-flow__pane').click({ position: { x: 5, y: 5 } })
    await page.keyboard.press('Control+v')
    await expect.poll(() => nodeCount(page)).toBe(7)
    await page.keyboard.press('Control+z')
    await expect.poll(() => nodeCount(page)).toBe(6)
  })

  it('lists graphs with search', async () => {
    await page.getByRole('button', { name: 'Back to graphs' }).click()
    await page.getByRole('heading', { name: 'Graphs' }).waitFor()
    await page.getByRole('link', { name: 'People to directory' }).waitFor()
    await screenshot(page, 'graphs')
    expect(await unnamedControls(page)).toEqual([])
    await page.getByLabel('Search graphs').fill('template')
    await expect.poll(() => page.getByRole('table', { name: 'Graphs' }).locator('tbody tr').count()).toBe(1)
  })

  it('routes failing rows to "rejected", shows them, and links run errors to their node', async () => {
    await page.getByRole('button', { name: 'New graph' }).first().click()
    const create = page.getByRole('dialog')
    await create.getByLabel('Name', { exact: true }).fill('Reserved ids')
    await create.getByRole('button', { name: 'Create' }).click()
    await page.locator('.palette').waitFor()
    await dragFromPalette(page, 'csv.read', { x: 160, y: 160 })
    await dragFromPalette(page, 'map', { x: 440, y: 160 })
    await dragFromPalette(page, 'csv.write', { x: 720, y: 160 })
    await connect(page, 'csv_read', 'out', 'map', 'in')
    await connect(page, 'map', 'out', 'csv_write', 'in')
    const inspector = page.getByRole('complementary', { name: 'Inspector' })
    await selectNode(page, 'csv_read')
    await inspector.getByLabel('File', { exact: true }).fill('people.csv')
    await selectNode(page, 'csv_write')
    await inspector.getByLabel('File', { exact: true }).fill('reserved-out.csv')
    await selectNode(page, 'map')
    // Every 500th id gives a string instead of an object: those rows fail in the map node.
    await typeInEditor(page, 'New row', '$number(id) % 500 = 0 ? "reserved" : { "id": id }')
    await inspector.getByLabel('When a row fails').selectOption('route')
    await expect
      .poll(() => page.getByTestId('issues-button').textContent(), { timeout: 10_000 })
      .not.toMatch(/error/)

    await page.getByRole('button', { name: 'Run graph' }).click()
    await expect
      .poll(() => page.getByTestId('run-status').first().textContent(), { timeout: 30_000 })
      .toBe('succeeded')
    const failing = PEOPLE / 500
    expect(await page.locator('[data-testid="stats-map"] [data-stat="rejected"]').textContent()).toBe(
      String(failing),
    )
    await page.getByRole('button', { name: 'View rejected rows of map' }).click()
    const rejected = page.getByRole('table', { name: 'Rejected rows of map' })
    await rejected.waitFor()
    await expect.poll(() => rejected.locator('tbody tr').count()).toBe(failing)
    expect(await rejected.locator('tbody').textContent()).toContain('MAP_NOT_OBJECT')
    await screenshot(page, 'rejected')

    // With "fail", the first failing row stops the run; the error names map and selects it.
    await selectNode(page, 'map')
    await inspector.getByLabel('When a row fails').selectOption('fail')
    await page.keyboard.press('Escape')
    await page.locator('.canvas .react-flow__pane').click({ position: { x: 5, y: 5 } })
    await page.getByRole('button', { name: 'Run graph' }).click()
    await expect
      .poll(() => page.getByTestId('run-status').first().textContent(), { timeout: 30_000 })
      .toBe('failed')
    await page.getByRole('list', { name: 'Run errors' }).getByRole('button', { name: 'map' }).click()
    await page.locator('[aria-label="Settings of map"]').waitFor()

    await page.getByRole('tab', { name: 'History' }).click()
    await expect
      .poll(() => page.getByRole('list', { name: 'Run history' }).getByRole('button').count())
      .toBe(2)
  })

  it('had no console errors', () => {
    expect(errors).toEqual([])
  })
})
