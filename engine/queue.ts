import { CancelledError } from './errors.ts'
import type { Batch } from './types.ts'

/**
 * A bounded queue of batches between two nodes. `push` waits while the queue is full, so a slow
 * consumer slows its producer (back-pressure) and memory stays flat. A consumer that stops reading
 * early abandons the queue; further pushes are dropped instead of blocking the producer forever.
 */
export class BatchQueue {
  rows = 0
  batches = 0
  private readonly items: Batch[] = []
  private closed = false
  private abandoned = false
  private wakeConsumer: (() => void) | undefined
  private wakeProducer: (() => void) | undefined

  constructor(
    /** Batches held before `push` waits; `Infinity` for an edge that must never block. */
    readonly capacity: number,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', () => this.wakeAll(), { once: true })
  }

  get depth(): number {
    return this.items.length
  }

  async push(batch: Batch): Promise<void> {
    if (batch.length === 0 || this.abandoned) return
    while (this.items.length >= this.capacity && !this.abandoned) {
      this.throwIfAborted()
      await new Promise<void>((resolve) => (this.wakeProducer = resolve))
    }
    this.throwIfAborted()
    if (this.abandoned) return
    this.items.push(batch)
    this.rows += batch.length
    this.batches += 1
    this.wake('consumer')
  }

  close(): void {
    this.closed = true
    this.wake('consumer')
  }

  /** The consumer will read no more: drop what is queued and never block the producer again. */
  abandon(): void {
    this.abandoned = true
    this.items.length = 0
    this.wake('producer')
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    try {
      for (;;) {
        this.throwIfAborted()
        const batch = this.items.shift()
        if (batch !== undefined) {
          this.wake('producer')
          yield batch
          continue
        }
        if (this.closed) return
        await new Promise<void>((resolve) => (this.wakeConsumer = resolve))
      }
    } finally {
      if (!this.closed) this.abandon()
    }
  }

  private throwIfAborted(): void {
    if (this.signal.aborted) throw new CancelledError()
  }

  private wake(side: 'consumer' | 'producer'): void {
    const wake = side === 'consumer' ? this.wakeConsumer : this.wakeProducer
    if (side === 'consumer') this.wakeConsumer = undefined
    else this.wakeProducer = undefined
    wake?.()
  }

  private wakeAll(): void {
    this.wake('consumer')
    this.wake('producer')
  }
}

/** Interleave several batch streams into one, as they produce. */
export async function* mergeStreams(streams: AsyncIterable<Batch>[]): AsyncGenerator<Batch, void, undefined> {
  if (streams.length === 1) {
    yield* streams[0]!
    return
  }
  const iterators = streams.map((s) => s[Symbol.asyncIterator]())
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<Batch> }>>()
  const pull = (index: number) =>
    pending.set(
      index,
      iterators[index]!.next().then((result) => ({ index, result })),
    )
  iterators.forEach((_, i) => pull(i))
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values())
      if (result.done) {
        pending.delete(index)
        continue
      }
      pull(index)
      yield result.value
    }
  } finally {
    await Promise.allSettled(iterators.map((it) => it.return?.()))
  }
}
