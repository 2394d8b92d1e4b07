import {
  applyEdgeChanges,
  applyNodeChanges,
  type Connection,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react'
import { create } from 'zustand'
import { checkPortTypes } from '../../engine/ports.ts'
import type { GraphDoc, Issue, NodeTypeInfo, StoredGraph, ValidateResult } from '../api/types.ts'
import {
  defaultConfig,
  freshId,
  nodeOutputs,
  toDocument,
  toFlowEdge,
  toFlowNode,
  wouldCycle,
  type GraphMeta,
  type OnRowError,
  type SgEdge,
  type SgNode,
  type SgNodeData,
} from './graph-model.ts'

interface Snapshot {
  nodes: SgNode[]
  edges: SgEdge[]
  meta: GraphMeta
}

export interface Hint {
  tone: 'error' | 'info' | 'success'
  text: string
  /** Increments so the same text shown twice restarts its timer. */
  seq: number
}

/** What the clipboard holds: nodes with their config and the edges between them. */
export interface ClipboardPayload {
  syncgraphClipboard: 1
  nodes: {
    id: string
    type: string
    config: Record<string, unknown>
    label?: string
    onRowError?: OnRowError
    position: { x: number; y: number }
  }[]
  edges: { from: string; fromPort: string; to: string; toPort: string }[]
}

const HISTORY_LIMIT = 100
const emptyMeta: GraphMeta = { name: 'Untitled graph', params: {}, settings: {} }

export interface EditorState {
  catalog: Record<string, NodeTypeInfo>
  graphId: string | null
  revision: number
  updatedAt: string | null
  meta: GraphMeta
  nodes: SgNode[]
  edges: SgEdge[]
  /** Bumped on every change that matters to validation (not on moves or selection). */
  version: number
  dirty: boolean
  /** The document as last loaded or saved, so undoing back to it leaves nothing unsaved. */
  savedJson: string
  past: Snapshot[]
  future: Snapshot[]
  /** Coalesces a run of edits to one field into one undo step. */
  lastEditKey: string | null
  dragging: boolean
  issues: Issue[]
  issuesByNode: Record<string, Issue[]>
  columns: ValidateResult['columns']
  /** Which JSONata expressions run compiled, from the last validation. */
  expressions: ValidateResult['expressions']
  /** The `version` the last validation result describes; issues are stale while it lags behind. */
  validatedVersion: number
  hint: Hint | null

  setCatalog(types: NodeTypeInfo[]): void
  load(stored: StoredGraph): void
  /** After a save of `sent` (the document as it was sent). */
  markSaved(stored: StoredGraph, sent: GraphDoc): void
  onNodesChange(changes: NodeChange<SgNode>[]): void
  onEdgesChange(changes: EdgeChange<SgEdge>[]): void
  /** Why a connection is refused, or undefined when it is allowed. */
  connectionProblem(connection: Connection | SgEdge): string | undefined
  connect(connection: Connection): boolean
  addNode(type: string, position: { x: number; y: number }): string | undefined
  deleteSelected(): void
  deleteNode(id: string): void
  updateConfig(id: string, config: Record<string, unknown>, field?: string): void
  updateNode(id: string, patch: Partial<Pick<SgNodeData, 'label' | 'onRowError'>>): void
  renameNode(id: string, next: string): string | undefined
  setMeta(patch: Partial<GraphMeta>): void
  selectOnly(id: string | null): void
  selectAll(): void
  copySelection(): ClipboardPayload | undefined
  paste(payload: ClipboardPayload, at?: { x: number; y: number }): void
  applyLayout(positions: Record<string, { x: number; y: number }>): void
  undo(): void
  redo(): void
  setValidation(result: ValidateResult, version: number): void
  showHint(tone: Hint['tone'], text: string): void
  clearHint(): void
}

let hintSeq = 0

function groupIssues(issues: Issue[], previous: Record<string, Issue[]>): Record<string, Issue[]> {
  const out: Record<string, Issue[]> = {}
  for (const issue of issues) if (issue.nodeId) (out[issue.nodeId] ??= []).push(issue)
  // Keep the old array when nothing changed, so node components do not re-render.
  for (const [id, list] of Object.entries(out)) {
    const old = previous[id]
    if (
      old &&
      old.length === list.length &&
      old.every((o, i) => o.message === list[i]!.message && o.path === list[i]!.path)
    ) {
      out[id] = old
    }
  }
  return out
}

export const useEditor = create<EditorState>()((set, get) => {
  /** Save the current state for undo before a change. */
  const remember = (editKey: string | null = null) => {
    const s = get()
    if (editKey !== null && editKey === s.lastEditKey) return
    const snapshot: Snapshot = { nodes: s.nodes, edges: s.edges, meta: s.meta }
    set({ past: [...s.past.slice(-HISTORY_LIMIT + 1), snapshot], future: [], lastEditKey: editKey })
  }
  const unsaved = (snapshot: Snapshot, savedJson: string) =>
    JSON.stringify(toDocument(snapshot.meta, snapshot.nodes, snapshot.edges)) !== savedJson
  const changed = (patch: Partial<EditorState>, structural = true) =>
    set((s) => ({ ...patch, dirty: true, version: structural ? s.version + 1 : s.version }))

  return {
    catalog: {},
    graphId: null,
    revision: 0,
    updatedAt: null,
    meta: emptyMeta,
    nodes: [],
    edges: [],
    version: 0,
    dirty: false,
    savedJson: '',
    past: [],
    future: [],
    lastEditKey: null,
    dragging: false,
    issues: [],
    issuesByNode: {},
    columns: {},
    expressions: [],
    validatedVersion: -1,
    hint: null,

    setCatalog: (types) => set({ catalog: Object.fromEntries(types.map((t) => [t.type, t])) }),

    load: (stored) => {
      const g = stored.graph
      const meta: GraphMeta = {
        name: g.name ?? 'Untitled graph',
        ...(g.description ? { description: g.description } : {}),
        params: g.params ?? {},
        settings: g.settings ?? {},
      }
      const nodes = g.nodes.map(toFlowNode)
      const edges = (g.edges ?? []).map(toFlowEdge)
      set((s) => ({
        graphId: stored.id,
        revision: stored.revision,
        updatedAt: stored.updatedAt,
        meta,
        nodes,
        edges,
        version: s.version + 1,
        dirty: false,
        savedJson: JSON.stringify(toDocument(meta, nodes, edges)),
        past: [],
        future: [],
        lastEditKey: null,
        issues: [],
        issuesByNode: {},
        columns: {},
        expressions: [],
        hint: null,
      }))
    },

    markSaved: (stored, sent) => {
      const savedJson = JSON.stringify(sent)
      set((s) => ({
        revision: stored.revision,
        updatedAt: stored.updatedAt,
        graphId: stored.id,
        savedJson,
        // Edits made while the save was on its way are still unsaved.
        dirty: unsaved(s, savedJson),
      }))
    },

    onNodesChange: (changes) => {
      const s = get()
      let structural = false
      let touches = false
      for (const c of changes) {
        if (c.type === 'position') {
          touches = true
          if (c.dragging && !s.dragging) {
            remember()
            set({ dragging: true })
          }
          if (c.dragging === false) set({ dragging: false, lastEditKey: null })
        } else if (c.type === 'remove') {
          structural = true
        }
      }
      if (structural) remember()
      const nodes = applyNodeChanges(changes, s.nodes)
      if (structural) {
        const alive = new Set(nodes.map((n) => n.id))
        changed({ nodes, edges: s.edges.filter((e) => alive.has(e.source) && alive.has(e.target)) })
      } else if (touches) {
        set({ nodes, dirty: true })
      } else {
        set({ nodes })
      }
    },

    onEdgesChange: (changes) => {
      const s = get()
      const structural = changes.some((c) => c.type === 'remove')
      if (structural) remember()
      const edges = applyEdgeChanges(changes, s.edges)
      if (structural) changed({ edges })
      else set({ edges })
    },

    connectionProblem: (connection) => {
      const s = get()
      const { source, target } = connection
      const fromPort = connection.sourceHandle ?? 'out'
      const toPort = connection.targetHandle ?? 'in'
      const from = s.nodes.find((n) => n.id === source)
      const to = s.nodes.find((n) => n.id === target)
      if (!from || !to) return 'Connect an output to an input'
      if (source === target) return 'A node cannot feed itself'
      const fromInfo = s.catalog[from.data.type]
      const toInfo = s.catalog[to.data.type]
      const out = nodeOutputs(fromInfo, from.data.onRowError ?? s.meta.settings.onRowError ?? 'fail')[
        fromPort
      ]
      const inp = toInfo?.inputs[toPort]
      if (!out || !inp) return `Connect an output (right side) to an input (left side)`
      const check = checkPortTypes(out.type, inp.type)
      if (!check.ok) return `Cannot connect ${source}.${fromPort} to ${target}.${toPort}: ${check.reason}`
      if (!inp.multiple && s.edges.some((e) => e.target === target && (e.targetHandle ?? 'in') === toPort)) {
        return `The "${toPort}" input of ${target} already has an edge; use a union node to combine streams`
      }
      if (
        s.edges.some(
          (e) =>
            e.source === source &&
            e.target === target &&
            e.sourceHandle === fromPort &&
            e.targetHandle === toPort,
        )
      ) {
        return 'These ports are already connected'
      }
      if (wouldCycle(s.edges, source, target))
        return `Connecting ${source} to ${target} would make a cycle: a graph must flow one way`
      return undefined
    },

    connect: (connection) => {
      const problem = get().connectionProblem(connection)
      if (problem) {
        get().showHint('error', problem)
        return false
      }
      remember()
      const edge = toFlowEdge({
        from: connection.source,
        fromPort: connection.sourceHandle ?? 'out',
        to: connection.target,
        toPort: connection.targetHandle ?? 'in',
      })
      changed({ edges: [...get().edges, edge] })
      return true
    },

    addNode: (type, position) => {
      const s = get()
      const info = s.catalog[type]
      if (!info) return undefined
      remember()
      const id = freshId(type, new Set(s.nodes.map((n) => n.id)))
      const node: SgNode = {
        ...toFlowNode({ id, type, config: defaultConfig(info), position }, 0),
        selected: true,
      }
      changed({ nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node] })
      return id
    },

    deleteSelected: () => {
      const s = get()
      const gone = new Set(s.nodes.filter((n) => n.selected).map((n) => n.id))
      const edges = s.edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target))
      if (gone.size === 0 && edges.length === s.edges.length) return
      remember()
      changed({ nodes: s.nodes.filter((n) => !gone.has(n.id)), edges })
    },

    deleteNode: (id) => {
      const s = get()
      remember()
      changed({
        nodes: s.nodes.filter((n) => n.id !== id),
        edges: s.edges.filter((e) => e.source !== id && e.target !== id),
      })
    },

    updateConfig: (id, config, field) => {
      remember(field === undefined ? null : `config:${id}:${field}`)
      changed({ nodes: get().nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, config } } : n)) })
    },

    updateNode: (id, patch) => {
      remember(`node:${id}:${Object.keys(patch).join(',')}`)
      changed({
        nodes: get().nodes.map((n) => {
          if (n.id !== id) return n
          const data = { ...n.data, ...patch }
          for (const key of Object.keys(patch) as (keyof typeof patch)[])
            if (patch[key] === undefined) delete data[key]
          return { ...n, data }
        }),
      })
    },

    renameNode: (id, next) => {
      const s = get()
      if (next === id) return undefined
      if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(next))
        return 'An id starts with a letter or _ and has letters, digits, _ . - only'
      if (s.nodes.some((n) => n.id === next)) return `Another node already has the id "${next}"`
      remember()
      changed({
        nodes: s.nodes.map((n) => (n.id === id ? { ...n, id: next } : n)),
        edges: s.edges.map((e) =>
          e.source === id || e.target === id
            ? toFlowEdge({
                from: e.source === id ? next : e.source,
                fromPort: e.sourceHandle ?? 'out',
                to: e.target === id ? next : e.target,
                toPort: e.targetHandle ?? 'in',
              })
            : e,
        ),
      })
      return undefined
    },

    setMeta: (patch) => {
      remember(`meta:${Object.keys(patch).join(',')}`)
      changed({ meta: { ...get().meta, ...patch } })
    },

    selectOnly: (id) =>
      set((s) => ({
        nodes: s.nodes.map((n) => ((n.id === id) === !!n.selected ? n : { ...n, selected: n.id === id })),
        edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      })),

    selectAll: () => set((s) => ({ nodes: s.nodes.map((n) => (n.selected ? n : { ...n, selected: true })) })),

    copySelection: () => {
      const s = get()
      const picked = s.nodes.filter((n) => n.selected)
      if (picked.length === 0) return undefined
      const ids = new Set(picked.map((n) => n.id))
      return {
        syncgraphClipboard: 1,
        nodes: picked.map((n) => ({
          id: n.id,
          type: n.data.type,
          config: n.data.config,
          ...(n.data.label ? { label: n.data.label } : {}),
          ...(n.data.onRowError ? { onRowError: n.data.onRowError } : {}),
          position: n.position,
        })),
        edges: s.edges
          .filter((e) => ids.has(e.source) && ids.has(e.target))
          .map((e) => ({
            from: e.source,
            fromPort: e.sourceHandle ?? 'out',
            to: e.target,
            toPort: e.targetHandle ?? 'in',
          })),
      }
    },

    paste: (payload, at) => {
      const s = get()
      if (payload.nodes.length === 0) return
      remember()
      const taken = new Set(s.nodes.map((n) => n.id))
      const rename = new Map<string, string>()
      const minX = Math.min(...payload.nodes.map((n) => n.position.x))
      const minY = Math.min(...payload.nodes.map((n) => n.position.y))
      const offset = at ? { x: at.x - minX, y: at.y - minY } : { x: 40, y: 40 }
      const added: SgNode[] = payload.nodes.map((n) => {
        const id = freshId(n.id, taken)
        taken.add(id)
        rename.set(n.id, id)
        const node = toFlowNode(
          {
            id,
            type: n.type,
            config: structuredClone(n.config),
            ...(n.label ? { label: n.label } : {}),
            ...(n.onRowError ? { onRowError: n.onRowError } : {}),
            position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
          },
          0,
        )
        return { ...node, selected: true }
      })
      const edges = payload.edges
        .filter((e) => rename.has(e.from) && rename.has(e.to))
        .map((e) => toFlowEdge({ ...e, from: rename.get(e.from)!, to: rename.get(e.to)! }))
      changed({
        nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...added],
        edges: [...s.edges, ...edges],
      })
      const unknown = payload.nodes.filter((n) => !s.catalog[n.type]).map((n) => n.type)
      get().showHint(
        unknown.length ? 'error' : 'info',
        unknown.length
          ? `Pasted ${added.length} node(s); unknown type(s): ${[...new Set(unknown)].join(', ')}`
          : `Pasted ${added.length} node${added.length === 1 ? '' : 's'}`,
      )
    },

    applyLayout: (positions) => {
      remember()
      changed(
        { nodes: get().nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id]! } : n)) },
        false,
      )
    },

    undo: () => {
      const s = get()
      const previous = s.past.at(-1)
      if (!previous) return
      const current: Snapshot = { nodes: s.nodes, edges: s.edges, meta: s.meta }
      set({
        ...previous,
        past: s.past.slice(0, -1),
        future: [...s.future, current],
        lastEditKey: null,
        dirty: unsaved(previous, s.savedJson),
        version: s.version + 1,
      })
    },

    redo: () => {
      const s = get()
      const next = s.future.at(-1)
      if (!next) return
      const current: Snapshot = { nodes: s.nodes, edges: s.edges, meta: s.meta }
      set({
        ...next,
        future: s.future.slice(0, -1),
        past: [...s.past, current],
        lastEditKey: null,
        dirty: unsaved(next, s.savedJson),
        version: s.version + 1,
      })
    },

    setValidation: (result, version) =>
      set((s) =>
        version < s.validatedVersion
          ? s
          : {
              issues: result.issues,
              issuesByNode: groupIssues(result.issues, s.issuesByNode),
              columns: result.columns,
              expressions: result.expressions ?? [],
              validatedVersion: version,
            },
      ),

    showHint: (tone, text) => set({ hint: { tone, text, seq: ++hintSeq } }),
    clearHint: () => set({ hint: null }),
  }
})

/** The graph document of the editor's current state. */
export function currentDocument() {
  const s = useEditor.getState()
  return toDocument(s.meta, s.nodes, s.edges)
}

/**
 * The part of the document a preview of `nodeId` runs: the node and everything upstream of it. An
 * unfinished node elsewhere on the canvas then does not stop the preview (the server refuses a graph
 * with errors anywhere in it).
 */
export function previewDocument(nodeId: string) {
  const s = useEditor.getState()
  const keep = upstreamOf(s, nodeId)
  return toDocument(
    s.meta,
    s.nodes.filter((n) => keep.has(n.id)),
    s.edges.filter((e) => keep.has(e.source) && keep.has(e.target)),
  )
}

/** Columns arriving on a node's input port (the union of what its feeding edges carry); undefined = unknown. */
export function upstreamColumns(state: EditorState, nodeId: string, port: string): string[] | undefined {
  const feeding = state.edges.filter((e) => e.target === nodeId && (e.targetHandle ?? 'in') === port)
  if (feeding.length === 0) return undefined
  const all: string[] = []
  for (const e of feeding) {
    const cols = state.columns[e.source]?.[e.sourceHandle ?? 'out']
    if (!cols) return undefined
    all.push(...cols)
  }
  return [...new Set(all)]
}

/** Ids of a node and every node upstream of it. */
export function upstreamOf(state: EditorState, nodeId: string): Set<string> {
  const seen = new Set<string>()
  const stack = [nodeId]
  while (stack.length) {
    const id = stack.pop()!
    if (seen.has(id)) continue
    seen.add(id)
    for (const e of state.edges) if (e.target === id) stack.push(e.source)
  }
  return seen
}

/**
 * Why a preview of `nodeId` cannot run yet: validation is still catching up, or the node or something
 * upstream has errors. Undefined when a preview may be asked for.
 */
export function previewBlocker(state: EditorState, nodeId: string): string | undefined {
  if (state.validatedVersion !== state.version) return 'checking'
  for (const id of upstreamOf(state, nodeId)) {
    const bad = state.issuesByNode[id]?.find((i) => i.severity === 'error')
    if (bad) return id === nodeId ? `Fix this node first: ${bad.message}` : `Fix ${id} first: ${bad.message}`
  }
  return undefined
}

/** A connection the keyboard "Connect" menu offers: allowed by the same check as drawing an edge. */
export interface ConnectionCandidate {
  source: string
  sourceHandle: string
  target: string
  targetHandle: string
}

/**
 * Every edge that could be added from (`direction: 'out'`) or into (`'in'`) a node right now: each
 * pairing of its ports with the other nodes' ports that `connectionProblem` allows, in canvas order.
 */
export function connectionCandidates(
  state: EditorState,
  nodeId: string,
  direction: 'in' | 'out',
): ConnectionCandidate[] {
  const self = state.nodes.find((n) => n.id === nodeId)
  if (!self) return []
  const policyOf = (n: SgNode) => n.data.onRowError ?? state.meta.settings.onRowError ?? 'fail'
  const out: ConnectionCandidate[] = []
  for (const other of state.nodes) {
    if (other.id === nodeId) continue
    const [from, to] = direction === 'out' ? [self, other] : [other, self]
    const fromPorts = Object.keys(nodeOutputs(state.catalog[from.data.type], policyOf(from)))
    const toPorts = Object.keys(state.catalog[to.data.type]?.inputs ?? {})
    for (const sourceHandle of fromPorts)
      for (const targetHandle of toPorts) {
        const candidate = { source: from.id, sourceHandle, target: to.id, targetHandle }
        if (state.connectionProblem(candidate) === undefined) out.push(candidate)
      }
  }
  return out
}
