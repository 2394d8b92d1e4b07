import type { InputHTMLAttributes, ReactNode } from 'react'

/** A labelled text input (`<label class="field">`), with an optional help line under it. */
export function TextField({
  label,
  value,
  onChange,
  help,
  ...input
}: {
  label: string
  value: string
  onChange: (value: string) => void
  help?: ReactNode
} & Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'className'>) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      <input className="input" value={value} onChange={(e) => onChange(e.target.value)} {...input} />
      {help !== undefined && <span className="field-help">{help}</span>}
    </label>
  )
}
