import { useId, useMemo, useState } from 'react'
import { connectionCandidates, useEditor, type ConnectionCandidate } from '../store/editor-store.ts'
import { Icon } from '../ui/icons.tsx'

const portName = (node: string, port: string) => `${node}.${port}`
const describe = (c: Pick<ConnectionCandidate, 'source' | 'sourceHandle' | 'target' | 'targetHandle'>) =>
  `${portName(c.source, c.sourceHandle)} → ${portName(c.target, c.targetHandle)}`

/** Id of the "Connect to" select of the inspector, focused by the C shortcut. */
export const CONNECT_TO_ID = 'inspector-connect-to'

/**
 * Edges of the selected node without the mouse: its current edges with a remove button each, and
 * "Connect to" / "Connect from" menus listing only the ports the canvas would accept (the same check
 * as drawing an edge by hand).
 */
export function ConnectSection({ nodeId }: { nodeId: string }) {
  const edges = useEditor((s) => s.edges)
  // Structure changes bump `version`; moves and selection do not, so dragging does not recompute this.
  const version = useEditor((s) => s.version)
  const mine = useMemo(() => edges.filter((e) => e.source === nodeId || e.target === nodeId), [edges, nodeId])
  const candidates = useMemo(() => {
    const s = useEditor.getState()
    return { out: connectionCandidates(s, nodeId, 'out'), in: connectionCandidates(s, nodeId, 'in') }
    // edges and version stand for the graph's structure, read through getState
  }, [nodeId, edges, version])

  return (
    <section className="inspector-section" aria-label="Connections">
      <h3 className="section-title">Connections</h3>
      {mine.length === 0 ? (
        <p className="faint">No edges yet.</p>
      ) : (
        <ul className="connection-list" aria-label={`Edges of ${nodeId}`}>
          {mine.map((e) => {
            const text = describe({
              source: e.source,
              sourceHandle: e.sourceHandle ?? 'out',
              target: e.target,
              targetHandle: e.targetHandle ?? 'in',
            })
            return (
              <li key={e.id}>
                <span className="mono">{text}</span>
                <button
                  type="button"
                  className="btn btn-ghost btn-icon btn-sm"
                  aria-label={`Remove edge ${text}`}
                  title="Remove this edge"
                  onClick={() => useEditor.getState().onEdgesChange([{ type: 'remove', id: e.id }])}
                >
                  <Icon name="close" size={12} />
                </button>
              </li>
            )
          })}
        </ul>
      )}
      <ConnectPicker
        id={CONNECT_TO_ID}
        label="Connect to"
        empty="No input accepts this node's output"
        candidates={candidates.out}
        nodeId={nodeId}
      />
      <ConnectPicker
        label="Connect from"
        empty="No output fits this node's inputs"
        candidates={candidates.in}
        nodeId={nodeId}
      />
    </section>
  )
}

function ConnectPicker({
  id,
  label,
  empty,
  candidates,
  nodeId,
}: {
  id?: string
  label: string
  empty: string
  candidates: ConnectionCandidate[]
  nodeId: string
}) {
  const generated = useId()
  const selectId = id ?? generated
  const [choice, setChoice] = useState('')
  const picked = candidates.find((c) => describe(c) === choice)
  const connect = () => {
    if (!picked) return
    if (useEditor.getState().connect(picked)) {
      useEditor.getState().showHint('success', `Connected ${describe(picked)}`)
      setChoice('')
    }
  }
  return (
    <div className="field connect-picker">
      <label className="field-label" htmlFor={selectId}>
        {label}
      </label>
      <div className="connect-row">
        <select
          id={selectId}
          className="select"
          value={picked ? choice : ''}
          disabled={candidates.length === 0}
          onChange={(e) => setChoice(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && picked) {
              e.preventDefault()
              connect()
            }
          }}
        >
          <option value="">{candidates.length === 0 ? empty : `Choose a port (${candidates.length})`}</option>
          {candidates.map((c) => {
            const text = describe(c)
            const other =
              c.source === nodeId ? portName(c.target, c.targetHandle) : portName(c.source, c.sourceHandle)
            return (
              <option key={text} value={text}>
                {c.source === nodeId && c.sourceHandle !== 'out' ? `${c.sourceHandle} → ${other}` : other}
                {c.target === nodeId && c.targetHandle !== 'in' ? ` → ${c.targetHandle}` : ''}
              </option>
            )
          })}
        </select>
        <button
          type="button"
          className="btn btn-sm"
          disabled={!picked}
          onClick={connect}
          aria-label={picked ? `Connect ${describe(picked)}` : `${label}: choose a port first`}
        >
          <Icon name="link" size={14} /> Connect
        </button>
      </div>
    </div>
  )
}
