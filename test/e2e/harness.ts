import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, expect } from 'vitest'
import { createServer, type RunningServer } from '../../server/main.ts'
import { prerequisitesMissing } from '../prerequisites.ts'
import { describeWithService } from '../services.ts'

export const CHROMIUM = '/usr/bin/chromium'
export const skipReason = prerequisitesMissing('chromium')
export const hasChromium = skipReason === undefined

/** A suite of browser tests: skipped (or failed under SYNCGRAPH_REQUIRE_SERVICES=1) without Chromium. */
export function describeE2E(name: string, body: () => void): void {
  describeWithService(name, skipReason, body)
}

/** A page signed in as the admin, recording errors as `openPage` does. */
export async function openSignedIn(
  e2e: E2E,
  viewport?: { width: number; height: number },
): Promise<{ page: Page; errors: string[] }> {
  const opened = await openPage(e2e, viewport)
  await signIn(opened.page, e2e.server.url)
  return opened
}

const root = fileURLToPath(new URL('../../', import.meta.url))
export const ADMIN_PASSWORD = 'e2e-admin-password'

let built: Promise<string> | undefined
/** Build the editor once per test process into a temp folder (never touching dist/). */
export function buildEditor(): Promise<string> {
  built ??= (async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'syncgraph-editor-'))
    const { build } = await import('vite')
    await build({
      configFile: join(root, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    })
    return outDir
  })()
  return built
}

export interface E2E {
  server: RunningServer
  browser: Browser
  dataDir: string
  filesDir: string
  close(): Promise<void>
}

/** A real server on a free port with a temp DATA_DIR, serving the built editor, and a headless Chromium. */
export async function startE2E(files: Record<string, string> = {}): Promise<E2E> {
  const editorDir = await buildEditor()
  const dataDir = mkdtempSync(join(tmpdir(), 'syncgraph-e2e-'))
  const filesDir = join(dataDir, 'files')
  mkdirSync(filesDir, { recursive: true })
  for (const [name, text] of Object.entries(files)) writeFileSync(join(filesDir, name), text)
  const server = await createServer({
    port: 0,
    dataDir,
    adminPassword: ADMIN_PASSWORD,
    editorDir,
    workers: 1,
    log: { info() {}, warn() {}, error: (m: string) => console.error(`[server] ${m}`) },
  })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-dev-shm-usage',
    ],
  })
  return {
    server,
    browser,
    dataDir,
    filesDir,
    async close() {
      await browser.close().catch(() => undefined)
      await server.close().catch(() => undefined)
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A page that records console errors and page errors; the test fails if any appear. */
export async function openPage(
  e2e: E2E,
  viewport = { width: 1920, height: 1080 },
): Promise<{ page: Page; errors: string[] }> {
  const context = await e2e.browser.newContext({ viewport, deviceScaleFactor: 1 })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    // "Failed to load resource" names no URL in its text; the location does.
    const where = message.location().url
    errors.push(`console: ${message.text()}${where ? ` (${where})` : ''}`)
  })
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`))
  page.on('response', (response) => {
    if (response.status() >= 400)
      errors.push(`http: ${response.status()} ${response.request().method()} ${response.url()}`)
  })
  return { page, errors }
}

export async function signIn(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/`)
  await page.getByLabel('Password').fill(ADMIN_PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Graphs' }).waitFor()
}

/** Drag a palette entry onto the canvas at a point relative to the canvas' top-left corner. */
export async function dragFromPalette(page: Page, type: string, at: { x: number; y: number }): Promise<void> {
  const canvas = await page.locator('.canvas').boundingBox()
  if (!canvas) throw new Error('no canvas')
  await page.locator(`.palette-item[data-type="${type}"]`).dragTo(page.locator('.canvas .react-flow__pane'), {
    targetPosition: { x: at.x, y: at.y },
  })
}

/** Draw an edge by dragging from an output handle to an input handle. */
export async function connect(
  page: Page,
  from: string,
  fromPort: string,
  to: string,
  toPort: string,
): Promise<void> {
  const source = page.locator(`.react-flow__handle[data-nodeid="${from}"][data-handleid="${fromPort}"]`)
  const target = page.locator(`.react-flow__handle[data-nodeid="${to}"][data-handleid="${toPort}"]`)
  const a = await source.boundingBox()
  const b = await target.boundingBox()
  if (!a || !b) throw new Error(`handle not found: ${from}.${fromPort} or ${to}.${toPort}`)
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2)
  await page.mouse.down()
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 })
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 })
  await page.mouse.up()
}

export const screenshotDir = join(root, 'docs', 'screenshots')

/** Save the page as docs/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true })
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) })
}

/**
 * A suite's teardown: close the server and browser after all tests; after a failed test, save each page to
 * the temp folder as syncgraph-e2e-failed-<test name>.png, or syncgraph-e2e-failed-<label>-<i>.png with a label.
 */
export function useE2E(suite: {
  e2e: () => E2E | undefined
  pages: () => (Page | undefined)[]
  label?: string
}) {
  afterAll(async () => {
    await suite.e2e()?.close()
  })
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return
    for (const [i, page] of suite.pages().entries()) {
      const name = suite.label ? `${suite.label}-${i}` : context.task.name.replace(/\W+/g, '-')
      await page
        ?.screenshot({ path: join(tmpdir(), `syncgraph-e2e-failed-${name}.png`) })
        .catch(() => undefined)
    }
  })
}

/** Calls to the API with the page's session; each expects 200 and returns the parsed body. */
export function api(page: () => Page, base: () => string) {
  return {
    async get<T>(path: string): Promise<T> {
      const res = await page().request.get(`${base()}/api${path}`)
      expect(res.status(), await res.text()).toBe(200)
      return (await res.json()) as T
    },
    /** Store a graph document (expects 201) and return its id. */
    async createGraph(graph: unknown): Promise<string> {
      const res = await page().request.post(`${base()}/api/graphs`, { data: { graph } })
      expect(res.status(), await res.text()).toBe(201)
      return ((await res.json()) as { id: string }).id
    },
  }
}

const CONTROL_ROLES = new Set([
  'button',
  'checkbox',
  'combobox',
  'link',
  'listbox',
  'menuitem',
  'option',
  'radio',
  'searchbox',
  'slider',
  'spinbutton',
  'switch',
  'tab',
  'textbox',
  'treeitem',
])

/** Controls on the page without an accessible name, as Chromium's accessibility tree computes it. */
export async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page)
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree')
    const unnamed = nodes.filter(
      (n) =>
        !n.ignored &&
        CONTROL_ROLES.has(String(n.role?.value ?? '')) &&
        String(n.name?.value ?? '').trim() === '',
    )
    const described: string[] = []
    for (const n of unnamed) {
      let where = ''
      if (n.backendDOMNodeId !== undefined) {
        const { node } = await cdp.send('DOM.describeNode', { backendNodeId: n.backendDOMNodeId })
        const attrs = node.attributes ?? []
        const cls = attrs[attrs.indexOf('class') + 1]
        where = ` <${node.localName}${attrs.includes('class') && cls ? ` class="${cls}"` : ''}>`
      }
      described.push(`${String(n.role?.value)}${where}`)
    }
    return described
  } finally {
    await cdp.detach()
  }
}
