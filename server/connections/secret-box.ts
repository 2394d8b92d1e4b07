import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Seals secrets with AES-256-GCM; `aad` binds a ciphertext to its owner so it cannot be moved to another record. */
export interface SecretBox {
  seal(plaintext: string, aad: string): string
  open(sealed: string, aad: string): string
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('The secret key must be 32 bytes')
  return {
    seal(plaintext, aad) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(aad))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return [
        'v1',
        iv.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
        body.toString('base64url'),
      ].join('.')
    },
    open(sealed, aad) {
      const [version, iv, tag, body] = sealed.split('.')
      if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined)
        throw new Error('Unknown secret format')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(aad))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      )
    },
  }
}

export const KEY_FILE = 'secret.key'

/**
 * The key from SYNCGRAPH_SECRET_KEY (32 bytes as 64 hex digits or base64), else from `DATA_DIR/secret.key`,
 * created with mode 0600 on first start.
 */
export function loadSecretKey(options: {
  dataDir: string
  fromEnv?: string | undefined
  warn: (message: string) => void
}): Buffer {
  if (options.fromEnv !== undefined && options.fromEnv !== '') {
    const text = options.fromEnv.trim()
    const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64')
    if (key.length !== 32)
      throw new Error('SYNCGRAPH_SECRET_KEY must be 32 bytes, written as 64 hex digits or base64')
    return key
  }
  const file = join(options.dataDir, KEY_FILE)
  try {
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { flag: 'wx', mode: 0o600 })
    chmodSync(file, 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    if ((statSync(file).mode & 0o077) !== 0)
      options.warn(`${file} is readable by other users; run chmod 600 on it`)
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`)
  return key
}
