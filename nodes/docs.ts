import {
  configJsonSchema,
  outputPorts,
  portTypes,
  type AnyNodeDefinition,
  type PortSpec,
} from '../engine/index.ts'

/** Where the generated reference lives, relative to the repository root. */
export const NODES_DOC_PATH = 'docs/NODES.md'

const CATEGORY_TITLES: Record<string, string> = {
  source: 'Sources',
  transform: 'Transforms',
  join: 'Joins',
  destination: 'Destinations',
  sync: 'Sync',
}

const INTRO = `# Node types

<!-- Generated from the node declarations in nodes/ by \`npm run docs:nodes\`; a test fails when it is out of date. Edit the declarations (titles and descriptions in \`.meta()\`) or nodes/docs.ts, not this file. -->

Every node of a graph has a \`type\` from this list and a \`config\` object whose options are listed under the type. The same declarations drive the validator, the server's \`/node-types\` catalog and the editor's config form, so this page, the form and the engine always agree.

## Rows, batches and ports

A **row** is a plain JSON object. A field's value is a string, a number, a boolean, null, or an array of those (a multi-valued attribute, such as group memberships). Rows move between nodes in **batches** of \`settings.batchSize\` rows (5000 by default) over bounded queues: a slow destination slows its sources, and memory stays flat whatever the size of the input. Only the nodes that say they **hold data** (the right side of a join) keep rows in memory.

Nodes connect through named **ports**. An edge \`{ "from": "a", "to": "b" }\` joins \`a\`'s \`out\` to \`b\`'s \`in\`; name other ports with \`fromPort\` and \`toPort\`. One output may feed several inputs (each receives every batch). An input takes one edge unless it says it accepts several. Port types: **rows** (any rows), **results** (rows describing what a destination did to each row; they may feed any rows input) and **rejected** (rows that failed, see below).

## Row errors: \`onRowError\` and the \`rejected\` port

Nodes marked *may reject rows* can fail a single row (a bad expression result, a constraint violation) without failing the run. What happens is set by \`settings.onRowError\` for the graph, or \`onRowError\` on one node:

- \`fail\` (default): the run stops with an error naming the node and the row's position.
- \`skip\`: the row is dropped and counted as rejected; the first few are logged.
- \`route\`: the node gains a \`rejected\` output carrying the row with an added \`_error: { "code": …, "message": … }\`; connect it to a destination to keep them.

## Parameters

A graph may declare typed \`params\` (string, number, boolean, enum, connection, path). Any config value may be \`{ "$param": "name" }\`: it is replaced by the value given at run time (\`syncgraph run graph.json --param name=value\`) or by the parameter's default.

## Secrets

Connections are the name of a connection stored on the server, or an inline object. Inside an inline connection any value may be \`{ "$env": "VAR" }\`: it is read from the environment variable \`VAR\` when the run starts, so graph files never hold passwords.

## File paths

A relative file path is resolved against the folder of the graph file (CLI) or the server's files folder. The server refuses paths that lead outside its files folders, including absolute paths elsewhere and symbolic links pointing out. Files read must exist; the folder of a file written must exist.
`

interface Schema {
  type?: string | string[]
  title?: string
  description?: string
  default?: unknown
  enum?: unknown[]
  const?: unknown
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  anyOf?: Schema[]
  oneOf?: Schema[]
  minItems?: number
  'x-ui'?: { widget?: string; port?: string; mode?: string; advanced?: boolean }
}

/** The Markdown reference of every node type: intro, an index, and per type its ports and every option. */
export function renderNodesDoc(definitions: readonly AnyNodeDefinition[]): string {
  const out: string[] = [INTRO, '## Catalog', '']
  out.push('| Type | Title | Category | Inputs | Outputs |', '|---|---|---|---|---|')
  for (const def of definitions) {
    out.push(
      `| [\`${def.type}\`](#${anchor(def.type)}) | ${cell(def.title)} | ${def.category} | ${portList(def.inputs)} | ${portList(def.outputs)} |`,
    )
  }
  out.push('')
  let category = ''
  for (const def of definitions) {
    if (def.category !== category) {
      category = def.category
      out.push(`## ${CATEGORY_TITLES[category] ?? category}`, '')
    }
    out.push(...renderNode(def))
  }
  return `${out.join('\n').trimEnd()}\n`
}

function renderNode(def: AnyNodeDefinition): string[] {
  const out = [
    `### \`${def.type}\``,
    '',
    `**${def.title}** · ${def.category} · version ${def.version}`,
    '',
    def.description,
    '',
  ]
  out.push(`- **Inputs:** ${portDetails(def.inputs, true)}`)
  out.push(`- **Outputs:** ${portDetails(def.outputs, false)}`)
  if (def.rowErrors) {
    const routed = Object.keys(outputPorts(def, 'route')).includes('rejected')
    out.push(
      `- **May reject rows:** yes, handled by \`onRowError\`${routed ? '; with `route` it gains a `rejected` output' : ''}.`,
    )
  }
  if (def.holdsData !== undefined) out.push(`- **Holds in memory:** ${def.holdsData}.`)
  out.push('')
  const rows = optionRows(configJsonSchema(def) as Schema, '')
  if (rows.length === 0) {
    out.push('No options: `config` is `{}`.', '')
    return out
  }
  out.push('| Option | Type | Default | Description |', '|---|---|---|---|', ...rows, '')
  return out
}

function optionRows(schema: Schema, prefix: string): string[] {
  const rows: string[] = []
  const required = new Set(schema.required ?? [])
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`
    const requirement = required.has(name) && prop.default === undefined ? ' (required)' : ''
    const text = [prop.title === undefined ? '' : `**${prop.title}.**`, prop.description ?? '']
      .filter((t) => t !== '')
      .join(' ')
    rows.push(`| \`${path}\`${requirement} | ${cell(typeOf(prop))} | ${defaultOf(prop)} | ${cell(text)} |`)
    for (const [suffix, sub] of nestedObjects(prop)) rows.push(...optionRows(sub, `${path}${suffix}.`))
  }
  return rows
}

/** Object schemas under a property (array items, union branches), with the path suffix to reach them. */
function nestedObjects(schema: Schema): [string, Schema][] {
  if (schema.properties !== undefined) return [['', schema]]
  if (schema.items !== undefined) return nestedObjects(schema.items).map(([suffix, s]) => [`[]${suffix}`, s])
  return (schema.anyOf ?? schema.oneOf ?? []).flatMap(nestedObjects)
}

function typeOf(schema: Schema): string {
  const ui = schema['x-ui']
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``
  if (schema.enum !== undefined)
    return `one of ${schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(', ')}`
  const branches = schema.anyOf ?? schema.oneOf
  if (branches !== undefined) return branches.map((b) => b.title ?? typeOf(b)).join(', or ')
  if (ui?.widget === 'file') return `file path (${ui.mode === 'write' ? 'written' : 'read'})`
  if (ui?.widget === 'column') return `column name (of the \`${ui.port ?? 'in'}\` input)`
  if (schema.type === 'array' && schema.items !== undefined) {
    const item = schema.items.properties !== undefined ? 'objects' : plural(typeOf(schema.items))
    return `list of ${item}${schema.minItems === undefined ? '' : ` (at least ${schema.minItems})`}`
  }
  if (schema.type === 'string' && ui?.widget === 'code') return 'text (code)'
  if (Array.isArray(schema.type)) return schema.type.map(typeName).join(', ')
  return schema.type === undefined ? 'any value' : typeName(schema.type)
}

function typeName(type: string): string {
  return { string: 'text', integer: 'whole number', array: 'list', object: 'object' }[type] ?? type
}

function plural(type: string): string {
  if (type.startsWith('column name')) return type.replace('column name', 'column names')
  if (type === 'text') return 'texts'
  return type
}

function defaultOf(schema: Schema): string {
  return schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``
}

function portList(ports: Record<string, PortSpec>): string {
  const names = Object.keys(ports)
  return names.length === 0 ? '—' : names.map((n) => `\`${n}\``).join(', ')
}

function portDetails(ports: Record<string, PortSpec>, input: boolean): string {
  const entries = Object.entries(ports)
  if (entries.length === 0) return 'none'
  return entries
    .map(([name, spec]) => {
      const notes = [portTypes[spec.type].title.toLowerCase()]
      if (input && spec.optional) notes.push('optional')
      if (input && spec.multiple) notes.push('accepts several edges')
      return `\`${name}\`${spec.title === undefined ? '' : ` (${spec.title})`}: ${notes.join(', ')}`
    })
    .join('; ')
}

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function anchor(type: string): string {
  return type.toLowerCase().replaceAll(/[^a-z0-9 -]/g, '')
}

/** The document formatted as the repository's Prettier config formats Markdown. */
export async function formatNodesDoc(markdown: string, filePath: string): Promise<string> {
  const prettier = await import('prettier')
  const options = (await prettier.resolveConfig(filePath)) ?? {}
  return prettier.format(markdown, { ...options, parser: 'markdown' })
}
