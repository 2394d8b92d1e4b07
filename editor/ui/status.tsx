import type { ReactNode } from 'react'
import { Icon } from './icons.tsx'

/** An error notice announced to screen readers; nothing when there is no error. */
export function ErrorNotice(props: { error: ReactNode }) {
  if (!props.error) return null
  return (
    <div className="notice notice-error" role="alert">
      {props.error}
    </div>
  )
}

/** The notice above a list whose load failed: "Could not load <what>: <error>". */
export function LoadError(props: { what: string; error: string | null }) {
  if (!props.error) return null
  return (
    <div className="notice notice-error" role="alert" style={{ marginBottom: 12 }}>
      <Icon name="error" />
      {` Could not load ${props.what}: ${props.error}`}
    </div>
  )
}

/** A busy placeholder with a spinner while a list or page loads. */
export function Loading(props: { text: string }) {
  return (
    <div className="empty" aria-busy="true">
      <span className="spinner" />
      {` ${props.text}`}
    </div>
  )
}

/** A section whose data is not there yet: its load error, or a busy placeholder. */
export function PendingSection(props: { label: string; error: string | null | undefined }) {
  return (
    <section aria-label={props.label}>
      {props.error ? <ErrorNotice error={props.error} /> : <Loading text="Loading…" />}
    </section>
  )
}
