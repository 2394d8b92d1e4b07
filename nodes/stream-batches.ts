import type { Readable } from 'node:stream'

/**
 * Drain an object-mode stream into batches of `size` items, reading synchronously while data is
 * buffered (an `await` per batch, not per item). While a batch is being consumed the stream stays
 * paused, so a slow consumer slows the file read. Aborting `signal` destroys the stream and throws
 * the signal's reason.
 */
export async function* streamBatches<T, R>(
  stream: Readable,
  size: number,
  convert: (item: T) => R,
  signal: AbortSignal,
): AsyncGenerator<R[], void, undefined> {
  let ended = false
  let failure: { error: unknown } | undefined
  let wake: (() => void) | undefined
  const notify = () => {
    const resume = wake
    wake = undefined
    resume?.()
  }
  const onEnd = () => {
    ended = true
    notify()
  }
  const onError = (error: unknown) => {
    failure ??= { error }
    notify()
  }
  stream.on('readable', notify)
  stream.on('end', onEnd)
  stream.on('error', onError)
  signal.addEventListener('abort', notify)
  try {
    let batch: R[] = []
    for (;;) {
      signal.throwIfAborted()
      if (failure !== undefined) throw failure.error
      let item: T | null
      while ((item = stream.read() as T | null) !== null) {
        batch.push(convert(item))
        if (batch.length >= size) {
          yield batch
          batch = []
          signal.throwIfAborted()
        }
      }
      const failed = failure as { error: unknown } | undefined
      if (failed !== undefined) throw failed.error
      if (ended) break
      await new Promise<void>((resolve) => (wake = resolve))
    }
    if (batch.length > 0) yield batch
  } finally {
    signal.removeEventListener('abort', notify)
    stream.off('readable', notify)
    stream.off('end', onEnd)
    stream.off('error', onError)
    if (!ended) stream.destroy()
  }
}
