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
