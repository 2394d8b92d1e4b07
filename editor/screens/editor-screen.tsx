import { ReactFlowProvider, useReactFlow } from '@xyflow/react'
import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiError, api, errorText } from '../api/client.ts'
import { jobsApi } from '../api/jobs.ts'
import { isPending, plansApi } from '../api/plans.ts'
import type { NodeTypeInfo, RunDetail, StoredGraph } from '../api/types.ts'
import { parseClipboard, readStoredClipboard, writeClipboard } from '../canvas/clipboard.ts'
import { Canvas } from '../canvas/canvas.tsx'
import { layoutGraph } from '../canvas/layout.ts'
import { Palette } from '../canvas/palette.tsx'
import { downloadJson, graphFileName } from '../lib/files.ts'
import { navigate, setNavigationGuard } from '../lib/router.ts'
import {
  HistoryPanel,
  IssuesPanel,
  PreviewPanel,
  RejectedPanel,
  RunPanel,
  StatusBadge,
} from '../panel/bottom-panels.tsx'
import { CONNECT_TO_ID } from '../panel/connect-section.tsx'
import { GraphInspector, NodeInspector } from '../panel/inspector.tsx'
import { currentDocument, useEditor } from '../store/editor-store.ts'
import type { SgEdge, SgNode } from '../store/graph-model.ts'
import { followRun } from '../store/run-controller.ts'
import { useRun } from '../store/run-store.ts'
import { lacks, useCan } from '../lib/permissions.ts'
import { Dialog } from '../ui/dialog.tsx'
import { Icon } from '../ui/icons.tsx'
import { notify } from '../ui/toasts.tsx'
import { SaveTemplateDialog } from './template-dialogs.tsx'
import { GraphJobDialog, type GraphJobAction } from './ops/graph-jobs.tsx'
import { NextRun } from './ops/job-parts.tsx'

let catalogCache: Promise<NodeTypeInfo[]> | undefined
/** The node catalog, fetched once per page load. */
export function loadCatalog(): Promise<NodeTypeInfo[]> {
  catalogCache ??= api.nodeTypes().then((r) => r.nodeTypes)
  catalogCache.catch(() => (catalogCache = undefined))
  return catalogCache
}

/** The editor of one graph: loads it and the catalog, then shows the workspace. */
export function EditorScreen({ graphId }: { graphId: string }) {
  const [state, setState] = useState<{ error?: string; ready: boolean }>({ ready: false })
  useEffect(() => {
    let cancelled = false
    useRun.getState().reset()
    Promise.all([loadCatalog(), api.getGraph(graphId)])
      .then(([types, stored]) => {
        if (cancelled) return
        useEditor.getState().setCatalog(types)
        useEditor.getState().load(stored)
        setState({ ready: true })
      })
      .catch((e) => !cancelled && setState({ ready: false, error: errorText(e) }))
    return () => {
      cancelled = true
    }
  }, [graphId])

  if (state.error) {
    return (
      <main className="page">
        <div className="notice notice-error" role="alert">
          Cannot open this graph: {state.error}
        </div>
        <p>
          <a href="#/">Back to graphs</a>
        </p>
      </main>
    )
  }
  if (!state.ready) {
    return (
      <div className="splash" aria-busy="true">
        <span className="spinner" /> Opening graph…
      </div>
    )
  }
  return (
    <ReactFlowProvider>
      <Workspace />
    </ReactFlowProvider>
  )
}

type DrawerTab =
  | { tab: 'preview'; nodeId: string }
  | { tab: 'run' }
  | { tab: 'issues' }
  | { tab: 'history' }
  | { tab: 'rejected'; runId: string; nodeId: string }

const isEditable = (el: EventTarget | null): boolean =>
  el instanceof HTMLElement &&
  (el.isContentEditable ||
    ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) ||
    el.closest('.cm-editor') !== null)

function Workspace() {
  const flow = useReactFlow<SgNode, SgEdge>()
  const graphId = useEditor((s) => s.graphId)!
  const name = useEditor((s) => s.meta.name)
  const dirty = useEditor((s) => s.dirty)
  const revision = useEditor((s) => s.revision)
  const canUndo = useEditor((s) => s.past.length > 0)
  const canRedo = useEditor((s) => s.future.length > 0)
  const errorCount = useEditor((s) => s.issues.filter((i) => i.severity === 'error').length)
  const warningCount = useEditor((s) => s.issues.filter((i) => i.severity === 'warning').length)
  const selectedId = useEditor((s) => {
    let found: string | null = null
    for (const n of s.nodes) {
      if (!n.selected) continue
      if (found !== null) return null
      found = n.id
    }
    return found
  })
  const runStatus = useRun((s) => s.status)
  const canRun = useCan('run')
  const canEdit = useCan('edit')
  const canCreate = useCan('create')
  const runId = useRun((s) => s.runId)
  const running = runStatus === 'running' || runStatus === 'queued'
  const [drawer, setDrawer] = useState<DrawerTab | null>(null)
  const [saving, setSaving] = useState(false)
  const [conflict, setConflict] = useState<string | null>(null)
  const [templateOpen, setTemplateOpen] = useState(false)
  const [jobAction, setJobAction] = useState<GraphJobAction | null>(null)
  const [shortcutsOpen, setShortcutsOpen] = useState(false)
  const [historyKey, setHistoryKey] = useState(0)
  const [nextRunAt, setNextRunAt] = useState<string | null>(null)

  // The graph's next scheduled run, shown beside the Schedule button; read again when its dialog closes.
  useEffect(() => {
    if (!canRun || jobAction !== null) return
    let cancelled = false
    jobsApi
      .listSchedules()
      .then(({ schedules }) => {
        const mine = schedules.find((s) => s.jobKind === 'graph' && s.jobId === graphId && s.enabled)
        if (!cancelled) setNextRunAt(mine?.nextRunAt ?? null)
      })
      .catch(() => undefined)
    return () => {
      cancelled = true
    }
  }, [canRun, graphId, jobAction])
  const addCount = useRef(0)
  const stopFollowing = useRef<(() => void) | null>(null)

  // Validate (and learn upstream columns) shortly after every change that matters.
  const version = useEditor((s) => s.version)
  useEffect(() => {
    const controller = new AbortController()
    const timer = setTimeout(() => {
      api
        .validate(currentDocument(), undefined, controller.signal)
        .then((result) => useEditor.getState().setValidation(result, version))
        .catch(() => undefined)
    }, 300)
    return () => {
      clearTimeout(timer)
      controller.abort()
    }
  }, [version])

  // Unsaved-change guard for in-app navigation and for closing the tab.
  useEffect(() => {
    setNavigationGuard(
      () =>
        !useEditor.getState().dirty ||
        window.confirm('This graph has unsaved changes. Leave without saving?'),
    )
    const beforeUnload = (event: BeforeUnloadEvent) => {
      if (useEditor.getState().dirty) event.preventDefault()
    }
    window.addEventListener('beforeunload', beforeUnload)
    return () => {
      setNavigationGuard(undefined)
      window.removeEventListener('beforeunload', beforeUnload)
      stopFollowing.current?.()
    }
  }, [])

  const save = useCallback(
    async (options: { overwrite?: boolean } = {}): Promise<boolean> => {
      const s = useEditor.getState()
      setSaving(true)
      try {
        let base = s.revision
        if (options.overwrite) base = (await api.getGraph(graphId)).revision
        const sent = currentDocument()
        const stored = await api.saveGraph(graphId, sent, base)
        useEditor.getState().markSaved(stored, sent)
        setConflict(null)
        notify.success(`Saved revision ${stored.revision}`)
        return true
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) setConflict(e.message)
        else notify.error(e)
        return false
      } finally {
        setSaving(false)
      }
    },
    [graphId],
  )

  const reloadTheirs = async () => {
    try {
      const stored: StoredGraph = await api.getGraph(graphId)
      useEditor.getState().load(stored)
      setConflict(null)
      notify.info(`Loaded revision ${stored.revision}`)
    } catch (e) {
      notify.error(e)
    }
  }

  const run = useCallback(async () => {
    if (useRun.getState().status === 'running') return
    const s = useEditor.getState()
    const errors = s.validatedVersion === s.version ? s.issues.filter((i) => i.severity === 'error') : []
    if (errors.length > 0) {
      // The server would refuse it; say why here, where the issues can be clicked.
      setDrawer({ tab: 'issues' })
      s.showHint('error', `Fix ${errors.length} error${errors.length === 1 ? '' : 's'} before running`)
      return
    }
    if (s.dirty && !(await save())) return
    try {
      const { id } = await api.startRun({ graphId })
      stopFollowing.current?.()
      setDrawer({ tab: 'run' })
      stopFollowing.current = followRun(id, () => {
        const r = useRun.getState()
        setHistoryKey((k) => k + 1)
        if (r.status === 'succeeded') notify.success('Run succeeded')
        else if (r.status === 'cancelled') notify.info('Run cancelled')
        else notify.error(new Error(`Run ${r.status}${r.errors[0] ? `: ${r.errors[0].message}` : ''}`))
      })
    } catch (e) {
      notify.error(e)
      setDrawer({ tab: 'issues' })
    }
  }, [graphId, save])

  const cancel = useCallback(() => {
    if (runId) api.cancelRun(runId).catch((e) => notify.error(e))
  }, [runId])

  // Plan: compute what the sync nodes would change, writing nothing, and review it on the run page.
  const hasSync = useEditor((s) => s.nodes.some((n) => s.catalog[n.data.type]?.category === 'sync'))
  const plan = useCallback(async () => {
    const s = useEditor.getState()
    if (s.dirty && !(await save())) return
    try {
      const reply = await plansApi.startPlan(graphId)
      if (isPending(reply)) notify.info('This graph needs approval: the request waits for an approver')
      if ('id' in reply && reply.id) navigate(`/runs/${reply.id}`)
      else navigate('/approvals')
    } catch (e) {
      notify.error(e)
    }
  }, [graphId, save])

  const addNode = useCallback(
    (type: string) => {
      const bounds = document.querySelector('.canvas')?.getBoundingClientRect()
      const center = bounds
        ? { x: bounds.left + bounds.width / 2, y: bounds.top + bounds.height / 2 }
        : { x: 400, y: 300 }
      const step = (addCount.current++ % 6) * 24
      const p = flow.screenToFlowPosition(center)
      const id = useEditor.getState().addNode(type, { x: p.x - 90 + step, y: p.y - 30 + step })
      if (id) useEditor.getState().showHint('info', `Added ${id}`)
    },
    [flow],
  )

  const layout = useCallback(async () => {
    const s = useEditor.getState()
    const positions = await layoutGraph(s.nodes, s.edges)
    useEditor.getState().applyLayout(positions)
    setTimeout(() => void flow.fitView({ padding: 0.2, duration: 200, maxZoom: 1 }), 60)
  }, [flow])

  const focusNode = useCallback(
    (id: string) => {
      const node = useEditor.getState().nodes.find((n) => n.id === id)
      if (!node) return
      useEditor.getState().selectOnly(id)
      void flow.fitView({ nodes: [{ id }], padding: 1.2, duration: 250, maxZoom: 1.2 })
    },
    [flow],
  )

  const copy = useCallback((cut: boolean) => {
    const payload = useEditor.getState().copySelection()
    if (!payload) return
    writeClipboard(payload)
    if (cut) useEditor.getState().deleteSelected()
    useEditor
      .getState()
      .showHint(
        'info',
        `${cut ? 'Cut' : 'Copied'} ${payload.nodes.length} node${payload.nodes.length === 1 ? '' : 's'}`,
      )
  }, [])

  // Keyboard shortcuts. Keys typed into fields and the code editor are left alone.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const mod = event.ctrlKey || event.metaKey
      const key = event.key.toLowerCase()
      if (mod && key === 's') {
        event.preventDefault()
        void save()
        return
      }
      if (mod && key === 'enter') {
        event.preventDefault()
        void run()
        return
      }
      if (isEditable(event.target) || document.querySelector('dialog[open]')) return
      const s = useEditor.getState()
      if (mod && key === 'z' && !event.shiftKey) {
        event.preventDefault()
        s.undo()
      } else if (mod && (key === 'y' || (key === 'z' && event.shiftKey))) {
        event.preventDefault()
        s.redo()
      } else if (mod && key === 'c') {
        copy(false)
      } else if (mod && key === 'x') {
        copy(true)
      } else if (mod && key === 'v') {
        const stored = readStoredClipboard()
        if (stored) {
          event.preventDefault()
          s.paste(stored.payload)
        }
      } else if (mod && key === 'a') {
        event.preventDefault()
        s.selectAll()
      } else if (key === 'delete' || key === 'backspace') {
        event.preventDefault()
        s.deleteSelected()
      } else if (!mod && key === 'f') {
        void flow.fitView({ padding: 0.2, duration: 200, maxZoom: 1 })
      } else if (!mod && key === 'l') {
        void layout()
      } else if (!mod && key === 'c' && s.nodes.some((n) => n.selected)) {
        // Connect from the keyboard: the inspector's "Connect to" menu of the selected node.
        event.preventDefault()
        document.getElementById(CONNECT_TO_ID)?.focus()
      } else if (!mod && key === 'p') {
        const one = s.nodes.filter((n) => n.selected)
        if (one.length === 1) setDrawer({ tab: 'preview', nodeId: one[0]!.id })
      } else if (key === '?') {
        setShortcutsOpen(true)
      } else if (key === 'escape') {
        s.selectOnly(null)
      }
    }
    // Nodes copied in another browser window arrive through the system clipboard.
    const onPaste = (event: ClipboardEvent) => {
      if (isEditable(event.target)) return
      const text = event.clipboardData?.getData('text/plain')
      const payload = parseClipboard(text)
      if (payload && text !== readStoredClipboard()?.text) {
        event.preventDefault()
        useEditor.getState().paste(payload)
      }
    }
    window.addEventListener('keydown', onKey)
    window.addEventListener('paste', onPaste)
    return () => {
      window.removeEventListener('keydown', onKey)
      window.removeEventListener('paste', onPaste)
    }
  }, [save, run, copy, layout, flow])

  const showOnCanvas = (detail: RunDetail) => {
    stopFollowing.current?.()
    useRun.getState().start(detail.id)
    useRun.getState().finish({
      runId: detail.id,
      status: detail.status === 'interrupted' ? 'failed' : detail.status,
      elapsedMs: detail.durationMs ?? 0,
      nodes: detail.nodes,
      edges: detail.edges,
      errors: detail.errors,
    })
  }

  const tabs: { id: DrawerTab['tab']; label: string; badge?: number }[] = [
    { id: 'run', label: 'Run' },
    { id: 'issues', label: 'Issues', badge: errorCount + warningCount },
    { id: 'history', label: 'History' },
  ]

  // The preview and rejected-rows tabs exist while they are shown; they are opened from elsewhere.
  const drawerTabs = [
    ...(drawer?.tab === 'preview' ? [{ id: 'preview' as const, label: 'Preview', badge: undefined }] : []),
    ...(drawer?.tab === 'rejected'
      ? [{ id: 'rejected' as const, label: 'Rejected rows', badge: undefined }]
      : []),
    ...tabs,
  ]

  return (
    <div className="workspace">
      <header className="toolbar" aria-label="Graph toolbar">
        <button
          className="btn btn-ghost btn-icon"
          aria-label="Back to graphs"
          title="Back to graphs"
          onClick={() => navigate('/')}
        >
          <Icon name="back" />
        </button>
        <div className="toolbar-title">
          <input
            className="title-input"
            aria-label="Graph name"
            value={name}
            onChange={(e) => useEditor.getState().setMeta({ name: e.target.value })}
          />
          <span className={`save-state${dirty ? ' dirty' : ''}`} data-testid="save-state">
            {dirty ? 'Unsaved changes' : `Saved · revision ${revision}`}
          </span>
        </div>
        <div className="toolbar-sep" />
        <div className="btn-group">
          <button
            className="btn btn-icon"
            aria-label="Undo"
            title="Undo (Ctrl+Z)"
            disabled={!canUndo}
            onClick={() => useEditor.getState().undo()}
          >
            <Icon name="undo" />
          </button>
          <button
            className="btn btn-icon"
            aria-label="Redo"
            title="Redo (Ctrl+Shift+Z)"
            disabled={!canRedo}
            onClick={() => useEditor.getState().redo()}
          >
            <Icon name="redo" />
          </button>
        </div>
        <button className="btn" onClick={() => void layout()} title="Auto-layout (L)">
          <Icon name="layout" /> Layout
        </button>
        <button
          className="btn btn-icon"
          aria-label="Fit view"
          title="Fit view (F)"
          onClick={() => void flow.fitView({ padding: 0.2, duration: 200, maxZoom: 1 })}
        >
          <Icon name="fit" />
        </button>
        <button
          className={`btn issues-btn${errorCount ? ' has-errors' : ''}`}
          onClick={() => setDrawer(drawer?.tab === 'issues' ? null : { tab: 'issues' })}
          aria-label={`${errorCount} errors, ${warningCount} warnings`}
          data-testid="issues-button"
        >
          <Icon name={errorCount ? 'error' : warningCount ? 'warning' : 'check'} />
          {errorCount
            ? `${errorCount} error${errorCount === 1 ? '' : 's'}`
            : warningCount
              ? `${warningCount} warning${warningCount === 1 ? '' : 's'}`
              : 'Valid'}
        </button>
        <div className="grow" />
        <button
          className="btn btn-ghost btn-icon"
          aria-label="Keyboard shortcuts"
          title="Keyboard shortcuts (?)"
          onClick={() => setShortcutsOpen(true)}
        >
          <Icon name="keyboard" />
        </button>
        <button
          className="btn"
          onClick={() => downloadJson(graphFileName(name), currentDocument())}
          title="Export the graph as JSON"
        >
          <Icon name="download" /> Export
        </button>
        <button
          className="btn"
          onClick={() => setTemplateOpen(true)}
          disabled={!canCreate}
          {...(canCreate ? {} : { title: lacks('create') })}
        >
          <Icon name="template" /> Save as template
        </button>
        {canRun && (
          <button
            className="btn btn-icon"
            aria-label="Schedule this graph"
            title="Schedule this graph"
            onClick={() => setJobAction({ kind: 'schedule', graph: { id: graphId, name } })}
          >
            <Icon name="history" />
          </button>
        )}
        {canRun && nextRunAt !== null && (
          <span className="faint sg-nowrap" data-testid="editor-next-run">
            Next run <NextRun at={nextRunAt} />
          </span>
        )}
        {canRun && (
          <button
            className="btn btn-icon"
            aria-label="Notifications of this graph"
            title="Notifications of this graph"
            onClick={() => setJobAction({ kind: 'notifications', graph: { id: graphId, name } })}
          >
            <Icon name="warning" />
          </button>
        )}
        <button
          className="btn"
          onClick={() => void save()}
          disabled={saving || !canEdit}
          title={canEdit ? 'Save (Ctrl+S)' : lacks('edit')}
        >
          {saving ? <span className="spinner" aria-hidden="true" /> : <Icon name="save" />} Save
        </button>
        {hasSync && (
          <button
            className="btn"
            onClick={() => void plan()}
            disabled={!canRun}
            title={canRun ? 'Plan: show what the sync nodes would change, without writing' : lacks('run')}
            aria-label="Plan graph"
          >
            <Icon name="sync" /> Plan
          </button>
        )}
        {running ? (
          <button className="btn btn-danger" onClick={cancel} title="Cancel the run" aria-label="Cancel run">
            <Icon name="stop" /> Cancel
          </button>
        ) : (
          <button
            className="btn btn-primary"
            onClick={() => void run()}
            disabled={!canRun}
            title={canRun ? 'Run (Ctrl+Enter)' : lacks('run')}
            aria-label="Run graph"
          >
            <Icon name="play" /> Run
          </button>
        )}
        {runStatus && <StatusBadge status={runStatus} />}
      </header>

      <div className="workspace-body">
        <Palette onAdd={addNode} />
        <div className="workspace-center">
          <Canvas />
          {drawer && (
            <section className="drawer" aria-label="Details">
              <div
                className="drawer-tabs"
                role="tablist"
                aria-label="Details"
                onKeyDown={(event) => {
                  // Arrow keys move between tabs (and show them); Tab leaves the tab list.
                  const list = [...event.currentTarget.querySelectorAll<HTMLElement>('[role="tab"]')]
                  const at = list.indexOf(event.target as HTMLElement)
                  if (at < 0) return
                  const next =
                    event.key === 'ArrowRight'
                      ? (at + 1) % list.length
                      : event.key === 'ArrowLeft'
                        ? (at - 1 + list.length) % list.length
                        : event.key === 'Home'
                          ? 0
                          : event.key === 'End'
                            ? list.length - 1
                            : -1
                  if (next < 0) return
                  event.preventDefault()
                  list[next]!.focus()
                  list[next]!.click()
                }}
              >
                {drawerTabs.map((t) => (
                  <button
                    key={t.id}
                    id={`drawer-tab-${t.id}`}
                    role="tab"
                    aria-selected={drawer.tab === t.id}
                    aria-controls="drawer-panel"
                    tabIndex={drawer.tab === t.id ? 0 : -1}
                    className="drawer-tab"
                    onClick={() => {
                      if (drawer.tab !== t.id) setDrawer({ tab: t.id } as DrawerTab)
                    }}
                  >
                    {t.label}
                    {t.badge ? <span className="badge">{t.badge}</span> : null}
                  </button>
                ))}
                <div className="grow" />
                <button
                  className="btn btn-ghost btn-icon btn-sm"
                  aria-label="Close details"
                  onClick={() => setDrawer(null)}
                >
                  <Icon name="close" size={14} />
                </button>
              </div>
              <div
                className="drawer-content"
                role="tabpanel"
                id="drawer-panel"
                aria-labelledby={`drawer-tab-${drawer.tab}`}
              >
                {drawer.tab === 'preview' && <PreviewPanel nodeId={drawer.nodeId} />}
                {drawer.tab === 'run' && (
                  <RunPanel
                    onFocusNode={focusNode}
                    onRejected={(r, n) => setDrawer({ tab: 'rejected', runId: r, nodeId: n })}
                  />
                )}
                {drawer.tab === 'issues' && <IssuesPanel onFocusNode={focusNode} />}
                {drawer.tab === 'history' && (
                  <HistoryPanel
                    graphId={graphId}
                    refreshKey={historyKey}
                    onFocusNode={focusNode}
                    onRejected={(r, n) => setDrawer({ tab: 'rejected', runId: r, nodeId: n })}
                    onShowOnCanvas={showOnCanvas}
                  />
                )}
                {drawer.tab === 'rejected' && <RejectedPanel runId={drawer.runId} nodeId={drawer.nodeId} />}
              </div>
            </section>
          )}
          {!drawer && (
            <div className="drawer-bar">
              {tabs.map((t) => (
                <button
                  key={t.id}
                  className="btn btn-ghost btn-sm"
                  onClick={() => setDrawer({ tab: t.id } as DrawerTab)}
                >
                  {t.label}
                  {t.badge ? <span className="badge">{t.badge}</span> : null}
                </button>
              ))}
            </div>
          )}
        </div>
        <aside className="side-panel" aria-label="Inspector">
          {selectedId ? (
            <NodeInspector
              nodeId={selectedId}
              onPreview={(id) => setDrawer({ tab: 'preview', nodeId: id })}
            />
          ) : (
            <GraphInspector />
          )}
        </aside>
      </div>

      <Dialog
        title="Newer version saved elsewhere"
        open={conflict !== null}
        onClose={() => setConflict(null)}
        footer={
          <>
            <button className="btn" onClick={() => setConflict(null)}>
              Keep editing
            </button>
            <button className="btn" onClick={() => void reloadTheirs()}>
              Load their version
            </button>
            <button className="btn btn-danger btn-solid" onClick={() => void save({ overwrite: true })}>
              Overwrite with mine
            </button>
          </>
        }
      >
        <div className="notice notice-warning" role="alert">
          {conflict}
        </div>
        <p>
          Someone saved this graph after you opened it (you started from revision {revision}). Load their
          version to drop your changes, or overwrite theirs with yours — their revision stays in the history.
        </p>
      </Dialog>

      <SaveTemplateDialog open={templateOpen} onClose={() => setTemplateOpen(false)} />
      {jobAction && <GraphJobDialog action={jobAction} onClose={() => setJobAction(null)} />}
      <ShortcutsDialog open={shortcutsOpen} onClose={() => setShortcutsOpen(false)} />
    </div>
  )
}

const shortcuts: [string, string][] = [
  ['Ctrl+S', 'Save'],
  ['Ctrl+Enter', 'Run'],
  ['Ctrl+Z / Ctrl+Shift+Z', 'Undo / redo'],
  ['Ctrl+C / Ctrl+X / Ctrl+V', 'Copy / cut / paste nodes (also between graphs)'],
  ['Ctrl+A', 'Select all'],
  ['Delete', 'Delete the selection'],
  ['Shift+drag', 'Select an area'],
  ['L', 'Auto-layout'],
  ['F', 'Fit view'],
  ['P', 'Preview the selected node'],
  ['C', 'Connect the selected node: choose a port in “Connect to”, then Enter'],
  ['Esc', 'Clear the selection'],
  ['↑ ↓ Enter', 'Move in the palette, add the node'],
]

function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog
      title="Keyboard shortcuts"
      open={open}
      onClose={onClose}
      footer={
        <button className="btn" onClick={onClose}>
          Close
        </button>
      }
    >
      <table className="table">
        <tbody>
          {shortcuts.map(([k, what]) => (
            <tr key={k}>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  )
}
