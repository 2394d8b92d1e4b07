import { and, desc, eq } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { SecretBox } from '../connections/secret-box.ts'
import type { Db } from '../db/client.ts'
import {
  notificationDeliveries,
  notificationRules,
  notificationSettings,
  jobKinds,
  type JobKind,
} from '../db/schema.ts'
import { notFound } from '../http/errors.ts'

export const notifyEvents = ['failure', 'threshold', 'changes', 'always'] as const
export type NotifyEvent = (typeof notifyEvents)[number]

const SMTP_AAD = 'smtp:default'
const DEFAULT_LINK_BASE = 'http://127.0.0.1:8787'

const httpUrl = z.url({ protocol: /^https?$/ })

export const smtpBody = z
  .object({
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535).default(587),
    secure: z
      .boolean()
      .default(false)
      .describe('TLS from the first byte (port 465); otherwise STARTTLS when offered'),
    username: z.string().max(255).optional(),
    password: z
      .string()
      .max(1000)
      .nullable()
      .optional()
      .describe('Write-only: stored encrypted, never returned; null removes it, missing keeps it'),
    from: z.string().min(3).max(320).describe('Sender address, e.g. "Syncgraph <sync@example.com>"'),
  })
  .strict()

export const settingsBody = z
  .object({
    linkBaseUrl: httpUrl.optional().describe('Base of the run links in messages'),
    smtp: smtpBody.nullable().optional().describe('null removes the SMTP settings'),
  })
  .strict()

export const settingsView = z.object({
  linkBaseUrl: z.string(),
  smtp: z
    .object({
      host: z.string(),
      port: z.number(),
      secure: z.boolean(),
      username: z.string().nullable(),
      from: z.string(),
      hasPassword: z.boolean(),
    })
    .nullable(),
})
export type SettingsView = z.infer<typeof settingsView>

export const ruleBody = z
  .object({
    jobKind: z.enum(jobKinds),
    jobId: z.string().min(1),
    channel: z.enum(['email', 'webhook']),
    to: z.array(z.email()).min(1).max(50).optional().describe('E-mail recipients (channel "email")'),
    url: httpUrl.optional().describe('Where the JSON message is POSTed (channel "webhook")'),
    secret: z
      .string()
      .min(16)
      .max(500)
      .optional()
      .describe(
        'Webhook only, write-only: signs each request (X-Syncgraph-Signature: t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">)',
      ),
    on: z
      .array(z.enum(notifyEvents))
      .min(1)
      .describe('failure, threshold (stopped by a sync threshold), changes (rows written), always'),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.channel === 'email' && (rule.to === undefined || rule.url !== undefined))
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'an e-mail rule has "to" and no "url"' })
    if (rule.channel === 'webhook' && (rule.url === undefined || rule.to !== undefined))
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'a webhook rule has "url" and no "to"' })
    if (rule.channel === 'email' && rule.secret !== undefined)
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'only a webhook rule has a signing secret' })
  })

export const ruleView = z.object({
  id: z.string(),
  jobKind: z.enum(jobKinds),
  jobId: z.string(),
  channel: z.enum(['email', 'webhook']),
  to: z.array(z.string()).optional(),
  url: z.string().optional(),
  /** Webhook rules: whether requests are signed (the secret itself is never returned). */
  signed: z.boolean().optional(),
  on: z.array(z.enum(notifyEvents)),
})
export type RuleView = z.infer<typeof ruleView>

export const deliveryView = z.object({
  id: z.number(),
  ruleId: z.string().nullable(),
  jobKind: z.enum(jobKinds),
  jobId: z.string(),
  runId: z.string(),
  channel: z.enum(['email', 'webhook']),
  target: z.string(),
  event: z.string(),
  status: z.enum(['sent', 'failed']),
  error: z.string().nullable(),
  at: z.string(),
})

/** SMTP connection settings with the password decrypted: for the mailer only, never for a response. */
export interface SmtpSecrets {
  host: string
  port: number
  secure: boolean
  username: string | null
  password: string | null
  from: string
}

/** Notification settings (SMTP password sealed like connection secrets), rules per job, and delivery records. */
export class NotificationStore {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
  ) {}

  settings(): SettingsView {
    const row = this.row()
    return {
      linkBaseUrl: row?.linkBaseUrl ?? DEFAULT_LINK_BASE,
      smtp:
        row?.smtpHost == null || row.smtpFrom === null
          ? null
          : {
              host: row.smtpHost,
              port: row.smtpPort ?? 587,
              secure: row.smtpSecure,
              username: row.smtpUsername,
              from: row.smtpFrom,
              hasPassword: row.smtpPassword !== null,
            },
    }
  }

  updateSettings(input: z.infer<typeof settingsBody>): SettingsView {
    const row = this.row()
    const smtp = input.smtp
    let password = row?.smtpPassword ?? null
    if (smtp === null) password = null
    else if (smtp?.password === null) password = null
    else if (typeof smtp?.password === 'string') password = this.box.seal(smtp.password, SMTP_AAD)
    const values = {
      linkBaseUrl: (input.linkBaseUrl ?? row?.linkBaseUrl ?? DEFAULT_LINK_BASE).replace(/\/+$/, ''),
      ...(smtp === undefined
        ? {}
        : smtp === null
          ? { smtpHost: null, smtpPort: null, smtpSecure: false, smtpUsername: null, smtpFrom: null }
          : {
              smtpHost: smtp.host,
              smtpPort: smtp.port,
              smtpSecure: smtp.secure,
              smtpUsername: smtp.username ?? null,
              smtpFrom: smtp.from,
            }),
      smtpPassword: password,
      updatedAt: new Date(),
    }
    this.db
      .insert(notificationSettings)
      .values({ id: 'default', ...values })
      .onConflictDoUpdate({ target: notificationSettings.id, set: values })
      .run()
    return this.settings()
  }

  /** The SMTP settings with the password opened; undefined when none are set. */
  smtpSecrets(): SmtpSecrets | undefined {
    const row = this.row()
    if (row?.smtpHost == null || row.smtpFrom === null) return undefined
    return {
      host: row.smtpHost,
      port: row.smtpPort ?? 587,
      secure: row.smtpSecure,
      username: row.smtpUsername,
      password: row.smtpPassword === null ? null : this.box.open(row.smtpPassword, SMTP_AAD),
      from: row.smtpFrom,
    }
  }

  createRule(input: z.infer<typeof ruleBody>): RuleView {
    const id = randomUUID()
    this.db
      .insert(notificationRules)
      .values({
        id,
        jobKind: input.jobKind,
        jobId: input.jobId,
        channel: input.channel,
        target: input.channel === 'email' ? input.to!.join(',') : input.url!,
        events: JSON.stringify(input.on),
        secret: input.secret === undefined ? null : this.box.seal(input.secret, `webhook:${id}`),
      })
      .run()
    return this.rule(id)
  }

  rule(id: string): RuleView {
    const row = this.db.select().from(notificationRules).where(eq(notificationRules.id, id)).get()
    if (row === undefined) throw notFound('notification rule', id)
    return this.ruleView(row)
  }

  rules(filter: { jobKind?: JobKind | undefined; jobId?: string | undefined } = {}): RuleView[] {
    return this.db
      .select()
      .from(notificationRules)
      .where(
        and(
          filter.jobKind === undefined ? undefined : eq(notificationRules.jobKind, filter.jobKind),
          filter.jobId === undefined ? undefined : eq(notificationRules.jobId, filter.jobId),
        ),
      )
      .orderBy(notificationRules.createdAt)
      .all()
      .map((r) => this.ruleView(r))
  }

  /** The webhook rule's signing secret, opened; for the sender only, never for a response. */
  webhookSecret(id: string): string | undefined {
    const row = this.db
      .select({ secret: notificationRules.secret })
      .from(notificationRules)
      .where(eq(notificationRules.id, id))
      .get()
    return row?.secret == null ? undefined : this.box.open(row.secret, `webhook:${id}`)
  }

  deleteRule(id: string): void {
    if (this.db.delete(notificationRules).where(eq(notificationRules.id, id)).run().changes === 0)
      throw notFound('notification rule', id)
  }

  recordDelivery(delivery: Omit<typeof notificationDeliveries.$inferInsert, 'id' | 'at'>): void {
    this.db
      .insert(notificationDeliveries)
      .values({ ...delivery, at: new Date() })
      .run()
  }

  deliveries(filter: { runId?: string | undefined; jobId?: string | undefined; limit?: number | undefined }) {
    return this.db
      .select()
      .from(notificationDeliveries)
      .where(
        and(
          filter.runId === undefined ? undefined : eq(notificationDeliveries.runId, filter.runId),
          filter.jobId === undefined ? undefined : eq(notificationDeliveries.jobId, filter.jobId),
        ),
      )
      .orderBy(desc(notificationDeliveries.id))
      .limit(filter.limit ?? 200)
      .all()
      .map((d) => ({ ...d, at: d.at.toISOString() }))
  }

  private row() {
    return this.db.select().from(notificationSettings).where(eq(notificationSettings.id, 'default')).get()
  }

  private ruleView(row: typeof notificationRules.$inferSelect): RuleView {
    const on = z.array(z.enum(notifyEvents)).parse(JSON.parse(row.events))
    return {
      id: row.id,
      jobKind: row.jobKind,
      jobId: row.jobId,
      channel: row.channel,
      ...(row.channel === 'email'
        ? { to: row.target.split(',') }
        : { url: row.target, signed: row.secret !== null }),
      on,
    }
  }
}
