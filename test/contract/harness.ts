import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import {
  createCatalog,
  createConnectionResolver,
  createFileResolver,
  runGraph,
  type Row,
  type RunSummary,
} from '../../engine/index.ts'
import { collect, collected, values } from '../../engine/testing/test-nodes.ts'
import { definitions } from '../../nodes/index.ts'
import { describeWithService } from '../services.ts'

/**
 * One contract every destination runs (issue 6 point 4). A destination is an entry: how to write a
 * target with its node, how to read it back with its reader, and — stated once, here and in
 * docs/DESTINATIONS.md — what it does where destinations differ (what null becomes, upsert or not,
 * what a failure mid-batch leaves). The checks are the same for every entry; a destination that
 * genuinely cannot meet a point declares so in `contract`, and the check asserts that declared
 * behaviour instead of pretending.
 */

/** A node of the contract graph. */
export interface NodeSpec {
  type: string
  config: Record<string, unknown>
}

/** One place to write to: a file, a table, a directory container. Each check uses a fresh one. */
export interface Target {
  /** The destination node writing here; `upsert` asks for the keyed (upsert) mode where there is one. */
  writer(options: { upsert: boolean }): NodeSpec
  /** The source node reading it back. */
  reader(): NodeSpec
}

export interface DestinationInstance {
  /** Folder relative file paths resolve against. */
  dir: string
  /** A fresh, empty target named after the check. */
  target(label: string): Promise<Target>
  stop(): Promise<void>
}

export interface Destination {
  name: string
  /** Why it cannot run on this machine (a server not installed or not reachable), or undefined when it can. */
  missing?(): string | undefined | Promise<string | undefined>
  start(): Promise<DestinationInstance>
  contract: {
    /** A contract row as it comes back through the reader (field names of the contract rows). */
    expected(row: Row): Row
    /** A read-back row in the contract's field names (e.g. LDAP attributes to fields). */
    normalize(row: Row): Row
    /**
     * `upsert`: writing rows again updates those with the same `id` and keeps the others.
     * `replace`: every run replaces the whole target (a file or sheet has no keys).
     */
    rewrite: 'upsert' | 'replace'
    /**
     * What a failing row leaves behind with onRowError `fail`:
     * `batch` — each batch is one transaction; batches before it stay, nothing of its batch is kept;
     * `run` — the target is replaced only when the run succeeds: it keeps its previous content;
     * `object` — no transactions, each object one write: the run fails at the first failed object once
     *   the writes in flight settle (a failure its plan foresees fails it before any write).
     */
    atomicity: 'batch' | 'run' | 'object'
    /** A row this destination refuses, and the error code it gives. */
    badRow(id: string): { row: Row; code: string }
  }
}

/** The node types of the catalog (whatever is registered there) plus the engine's test source and sink. */
const extra = [values, collect].filter((d) => !definitions.some((def) => def.type === d.type))
export const contractCatalog = createCatalog([...definitions, ...extra])

/** Rows every destination must keep: unicode, an empty string, nulls, a number, quotes and a line break. */
export const contractRows: Row[] = [
  { id: 'c1', name: 'Zoë Łukasz', note: 'plain', extra: 'x', n: 1 },
  { id: 'c2', name: '山田 太郎 🙂', note: '', extra: null, n: 42 },
  { id: 'c3', name: 'مرحبا بالعالم', note: 'say "hi", then; go\nnext line', extra: 'Ünïcödé', n: null },
  { id: 'c4', name: "O'Brien, Seán", note: 'ﬁ ligature, e\u0301 combining', extra: null, n: -7 },
]

export interface WriteOutcome {
  summary: RunSummary
  rejected: Row[]
  results: Row[]
}

/** Run `test.values → writer` (with `rejected` and `results` collected when the node has them). */
export async function writeRows(
  instance: DestinationInstance,
  writer: NodeSpec,
  rows: Row[],
  options: { onRowError?: 'fail' | 'route'; batchSize?: number } = {},
): Promise<WriteOutcome> {
  const definition = contractCatalog.get(writer.type)
  if (definition === undefined) throw new Error(`node type ${writer.type} is not in the catalog`)
  const route = options.onRowError === 'route' && definition.rowErrors === true
  const hasResults = 'results' in definition.outputs
  collected.clear()
  const summary = await runGraph(
    {
      syncgraph: 1,
      settings: {
        workers: 0,
        batchSize: options.batchSize ?? 1000,
        onRowError: options.onRowError ?? 'fail',
      },
      nodes: [
        { id: 'src', type: 'test.values', config: { rows } },
        { id: 'dst', ...writer },
        ...(route ? [{ id: 'rejected', type: 'test.collect' }] : []),
        ...(hasResults ? [{ id: 'results', type: 'test.collect' }] : []),
      ],
      edges: [
        { from: 'src', to: 'dst' },
        ...(route ? [{ from: 'dst', fromPort: 'rejected', to: 'rejected' }] : []),
        ...(hasResults ? [{ from: 'dst', fromPort: 'results', to: 'results' }] : []),
      ],
    },
    {
      catalog: contractCatalog,
      files: createFileResolver({ baseDir: instance.dir }),
      connections: createConnectionResolver(),
    },
  )
  return {
    summary,
    rejected: [...(collected.get('rejected') ?? [])],
    results: [...(collected.get('results') ?? [])],
  }
}

/** Read a target back through its reader, in the contract's field names, sorted by id. */
export async function readRows(destination: Destination, instance: DestinationInstance, target: Target) {
  collected.clear()
  const summary = await runGraph(
    {
      syncgraph: 1,
      settings: { workers: 0 },
      nodes: [
        { id: 'src', ...target.reader() },
        { id: 'sink', type: 'test.collect' },
      ],
      edges: [{ from: 'src', to: 'sink' }],
    },
    {
      catalog: contractCatalog,
      files: createFileResolver({ baseDir: instance.dir }),
      connections: createConnectionResolver(),
    },
  )
  expect(summary.errors, 'reading back').toEqual([])
  return (collected.get('sink') ?? [])
    .map((row) => destination.contract.normalize(row))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)))
}

/** A fresh temp folder for a destination instance. */
export async function instanceDir(name: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `syncgraph-contract-${name}-`))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

/** Register the contract's checks for one destination; `missing` is what its `missing()` said. */
export function describeDestination(destination: Destination, missing: string | undefined): void {
  describeWithService(`destination contract: ${destination.name}`, missing, () => {
    const { contract } = destination
    let instance: DestinationInstance
    beforeAll(async () => {
      instance = await destination.start()
    }, 60_000)
    afterAll(async () => {
      await instance?.stop()
    })
    const expectedOf = (rows: Row[]) =>
      rows.map((r) => contract.expected(r)).sort((a, b) => String(a.id).localeCompare(String(b.id)))

    it('gives back the rows written: unicode, empty and null values survive (as documented)', async () => {
      const target = await instance.target('roundtrip')
      const { summary } = await writeRows(instance, target.writer({ upsert: false }), contractRows)
      expect(summary.errors).toEqual([])
      expect(summary.status).toBe('succeeded')
      expect(await readRows(destination, instance, target)).toEqual(expectedOf(contractRows))
    })

    it(`writing again ${contract.rewrite === 'upsert' ? 'upserts by key' : 'replaces the target'}, and is idempotent`, async () => {
      const target = await instance.target('rewrite')
      const writer = target.writer({ upsert: true })
      expect((await writeRows(instance, writer, contractRows)).summary.status).toBe('succeeded')
      const changed = [
        { ...contractRows[1]!, name: 'changed ✓', extra: 'now set' },
        { id: 'c5', name: 'new', note: 'added', extra: null, n: 5 },
      ]
      const expected =
        contract.rewrite === 'upsert'
          ? [contractRows[0]!, changed[0]!, contractRows[2]!, contractRows[3]!, changed[1]!]
          : changed
      for (let run = 1; run <= 2; run++) {
        const { summary } = await writeRows(instance, writer, changed)
        expect(summary.errors, `run ${run}`).toEqual([])
        expect(await readRows(destination, instance, target), `after run ${run}`).toEqual(
          expectedOf(expected),
        )
      }
    })

    it('routes a row it refuses, with its reason, to the rejected port, and writes the others', async () => {
      const target = await instance.target('rejects')
      const bad = contract.badRow('bad')
      const rows = [contractRows[0]!, bad.row, contractRows[1]!]
      const { summary, rejected, results } = await writeRows(
        instance,
        target.writer({ upsert: false }),
        rows,
        {
          onRowError: 'route',
        },
      )
      expect(summary.status).toBe('succeeded')
      expect(rejected).toHaveLength(1)
      expect(rejected[0]).toMatchObject({ id: 'bad', _error: { code: bad.code } })
      expect(String((rejected[0]!._error as { message: unknown }).message).length).toBeGreaterThan(10)
      expect(summary.nodes.dst!.rowsRejected).toBe(1)
      // A sync node's results (one row per object, with its outcome) say it failed too.
      const objects = results.filter((r) => 'outcome' in r)
      if (objects.length > 0) {
        expect(objects.filter((r) => r.outcome === 'failed')).toMatchObject([
          { key: { id: 'bad' }, error: { code: bad.code } },
        ])
      }
      expect(await readRows(destination, instance, target)).toEqual(
        expectedOf([contractRows[0]!, contractRows[1]!]),
      )
    })

    it(`leaves no partial batch when a row fails mid-batch (${contract.atomicity})`, async () => {
      const target = await instance.target('atomic')
      const writer = target.writer({ upsert: false })
      const before = [{ id: 'p0', name: 'written before', note: 'kept', extra: null, n: 0 }]
      const first = await writeRows(instance, writer, before)
      expect(first.summary.status).toBe('succeeded')
      const bad = contract.badRow('bad').row
      // Batches of 3: [c1 c2 c3] then [c4 bad c5].
      const c5 = { id: 'c5', name: 'after the bad row', note: 'x', extra: null, n: 5 }
      const rows = [...contractRows, bad, c5]
      const { summary, results } = await writeRows(instance, writer, rows, {
        batchSize: 3,
        onRowError: 'fail',
      })
      const after = await readRows(destination, instance, target)
      switch (contract.atomicity) {
        case 'batch':
          expect(summary.status).toBe('failed')
          expect(after).toEqual(expectedOf([...before, ...contractRows.slice(0, 3)]))
          break
        case 'run':
          expect(summary.status).toBe('failed')
          expect(after).toEqual(expectedOf(before))
          break
        case 'object':
          // No transactions: each object is one write. Under fail, a failure the plan foresees (the
          // directory's schema requires the missing name) fails the run before any write; one only the
          // write meets fails it once the writes in flight settle, keeping what they wrote.
          expect(summary.status).toBe('failed')
          expect(summary.errors[0]).toMatchObject({
            code: contract.badRow('bad').code,
            row: contractRows.length + 1,
          })
          expect(results).toEqual([])
          expect(after).toEqual(expectedOf(before))
          break
        default: {
          const never: never = contract.atomicity
          throw new Error(`unknown atomicity ${String(never)}`)
        }
      }
    })
  })
}
