import { memo } from 'react'
import type { Row } from '../api/types.ts'

function cell(value: unknown) {
  if (value === null) return <span className="null">null</span>
  if (value === undefined) return <span className="null">—</span>
  if (typeof value === 'object') return <span className="mono">{JSON.stringify(value)}</span>
  if (typeof value === 'boolean') return <span className="mono">{String(value)}</span>
  return String(value)
}

/** Rows as a table with each column's type under its name. */
export const DataTable = memo(function DataTable(props: {
  columns: { name: string; type?: string }[]
  rows: Row[]
  label: string
  truncated?: boolean
}) {
  return (
    <div className="data-table-wrap">
      <table className="table data-table" aria-label={props.label}>
        <thead>
          <tr>
            <th className="num">#</th>
            {props.columns.map((c) => (
              <th key={c.name} className={c.type === 'number' || c.type === 'integer' ? 'num' : undefined}>
                <div className="col-name">{c.name}</div>
                {c.type && <div className="col-type">{c.type}</div>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row, i) => (
            <tr key={i}>
              <td className="num faint">{i + 1}</td>
              {props.columns.map((c) => (
                <td key={c.name} className={typeof row[c.name] === 'number' ? 'num' : undefined}>
                  {cell(row[c.name])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {props.rows.length === 0 && <div className="empty">No rows.</div>}
      {props.truncated && <div className="table-foot faint">Showing the first {props.rows.length} rows.</div>}
    </div>
  )
})

/** Columns of plain rows when the server gave none: names in first-seen order, type from the values. */
export function inferColumns(rows: Row[]): { name: string; type: string }[] {
  const types = new Map<string, Set<string>>()
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      const set = types.get(k) ?? new Set<string>()
      if (v !== null && v !== undefined) set.add(Array.isArray(v) ? 'array' : typeof v)
      types.set(k, set)
    }
  }
  return [...types].map(([name, set]) => ({
    name,
    type: set.size === 0 ? 'null' : set.size === 1 ? [...set][0]! : 'mixed',
  }))
}
