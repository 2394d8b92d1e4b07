import { randomUUID } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { createConnectionResolver } from './connections.ts'
import {
  type AnyNodeDefinition,
  type Catalog,
  type ConnectionResolver,
  type FileResolver,
  type NodeLog,
  type Outputs,
  type RowProcessor,
  type RunContext,
  type RunSettings,
  type SetupContext,
} from './define-node.ts'
import {
  CancelledError,
  errorCode,
  errorMessage,
  GraphError,
  NodeRunError,
  serializeError,
  type SerializedError,
} from './errors.ts'
import { createFileResolver } from './files.ts'
import { bindParams, ParamError, type Graph, type GraphNode } from './graph.ts'
import { createWorkerPool, poolSize, type WorkerPool } from './pool.ts'
import {
  edgeKey,
  type NodeStats,
  type RunEvent,
  type RunSnapshot,
  type RunStatus,
  type RunSummary,
} from './progress.ts'
import { BatchQueue, mergeStreams } from './queue.ts'
import type { NodeRunState, RunStateStore } from './run-state.ts'
import { processBatch } from './row-batch.ts'
import type { Batch, OnRowError, Row } from './types.ts'
import { analyzeGraph, hasErrors } from './validate.ts'

/** Longest stretch (ms) a run keeps the event loop before letting timers, I/O and other work in. */
const SLICE_MS = 20
export interface RunOptions {
  catalog: Catalog
  /** Values for the graph's parameters; unset ones take their defaults. */
  params?: Record<string, unknown>
  signal?: AbortSignal
  runId?: string
  /** Where node file paths resolve (default: the current folder, unrestricted). */
  files?: FileResolver
  connections?: ConnectionResolver
  /** A pool shared across runs (the server's); without one, a run makes its own when it needs one. */
  pool?: WorkerPool
  onEvent?: (event: RunEvent) => void
  /** How often coalesced progress is emitted (default 250 ms). */
  progressIntervalMs?: number
  /** Run only these nodes and what feeds them (preview). */
  targets?: readonly string[]
  /** Sees every batch a node sends on a port, e.g. to collect a preview. */
  onBatch?: (nodeId: string, port: string, batch: Batch) => void
  /** Where nodes keep values across runs of this graph (a SQL watermark); saved only when the run succeeds. */
  state?: RunStateStore
}

/** Row errors kept per node in the summary; the rest are counted. */
const ERROR_SAMPLES_PER_NODE = 20
/** Skipped rows logged per node before the log falls silent (the counter goes on). */
const SKIP_LOGS_PER_NODE = 5

interface Instance {
  node: GraphNode
  def: AnyNodeDefinition
  config: unknown
  policy: OnRowError
  stats: NodeStats
  inputs: Map<string, BatchQueue[]>
  outputs: Map<string, BatchQueue[]>
  startedAt: number
  finishedAt: number | undefined
  waitMs: number
  errorSamples: number
  pendingRejected: Row[]
}

/**
 * Run a graph to completion. Throws GraphError when the graph is invalid (nothing runs); otherwise
 * resolves with the run summary, whose status says whether it succeeded, failed or was cancelled.
 */
export async function runGraph(input: unknown, options: RunOptions): Promise<RunSummary> {
  const analysis = analyzeGraph(input, options.catalog, { params: options.params ?? {} })
  if (analysis.graph === undefined || hasErrors(analysis.issues)) {
    const errors = analysis.issues.filter((i) => i.severity === 'error')
    throw new GraphError(
      'INVALID_GRAPH',
      `The graph has ${errors.length} error(s): ${errors.map((i) => i.message).join('; ')}`,
      {
        issues: errors,
      },
    )
  }
  let graph: Graph
  try {
    graph = bindParams(analysis.graph, options.params ?? {})
  } catch (error) {
    if (error instanceof ParamError) throw new GraphError('INVALID_PARAM', error.message, { cause: error })
    throw error
  }
  return new Run(graph, analysis.order, options).execute()
}

class Run {
  readonly runId: string
  private readonly controller = new AbortController()
  private readonly instances = new Map<string, Instance>()
  private readonly queues: { edge: Graph['edges'][number]; queue: BatchQueue }[] = []
  private readonly errors: SerializedError[] = []
  private firstError: unknown
  private status: RunStatus = 'running'
  private readonly started = performance.now()
  private readonly startedAt = new Date()
  private readonly files: FileResolver
  private readonly connections: ConnectionResolver
  private pool: WorkerPool | undefined
  private lastTurn = performance.now()
  private ownsPool = false
  private kept: Record<string, unknown> | undefined
  private readonly staged = new Map<string, unknown>()

  constructor(
    private readonly graph: Graph,
    order: string[],
    private readonly options: RunOptions,
  ) {
    this.runId = options.runId ?? randomUUID()
    // Every queue and every in-flight worker task listens for cancellation.
    setMaxListeners(0, this.controller.signal)
    this.files = options.files ?? createFileResolver({ baseDir: process.cwd() })
    this.connections = options.connections ?? createConnectionResolver()
    const wanted = options.targets === undefined ? undefined : ancestorsOf(graph, options.targets)
    const byId = new Map(graph.nodes.map((n) => [n.id, n]))
    for (const id of order) {
      if (wanted !== undefined && !wanted.has(id)) continue
      const node = byId.get(id)!
      const def = options.catalog.get(node.type)!
      const config = def.config.parse(
        node.version !== undefined && node.version < def.version
          ? def.migrate!(node.config, node.version)
          : node.config,
      )
      this.instances.set(id, {
        node,
        def,
        config,
        policy: node.onRowError ?? graph.settings.onRowError,
        stats: {
          type: node.type,
          status: 'pending',
          rowsIn: 0,
          rowsOut: 0,
          rowsRejected: 0,
          errors: 0,
          batches: 0,
          busyMs: 0,
          rowsPerSec: 0,
        },
        inputs: new Map(),
        outputs: new Map(),
        startedAt: 0,
        finishedAt: undefined,
        waitMs: 0,
        errorSamples: 0,
        pendingRejected: [],
      })
    }
    const unbounded = nodesNeedingUnboundedInputs(graph, this.instances)
    for (const edge of graph.edges) {
      const from = this.instances.get(edge.from)
      const to = this.instances.get(edge.to)
      if (from === undefined || to === undefined) continue
      const capacity = unbounded.has(edge.to) ? Infinity : graph.settings.queueDepth
      const queue = new BatchQueue(capacity, this.controller.signal)
      this.queues.push({ edge, queue })
      from.outputs.set(edge.fromPort, [...(from.outputs.get(edge.fromPort) ?? []), queue])
      to.inputs.set(edge.toPort, [...(to.inputs.get(edge.toPort) ?? []), queue])
    }
  }

  async execute(): Promise<RunSummary> {
    const external = this.options.signal
    const onAbort = () => this.cancel()
    if (external?.aborted) this.cancel()
    external?.addEventListener('abort', onAbort, { once: true })
    const interval = this.options.progressIntervalMs ?? 250
    let lastSignature = ''
    const timer = setInterval(() => {
      const snapshot = this.snapshot()
      const signature = signatureOf(snapshot)
      if (signature === lastSignature) return
      lastSignature = signature
      this.emit({ type: 'progress', snapshot })
    }, interval)
    timer.unref()
    try {
      this.kept = await this.options.state?.load()
      this.pool = this.options.pool ?? this.makePool()
      this.emit({ type: 'progress', snapshot: this.snapshot() })
      await Promise.all([...this.instances.values()].map((inst) => this.drive(inst)))
    } finally {
      clearInterval(timer)
      external?.removeEventListener('abort', onAbort)
      if (this.ownsPool) await this.pool?.close()
    }
    if (this.status === 'running') this.status = 'succeeded'
    if (this.status === 'succeeded' && this.staged.size > 0 && this.options.state !== undefined) {
      try {
        await this.options.state.save(Object.fromEntries(this.staged))
      } catch (error) {
        this.status = 'failed'
        this.errors.unshift({
          code: 'STATE_SAVE_FAILED',
          message: `the run's state was not saved: ${errorMessage(error)}`,
        })
      }
    }
    const finished = performance.now()
    const summary: RunSummary = {
      ...this.snapshot(),
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Math.round(finished - this.started),
      errors: this.errors,
    }
    this.emit({ type: 'progress', snapshot: this.snapshot() })
    this.emit({ type: 'finished', summary })
    return summary
  }

  private makePool(): WorkerPool | undefined {
    const threads = poolSize(this.graph.settings.workers)
    const needed = [...this.instances.values()].some((i) => offloads(i))
    if (!needed || threads === 0 || this.options.catalog.moduleUrl === undefined) return undefined
    this.ownsPool = true
    return createWorkerPool(threads)
  }

  private cancel(): void {
    if (this.status === 'running') this.status = 'cancelled'
    this.controller.abort(new CancelledError())
  }

  private fail(inst: Instance, error: unknown): void {
    if (error instanceof CancelledError || this.controller.signal.aborted) {
      inst.stats.status = 'cancelled'
      return
    }
    inst.stats.status = 'failed'
    inst.stats.errors += error instanceof NodeRunError && error.row !== undefined ? 0 : 1
    this.firstError ??= error
    const serialized = serializeError(error)
    serialized.nodeId ??= inst.node.id
    if (serialized.code === 'INTERNAL') serialized.code = 'NODE_FAILED'
    if (!serialized.message.startsWith('Node "')) {
      const field = serialized.field === undefined ? '' : ` ${serialized.field}`
      serialized.message = `Node "${inst.node.id}" (${inst.def.type})${field}: ${serialized.message}`
    }
    this.errors.unshift(serialized)
    this.log('error', serialized.message, inst.node.id)
    this.status = 'failed'
    this.controller.abort(new CancelledError('The run stopped because another node failed'))
  }

  private async drive(inst: Instance): Promise<void> {
    const cleanups: (() => void | Promise<void>)[] = []
    inst.stats.status = 'running'
    inst.startedAt = performance.now()
    const ctx: SetupContext<unknown> = {
      nodeId: inst.node.id,
      config: inst.config,
      settings: this.settingsFor(inst),
      signal: this.controller.signal,
      log: this.nodeLog(inst.node.id),
      files: this.files,
      connections: this.connections,
      onCleanup: (release) => cleanups.push(release),
      ...(this.kept === undefined ? {} : { runState: this.nodeState(inst.node.id, this.kept) }),
    }
    let generator: AsyncGenerator<Outputs, void, undefined> | undefined
    try {
      const state = inst.def.setup === undefined ? undefined : await inst.def.setup(ctx)
      const inputs = this.inputStreams(inst)
      const runCtx: RunContext<unknown, unknown> = {
        ...ctx,
        state,
        inputs,
        reject: (row, error, position) => this.reject(inst, row, error, position),
        countOut: (rows) => {
          inst.stats.rowsOut += rows
        },
        outcome: (outcome, count = 1) => {
          const outcomes = (inst.stats.outcomes ??= {})
          outcomes[outcome] = (outcomes[outcome] ?? 0) + count
        },
      }
      generator =
        inst.def.run !== undefined
          ? inst.def.run(runCtx)
          : this.rowDriver(inst, inst.def.rows!, inputs.in ?? emptyStream(), runCtx.reject)
      for (;;) {
        const t0 = performance.now()
        const w0 = inst.waitMs
        const next = await generator.next()
        inst.stats.busyMs += performance.now() - t0 - (inst.waitMs - w0)
        if (next.done) break
        await this.deliver(inst, next.value)
        await this.shareTheLoop()
      }
      await this.deliver(inst, {})
      inst.stats.status = 'succeeded'
    } catch (error) {
      await generator?.return(undefined).catch(() => undefined)
      this.fail(inst, error)
    } finally {
      inst.finishedAt = performance.now()
      for (const queues of inst.outputs.values()) for (const q of queues) q.close()
      for (const queues of inst.inputs.values()) for (const q of queues) q.abandon()
      for (const release of cleanups.reverse()) {
        try {
          await release()
        } catch (error) {
          this.log('warn', `cleanup failed: ${errorMessage(error)}`, inst.node.id)
        }
      }
    }
  }

  /**
   * Let the event loop turn at least every SLICE_MS. Batches move on promises alone, so a graph whose
   * source never waits on I/O (better-sqlite3, an in-memory source, a cached file) would otherwise
   * hold the thread for the whole run: no progress timer, no HTTP request or WebSocket message of
   * the server, no Ctrl-C. One clock for the run, since all its nodes share the thread.
   */
  private async shareTheLoop(): Promise<void> {
    if (performance.now() - this.lastTurn < SLICE_MS) return
    await new Promise((resolve) => setImmediate(resolve))
    this.lastTurn = performance.now()
  }

  private nodeState(nodeId: string, kept: Record<string, unknown>): NodeRunState {
    return {
      get: (key) => kept[`${nodeId}/${key}`],
      set: (key, value) => void this.staged.set(`${nodeId}/${key}`, value),
    }
  }

  private settingsFor(inst: Instance): RunSettings {
    const { batchSize, expressionTimeoutMs, expressionDepth } = this.graph.settings
    return { batchSize, onRowError: inst.policy, expressionTimeoutMs, expressionDepth }
  }

  /** Each input port as one stream, counting rows in and the time the node waits for them. */
  private inputStreams(inst: Instance): Record<string, AsyncIterable<Batch>> {
    const streams: Record<string, AsyncIterable<Batch>> = {}
    for (const port of Object.keys(inst.def.inputs)) {
      const queues = inst.inputs.get(port) ?? []
      const merged = queues.length === 0 ? emptyStream() : mergeStreams(queues)
      streams[port] = this.counted(inst, merged)
    }
    return streams
  }

  private async *counted(
    inst: Instance,
    source: AsyncIterable<Batch>,
  ): AsyncGenerator<Batch, void, undefined> {
    const iterator = source[Symbol.asyncIterator]()
    try {
      for (;;) {
        const t0 = performance.now()
        const next = await iterator.next()
        inst.waitMs += performance.now() - t0
        if (next.done) return
        inst.stats.rowsIn += next.value.length
        inst.stats.batches += 1
        yield next.value
      }
    } finally {
      await iterator.return?.()
    }
  }

  private async deliver(inst: Instance, outputs: Outputs): Promise<void> {
    if (inst.pendingRejected.length > 0) {
      outputs = { ...outputs, rejected: [...(outputs.rejected ?? []), ...inst.pendingRejected] }
      inst.pendingRejected = []
    }
    const sends: Promise<void>[] = []
    for (const [port, batch] of Object.entries(outputs)) {
      if (batch === undefined || batch.length === 0) continue
      if (port !== 'rejected') inst.stats.rowsOut += batch.length
      if (Object.keys(inst.def.inputs).length === 0) inst.stats.batches += 1
      this.options.onBatch?.(inst.node.id, port, batch)
      for (const queue of inst.outputs.get(port) ?? []) sends.push(queue.push(batch))
    }
    if (sends.length > 0) await Promise.all(sends)
  }

  private reject(inst: Instance, row: Row, error: unknown, position?: number): void {
    inst.stats.errors += 1
    inst.stats.rowsRejected += 1
    const code = errorCode(error) ?? 'ROW_FAILED'
    const where = position === undefined ? '' : ` row ${position}`
    const text = errorMessage(error)
    const message = `Node "${inst.node.id}" (${inst.def.type})${where}: ${text}`
    const at = position ?? (error instanceof NodeRunError ? error.row : undefined)
    if (inst.policy === 'fail') {
      throw new NodeRunError(code, message, {
        nodeId: inst.node.id,
        cause: error,
        ...(at === undefined ? {} : { row: at }),
      })
    }
    if (inst.errorSamples < ERROR_SAMPLES_PER_NODE) {
      this.errors.push({
        code,
        message,
        nodeId: inst.node.id,
        ...(at === undefined ? {} : { row: at }),
      })
    }
    if (inst.errorSamples < SKIP_LOGS_PER_NODE) {
      this.log('warn', `${inst.policy === 'skip' ? 'skipped' : 'rejected'}: ${message}`, inst.node.id)
    }
    inst.errorSamples += 1
    if (inst.policy === 'route') inst.pendingRejected.push({ ...row, _error: { code, message: text } })
  }

  /** Drive a per-row node: on this thread, or batches in flight on the pool with outputs kept in order. */
  private async *rowDriver(
    inst: Instance,
    processor: RowProcessor<unknown, unknown>,
    input: AsyncIterable<Batch>,
    reject: (row: Row, error: unknown, position?: number) => void,
  ): AsyncGenerator<Outputs, void, undefined> {
    const settings = this.settingsFor(inst)
    const state = await processor.prepare(inst.config, settings)
    const pool = offloads(inst) ? this.pool : undefined
    let position = 0
    if (pool === undefined) {
      for await (const batch of input) {
        const { outputs, failures } = await processBatch(processor, state, batch)
        for (const f of failures) reject(batch[f.index]!, f.error, position + f.index + 1)
        position += batch.length
        yield outputs
      }
      return
    }
    const inFlight: { batch: Batch; base: number; reply: ReturnType<WorkerPool['run']> }[] = []
    const maxInFlight = pool.threads * 2
    const settle = async () => {
      const task = inFlight.shift()!
      const t0 = performance.now()
      const reply = await task.reply
      inst.waitMs += performance.now() - t0
      inst.stats.busyMs += reply.busyMs
      for (const f of reply.failures) reject(task.batch[f.index]!, revive(f.error), task.base + f.index + 1)
      return reply.outputs
    }
    try {
      for await (const batch of input) {
        const reply = pool.run(
          {
            catalogModule: this.options.catalog.moduleUrl!,
            type: inst.def.type,
            config: inst.config,
            settings,
            batch,
          },
          this.controller.signal,
        )
        reply.catch(() => undefined)
        inFlight.push({ batch, base: position, reply })
        position += batch.length
        if (inFlight.length >= maxInFlight) yield await settle()
      }
      while (inFlight.length > 0) yield await settle()
    } finally {
      if (inFlight.length > 0) await Promise.allSettled(inFlight.map((t) => t.reply))
    }
  }

  private nodeLog(nodeId: string): NodeLog {
    return {
      debug: (m) => this.log('debug', m, nodeId),
      info: (m) => this.log('info', m, nodeId),
      warn: (m) => this.log('warn', m, nodeId),
      error: (m) => this.log('error', m, nodeId),
    }
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string, nodeId?: string): void {
    this.emit({
      type: 'log',
      runId: this.runId,
      level,
      message,
      time: new Date().toISOString(),
      ...(nodeId === undefined ? {} : { nodeId }),
    })
  }

  private emit(event: RunEvent): void {
    try {
      this.options.onEvent?.(event)
    } catch {
      // A listener's failure must never fail or slow the run.
    }
  }

  private snapshot(): RunSnapshot {
    const now = performance.now()
    const nodes: Record<string, NodeStats> = {}
    for (const [id, inst] of this.instances) {
      const elapsedSec = ((inst.finishedAt ?? now) - inst.startedAt) / 1000
      const rows = Object.keys(inst.def.inputs).length === 0 ? inst.stats.rowsOut : inst.stats.rowsIn
      nodes[id] = {
        ...inst.stats,
        ...(inst.stats.outcomes === undefined ? {} : { outcomes: { ...inst.stats.outcomes } }),
        busyMs: Math.round(inst.stats.busyMs),
        rowsPerSec: inst.startedAt > 0 && elapsedSec > 0 ? Math.round(rows / elapsedSec) : 0,
      }
    }
    return {
      runId: this.runId,
      status: this.status,
      elapsedMs: Math.round(now - this.started),
      nodes,
      edges: this.queues.map(({ edge, queue }) => ({
        from: edge.from,
        fromPort: edge.fromPort,
        to: edge.to,
        toPort: edge.toPort,
        rows: queue.rows,
        batches: queue.batches,
        queueDepth: queue.depth,
      })),
    }
  }
}

/** Whether a per-row node's batches go to the worker pool, as its declaration decides for its config. */
function offloads(inst: Instance): boolean {
  const offload = inst.def.rows?.offload
  return typeof offload === 'function' ? offload(inst.config) : offload === true
}

/** A worker's serialised error as an Error with its code, for `reject`. */
function revive(error: SerializedError): Error {
  return Object.assign(new Error(error.message), { code: error.code })
}

async function* emptyStream(): AsyncGenerator<Batch, void, undefined> {}

function signatureOf(snapshot: RunSnapshot): string {
  let s = snapshot.status
  for (const [id, n] of Object.entries(snapshot.nodes))
    s += `|${id}:${n.status}:${n.rowsIn}:${n.rowsOut}:${n.rowsRejected}:${n.errors}${n.outcomes === undefined ? '' : JSON.stringify(n.outcomes)}`
  return s
}

function ancestorsOf(graph: Graph, targets: readonly string[]): Set<string> {
  const found = new Set<string>()
  const stack = [...targets]
  while (stack.length > 0) {
    const id = stack.pop()!
    if (found.has(id)) continue
    found.add(id)
    for (const e of graph.edges) if (e.to === id) stack.push(e.from)
  }
  return found
}

/**
 * A node that holds one input before reading another (a join builds its right side first) would
 * deadlock if both inputs descend from one source: the source blocks on the full, unread queue.
 * Such nodes get unbounded input queues, and only they.
 */
function nodesNeedingUnboundedInputs(graph: Graph, instances: Map<string, Instance>): Set<string> {
  const result = new Set<string>()
  for (const [id, inst] of instances) {
    if (inst.def.holdsData === undefined) continue
    const sources = graph.edges
      .filter((e) => e.to === id && instances.has(e.from))
      .map((e) => ancestorsOf(graph, [e.from]))
    for (let i = 0; i < sources.length; i++) {
      for (let j = i + 1; j < sources.length; j++) {
        if ([...sources[i]!].some((a) => sources[j]!.has(a))) result.add(id)
      }
    }
  }
  return result
}

export { edgeKey }
