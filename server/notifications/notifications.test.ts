import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConnectorError, createCatalog, defineNode, results, rows } from '../../engine/index.ts'
import {
  createGraph,
  failingGraph,
  json,
  okGraph,
  waitForCollectionRun,
} from '../collections/test-helpers.ts'
import { catalog as testCatalog } from '../testing/catalog.ts'
import { testApp, waitForRun, type TestApp } from '../testing/harness.ts'

const SMTP_PASSWORD = 'smtp-Pa55word-do-not-leak'

/** Fails like a sync node whose plan is over maxDeletes. */
const thresholdSync = defineNode({
  type: 'test.threshold-sync',
  version: 1,
  title: 'Sync over threshold',
  category: 'sync',
  description: 'Reads its input and refuses to apply, as a sync over maxDeletes does.',
  inputs: { in: rows() },
  outputs: { results: results() },
  config: z.object({}),
  async *run({ inputs, nodeId }) {
    for await (const batch of inputs.in!) void batch
    throw new ConnectorError('THRESHOLD_EXCEEDED', 'the plan deletes 5 objects, over maxDeletes 2', {
      nodeId,
    })
  },
})
const catalog = createCatalog([...testCatalog.list(), thresholdSync])
const thresholdGraph = {
  syncgraph: 1,
  name: 'over threshold',
  settings: { workers: 0 },
  nodes: [
    { id: 'src', type: 'test.generate', config: { count: 5 } },
    { id: 'sync', type: 'test.threshold-sync', config: {} },
  ],
  edges: [{ from: 'src', to: 'sync' }],
}

const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop()
})

interface Mail {
  from: string
  to: string[]
  user: string | undefined
  subject: string
  text: string
}

/** A real SMTP server on a free loopback port that accepts user "sync" with SMTP_PASSWORD. */
async function smtpServer(): Promise<{ port: number; mails: Mail[]; logins: string[] }> {
  const mails: Mail[] = []
  const logins: string[] = []
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push(`${auth.username}:${auth.password}`)
      if (auth.username === 'sync' && auth.password === SMTP_PASSWORD) callback(null, { user: 'sync' })
      else callback(new Error('Invalid username or password'))
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const raw = chunks.join('')
        const [head, ...body] = raw.split('\r\n\r\n')
        const decoded = body
          .join('\r\n\r\n')
          .replace(/=\r\n/g, '')
          .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
        mails.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          subject: /^Subject: (.*)$/m.exec(head ?? '')?.[1] ?? '',
          text: decoded,
        })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  stops.push(() => new Promise((resolve) => server.close(() => resolve())))
  return { port: (server.server.address() as AddressInfo).port, mails, logins }
}

/** A local HTTP receiver; answers `status`. */
async function receiver(
  status = 204,
): Promise<{ url: string; hits: { path: string; body: Record<string, unknown> }[] }> {
  const hits: { path: string; body: Record<string, unknown> }[] = []
  const server = createHttpServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      hits.push({
        path: req.url ?? '',
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      })
      res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  stops.push(() => new Promise((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits }
}

async function setSmtp(call: TestApp['call'], port: number, password = SMTP_PASSWORD) {
  const res = await call('PUT', '/api/notifications/settings', {
    linkBaseUrl: 'https://sync.example.com/',
    smtp: { host: '127.0.0.1', port, username: 'sync', password, from: 'Syncgraph <sync@example.com>' },
  })
  expect(res.status).toBe(200)
  return res
}

async function runGraph(app: TestApp, graphId: string) {
  const { id } = await json<{ id: string }>(app.call('POST', '/api/runs', { graphId }))
  const run = await waitForRun(app.call, id)
  await app.services.notifier.idle()
  return run
}

const deliveries = async (call: TestApp['call'], runId: string) =>
  (
    await json<{ deliveries: Record<string, unknown>[] }>(
      call('GET', `/api/notifications/deliveries?runId=${runId}`),
    )
  ).deliveries

describe('notifications', () => {
  it('stores the SMTP password encrypted and never returns or logs it', async () => {
    const app = await testApp()
    const smtp = await smtpServer()
    const text = await (await setSmtp(app.call, smtp.port)).text()
    expect(text).not.toContain(SMTP_PASSWORD)
    expect(JSON.parse(text)).toEqual({
      linkBaseUrl: 'https://sync.example.com',
      smtp: {
        host: '127.0.0.1',
        port: smtp.port,
        secure: false,
        username: 'sync',
        from: 'Syncgraph <sync@example.com>',
        hasPassword: true,
      },
    })
    const graphId = await createGraph(app.call, failingGraph('broken'))
    await app.call('POST', '/api/notifications/rules', {
      jobKind: 'graph',
      jobId: graphId,
      channel: 'email',
      to: ['ops@example.com'],
      on: ['failure'],
    })
    await runGraph(app, graphId)
    expect(smtp.mails.length).toBe(1)
    // Keeping the password when it is not given; removing it with null.
    const kept = await json(
      app.call('PUT', '/api/notifications/settings', {
        smtp: { host: '127.0.0.1', port: smtp.port, username: 'sync', from: 'x@example.com' },
      }),
    )
    expect(kept).toMatchObject({ smtp: { hasPassword: true, from: 'x@example.com' } })
    const bodies = [
      await (await app.call('GET', '/api/notifications/settings')).text(),
      await (await app.call('GET', '/api/notifications/deliveries')).text(),
      await (await app.call('GET', '/api/openapi.json')).text(),
    ]
    for (const body of bodies) expect(body).not.toContain(SMTP_PASSWORD)
    const row = app.services.sqlite.prepare('select * from notification_settings').get() as Record<
      string,
      string
    >
    expect(JSON.stringify(row)).not.toContain(SMTP_PASSWORD)
    expect(row.smtp_password).toMatch(/^v1\./)
    for (const file of ['syncgraph.db', 'syncgraph.db-wal'])
      expect(await readFile(join(app.dataDir, file), 'latin1').catch(() => '')).not.toContain(SMTP_PASSWORD)
    expect(app.logLines.join('\n')).not.toContain(SMTP_PASSWORD)
    const removed = await json(
      app.call('PUT', '/api/notifications/settings', {
        smtp: { host: '127.0.0.1', port: smtp.port, username: 'sync', password: null, from: 'x@example.com' },
      }),
    )
    expect(removed).toMatchObject({ smtp: { hasPassword: false } })
  })

  it('e-mails a failure with a summary and a link to the run, through a real SMTP server', async () => {
    const app = await testApp()
    const smtp = await smtpServer()
    await setSmtp(app.call, smtp.port)
    const broken = await createGraph(app.call, failingGraph('HR feed'))
    const fine = await createGraph(app.call, okGraph('fine'))
    for (const jobId of [broken, fine]) {
      const rule = await app.call('POST', '/api/notifications/rules', {
        jobKind: 'graph',
        jobId,
        channel: 'email',
        to: ['ops@example.com', 'lead@example.com'],
        on: ['failure'],
      })
      expect(rule.status).toBe(201)
    }
    const okRun = await runGraph(app, fine)
    expect(okRun.status).toBe('succeeded')
    expect(smtp.mails).toEqual([])
    expect(await deliveries(app.call, okRun.id as string)).toEqual([])

    const run = await runGraph(app, broken)
    expect(run.status).toBe('failed')
    expect(smtp.mails.length).toBe(1)
    const mail = smtp.mails[0]!
    expect(mail).toMatchObject({
      from: 'sync@example.com',
      to: ['ops@example.com', 'lead@example.com'],
      user: 'sync',
      subject: '[Syncgraph] HR feed: failed',
    })
    expect(smtp.logins).toEqual([`sync:${SMTP_PASSWORD}`])
    expect(mail.text).toContain('Graph "HR feed" failed.')
    expect(mail.text).toContain('check (test.fail): in 1, out 0, rejected 1, errors 1')
    expect(mail.text).toContain(`Run: ${String(run.id)}`)
    expect(mail.text).toContain('BAD_ROW: Node "check" (test.fail) row 1: row 0 is bad')
    expect(mail.text).toContain(`Details: https://sync.example.com/api/runs/${String(run.id)}`)
    expect(await deliveries(app.call, run.id as string)).toEqual([
      expect.objectContaining({
        jobKind: 'graph',
        jobId: broken,
        channel: 'email',
        target: 'ops@example.com, lead@example.com',
        event: 'failure',
        status: 'sent',
        error: null,
      }),
    ])
  })

  it('posts collection outcomes to a webhook: always, with step summary and link', async () => {
    const app = await testApp()
    const hook = await receiver()
    const g = await createGraph(app.call, okGraph('export', 12))
    const { id: collectionId } = await json<{ id: string }>(
      app.call('POST', '/api/collections', { name: 'nightly', steps: [{ graphId: g }, { graphId: g }] }),
    )
    await app.call('POST', '/api/notifications/rules', {
      jobKind: 'collection',
      jobId: collectionId,
      channel: 'webhook',
      url: hook.url,
      on: ['always'],
    })
    const { id } = await json<{ id: string }>(app.call('POST', `/api/collections/${collectionId}/run`))
    await waitForCollectionRun(app.call, id)
    await app.services.notifier.idle()
    expect(hook.hits.length).toBe(1)
    const body = hook.hits[0]!.body
    expect(hook.hits[0]!.path).toBe('/hook')
    expect(body).toMatchObject({
      event: 'always',
      job: { kind: 'collection', id: collectionId, name: 'nightly' },
      run: { id, status: 'succeeded' },
      subject: '[Syncgraph] nightly: succeeded',
      link: `http://127.0.0.1:8787/api/collection-runs/${id}`,
    })
    expect(body.summary).toContain('Step "export": succeeded')
    expect(body.summary).toContain('Rows written: 24')
    expect(await deliveries(app.call, id)).toEqual([
      expect.objectContaining({ channel: 'webhook', event: 'always', status: 'sent' }),
    ])
  })

  it('tells threshold stops and changes apart from other outcomes', async () => {
    const app = await testApp({ catalog })
    const hook = await receiver()
    const over = await createGraph(app.call, thresholdGraph)
    const broken = await createGraph(app.call, failingGraph('broken'))
    const writes = await createGraph(app.call, okGraph('writes', 3))
    const nothing = await createGraph(app.call, okGraph('writes nothing', 0))
    for (const jobId of [over, broken])
      await app.call('POST', '/api/notifications/rules', {
        jobKind: 'graph',
        jobId,
        channel: 'webhook',
        url: hook.url,
        on: ['threshold'],
      })
    for (const jobId of [writes, nothing])
      await app.call('POST', '/api/notifications/rules', {
        jobKind: 'graph',
        jobId,
        channel: 'webhook',
        url: hook.url,
        on: ['changes'],
      })
    const overRun = await runGraph(app, over)
    expect(overRun).toMatchObject({
      status: 'failed',
      errors: [expect.objectContaining({ code: 'THRESHOLD_EXCEEDED' })],
    })
    await runGraph(app, broken)
    const writesRun = await runGraph(app, writes)
    await runGraph(app, nothing)
    expect(hook.hits.map((h) => [h.body.event, (h.body.run as { id: string }).id])).toEqual([
      ['threshold', overRun.id],
      ['changes', writesRun.id],
    ])
    expect(hook.hits[0]!.body.subject).toBe('[Syncgraph] over threshold: failed (threshold)')
    expect(hook.hits[0]!.body.summary).toContain('stopped by a sync threshold')
  })

  it('records failures to notify and never fails the run for them', async () => {
    const app = await testApp({ notifyTimeoutMs: 5000 })
    const smtp = await smtpServer()
    await setSmtp(app.call, smtp.port, 'wrong-password-123')
    const failing = await receiver(500)
    const g = await createGraph(app.call, okGraph('g'))
    for (const rule of [
      { channel: 'email', to: ['ops@example.com'] },
      { channel: 'webhook', url: failing.url },
      { channel: 'webhook', url: 'http://127.0.0.1:1/closed' },
    ])
      await app.call('POST', '/api/notifications/rules', {
        jobKind: 'graph',
        jobId: g,
        on: ['always'],
        ...rule,
      })
    const run = await runGraph(app, g)
    expect(run.status).toBe('succeeded')
    expect(failing.hits.length).toBe(1)
    const records = await deliveries(app.call, run.id as string)
    expect(records.map((d) => [d.channel, d.status]).sort()).toEqual([
      ['email', 'failed'],
      ['webhook', 'failed'],
      ['webhook', 'failed'],
    ])
    expect(records.find((d) => d.target === failing.url)?.error).toBe('the webhook answered HTTP 500')
    expect(String(records.find((d) => d.channel === 'email')?.error)).toMatch(/Invalid login|auth/i)
    expect(JSON.stringify(records)).not.toContain('wrong-password-123')
    expect(app.logLines.join('\n')).not.toContain('wrong-password-123')
    expect(app.logLines.some((l) => l.includes('notification (webhook)') && l.includes('failed'))).toBe(true)
    expect(await json(app.call('GET', `/api/runs/${String(run.id)}`))).toMatchObject({ status: 'succeeded' })
    // No SMTP settings at all: recorded too.
    await app.call('PUT', '/api/notifications/settings', { smtp: null })
    const again = await runGraph(app, g)
    expect((await deliveries(app.call, again.id as string)).find((d) => d.channel === 'email')).toMatchObject(
      {
        status: 'failed',
        error: expect.stringContaining('no SMTP settings'),
      },
    )
  })

  it('validates rules and lists and deletes them', async () => {
    const { call } = await testApp()
    const g = await createGraph(call, okGraph('g'))
    const base = { jobKind: 'graph', jobId: g, on: ['failure'] }
    for (const bad of [
      { ...base, channel: 'email' },
      { ...base, channel: 'email', to: ['not-an-address'] },
      { ...base, channel: 'webhook', url: 'ftp://example.com/x' },
      { ...base, channel: 'webhook', url: 'http://example.com/x', to: ['a@example.com'] },
      { ...base, channel: 'webhook', url: 'http://example.com/x', on: [] },
      { ...base, channel: 'webhook', url: 'http://example.com/x', on: ['sometimes'] },
    ])
      expect((await call('POST', '/api/notifications/rules', bad)).status, JSON.stringify(bad)).toBe(400)
    expect(
      (
        await call('POST', '/api/notifications/rules', {
          ...base,
          jobId: 'nope',
          channel: 'webhook',
          url: 'http://x.example/',
        })
      ).status,
    ).toBe(404)
    const rule = await json<{ id: string }>(
      call('POST', '/api/notifications/rules', { ...base, channel: 'webhook', url: 'http://x.example/' }),
    )
    expect(await json(call('GET', `/api/notifications/rules?jobId=${g}`))).toEqual({
      rules: [
        {
          id: rule.id,
          jobKind: 'graph',
          jobId: g,
          channel: 'webhook',
          url: 'http://x.example/',
          on: ['failure'],
        },
      ],
    })
    expect((await call('DELETE', `/api/notifications/rules/${rule.id}`)).status).toBe(200)
    expect((await call('DELETE', `/api/notifications/rules/${rule.id}`)).status).toBe(404)
  })
})
