import type { RowProcessor } from './define-node.ts'
import type { Row } from './types.ts'

export interface BatchResult<E> {
  /** Rows emitted, by output port, in input order. */
  outputs: Record<string, Row[]>
  /** Rows that threw, by index in the batch; a failed row emits nothing. */
  failures: { index: number; error: E }[]
}

/**
 * Run one batch through a per-row processor. The same function runs on the main thread and on a
 * worker thread, so both paths give identical outputs and failures.
 */
export async function processBatch<C, P>(
  processor: RowProcessor<C, P>,
  state: P,
  batch: readonly Row[],
): Promise<BatchResult<unknown>> {
  const outputs: Record<string, Row[]> = {}
  const failures: { index: number; error: unknown }[] = []
  let emitted: [string, Row][] = []
  const emit = (port: string, row: Row) => {
    emitted.push([port, row])
  }
  for (let index = 0; index < batch.length; index++) {
    try {
      const pending = processor.process(state, batch[index]!, emit)
      if (pending !== undefined) await pending
    } catch (error) {
      failures.push({ index, error })
      emitted = []
      continue
    }
    for (const [port, row] of emitted) (outputs[port] ??= []).push(row)
    if (emitted.length > 0) emitted = []
  }
  return { outputs, failures }
}
