import { useEffect, useState } from 'react'
import { api, errorText } from '../api/client.ts'
import type { PreviewResult } from '../api/types.ts'
import { previewBlocker, previewDocument, useEditor, type EditorState } from '../store/editor-store.ts'

/** The edge feeding a node's input port, and a signature of everything upstream of it (config and wiring). */
function upstreamSignature(s: EditorState, nodeId: string, port: string): string {
  const edge = s.edges.find((e) => e.target === nodeId && (e.targetHandle ?? 'in') === port)
  if (!edge) return ''
  const seen = new Set<string>()
  const parts: string[] = [`${edge.source}.${edge.sourceHandle ?? 'out'}`, JSON.stringify(s.meta.settings)]
  const stack = [edge.source]
  const byId = new Map(s.nodes.map((n) => [n.id, n]))
  while (stack.length) {
    const id = stack.pop()!
    if (seen.has(id)) continue
    seen.add(id)
    const n = byId.get(id)
    if (n) parts.push(`${id}:${n.data.type}:${JSON.stringify(n.data.config)}:${n.data.onRowError ?? ''}`)
    for (const e of s.edges)
      if (e.target === id) {
        parts.push(e.id)
        stack.push(e.source)
      }
  }
  return parts.join('|')
}

const cache = new Map<string, PreviewResult>()

export interface UpstreamSample {
  state: 'none' | 'loading' | 'ready' | 'error' | 'blocked'
  source?: string
  result?: PreviewResult
  error?: string
}

/** Sample rows arriving on a node's input: a preview of the upstream node, refreshed when upstream changes. */
export function useUpstreamSample(nodeId: string, port = 'in', limit = 20, enabled = true): UpstreamSample {
  const signature = useEditor((s) => (enabled ? upstreamSignature(s, nodeId, port) : ''))
  const source = signature ? signature.slice(0, signature.split('|')[0]!.lastIndexOf('.')) : ''
  const blocker = useEditor((s) => (source ? previewBlocker(s, source) : undefined))
  const [sample, setSample] = useState<UpstreamSample>({ state: 'none' })

  useEffect(() => {
    if (!signature) {
      setSample({ state: 'none' })
      return
    }
    const [sourceRef = ''] = signature.split('|')
    const sourcePort = sourceRef.slice(sourceRef.lastIndexOf('.') + 1)
    const key = `${limit}#${signature}`
    const cached = cache.get(key)
    if (cached) {
      setSample({ state: 'ready', source, result: cached })
      return
    }
    if (blocker === 'checking') return
    if (blocker) {
      setSample({ state: 'blocked', source, error: blocker })
      return
    }
    setSample((prev) => ({ ...prev, state: 'loading', source }))
    const controller = new AbortController()
    const timer = setTimeout(() => {
      api
        .preview(
          { graph: previewDocument(source), nodeId: source, port: sourcePort, limit },
          controller.signal,
        )
        .then((result) => {
          cache.set(key, result)
          if (cache.size > 50) cache.delete(cache.keys().next().value!)
          setSample({ state: 'ready', source, result })
        })
        .catch((e) => {
          if (controller.signal.aborted) return
          setSample({ state: 'error', source, error: errorText(e) })
        })
    }, 350)
    return () => {
      clearTimeout(timer)
      controller.abort()
    }
  }, [signature, limit, source, blocker])

  return sample
}
