import { describe, expect, it } from 'vitest'
import { CancelledError } from './errors.ts'
import { BatchQueue, mergeStreams } from './queue.ts'
import type { Row } from './types.ts'

const drain = async (stream: AsyncIterable<Row[]>) => {
  const out: unknown[] = []
  for await (const batch of stream) out.push(...batch.map((row) => row.v))
  return out
}
const row = (v: unknown): Row => ({ v })

describe('BatchQueue', () => {
  it('hands batches over in order and ends when closed', async () => {
    const queue = new BatchQueue(2, new AbortController().signal)
    const consumer = drain(queue)
    for (let i = 0; i < 5; i++) await queue.push([row(i)])
    queue.close()
    expect(await consumer).toEqual([0, 1, 2, 3, 4])
    expect([queue.rows, queue.batches, queue.depth]).toEqual([5, 5, 0])
  })

  it('makes the producer wait while it is full', async () => {
    const queue = new BatchQueue(1, new AbortController().signal)
    await queue.push([row(1)])
    let pushed = false
    const second = queue.push([row(2)]).then(() => (pushed = true))
    await new Promise((r) => setTimeout(r, 10))
    expect(pushed).toBe(false)
    const iterator = queue[Symbol.asyncIterator]()
    expect((await iterator.next()).value).toEqual([row(1)])
    await second
    expect(pushed).toBe(true)
  })

  it('drops pushes once the consumer abandons it, so the producer never blocks', async () => {
    const queue = new BatchQueue(1, new AbortController().signal)
    await queue.push([row(1)])
    queue.abandon()
    await queue.push([row(2)])
    await queue.push([row(3)])
    expect(queue.depth).toBe(0)
  })

  it('rejects waiting producers and consumers when the run is aborted', async () => {
    const controller = new AbortController()
    const queue = new BatchQueue(1, controller.signal)
    await queue.push([row(1)])
    const blocked = queue.push([row(2)])
    controller.abort()
    await expect(blocked).rejects.toBeInstanceOf(CancelledError)
    await expect(drain(queue)).rejects.toBeInstanceOf(CancelledError)
  })
})

describe('mergeStreams', () => {
  it('interleaves several streams and ends when all have ended', async () => {
    async function* gen(prefix: string, n: number) {
      for (let i = 0; i < n; i++) yield [row(`${prefix}${i}`)]
    }
    const rows = await drain(mergeStreams([gen('a', 3), gen('b', 1), gen('c', 2)]))
    expect(rows.sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'c0', 'c1'])
  })
})
