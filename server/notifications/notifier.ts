import type { Catalog } from '../../engine/index.ts'
import type { CollectionRunner, CollectionRunRecord } from '../collections/runner.ts'
import type { Logger } from '../logger.ts'
import type { RunManager } from '../runs/manager.ts'
import { buildMessage, matchingEvents, type RunOutcome } from './message.ts'
import { sendEmail } from './send.ts'
import { sendWebhook, type WebhookAllowList } from './webhook.ts'
import type { NotificationStore, RuleView } from './store.ts'

export interface NotifierOptions {
  store: NotificationStore
  runs: RunManager
  collectionRuns: CollectionRunner
  catalog: Catalog
  log: Logger
  /** Per delivery attempt (connect, send, answer). */
  timeoutMs?: number
  /** Private addresses and hosts webhooks may reach (SYNCGRAPH_WEBHOOK_ALLOW). */
  webhookAllow: WebhookAllowList
}

/**
 * Sends the notifications a run's end calls for: for every rule of the job whose events match, one
 * e-mail or webhook, each recorded as a delivery. Notifying happens after the run is stored and never
 * changes it: a failure to notify is recorded and logged, nothing else.
 */
export class Notifier {
  private readonly pending = new Set<Promise<void>>()
  private readonly stops: (() => void)[] = []

  constructor(private readonly options: NotifierOptions) {
    const { runs, collectionRuns } = options
    this.stops.push(
      runs.listen((notice) => {
        if (notice.type !== 'finished') return
        const record = runs.get(notice.runId)
        if (record.graphId === null) return
        this.track({
          jobKind: 'graph',
          jobId: record.graphId,
          jobName: record.graphName,
          runId: record.id,
          status: record.status,
          startedAt: record.startedAt,
          finishedAt: record.finishedAt,
          durationMs: record.durationMs,
          runs: [{ name: record.graphName, runId: record.id, status: record.status, nodes: record.nodes }],
          errors: record.errors,
        })
      }),
      collectionRuns.listen((run) => {
        if (run.collectionId !== null) this.track(collectionOutcome(run, run.collectionId))
      }),
    )
  }

  /** Resolves when every delivery started so far has been attempted and recorded. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  async close(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop()
    await this.idle()
  }

  private track(outcome: RunOutcome): void {
    const rules = this.options.store.rules({ jobKind: outcome.jobKind, jobId: outcome.jobId })
    if (rules.length === 0) return
    const task = this.notify(outcome, rules).finally(() => this.pending.delete(task))
    this.pending.add(task)
  }

  private async notify(outcome: RunOutcome, rules: RuleView[]): Promise<void> {
    const { store, catalog, log } = this.options
    const timeoutMs = this.options.timeoutMs ?? 15_000
    const { linkBaseUrl } = store.settings()
    await Promise.all(
      rules.map(async (rule) => {
        const event = matchingEvents(outcome, rule.on, catalog)[0]
        if (event === undefined) return
        const message = buildMessage(outcome, event, linkBaseUrl, catalog)
        const target = rule.channel === 'email' ? rule.to!.join(', ') : rule.url!
        let error: string | null = null
        let secret: string | null = null
        try {
          if (rule.channel === 'email') {
            const smtp = store.smtpSecrets()
            if (smtp === undefined)
              throw new Error('no SMTP settings: set them under /api/notifications/settings')
            secret = smtp.password
            await sendEmail(smtp, { to: rule.to!, subject: message.subject, text: message.text }, timeoutMs)
          } else {
            await sendWebhook(
              rule.url!,
              {
                event,
                job: { kind: outcome.jobKind, id: outcome.jobId, name: outcome.jobName },
                run: {
                  id: outcome.runId,
                  status: outcome.status,
                  startedAt: outcome.startedAt,
                  finishedAt: outcome.finishedAt,
                  durationMs: outcome.durationMs,
                  errors: outcome.errors.slice(0, 5),
                },
                subject: message.subject,
                summary: message.text,
                link: message.link,
              },
              { timeoutMs, secret: store.webhookSecret(rule.id), allow: this.options.webhookAllow },
            )
          }
        } catch (cause) {
          const text = cause instanceof Error ? cause.message : String(cause)
          // An SMTP server may echo what it was sent; the password never reaches the record or the log.
          error = secret === null || secret === '' ? text : text.split(secret).join('***')
        }
        try {
          store.recordDelivery({
            ruleId: rule.id,
            jobKind: outcome.jobKind,
            jobId: outcome.jobId,
            runId: outcome.runId,
            channel: rule.channel,
            target,
            event,
            status: error === null ? 'sent' : 'failed',
            error,
          })
        } catch (cause) {
          log.warn(`could not record a notification of run ${outcome.runId}: ${(cause as Error).message}`)
        }
        if (error !== null)
          log.warn(
            `notification (${rule.channel}) of run ${outcome.runId} to ${rule.channel === 'webhook' ? new URL(target).origin : target} failed: ${error}`,
          )
      }),
    )
  }
}

function collectionOutcome(run: CollectionRunRecord, collectionId: string): RunOutcome {
  return {
    jobKind: 'collection',
    jobId: collectionId,
    jobName: run.collectionName,
    runId: run.id,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: run.durationMs,
    runs: run.steps.map((s) => ({
      name: s.graphName || s.graphId,
      runId: s.runId,
      status: s.status,
      nodes: s.nodes,
    })),
    errors: run.steps.flatMap((s) => s.errors),
  }
}
