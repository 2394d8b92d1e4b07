import { describe, expect, it } from 'vitest'
import { describeCadence, isoToLocalInput, localInputToIso, relativeTime, timeZones } from './cadence.ts'

describe('describeCadence', () => {
  it('reads simple repeats', () => {
    expect(describeCadence({ repeat: { every: 15, unit: 'minutes' } })).toBe('Every 15 minutes')
    expect(describeCadence({ repeat: { every: 1, unit: 'hours' } })).toBe('Every hour')
    expect(describeCadence({ repeat: { every: 2, unit: 'days', at: '02:30' } })).toBe('Every 2 days at 02:30')
    expect(
      describeCadence({ repeat: { every: 1, unit: 'days', at: '06:00', weekdays: [5, 1, 2, 3, 4] } }),
    ).toBe('Every day at 06:00 on weekdays')
    expect(describeCadence({ repeat: { every: 30, unit: 'minutes', weekdays: [6, 0] } })).toBe(
      'Every 30 minutes on weekends',
    )
    expect(describeCadence({ repeat: { every: 1, unit: 'hours', weekdays: [1, 3] } })).toBe(
      'Every hour on Mon, Wed',
    )
  })

  it('reads cron expressions, and falls back to the text for one it cannot read', () => {
    expect(describeCadence({ cron: '0 2 * * 1' })).toBe('At 02:00, only on Monday')
    expect(describeCadence({ cron: '*/5 * * * *' })).toBe('Every 5 minutes')
    expect(describeCadence({ cron: 'not a cron' })).toBe('cron not a cron')
  })
})

describe('relativeTime', () => {
  const now = Date.parse('2026-01-01T12:00:00Z')
  it('says how far away an instant is', () => {
    expect(relativeTime('2026-01-01T12:05:00Z', now)).toBe('in 5 min')
    expect(relativeTime('2026-01-01T14:10:00Z', now)).toBe('in 2 h 10 min')
    expect(relativeTime('2026-01-01T11:57:00Z', now)).toBe('3 min ago')
    expect(relativeTime('2026-01-05T12:00:00Z', now)).toBe('in 4 days')
    expect(relativeTime(null, now)).toBe('')
  })
})

describe('date inputs', () => {
  it('round-trips a datetime-local value through an ISO instant', () => {
    const iso = localInputToIso('2026-03-04T05:06')!
    expect(isoToLocalInput(iso)).toBe('2026-03-04T05:06')
    expect(localInputToIso('')).toBeUndefined()
  })

  it('lists UTC first among the time zones', () => {
    const zones = timeZones()
    expect(zones[0]).toBe('UTC')
    expect(zones).toContain('Europe/Paris')
  })
})
