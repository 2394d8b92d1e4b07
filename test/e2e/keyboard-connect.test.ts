import type { Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { describeE2E, openSignedIn, startE2E, unnamedControls, type E2E } from './harness.ts'

const edgeCount = (page: Page) => page.locator('.react-flow__edge').count()

describeE2E('connecting nodes with the keyboard', () => {
  let e2e: E2E
  let page: Page
  let errors: string[]

  beforeAll(async () => {
    e2e = await startE2E({ 'people.csv': 'id,status\n1,active\n' })
    ;({ page, errors } = await openSignedIn(e2e))
    const graph = {
      syncgraph: 1,
      name: 'Keyboard',
      nodes: [
        { id: 'src', type: 'csv.read', config: { path: 'people.csv' }, position: { x: 0, y: 0 } },
        {
          id: 'keep',
          type: 'filter',
          config: { expression: 'status = "active"' },
          position: { x: 300, y: 0 },
        },
        { id: 'out', type: 'csv.write', config: { path: 'kb-out.csv' }, position: { x: 600, y: 0 } },
      ],
      edges: [],
    }
    const { id } = await page.evaluate(async (g) => {
      const r = await fetch('/api/graphs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ graph: g }),
      })
      return (await r.json()) as { id: string }
    }, graph)
    await page.goto(`${e2e.server.url}/#/graphs/${id}`)
    await page.locator('.react-flow__node').first().waitFor()
  }, 180_000)

  afterAll(async () => {
    await e2e?.close()
  })

  it('selects a node and connects it from the "Connect to" menu with keys only', async () => {
    await page.locator('.react-flow__node[data-id="src"]').focus()
    await page.keyboard.press('Enter')
    await page.locator('[aria-label="Settings of src"]').waitFor()
    // C jumps to the menu of the selected node.
    await page.locator('.canvas .react-flow__pane').focus()
    await page.keyboard.press('c')
    const menu = page.getByLabel('Connect to', { exact: true })
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('inspector-connect-to')
    // Only the inputs the canvas accepts are offered: both other nodes' "in" ports.
    expect(await menu.locator('option').allTextContents()).toEqual(['Choose a port (2)', 'keep.in', 'out.in'])
    await page.keyboard.press('ArrowDown')
    expect(await menu.inputValue()).toBe('src.out → keep.in')
    await page.keyboard.press('Enter')
    await expect.poll(() => edgeCount(page)).toBe(1)
    expect(await page.getByTestId('canvas-hint').textContent()).toContain('Connected src.out → keep.in')
    expect(await page.getByRole('list', { name: 'Edges of src' }).textContent()).toContain(
      'src.out → keep.in',
    )
  })

  it('offers only what the port check allows', async () => {
    await page.locator('.react-flow__node[data-id="keep"]').focus()
    await page.keyboard.press('Enter')
    await page.locator('[aria-label="Settings of keep"]').waitFor()
    // keep.in already has its one edge, and keep → src would need an input src does not have.
    const from = page.getByLabel('Connect from', { exact: true })
    expect(await from.isDisabled()).toBe(true)
    expect(await from.locator('option').allTextContents()).toEqual(["No output fits this node's inputs"])
    // keep's outputs (matched, unmatched) may go to out.in; not back to src.
    const to = page.getByLabel('Connect to', { exact: true })
    const offered = await to.locator('option').allTextContents()
    expect(offered.slice(1).every((o) => o.endsWith('out.in'))).toBe(true)
    expect(offered.length).toBeGreaterThan(1)
    await to.selectOption({ index: 1 })
    await page.getByRole('button', { name: /^Connect keep\./ }).click()
    await expect.poll(() => edgeCount(page)).toBe(2)
    // out.in takes one edge: nothing more can go there from src.
    await page.locator('.react-flow__node[data-id="src"]').focus()
    await page.keyboard.press('Enter')
    await page.locator('[aria-label="Settings of src"]').waitFor()
    expect(await page.getByLabel('Connect to', { exact: true }).isDisabled()).toBe(true)
    expect(await unnamedControls(page)).toEqual([])
  })

  it('removes an edge from the list, and undo brings it back', async () => {
    await page.getByRole('button', { name: 'Remove edge src.out → keep.in' }).click()
    await expect.poll(() => edgeCount(page)).toBe(1)
    await page.locator('.canvas .react-flow__pane').focus()
    await page.keyboard.press('Control+z')
    await expect.poll(() => edgeCount(page)).toBe(2)
  })

  it('lists the shortcut in the keyboard help', async () => {
    await page.getByRole('button', { name: 'Keyboard shortcuts' }).click()
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' })
    expect(await help.textContent()).toContain('Connect the selected node')
    await page.keyboard.press('Escape')
  })

  it('had no console errors', () => {
    expect(errors).toEqual([])
  })
})
