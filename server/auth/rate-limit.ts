/**
 * Failed logins per key (username + client address) in a sliding window. After `maxFailures` the
 * key is blocked until the oldest failure leaves the window. Memory is bounded by `maxKeys`.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>()

  constructor(
    private readonly options: { maxFailures: number; windowMs: number; maxKeys: number } = {
      maxFailures: 5,
      windowMs: 15 * 60_000,
      maxKeys: 10_000,
    },
  ) {}

  /** Milliseconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string, now = Date.now()): number {
    const list = this.recent(key, now)
    if (list.length < this.options.maxFailures) return 0
    return list[0]! + this.options.windowMs - now
  }

  fail(key: string, now = Date.now()): void {
    const list = this.recent(key, now)
    list.push(now)
    this.failures.set(key, list)
    if (this.failures.size > this.options.maxKeys) this.prune(now)
  }

  succeed(key: string): void {
    this.failures.delete(key)
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => t > now - this.options.windowMs)
  }

  private prune(now: number): void {
    for (const [key, list] of this.failures) {
      if (list.every((t) => t <= now - this.options.windowMs)) this.failures.delete(key)
    }
    // Still full of live keys: drop the oldest ones rather than grow without bound.
    for (const key of this.failures.keys()) {
      if (this.failures.size <= this.options.maxKeys) break
      this.failures.delete(key)
    }
  }
}
