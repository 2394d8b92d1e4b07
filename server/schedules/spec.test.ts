import { describe, expect, it } from 'vitest'
import { nextOccurrence, scheduleSpec } from './spec.ts'

const spec = (input: unknown) => scheduleSpec.parse(input)
const anchor = new Date('2026-01-01T00:00:00Z')
const list = (s: ReturnType<typeof spec>, from: string, n: number) => {
  const out: string[] = []
  let at: Date | null = new Date(from)
  for (let i = 0; i < n && at !== null; i++) {
    at = nextOccurrence(s, at, anchor)
    if (at !== null) out.push(at.toISOString())
  }
  return out
}

describe('schedule occurrences', () => {
  it('reads cron in the time zone, across a daylight-saving change', () => {
    expect(list(spec({ cron: '30 9 * * *', timezone: 'Europe/Paris' }), '2026-03-27T12:00:00Z', 3)).toEqual([
      '2026-03-28T08:30:00.000Z',
      '2026-03-29T07:30:00.000Z',
      '2026-03-30T07:30:00.000Z',
    ])
  })

  it('keeps to startAt and endAt (endAt exclusive)', () => {
    const s = spec({ cron: '0 * * * *', startAt: '2026-05-01T10:00:00Z', endAt: '2026-05-01T12:00:00Z' })
    expect(list(s, '2026-04-01T00:00:00Z', 5)).toEqual([
      '2026-05-01T10:00:00.000Z',
      '2026-05-01T11:00:00.000Z',
    ])
  })

  it('repeats every N minutes or hours from startAt, on chosen weekdays only', () => {
    const s = spec({ repeat: { every: 90, unit: 'minutes' }, startAt: '2026-06-01T08:00:00Z' })
    expect(list(s, '2026-06-01T00:00:00Z', 3)).toEqual([
      '2026-06-01T08:00:00.000Z',
      '2026-06-01T09:30:00.000Z',
      '2026-06-01T11:00:00.000Z',
    ])
    // 2026-06-05 is a Friday; Saturday and Sunday are left out.
    const weekdays = spec({
      repeat: { every: 12, unit: 'hours', weekdays: [1, 2, 3, 4, 5] },
      startAt: '2026-06-05T06:00:00Z',
    })
    expect(list(weekdays, '2026-06-05T00:00:00Z', 3)).toEqual([
      '2026-06-05T06:00:00.000Z',
      '2026-06-05T18:00:00.000Z',
      '2026-06-08T06:00:00.000Z',
    ])
  })

  it('repeats every N days at a local time of day', () => {
    const s = spec({
      repeat: { every: 2, unit: 'days', at: '06:30' },
      timezone: 'America/New_York',
      startAt: '2026-03-06T00:00:00-05:00',
    })
    // New York moves to daylight time on 2026-03-08: 06:30 local stays 06:30.
    expect(list(s, '2026-03-01T00:00:00Z', 3)).toEqual([
      '2026-03-06T11:30:00.000Z',
      '2026-03-08T10:30:00.000Z',
      '2026-03-10T10:30:00.000Z',
    ])
  })

  it('refuses what cannot be scheduled', () => {
    for (const bad of [
      {},
      { cron: 'every day' },
      { cron: '* * * * *', repeat: { every: 1, unit: 'days' } },
      { cron: '* * * * *', timezone: 'Mars/Olympus' },
      { cron: '* * * * *', startAt: '2026-02-01T00:00:00Z', endAt: '2026-01-01T00:00:00Z' },
      { repeat: { every: 0, unit: 'hours' } },
      { repeat: { every: 1, unit: 'days', weekdays: [7] } },
    ])
      expect(scheduleSpec.safeParse(bad).success, JSON.stringify(bad)).toBe(false)
  })
})
