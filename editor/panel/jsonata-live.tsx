import jsonata from 'jsonata'
import { useEffect, useState } from 'react'
import { errorText } from '../api/client.ts'
import type { Row } from '../api/types.ts'
import type { UpstreamSample } from './upstream.ts'

interface Outcome {
  input: Row
  value?: unknown
  error?: string
}

function short(value: unknown): string {
  if (value === undefined) return 'undefined'
  const text = JSON.stringify(value)
  return text.length > 160 ? `${text.slice(0, 157)}…` : text
}

/** The expression evaluated in the browser on each upstream sample row, re-run as you type. */
export function JsonataLive({
  expression,
  sample,
  mode,
}: {
  expression: string
  sample: UpstreamSample
  mode: 'filter' | 'map' | 'value'
}) {
  const [outcomes, setOutcomes] = useState<Outcome[] | null>(null)
  const [compileError, setCompileError] = useState<string | null>(null)
  const rows = sample.result?.rows

  useEffect(() => {
    if (!rows || expression.trim() === '') {
      setOutcomes(null)
      return
    }
    let cancelled = false
    const timer = setTimeout(async () => {
      let compiled: ReturnType<typeof jsonata>
      try {
        compiled = jsonata(expression)
      } catch (e) {
        setCompileError(errorText(e))
        setOutcomes(null)
        return
      }
      setCompileError(null)
      const results: Outcome[] = []
      for (const row of rows) {
        try {
          results.push({ input: row, value: await compiled.evaluate(row) })
        } catch (e) {
          results.push({ input: row, error: errorText(e) })
        }
      }
      if (!cancelled) setOutcomes(results)
    }, 120)
    return () => {
      cancelled = true
      clearTimeout(timer)
    }
  }, [expression, rows])

  if (sample.state === 'none')
    return <p className="live-note faint">Connect an input to see the result on real rows.</p>
  if (sample.state === 'error')
    return <p className="live-note field-warning">Sample rows unavailable: {sample.error}</p>
  if (sample.state === 'blocked') return <p className="live-note faint">No sample rows yet. {sample.error}</p>
  if (!rows) return <p className="live-note faint">Loading sample rows from {sample.source}…</p>
  if (rows.length === 0)
    return <p className="live-note faint">{sample.source} gives no rows to try the expression on.</p>
  if (compileError) return <p className="live-note faint">Fix the expression to see its result.</p>
  if (!outcomes)
    return (
      <p className="live-note faint">Type an expression to see its result on {rows.length} sample rows.</p>
    )

  const kept = outcomes.filter((o) => o.value === true).length
  return (
    <div className="live" aria-live="polite">
      <div className="live-head">
        <span>
          Live result on {outcomes.length} rows from <strong>{sample.source}</strong>
        </span>
        {mode === 'filter' && (
          <span className="badge badge-accent" data-testid="live-summary">
            {kept} of {outcomes.length} kept
          </span>
        )}
      </div>
      <table className="table live-table" aria-label="Live result per sample row">
        <thead>
          <tr>
            <th className="num">#</th>
            <th>Input row</th>
            <th>{mode === 'filter' ? 'Keeps' : 'Result'}</th>
          </tr>
        </thead>
        <tbody>
          {outcomes.map((o, i) => (
            <tr key={i}>
              <td className="num faint">{i + 1}</td>
              <td className="mono ellipsis live-in" title={short(o.input)}>
                {short(o.input)}
              </td>
              <td className={`mono live-out${o.error ? ' error' : ''}`} data-testid="live-result">
                {o.error
                  ? o.error
                  : mode === 'filter'
                    ? o.value === true
                      ? '✓ kept'
                      : `✗ ${o.value === false ? 'unmatched' : `unmatched (${short(o.value)})`}`
                    : short(o.value)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
