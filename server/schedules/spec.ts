import { Cron } from 'croner'
import { z } from 'zod'

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

const isCron = (expr: string) => {
  try {
    new Cron(expr, { paused: true })
    return true
  } catch {
    return false
  }
}

export const repeatSchema = z
  .object({
    every: z.number().int().min(1).max(10_000),
    unit: z.enum(['minutes', 'hours', 'days']),
    weekdays: z
      .array(z.number().int().min(0).max(6))
      .min(1)
      .max(7)
      .optional()
      .describe(
        'Days of the week it may run on, 0 = Sunday … 6 = Saturday, in the time zone; default every day',
      ),
    at: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM')
      .optional()
      .describe('With unit "days": the local time of day (default: that of startAt, else 00:00)'),
  })
  .strict()

/** A schedule as the API takes it and the database stores it. */
export const scheduleSpec = z
  .object({
    cron: z
      .string()
      .min(1)
      .max(200)
      .refine(isCron, 'not a cron expression (minute hour day-of-month month day-of-week)')
      .optional()
      .describe('A cron expression (5 fields, or 6 with seconds), read in the time zone'),
    repeat: repeatSchema.optional().describe('A simple repeat, instead of cron'),
    timezone: z.string().refine(isTimeZone, 'not an IANA time zone').default('UTC'),
    startAt: z.iso.datetime({ offset: true }).optional().describe('No run before this instant'),
    endAt: z.iso.datetime({ offset: true }).optional().describe('No run at or after this instant'),
    maxRunSeconds: z
      .number()
      .positive()
      .max(7 * 24 * 3600)
      .optional()
      .describe('A scheduled run still going after this long is cancelled'),
    missedRunGraceMinutes: z
      .number()
      .min(0)
      .max(7 * 24 * 60)
      .default(60)
      .describe(
        'A run missed while the server was down is run once at start when it was due at most this long ago; older ones are skipped',
      ),
    params: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Parameter values of a scheduled graph run (graph jobs)'),
    enabled: z.boolean().default(true),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if ((spec.cron === undefined) === (spec.repeat === undefined))
      ctx.addIssue({ code: 'custom', message: 'give exactly one of "cron" and "repeat"', path: ['cron'] })
    if (spec.startAt !== undefined && spec.endAt !== undefined && spec.endAt <= spec.startAt)
      ctx.addIssue({ code: 'custom', message: 'endAt must be after startAt', path: ['endAt'] })
  })

export type ScheduleSpec = z.infer<typeof scheduleSpec>

const UNIT_MS = { minutes: 60_000, hours: 3_600_000 } as const

interface LocalDate {
  /** Days since 1970-01-01 of the local calendar date. */
  day: number
  weekday: number
  hour: number
  minute: number
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 }

function localDate(at: Date, timeZone: string): LocalDate {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>
  return {
    day: Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)) / 86_400_000,
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
    hour: Number(parts.hour),
    minute: Number(parts.minute),
  }
}

/**
 * The first occurrence strictly after `after`, or null when there is none (past endAt). `anchor` is where
 * a simple repeat counts from: startAt when given, else when the schedule was created.
 */
export function nextOccurrence(spec: ScheduleSpec, after: Date, anchor: Date): Date | null {
  const startAt = spec.startAt === undefined ? undefined : new Date(spec.startAt)
  const endAt = spec.endAt === undefined ? undefined : new Date(spec.endAt)
  const next =
    spec.cron !== undefined
      ? nextCron(spec, spec.cron, after, startAt, endAt)
      : nextRepeat(spec, after, startAt ?? anchor)
  if (next === null || (endAt !== undefined && next >= endAt)) return null
  return next
}

function nextCron(spec: ScheduleSpec, expr: string, after: Date, startAt?: Date, endAt?: Date): Date | null {
  return new Cron(expr, {
    paused: true,
    timezone: spec.timezone,
    ...(startAt === undefined ? {} : { startAt }),
    ...(endAt === undefined ? {} : { stopAt: endAt }),
  }).nextRun(after)
}

function nextRepeat(spec: ScheduleSpec, after: Date, anchor: Date): Date | null {
  const repeat = spec.repeat!
  const allowed = (at: Date) =>
    repeat.weekdays === undefined || repeat.weekdays.includes(localDate(at, spec.timezone).weekday)
  if (repeat.unit === 'days') {
    const local = localDate(anchor, spec.timezone)
    const [hour, minute] =
      repeat.at === undefined
        ? spec.startAt === undefined
          ? [0, 0]
          : [local.hour, local.minute]
        : repeat.at.split(':').map(Number)
    const daily = new Cron(`${minute} ${hour} * * *`, { paused: true, timezone: spec.timezone })
    let cursor = after.getTime() < anchor.getTime() ? new Date(anchor.getTime() - 1) : after
    for (let i = 0; i < 400 * repeat.every; i++) {
      const candidate = daily.nextRun(cursor)
      if (candidate === null) return null
      const day = localDate(candidate, spec.timezone).day
      if ((day - local.day) % repeat.every === 0 && allowed(candidate)) return candidate
      cursor = candidate
    }
    return null
  }
  const step = repeat.every * UNIT_MS[repeat.unit]
  const start = anchor.getTime()
  let time =
    after.getTime() < start ? start : start + (Math.floor((after.getTime() - start) / step) + 1) * step
  // Every weekday is found within one week of steps.
  for (let i = 0; i <= Math.ceil((7 * 86_400_000) / step) + 1; i++, time += step) {
    if (allowed(new Date(time))) return new Date(time)
  }
  return null
}
