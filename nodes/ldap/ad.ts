/**
 * Active Directory specifics: `userAccountControl` bits, `unicodePwd` encoding, and generated
 * passwords that meet AD's complexity rule. Also `{SSHA}` hashes for directories with `userPassword`.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto'

/** userAccountControl flags (MS-ADTS 2.2.16). */
export const UAC = {
  ACCOUNTDISABLE: 0x2,
  PASSWD_NOTREQD: 0x20,
  NORMAL_ACCOUNT: 0x200,
  DONT_EXPIRE_PASSWORD: 0x10000,
} as const

/** `userAccountControl` with ACCOUNTDISABLE set or cleared, every other flag kept; NORMAL_ACCOUNT when there is none yet. */
export function withAccountEnabled(current: string | number | boolean | undefined, enabled: boolean): string {
  const parsed =
    typeof current === 'boolean' || current === undefined || current === '' ? Number.NaN : Number(current)
  const flags = Number.isInteger(parsed) ? parsed : UAC.NORMAL_ACCOUNT
  return String(enabled ? flags & ~UAC.ACCOUNTDISABLE : flags | UAC.ACCOUNTDISABLE)
}

/** Whether a userAccountControl value has ACCOUNTDISABLE cleared. */
export function isAccountEnabled(value: string | number): boolean {
  return (Number(value) & UAC.ACCOUNTDISABLE) === 0
}

/** A source value read as enabled/disabled: true/false, 1/0, yes/no, enabled/disabled, active/inactive. */
export function parseEnabled(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value === 'number') return value !== 0
  if (typeof value !== 'string') return undefined
  const v = value.trim().toLowerCase()
  if (['true', '1', 'yes', 'y', 'enabled', 'active', 'on'].includes(v)) return true
  if (['false', '0', 'no', 'n', 'disabled', 'inactive', 'off'].includes(v)) return false
  return undefined
}

/** The `unicodePwd` value AD wants: the password in double quotes, encoded UTF-16LE (MS-ADTS 3.1.1.3.1.5). */
export function encodeUnicodePwd(password: string): Buffer {
  return Buffer.from(`"${password}"`, 'utf16le')
}

/** An RFC 2307 `{SSHA}` hash (SHA-1 over password + 8-byte salt), so a `userPassword` is never sent in clear. */
export function sshaHash(password: string, salt: Buffer = randomBytes(8)): string {
  const digest = createHash('sha1').update(password, 'utf8').update(salt).digest()
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`
}

export interface PasswordPolicy {
  length: number
  lower: boolean
  upper: boolean
  digits: boolean
  symbols: boolean
}

const SETS = {
  lower: 'abcdefghijkmnpqrstuvwxyz',
  upper: 'ABCDEFGHJKLMNPQRSTUVWXYZ',
  digits: '23456789',
  symbols: '!#$%&()*+,-./:;<=>?@[]^_{|}~',
} as const

/**
 * AD's complexity rule: at least three of upper, lower, digit, symbol (non-alphanumeric, or a
 * letter that is neither upper nor lower case), and neither the account name nor any 3+ character
 * part of the display name in it, ignoring case.
 */
export function meetsAdComplexity(
  password: string,
  account: { samAccountName?: string; displayName?: string } = {},
): boolean {
  let kinds = 0
  if (/\p{Lu}/u.test(password)) kinds++
  if (/\p{Ll}/u.test(password)) kinds++
  if (/\p{Nd}/u.test(password)) kinds++
  if (/[^\p{L}\p{Nd}]|[\p{Lo}\p{Lm}]/u.test(password)) kinds++
  if (kinds < 3) return false
  const lower = password.toLowerCase()
  const sam = account.samAccountName?.toLowerCase() ?? ''
  if (sam.length >= 3 && lower.includes(sam)) return false
  for (const part of (account.displayName ?? '').toLowerCase().split(/[,.\-_ #\t]+/)) {
    if (part.length >= 3 && lower.includes(part)) return false
  }
  return true
}

/**
 * A random password from the chosen character classes, at least one of each, from the OS's CSPRNG
 * (unbiased `randomInt`). Look-alike characters (l, 1, I, O, 0, o) are left out. When the classes
 * allow it, the result also meets AD's complexity rule for `account`.
 */
export function generatePassword(
  policy: PasswordPolicy,
  account: { samAccountName?: string; displayName?: string } = {},
): string {
  const classes = (Object.keys(SETS) as (keyof typeof SETS)[]).filter((k) => policy[k])
  if (classes.length === 0) throw new Error('the password policy allows no character class')
  if (policy.length < classes.length) {
    throw new Error(`a ${policy.length}-character password cannot hold ${classes.length} character classes`)
  }
  const all = classes.map((k) => SETS[k]).join('')
  const pick = (set: string) => set[randomInt(set.length)]!
  const checkComplexity = classes.length >= 3
  for (let attempt = 0; attempt < 100; attempt++) {
    const chars = classes.map((k) => pick(SETS[k]))
    while (chars.length < policy.length) chars.push(pick(all))
    for (let i = chars.length - 1; i > 0; i--) {
      const j = randomInt(i + 1)
      ;[chars[i], chars[j]] = [chars[j]!, chars[i]!]
    }
    const password = chars.join('')
    if (!checkComplexity || meetsAdComplexity(password, account)) return password
  }
  throw new Error('could not generate a password that avoids the account name')
}
