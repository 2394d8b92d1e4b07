import type { Page } from 'playwright-core'
import { beforeAll, expect, it } from 'vitest'
import { describeE2E, openPage, openSignedIn, screenshot, useE2E, startE2E, type E2E } from './harness.ts'

const PASSWORD = 'otto password long enough'

describeE2E('users and roles in Chromium', () => {
  let e2e: E2E
  let admin: Page
  let adminErrors: string[]
  let base: string
  const pages: Page[] = []

  beforeAll(async () => {
    e2e = await startE2E()
    base = e2e.server.url
    ;({ page: admin, errors: adminErrors } = await openSignedIn(e2e, { width: 1440, height: 1000 }))
    pages.push(admin)
  }, 180_000)

  useE2E({ e2e: () => e2e, pages: () => pages, label: 'users' })

  it('an admin creates an operator, who sees no Admin link and cannot delete a graph; disabling signs them out', async () => {
    const created = await admin.request.post(`${base}/api/graphs`, {
      data: {
        graph: {
          syncgraph: 1,
          name: 'HR export',
          nodes: [{ id: 'a', type: 'csv.read', config: { path: 'x.csv' } }],
        },
      },
    })
    expect(created.status(), await created.text()).toBe(201)

    // The admin creates the operator in Admin › Users.
    await admin.goto(`${base}/#/admin/users`)
    const section = admin.getByRole('region', { name: 'Users' })
    await section.getByRole('table', { name: 'Users' }).waitFor()
    await section.getByRole('button', { name: 'New user' }).click()
    const dialog = admin.getByRole('dialog', { name: 'New user' })
    await dialog.getByLabel('User name').fill('otto')
    await dialog.getByLabel('Role').selectOption('operator')
    // A short password is refused in the form with a readable message.
    await dialog.getByLabel('Password').fill('short')
    await dialog.getByRole('button', { name: 'Create' }).click()
    expect(await dialog.getByRole('alert').textContent()).toBe('The password needs at least 12 characters')
    await dialog.getByLabel('Password').fill(PASSWORD)
    await dialog.getByRole('button', { name: 'Create' }).click()
    await admin.getByText('Created otto (operator)').waitFor()
    await section.getByRole('combobox', { name: 'Role of otto' }).waitFor()
    expect(await section.getByRole('combobox', { name: 'Role of otto' }).inputValue()).toBe('operator')
    await screenshot(admin, 'admin-users')

    // The operator signs in in a fresh browser context.
    const { page, errors } = await openPage(e2e, { width: 1440, height: 1000 })
    pages.push(page)
    await page.goto(`${base}/`)
    await page.getByLabel('Username').fill('otto')
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Graphs' }).waitFor()
    await page.getByRole('link', { name: 'HR export' }).waitFor()
    const nav = page.getByRole('navigation', { name: 'Main' })
    await nav.getByRole('link', { name: 'Dashboard' }).waitFor()
    expect(await nav.getByRole('link', { name: 'Admin' }).count()).toBe(0)
    // No delete, rename or create controls for a role without those permissions; scheduling is there.
    expect(await page.getByRole('button', { name: 'Delete HR export' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: 'Rename HR export' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: 'New graph' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: 'Schedule HR export' }).count()).toBe(1)
    await screenshot(page, 'operator-graphs')
    // And the server refuses the delete itself, naming the permission.
    const graphId = ((await created.json()) as { id: string }).id
    const refused = await page.request.delete(`${base}/api/graphs/${graphId}`)
    expect(refused.status()).toBe(403)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('"delete"')
    expect((await admin.request.get(`${base}/api/graphs/${graphId}`)).status()).toBe(200)

    // In the editor, the operator may run but not save.
    await page.goto(`${base}/#/graphs/${graphId}`)
    await page.getByRole('button', { name: 'Run graph' }).waitFor()
    expect(await page.getByRole('button', { name: 'Run graph' }).isEnabled()).toBe(true)
    expect(await page.getByRole('button', { name: 'Save', exact: true }).isDisabled()).toBe(true)
    expect(errors).toEqual([])

    // The admin disables otto: the operator's session ends.
    await section.getByRole('button', { name: 'Disable otto' }).click()
    await admin.getByRole('dialog', { name: 'Disable otto' }).getByRole('button', { name: 'Disable' }).click()
    await admin.getByText('Disabled otto; their sessions ended').waitFor()
    await section.getByText('disabled', { exact: true }).waitFor()
    const me = await page.request.get(`${base}/api/auth/me`)
    expect(me.status()).toBe(401)
    expect(adminErrors).toEqual([])
  }, 120_000)
})
