import { useEffect, useState } from 'react'

/** A small hash router: `#/graphs/abc` → { path: '/graphs/abc', parts: ['graphs', 'abc'] }. */
export interface Route {
  path: string
  parts: string[]
  query: URLSearchParams
}

function current(): Route {
  const raw = window.location.hash.replace(/^#/, '') || '/'
  const [path = '/', search = ''] = raw.split('?')
  return {
    path,
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  }
}

/** A check run before leaving the current screen; returns false to stay (unsaved-change guard). */
let guard: (() => boolean) | undefined
let lastHash = window.location.hash

export function setNavigationGuard(check: (() => boolean) | undefined): void {
  guard = check
}

export function navigate(path: string, options: { force?: boolean } = {}): void {
  if (!options.force && guard && !guard()) return
  guard = undefined
  window.location.hash = path
}

/** Every mounted `useRoute()`: one window listener asks the guard once, then tells them all. */
const subscribers = new Set<() => void>()

function onHashChange(): void {
  if (window.location.hash === lastHash) return
  // Back/forward buttons bypass navigate(): ask the guard, and put the hash back when it says stay.
  if (guard && !guard()) {
    window.history.replaceState(null, '', lastHash || '#/')
    return
  }
  lastHash = window.location.hash
  for (const notify of subscribers) notify()
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current)
  useEffect(() => {
    const notify = () => setRoute(current())
    if (subscribers.size === 0) window.addEventListener('hashchange', onHashChange)
    subscribers.add(notify)
    return () => {
      subscribers.delete(notify)
      if (subscribers.size === 0) window.removeEventListener('hashchange', onHashChange)
    }
  }, [])
  return route
}

export function setHashSilently(path: string): void {
  lastHash = `#${path}`
  window.history.replaceState(null, '', lastHash)
}
