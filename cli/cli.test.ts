import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { tempDir } from '../test/helpers.ts'

const bin = fileURLToPath(new URL('../bin/syncgraph.js', import.meta.url))

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** Spawn the real `syncgraph` command; `dir` in its output reads `<dir>`. */
function syncgraph(
  args: string[],
  options: { dir?: string; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
) {
  return new Promise<Result>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.dir,
      env: { ...process.env, NO_COLOR: '1' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
      options.onStderr?.(stderr, child)
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const clean = (text: string) =>
        options.dir === undefined ? text : text.replaceAll(options.dir, '<dir>')
      resolve({ code, stdout: clean(stdout), stderr: clean(stderr) })
    })
  })
}

/** The lines after the per-node table: the outcome and its errors. */
function outcome(stderr: string): string {
  const lines = stderr.split('\n')
  const at = lines.findIndex((l) => /^Run (succeeded|failed|cancelled)/.test(l))
  return lines
    .slice(at)
    .join('\n')
    .replace(/(after|in) \d+\.\d+ s/, '$1 <t> s')
    .trimEnd()
}

async function graphDir(graph: unknown, files: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir('syncgraph-cli-')
  await writeFile(join(dir, 'graph.json'), typeof graph === 'string' ? graph : JSON.stringify(graph, null, 2))
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  return dir
}

const people = 'id,first,last,salary\n1,Ada,Lovelace,72000\n2,Alan,Turing,48000\n3,Grace,Hopper,50000\n'

function pipeline(overrides: { read?: object; filter?: string; params?: object } = {}) {
  return {
    syncgraph: 1,
    params: overrides.params ?? {},
    nodes: [
      { id: 'people', type: 'csv.read', config: { path: 'people.csv', ...overrides.read } },
      { id: 'rich', type: 'filter', config: { expression: overrides.filter ?? '$number(salary) >= 50000' } },
      { id: 'out', type: 'csv.write', config: { path: 'out.csv' } },
    ],
    edges: [
      { from: 'people', to: 'rich' },
      { from: 'rich', to: 'out' },
    ],
  }
}

describe('syncgraph command line', () => {
  test('--version, --help and a missing command', async () => {
    const version = await syncgraph(['--version'])
    expect(version).toMatchObject({ code: 0, stdout: '0.1.0\n' })
    const help = await syncgraph(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('run <graph.json> [--param k=v]… [--json]')
    const none = await syncgraph([])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('Usage: syncgraph')
  })

  test('bad arguments exit 2 and say why', async () => {
    const results = await Promise.all([
      syncgraph(['run', '--bogus']),
      syncgraph(['run']),
      syncgraph(['frobnicate']),
      syncgraph(['run', 'g.json', '--param', 'novalue']),
      syncgraph(['plan', 'g.json']),
      syncgraph(['apply']),
      syncgraph(['apply', 'plan.json', '--param', 'a=1']),
    ])
    expect(results.map((r) => [r.code, r.stderr.split('\n')[0]])).toMatchInlineSnapshot(`
      [
        [
          2,
          "syncgraph: Unknown option '--bogus'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "--bogus"",
        ],
        [
          2,
          "syncgraph: run needs a graph file: syncgraph run <graph.json>",
        ],
        [
          2,
          "syncgraph: unknown command "frobnicate"",
        ],
        [
          2,
          "syncgraph: --param takes name=value, got "novalue"",
        ],
        [
          2,
          "g.json: no such file",
        ],
        [
          2,
          "syncgraph: apply needs a plan file: syncgraph apply <plan.json>",
        ],
        [
          2,
          "syncgraph: apply takes no --param: the plan holds the values it was made with",
        ],
      ]
    `)
  })

  test('a run prints progress on stderr and one JSON summary on stdout', async () => {
    const dir = await graphDir(pipeline(), { 'people.csv': people })
    const result = await syncgraph(['run', 'graph.json', '--json'], { dir })
    expect(result.code).toBe(0)
    const summary = JSON.parse(result.stdout) as { durationMs: number }
    expect(summary.durationMs).toBeGreaterThanOrEqual(0)
    expect({ ...summary, durationMs: 0 }).toMatchInlineSnapshot(`
      {
        "durationMs": 0,
        "errors": [],
        "nodes": {
          "out": {
            "errors": 0,
            "rowsIn": 2,
            "rowsOut": 2,
            "rowsRejected": 0,
          },
          "people": {
            "errors": 0,
            "rowsIn": 0,
            "rowsOut": 3,
            "rowsRejected": 0,
          },
          "rich": {
            "errors": 0,
            "rowsIn": 3,
            "rowsOut": 3,
            "rowsRejected": 0,
          },
        },
        "status": "succeeded",
      }
    `)
    expect(result.stderr).toMatch(/^node\s+type\s+status\s+rows in\s+rows out\s+rejected\s+rows\/s$/m)
    expect(result.stderr).toMatch(/^rich\s+filter\s+succeeded\s+3\s+3\s+0\s/m)
    expect(outcome(result.stderr)).toMatchInlineSnapshot(`"Run succeeded in <t> s"`)
  })

  test('relative paths resolve against the graph file, not the current folder', async () => {
    const dir = await graphDir(pipeline(), { 'people.csv': people })
    const result = await syncgraph(['run', join(dir, 'graph.json')])
    expect(result.code).toBe(0)
  })

  test('--param sets a parameter; an unknown one exits 2', async () => {
    const graph = pipeline({
      read: { path: { $param: 'input' } },
      params: { input: { type: 'path', default: 'missing.csv' } },
    })
    const dir = await graphDir(graph, { 'people.csv': people })
    const ok = await syncgraph(['run', 'graph.json', '--param', 'input=people.csv', '--json'], { dir })
    expect(ok.code).toBe(0)
    const unknown = await syncgraph(['run', 'graph.json', '--param', 'inptu=people.csv'], { dir })
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatchInlineSnapshot(`
      "graph.json: the graph has 1 error(s):
        error unknown-param ($.params): Unknown parameter "inptu"; the graph declares: input
      "
    `)
  })

  test('a graph file that is not JSON: exit 2, naming line and column', async () => {
    const dir = await graphDir(
      '{\n  "syncgraph": 1,\n  "nodes": [\n    { "id": "a", "type": "csv.read" }\n    { "id": "b" }\n  ]\n}\n',
    )
    const result = await syncgraph(['run', 'graph.json', '--json'], { dir })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatchInlineSnapshot(`
      "graph.json:5:5: not valid JSON: expected "," or "]" after an array element, found "{"
            { "id": "b" }
            ^
      "
    `)
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'invalid' })
    const missing = await syncgraph(['validate', 'nope.json'], { dir })
    expect([missing.code, missing.stderr]).toMatchInlineSnapshot(`
      [
        2,
        "nope.json: no such file
      ",
      ]
    `)
  })

  test('a missing input file names the node, the path field and the file', async () => {
    const dir = await graphDir(pipeline({ read: { path: 'missing.csv' } }))
    const result = await syncgraph(['run', 'graph.json'], { dir })
    expect(result.code).toBe(1)
    expect(outcome(result.stderr)).toMatchInlineSnapshot(`
      "Run failed after <t> s
        FILE_NOT_FOUND: Node "people" (csv.read) path: file not found: missing.csv"
    `)
  })

  test('malformed CSV names the line', async () => {
    const dir = await graphDir(pipeline(), {
      'people.csv': 'id,first,last,salary\n1,Ada,Lovelace,72000\n2,"Alan"x,Turing,48000\n',
    })
    const result = await syncgraph(['run', 'graph.json'], { dir })
    expect(result.code).toBe(1)
    expect(outcome(result.stderr)).toMatchInlineSnapshot(`
      "Run failed after <t> s
        CSV_MALFORMED: Node "people" (csv.read): line 3 of people.csv: text follows the closing quote of a quoted field (a quote inside a quoted field is written twice: "")"
    `)
  })

  test('a bad expression is an invalid graph naming node, field and position', async () => {
    const dir = await graphDir(pipeline({ filter: '$number(salary) >= ' }), { 'people.csv': people })
    const run = await syncgraph(['run', 'graph.json'], { dir })
    expect(run.code).toBe(2)
    expect(run.stderr).toMatchInlineSnapshot(`
      "graph.json: the graph has 1 error(s):
        error expression-syntax (node "rich" $.expression): Node "rich" expression: Unexpected end of expression (S0207 at position 19)
      "
    `)
    const validate = await syncgraph(['validate', 'graph.json', '--json'], { dir })
    expect(validate.code).toBe(2)
    expect(JSON.parse(validate.stdout)).toMatchInlineSnapshot(`
      {
        "expressions": [],
        "issues": [
          {
            "code": "expression-syntax",
            "message": "Node "rich" expression: Unexpected end of expression (S0207 at position 19)",
            "nodeId": "rich",
            "path": "$.expression",
            "position": 19,
            "severity": "error",
          },
        ],
        "valid": false,
      }
    `)
  })

  test('a row that fails names the node and the row', async () => {
    const dir = await graphDir(pipeline(), { 'people.csv': `${people}4,Ken,Thompson,lots\n` })
    const result = await syncgraph(['run', 'graph.json', '--json'], { dir })
    expect(result.code).toBe(1)
    expect(outcome(result.stderr)).toMatchInlineSnapshot(`
      "Run failed after <t> s
        D3030: Node "rich" (filter) row 4: Unable to cast value to a number: "lots""
    `)
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'failed',
      errors: [{ nodeId: 'rich', row: 4 }],
    })
  })

  test('a join key column that is missing names the node, the key and the columns there are', async () => {
    const graph = {
      syncgraph: 1,
      nodes: [
        { id: 'people', type: 'csv.read', config: { path: 'people.csv' } },
        { id: 'centers', type: 'csv.read', config: { path: 'centers.csv' } },
        { id: 'j', type: 'join', config: { on: [{ left: 'cost_center', right: 'cc' }] } },
        { id: 'out', type: 'csv.write', config: { path: 'out.csv' } },
      ],
      edges: [
        { from: 'people', to: 'j', toPort: 'left' },
        { from: 'centers', to: 'j', toPort: 'right' },
        { from: 'j', to: 'out' },
      ],
    }
    const dir = await graphDir(graph, { 'people.csv': people, 'centers.csv': 'cc,name\nC1,Finance\n' })
    const result = await syncgraph(['run', 'graph.json'], { dir })
    expect(result.code).toBe(1)
    expect(outcome(result.stderr)).toMatchInlineSnapshot(`
      "Run failed after <t> s
        JOIN_KEY_MISSING: Node "j" (join) on[0].left: column "cost_center" is missing from the rows on the left input; they have: id, first, last, salary"
    `)
  })

  test('validate lists issues with node and path; a valid graph exits 0', async () => {
    const broken = {
      syncgraph: 1,
      nodes: [
        { id: 'people', type: 'csv.read', config: { path: 'people.csv', delimiter: '' } },
        { id: 'x', type: 'no.such.type' },
        { id: 'out', type: 'csv.write', config: { path: 'out.csv' } },
      ],
      edges: [{ from: 'people', to: 'ghost' }],
    }
    const dir = await graphDir(broken)
    const result = await syncgraph(['validate', 'graph.json'], { dir })
    expect(result.code).toBe(2)
    expect(result.stdout).toMatchInlineSnapshot(`
      "  error invalid-config (node "people" $.delimiter): Node "people" config delimiter: Too small: expected string to have >=1 characters
        error unknown-node-type (node "x" $.nodes[1].type): Node "x" has unknown type "no.such.type"
        error dangling-edge ($.edges[0].to): Edge people → ghost refers to a node "ghost" that does not exist
        error missing-input (node "out"): Node "out" (csv.write) needs an edge into its "in" input
      graph.json: 4 errors, 0 warnings
      "
    `)
    const okDir = await graphDir(pipeline(), { 'people.csv': people })
    const ok = await syncgraph(['validate', 'graph.json'], { dir: okDir })
    expect([ok.code, ok.stdout]).toEqual([
      0,
      '  expression (node "rich" $.expression): compiled\ngraph.json: valid\n',
    ])
    const slowDir = await graphDir(pipeline({ filter: '$sum($map([1..10], function($v) { $v })) > 0' }), {
      'people.csv': people,
    })
    const slow = await syncgraph(['validate', 'graph.json', '--json'], { dir: slowDir })
    expect(JSON.parse(slow.stdout)).toMatchObject({
      valid: true,
      expressions: [{ nodeId: 'rich', path: '$.expression', compiled: false }],
    })
  })

  test('jsonata-check runs a suite folder and reports what compiled', async () => {
    const dir = await tempDir('syncgraph-suite-')
    const group = join(dir, 'groups', 'demo')
    await mkdir(group, { recursive: true })
    await mkdir(join(dir, 'datasets'))
    await writeFile(join(dir, 'datasets', 'one.json'), JSON.stringify({ a: 1 }))
    await writeFile(join(group, 'case000.json'), JSON.stringify({ expr: 'a + 1', dataset: 'one', result: 2 }))
    await writeFile(join(group, 'case001.json'), JSON.stringify({ expr: '"x" + 1', data: {}, code: 'T2001' }))
    await writeFile(join(group, 'case002.json'), JSON.stringify({ expr: 'a', data: { a: 1 }, result: 5 }))
    const result = await syncgraph(['jsonata-check', '.', '--json'], { dir })
    expect(result.code).toBe(1)
    expect(JSON.parse(result.stdout)).toMatchObject({
      total: 3,
      passed: 2,
      failed: 1,
      failures: [{ case: expect.stringContaining('case002') }],
    })
  })

  test('Ctrl-C cancels the run: status cancelled, exit 1', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => `${i},First${i},Last${i},${i * 7}`).join('\n')
    const dir = await graphDir(
      pipeline({ filter: '$sum($map([1..200], function($v) { $v })) > 0 and $number(salary) >= 0' }),
      {
        'people.csv': `id,first,last,salary\n${rows}\n`,
      },
    )
    let sent = false
    const result = await syncgraph(['run', 'graph.json', '--json'], {
      dir,
      onStderr: (text, child) => {
        if (!sent && /rich \d/.test(text)) {
          sent = true
          child.kill('SIGINT')
        }
      },
    })
    expect(sent).toBe(true)
    expect(result.code).toBe(1)
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'cancelled' })
    expect(result.stderr).toContain('Cancelling the run')
    expect(outcome(result.stderr)).toMatch(/^Run cancelled after/)
  })
})
