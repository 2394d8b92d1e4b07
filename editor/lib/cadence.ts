import cronstrue from 'cronstrue'
import type { RepeatSpec, ScheduleSpec } from '../api/jobs.ts'

export const WEEKDAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const

const plural = (n: number, unit: string) => (n === 1 ? unit.replace(/s$/, '') : `${n} ${unit}`)

/** Weekdays in a phrase: Mon–Fri → "on weekdays", [0, 6] → "on weekends", else the names. */
function weekdayPhrase(days: number[] | undefined): string {
  if (days === undefined || days.length === 0 || days.length === 7) return ''
  const sorted = [...new Set(days)].sort((a, b) => a - b)
  const key = sorted.join(',')
  if (key === '1,2,3,4,5') return ' on weekdays'
  if (key === '0,6') return ' on weekends'
  return ` on ${sorted.map((d) => WEEKDAY_NAMES[d] ?? String(d)).join(', ')}`
}

function describeRepeat(repeat: RepeatSpec): string {
  const every = `Every ${plural(repeat.every, repeat.unit)}`
  const at = repeat.unit === 'days' && repeat.at !== undefined ? ` at ${repeat.at}` : ''
  return `${every}${at}${weekdayPhrase(repeat.weekdays)}`
}

/** A schedule's cadence in words: "Every 15 minutes on weekdays", "At 02:00 AM, only on Monday". */
export function describeCadence(spec: Pick<ScheduleSpec, 'cron' | 'repeat'>): string {
  if (spec.repeat !== undefined) return describeRepeat(spec.repeat)
  if (spec.cron !== undefined) {
    try {
      return cronstrue.toString(spec.cron, { use24HourTimeFormat: true, verbose: false })
    } catch {
      return `cron ${spec.cron}`
    }
  }
  return 'No cadence'
}

/** When something happens, relative to now: "in 5 min", "in 2 h 10 min", "3 min ago". */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return ''
  const at = new Date(iso).getTime()
  if (Number.isNaN(at)) return ''
  const diff = at - now
  const minutes = Math.round(Math.abs(diff) / 60_000)
  let text: string
  if (minutes < 1) text = 'less than a minute'
  else if (minutes < 60) text = `${minutes} min`
  else if (minutes < 48 * 60) {
    const h = Math.floor(minutes / 60)
    const m = minutes % 60
    text = m === 0 ? `${h} h` : `${h} h ${m} min`
  } else text = `${Math.round(minutes / 1440)} days`
  return diff >= 0 ? `in ${text}` : `${text} ago`
}

/** The IANA time zones the browser knows, with UTC first and the browser's own zone included. */
export function timeZones(): string[] {
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone
  let all: string[] = []
  try {
    all = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? []
  } catch {
    all = []
  }
  return [...new Set(['UTC', own, ...all])]
}

/** `2026-11-27T14:05` (a datetime-local value, read in the browser's zone) → ISO instant; '' → undefined. */
export function localInputToIso(value: string): string | undefined {
  if (value.trim() === '') return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

/** An ISO instant → a datetime-local value in the browser's zone. */
export function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`
}
