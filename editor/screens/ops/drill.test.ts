import { describe, expect, it } from 'vitest'
import { editorHref, fromLocalInput, relativeTime, toLocalInput } from './drill.tsx'

describe('editorHref: the screen behind a dashboard drill-down link', () => {
  it('maps API links to editor routes, keeping the filter', () => {
    const filter = { from: '2026-11-27T00:00:00.000Z', mode: 'run,apply' }
    expect(editorHref({ href: `/api/runs?${new URLSearchParams(filter)}`, filter })).toBe(
      '#/runs?from=2026-11-27T00%3A00%3A00.000Z&mode=run%2Capply',
    )
    expect(editorHref('/api/runs/abc')).toBe('#/runs/abc')
    expect(editorHref('/api/history?action=create&outcome=applied')).toBe(
      '#/history?action=create&outcome=applied',
    )
    expect(editorHref('/api/approvals?status=pending')).toBe('#/approvals')
    expect(editorHref('/api/approvals/42')).toBe('#/approvals')
    expect(editorHref('/api/schedules/graph/g1')).toBe('#/schedules')
    expect(editorHref('/api/collections/c1/runs')).toBe('#/collections/c1')
  })
})

describe('time helpers', () => {
  it('round-trips an instant through a datetime-local value (to the minute) and refuses nonsense', () => {
    const iso = '2026-11-27T10:15:00.000Z'
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso)
    expect(toLocalInput(undefined)).toBe('')
    expect(toLocalInput('not a date')).toBe('')
    expect(fromLocalInput('')).toBeUndefined()
    expect(fromLocalInput('garbage')).toBeUndefined()
  })

  it('says how far an instant is in the nearest whole unit', () => {
    const now = Date.parse('2026-11-27T12:00:00Z')
    expect(relativeTime('2026-11-27T15:00:00Z', now)).toMatch(/3 hours/)
    expect(relativeTime('2026-11-27T11:55:00Z', now)).toMatch(/5 minutes/)
    expect(relativeTime(null, now)).toBe('—')
  })
})
