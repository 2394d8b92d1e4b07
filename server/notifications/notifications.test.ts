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
import { parseWebhookAllowList, refusalOf, verifyWebhookSignature } from './webhook.ts'

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
interface Hit {
  path: string
  body: Record<string, unknown>
  raw: string
  headers: IncomingMessage['headers']
}

async function receiver(status = 204): Promise<{ url: string; port: number; hits: Hit[] }> {
  const hits: Hit[] = []
  const server = createHttpServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      hits.push({
        path: req.url ?? '',
        body: JSON.parse(raw) as Record<string, unknown>,
        raw,
        headers: req.headers,
      })
      res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  stops.push(() => new Promise((resolve) => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port
  return { url: `http://127.0.0.1:${port}/hook`, port, hits }
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
          signed: false,
          on: ['failure'],
        },
      ],
    })
    expect((await call('DELETE', `/api/notifications/rules/${rule.id}`)).status).toBe(200)
    expect((await call('DELETE', `/api/notifications/rules/${rule.id}`)).status).toBe(404)
  })
})

describe('webhook safety', () => {
  const addRule = async (call: TestApp['call'], jobId: string, url: string, extra: object = {}) => {
    const res = await call('POST', '/api/notifications/rules', {
      jobKind: 'graph',
      jobId,
      channel: 'webhook',
      url,
      on: ['always'],
      ...extra,
    })
    expect(res.status).toBe(201)
    return (await res.json()) as Record<string, unknown>
  }

  it('refuses loopback and private addresses unless allowed, by literal address and by name', async () => {
    const app = await testApp({ webhookAllow: [] })
    const hook = await receiver()
    const g = await createGraph(app.call, okGraph('guarded', 2))
    await addRule(app.call, g, hook.url)
    await addRule(app.call, g, `http://localhost:${hook.port}/by-name`)
    const run = await runGraph(app, g)
    expect(run.status).toBe('succeeded')
    expect(hook.hits).toEqual([])
    const records = await deliveries(app.call, String(run.id))
    expect(records.map((d) => d.status)).toEqual(['failed', 'failed'])
    for (const d of records)
      expect(d.error).toMatch(/loopback, private or reserved range; allow it with SYNCGRAPH_WEBHOOK_ALLOW/)
    expect(records.map((d) => String(d.error)).join(' ')).toContain('127.0.0.1')

    // The operator allows the receiver's host by name: that one goes through, the literal stays refused.
    const allowed = await testApp({ webhookAllow: ['localhost'] })
    const g2 = await createGraph(allowed.call, okGraph('allowed', 2))
    await addRule(allowed.call, g2, `http://localhost:${hook.port}/by-name`)
    await addRule(allowed.call, g2, hook.url)
    const run2 = await runGraph(allowed, g2)
    expect(hook.hits.map((h) => h.path)).toEqual(['/by-name'])
    expect((await deliveries(allowed.call, String(run2.id))).map((d) => String(d.status)).sort()).toEqual([
      'failed',
      'sent',
    ])
  })

  it('classifies addresses: metadata, private, mapped and unique-local are refused; public ones pass', () => {
    const none = parseWebhookAllowList([])
    for (const ip of [
      '169.254.169.254',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      '0.0.0.0',
    ])
      expect(refusalOf(ip, 'h', none), ip).toBeDefined()
    for (const ip of ['8.8.8.8', '2606:4700::1111', '172.32.0.1'])
      expect(refusalOf(ip, 'h', none), ip).toBeUndefined()
    const some = parseWebhookAllowList(['10.1.0.0/16', ' hooks.internal '])
    expect(refusalOf('10.1.9.9', 'x', some)).toBeUndefined()
    expect(refusalOf('10.2.0.1', 'x', some)).toBeDefined()
    expect(refusalOf('10.2.0.1', 'HOOKS.internal', some)).toBeUndefined()
    expect(() => parseWebhookAllowList(['10.0.0.0/40'])).toThrow(/bad prefix length/)
    expect(() => parseWebhookAllowList(['hooks.internal/8'])).toThrow(/not a CIDR range/)
  })

  it('signs requests with the rule secret, which is never returned', async () => {
    const app = await testApp()
    const hook = await receiver()
    const secret = 'whsec-0123456789abcdef-do-not-leak'
    const g = await createGraph(app.call, okGraph('signed', 3))
    const rule = await addRule(app.call, g, hook.url, { secret })
    await addRule(app.call, g, `${hook.url}?unsigned`)
    expect(rule).toMatchObject({ channel: 'webhook', signed: true })
    expect(JSON.stringify(rule)).not.toContain(secret)
    const listed = await (await app.call('GET', `/api/notifications/rules?jobId=${g}`)).text()
    expect(listed).not.toContain(secret)
    expect(listed).toContain('"signed":false')
    await runGraph(app, g)
    const signed = hook.hits.find((h) => h.path === '/hook')!
    const header = String(signed.headers['x-syncgraph-signature'])
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    expect(verifyWebhookSignature(secret, signed.raw, header)).toBe(true)
    expect(verifyWebhookSignature(secret, `${signed.raw} `, header)).toBe(false)
    expect(verifyWebhookSignature('another-secret-0123456', signed.raw, header)).toBe(false)
    expect(verifyWebhookSignature(secret, signed.raw, header, Date.now() + 10 * 60_000)).toBe(false)
    expect(
      hook.hits.find((h) => h.path === '/hook?unsigned')!.headers['x-syncgraph-signature'],
    ).toBeUndefined()
    const stored = await readFile(join(app.dataDir, 'syncgraph.db'))
    expect(stored.includes(secret)).toBe(false)
    // An e-mail rule has no secret.
    const bad = await app.call('POST', '/api/notifications/rules', {
      jobKind: 'graph',
      jobId: g,
      channel: 'email',
      to: ['a@example.com'],
      secret,
      on: ['always'],
    })
    expect(bad.status).toBe(400)
  })
})
