import { Icon, type IconName } from './icons.tsx'

/** A small ghost button in a list table's actions cell: an icon, an optional visible text, an accessible name. */
export function RowAction(props: {
  label: string
  icon: IconName
  text?: string
  danger?: boolean
  onClick: () => void
}) {
  return (
    <button
      className={`btn btn-ghost btn-sm${props.danger ? ' btn-danger' : ''}`}
      aria-label={props.label}
      onClick={props.onClick}
    >
      <Icon name={props.icon} size={14} />
      {props.text !== undefined && ` ${props.text}`}
    </button>
  )
}

/** The primary "New …" button of a page head. */
export function NewButton(props: { label: string; onClick: () => void; disabled?: boolean }) {
  return (
    <button className="btn btn-primary" onClick={props.onClick} disabled={props.disabled}>
      <Icon name="plus" />
      {` ${props.label}`}
    </button>
  )
}

/** The "Clear filters" button of a filter bar. */
export function ClearFiltersButton(props: { onClick: () => void }) {
  return (
    <button className="btn btn-ghost btn-sm" onClick={props.onClick}>
      <Icon name="close" size={12} /> Clear filters
    </button>
  )
}
