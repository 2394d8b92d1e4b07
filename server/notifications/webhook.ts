import { createHmac } from 'node:crypto'
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { BlockList, isIP, type LookupFunction } from 'node:net'

/**
 * Webhook delivery, safe by default:
 * - **No server-side request forgery.** A webhook URL is typed by a user but fetched by the server, so
 *   it could point at the server's own loopback services, the private network or a cloud metadata
 *   endpoint. Addresses in those ranges are refused unless the operator allows them
 *   (`SYNCGRAPH_WEBHOOK_ALLOW`, a comma-separated list of CIDR ranges or host names). The check runs
 *   on the address the connection actually uses (a DNS lookup hook), so a name that resolves to a
 *   public address at save time and a private one at send time (DNS rebinding) is refused too.
 * - **Signed.** With a rule secret, each request carries `X-Syncgraph-Signature: t=<unix seconds>,
 *   v1=<hex HMAC-SHA256 of "<t>.<body>">`, so the receiver can check that the message came from this
 *   server and is recent (see `verifyWebhookSignature`).
 * - Redirects are not followed (a 3xx is a failure), and every attempt has a timeout.
 */

/** Ranges a webhook may not reach unless allowed: loopback, private, link-local, CGNAT, multicast, reserved. */
const FORBIDDEN = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  FORBIDDEN.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const)
  FORBIDDEN.addSubnet(net, prefix, 'ipv6')

export class WebhookRefused extends Error {
  override name = 'WebhookRefused'
}

/** Which private addresses and host names webhooks may reach anyway (`SYNCGRAPH_WEBHOOK_ALLOW`). */
export interface WebhookAllowList {
  ranges: BlockList
  hosts: Set<string>
}

/** Parses `10.1.0.0/16, 127.0.0.1, hooks.internal` (CIDR ranges, single addresses, host names). */
export function parseWebhookAllowList(entries: readonly string[] = []): WebhookAllowList {
  const ranges = new BlockList()
  const hosts = new Set<string>()
  for (const raw of entries) {
    const entry = raw.trim()
    if (entry === '') continue
    const [address = '', bits] = entry.split('/')
    const family = isIP(address)
    if (family === 0) {
      if (bits !== undefined) throw new Error(`webhook allow list: "${entry}" is not a CIDR range`)
      hosts.add(entry.toLowerCase())
      continue
    }
    const type = family === 4 ? 'ipv4' : 'ipv6'
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128))
      throw new Error(`webhook allow list: "${entry}" has a bad prefix length`)
    ranges.addSubnet(address, prefix, type)
  }
  return { ranges, hosts }
}

/** Why `address` (reached for `host`) is refused, or undefined when it may be used. */
export function refusalOf(address: string, host: string, allow: WebhookAllowList): string | undefined {
  if (allow.hosts.has(host.toLowerCase())) return undefined
  let ip = address
  let type: 'ipv4' | 'ipv6' = isIP(ip) === 6 ? 'ipv6' : 'ipv4'
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is checked as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped !== null) {
    ip = mapped[1]!
    type = 'ipv4'
  }
  if (!FORBIDDEN.check(ip, type) || allow.ranges.check(ip, type)) return undefined
  return (
    `the webhook host ${host} is the ${type === 'ipv4' ? 'IPv4' : 'IPv6'} address ${ip}, in a loopback, ` +
    'private or reserved range; allow it with SYNCGRAPH_WEBHOOK_ALLOW if this is intended'
  )
}

/** The `X-Syncgraph-Signature` value for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
  return `t=${timestamp},v1=${mac}`
}

/** What a receiver runs: true when `header` signs `body` with `secret` within `toleranceSeconds` of `now`. */
export function verifyWebhookSignature(
  secret: string,
  body: string,
  header: string,
  now = Date.now(),
  toleranceSeconds = 300,
): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]))
  const t = Number(parts.t)
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false
  const expected = signWebhook(secret, body, t)
  return expected.length === header.length && expected === header
}

export interface WebhookOptions {
  timeoutMs: number
  /** Signs the request when set (the rule's secret). */
  secret?: string | undefined
  allow: WebhookAllowList
  now?: () => number
}

/** POST `payload` as JSON to `url`; anything but a 2xx answer is a failure. */
export async function sendWebhook(url: string, payload: unknown, options: WebhookOptions): Promise<void> {
  const target = new URL(url)
  const host = target.hostname.replace(/^\[|\]$/g, '')
  // Literal addresses skip the DNS hook, so they are checked here.
  if (isIP(host) !== 0) {
    const refused = refusalOf(host, host, options.allow)
    if (refused !== undefined) throw new WebhookRefused(refused)
  }
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0)
      const usable = addresses.filter((a) => refusalOf(a.address, hostname, options.allow) === undefined)
      if (usable.length === 0)
        return callback(new WebhookRefused(refusalOf(addresses[0]!.address, hostname, options.allow)!), '', 0)
      if (lookupOptions.all === true) return callback(null, usable)
      return callback(null, usable[0]!.address, usable[0]!.family)
    })
  }
  const body = JSON.stringify(payload)
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'Syncgraph',
  }
  if (options.secret !== undefined)
    headers['x-syncgraph-signature'] = signWebhook(
      options.secret,
      body,
      Math.floor((options.now?.() ?? Date.now()) / 1000),
    )
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest
  const status = await new Promise<number>((resolve, reject) => {
    const req = send(target, { method: 'POST', headers, lookup, timeout: options.timeoutMs }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode ?? 0))
      res.once('error', reject)
    })
    req.once('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)))
    req.once('error', reject)
    req.end(body)
  })
  if (status < 200 || status > 299) throw new Error(`the webhook answered HTTP ${status}`)
}
