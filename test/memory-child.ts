import { runGraphFile } from '../cli/run-file.ts'

/** Child process of memory.test.ts: run one graph file, then report the status and this process's peak RSS. */
const file = process.argv[2]
if (file === undefined) throw new Error('usage: memory-child.ts <graph.json>')
const summary = await runGraphFile(file)
const rows = Object.fromEntries(Object.entries(summary.nodes).map(([id, n]) => [id, n.rowsOut]))
process.stdout.write(
  `${JSON.stringify({ status: summary.status, errors: summary.errors, rows, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
)
process.exit(0)
