import { isUtf8 } from 'node:buffer'

/** The encodings csv.read reads; a byte order mark decides UTF-8 or UTF-16LE whatever is set. */
export type TextEncoding = 'utf8' | 'utf16le' | 'latin1'

/** Bytes that are not valid UTF-8, where they start in the file and where their U+FFFD is in the text. */
export interface InvalidBytes {
  /** Offset of the first invalid byte in the file (0-based, the byte order mark counted). */
  byte: number
  /** The invalid byte itself. */
  value: number
  /** Index of the replacement character in the whole decoded text (0-based). */
  char: number
}

/**
 * Turns a file's chunks into text: strips a byte order mark (which also chooses UTF-16LE), keeps a
 * character split across two chunks whole, and reports every invalid UTF-8 sequence (decoded as
 * U+FFFD, as TextDecoder does) with its byte offset instead of replacing it silently. Valid UTF-8
 * is checked natively (`isUtf8`); the byte-by-byte scan runs only on a chunk that fails it.
 */
export class ChunkDecoder {
  private encoding: TextEncoding
  private carry: Buffer | undefined
  private started = false
  /** File offset of the next byte to decode. */
  private byte = 0
  /** Characters decoded so far. */
  private chars = 0

  constructor(encoding: TextEncoding) {
    this.encoding = encoding
  }

  /** Decode the next chunk; `invalid` is appended to. At the end of the file call `end`. */
  write(chunk: Buffer, invalid: InvalidBytes[]): string {
    let bytes = this.carry === undefined ? chunk : Buffer.concat([this.carry, chunk])
    this.carry = undefined
    if (!this.started) {
      if (bytes.length < 3) {
        this.carry = bytes
        return ''
      }
      bytes = this.stripBom(bytes)
    }
    const cut = this.completeLength(bytes)
    if (cut < bytes.length) this.carry = bytes.subarray(cut)
    return this.decode(bytes.subarray(0, cut), invalid)
  }

  /** Decode what is left at the end of the file (an unfinished character is invalid). */
  end(invalid: InvalidBytes[]): string {
    let bytes = this.carry ?? Buffer.alloc(0)
    this.carry = undefined
    if (!this.started) bytes = this.stripBom(bytes)
    return this.decode(bytes, invalid)
  }

  private stripBom(bytes: Buffer): Buffer {
    this.started = true
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      this.encoding = 'utf8'
      this.byte = 3
      return bytes.subarray(3)
    }
    if (bytes[0] === 0xff && bytes[1] === 0xfe) {
      this.encoding = 'utf16le'
      this.byte = 2
      return bytes.subarray(2)
    }
    return bytes
  }

  /** The length of the prefix of `bytes` that ends on a character boundary. */
  private completeLength(bytes: Buffer): number {
    const length = bytes.length
    if (this.encoding === 'latin1') return length
    if (this.encoding === 'utf16le') return length - (length % 2)
    for (let back = 1; back <= 3 && back <= length; back++) {
      const b = bytes[length - back]!
      if ((b & 0xc0) === 0x80) continue
      if (b >= 0xc0) {
        const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2
        if (need > back) return length - back
      }
      break
    }
    return length
  }

  private decode(bytes: Buffer, invalid: InvalidBytes[]): string {
    const text = bytes.toString(this.encoding)
    if (this.encoding === 'utf8' && !isUtf8(bytes)) {
      // Sequences are decoded the same whether a slice starts at one of them or before it.
      let from = 0
      let char = this.chars
      for (const at of invalidUtf8(bytes)) {
        char += bytes.toString('utf8', from, at).length
        from = at
        invalid.push({ byte: this.byte + at, value: bytes[at]!, char })
      }
    }
    this.byte += bytes.length
    this.chars += text.length
    return text
  }
}

/**
 * Offsets of the invalid sequences in UTF-8 bytes, one per maximal subpart (the unit the WHATWG
 * decoder replaces with one U+FFFD).
 */
export function invalidUtf8(bytes: Uint8Array): number[] {
  const found: number[] = []
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i]!
    if (b < 0x80) {
      i++
      continue
    }
    let need: number
    let low = 0x80
    let high = 0xbf
    if (b >= 0xc2 && b <= 0xdf) need = 1
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      if (b === 0xe0) low = 0xa0
      if (b === 0xed) high = 0x9f
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      if (b === 0xf0) low = 0x90
      if (b === 0xf4) high = 0x8f
    } else {
      found.push(i)
      i++
      continue
    }
    let j = i + 1
    let ok = true
    for (let k = 0; k < need; k++, j++) {
      const c = bytes[j]
      if (c === undefined || c < low || c > high) {
        ok = false
        break
      }
      low = 0x80
      high = 0xbf
    }
    if (!ok) found.push(i)
    i = j
  }
  return found
}
