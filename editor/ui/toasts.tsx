import { create } from 'zustand'
import { errorText } from '../api/client.ts'
import { Icon } from './icons.tsx'

interface Toast {
  id: number
  tone: 'info' | 'error' | 'success'
  text: string
}

interface ToastState {
  toasts: Toast[]
  push(tone: Toast['tone'], text: string): void
  dismiss(id: number): void
}

let nextId = 1

export const useToasts = create<ToastState>()((set, get) => ({
  toasts: [],
  push: (tone, text) => {
    const id = nextId++
    set({ toasts: [...get().toasts.slice(-3), { id, tone, text }] })
    setTimeout(() => get().dismiss(id), tone === 'error' ? 8000 : 3500)
  },
  dismiss: (id) => set({ toasts: get().toasts.filter((t) => t.id !== id) }),
}))

/** Show a short message in the corner. */
export const notify = {
  info: (text: string) => useToasts.getState().push('info', text),
  success: (text: string) => useToasts.getState().push('success', text),
  error: (error: unknown) => useToasts.getState().push('error', errorText(error)),
}

export function Toasts() {
  const toasts = useToasts((s) => s.toasts)
  const dismiss = useToasts((s) => s.dismiss)
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.tone}`} role={t.tone === 'error' ? 'alert' : undefined}>
          <span className="grow">{t.text}</span>
          <button
            className="btn btn-ghost btn-icon btn-sm"
            aria-label="Dismiss"
            onClick={() => dismiss(t.id)}
          >
            <Icon name="close" size={12} />
          </button>
        </div>
      ))}
    </div>
  )
}
