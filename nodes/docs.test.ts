import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { formatNodesDoc, NODES_DOC_PATH, renderNodesDoc } from './docs.ts'
import { definitions } from './index.ts'

describe('docs/NODES.md', () => {
  it('is up to date with the node declarations (run `npm run docs:nodes`)', async () => {
    const path = fileURLToPath(new URL(`../${NODES_DOC_PATH}`, import.meta.url))
    const expected = await formatNodesDoc(renderNodesDoc(definitions), path)
    const actual = await readFile(path, 'utf8').catch(() => '(missing)')
    expect(actual === expected, `${NODES_DOC_PATH} is out of date: run \`npm run docs:nodes\``).toBe(true)
  })

  it('documents every node type, port and option', () => {
    const doc = renderNodesDoc(definitions)
    for (const def of definitions) {
      expect(doc).toContain(`### \`${def.type}\``)
      expect(doc).toContain(def.description)
      for (const port of [...Object.keys(def.inputs), ...Object.keys(def.outputs)])
        expect(doc).toContain(`\`${port}\``)
    }
    expect(doc).toContain('| `on[].left` (required) | column name (of the `left` input) |')
    expect(doc).toContain('| `connection.path` (required) | file path (read) |')
    expect(doc).toContain('the right input, as a hash table keyed by the join columns')
    expect(doc).toContain('{ "$param": "name" }')
    expect(doc).toContain('{ "$env": "VAR" }')
  })
})
