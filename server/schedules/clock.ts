/** Time as the scheduler sees it: the system clock in production, a manual one in tests. */
export interface Clock {
  now(): Date
  /** Call `fn` at `at` (at once when it is past); returns a function that disarms the timer. */
  setTimer(at: Date, fn: () => void): () => void
}

/** setTimeout cannot wait longer than 2^31-1 ms (about 24.8 days); longer waits are chained. */
const MAX_DELAY = 2 ** 31 - 1

export const systemClock: Clock = {
  now: () => new Date(),
  setTimer(at, fn) {
    let timer: NodeJS.Timeout | undefined
    const arm = () => {
      const delay = at.getTime() - Date.now()
      timer = setTimeout(delay > MAX_DELAY ? arm : fn, Math.max(0, Math.min(delay, MAX_DELAY)))
      timer.unref()
    }
    arm()
    return () => clearTimeout(timer)
  },
}

/** A clock that moves only when told to; `advanceTo` fires due timers in time order. */
export class ManualClock implements Clock {
  private time: number
  private timers: { at: number; seq: number; fn: () => void }[] = []
  private seq = 0

  constructor(start: Date) {
    this.time = start.getTime()
  }

  now(): Date {
    return new Date(this.time)
  }

  setTimer(at: Date, fn: () => void): () => void {
    const timer = { at: at.getTime(), seq: this.seq++, fn }
    this.timers.push(timer)
    return () => {
      this.timers = this.timers.filter((t) => t !== timer)
    }
  }

  /** Move to `to`, firing every timer due on the way at its own time; timers they arm are fired too when due. */
  advanceTo(to: Date): void {
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= to.getTime())
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (due === undefined) break
      this.timers = this.timers.filter((t) => t !== due)
      this.time = Math.max(this.time, due.at)
      due.fn()
    }
    this.time = Math.max(this.time, to.getTime())
  }

  advanceBy(ms: number): void {
    this.advanceTo(new Date(this.time + ms))
  }

  /** When the earliest armed timer fires, if any. */
  nextTimer(): Date | undefined {
    const at = Math.min(...this.timers.map((t) => t.at))
    return Number.isFinite(at) ? new Date(at) : undefined
  }
}
