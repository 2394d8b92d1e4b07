import type { ClipboardPayload } from '../store/editor-store.ts'

const KEY = 'syncgraph.clipboard'

/** Nodes copied in one graph can be pasted in another: the payload lives in localStorage and the system clipboard. */
export function writeClipboard(payload: ClipboardPayload): string {
  const text = JSON.stringify(payload)
  try {
    localStorage.setItem(KEY, text)
  } catch {
    // Storage full or disabled: the system clipboard still has it.
  }
  navigator.clipboard?.writeText(text).catch(() => undefined)
  return text
}

export function parseClipboard(text: string | null | undefined): ClipboardPayload | undefined {
  if (!text) return undefined
  try {
    const value = JSON.parse(text) as Partial<ClipboardPayload>
    if (value.syncgraphClipboard === 1 && Array.isArray(value.nodes) && Array.isArray(value.edges))
      return value as ClipboardPayload
  } catch {
    return undefined
  }
  return undefined
}

export function readStoredClipboard(): { text: string; payload: ClipboardPayload } | undefined {
  const text = localStorage.getItem(KEY)
  const payload = parseClipboard(text)
  return payload && text ? { text, payload } : undefined
}
