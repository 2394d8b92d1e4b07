import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { formatNodesDoc, NODES_DOC_PATH, renderNodesDoc } from './docs.ts'
import { definitions } from './index.ts'

/** Regenerate docs/NODES.md from the node declarations: `node --import tsx nodes/write-docs.ts`. */
const target = fileURLToPath(new URL(`../${NODES_DOC_PATH}`, import.meta.url))
await writeFile(target, await formatNodesDoc(renderNodesDoc(definitions), target))
console.log(`wrote ${NODES_DOC_PATH} (${definitions.length} node types)`)
