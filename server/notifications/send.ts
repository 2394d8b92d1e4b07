import nodemailer from 'nodemailer'
import type { SmtpSecrets } from './store.ts'

/** Send one plain-text e-mail through the configured SMTP server. */
export async function sendEmail(
  smtp: SmtpSecrets,
  message: { to: string[]; subject: string; text: string },
  timeoutMs: number,
): Promise<void> {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    ...(smtp.username === null ? {} : { auth: { user: smtp.username, pass: smtp.password ?? '' } }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
  })
  try {
    await transport.sendMail({
      from: smtp.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
    })
  } finally {
    transport.close()
  }
}

/** POST the JSON payload; anything but a 2xx answer is a failure. */
export async function sendWebhook(url: string, payload: unknown, timeoutMs: number): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'Syncgraph' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  })
  await res.body?.cancel()
  if (!res.ok) throw new Error(`the webhook answered HTTP ${res.status}`)
}
