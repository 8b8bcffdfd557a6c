/**
 * Calendar dates (`YYYY-MM-DD`) and the local midnights of an IANA zone, for ./period.ts, which
 * re-exports them: the anchor moved by whole months with the day clamped, calendar-day differences
 * free of DST, and the local day of an instant fast enough for the ingestion path.
 */
import { DateTime } from 'luxon'

interface Ymd {
  y: number
  m: number
  d: number
}

export function parseDate(date: string): Ymd {
  return { y: Number(date.slice(0, 4)), m: Number(date.slice(5, 7)), d: Number(date.slice(8, 10)) }
}
function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0')
}
function formatDate({ y, m, d }: Ymd): string {
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`
}
function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate()
}

/**
 * The anchor date moved by `months`, the day clamped to the target month.
 * @example addMonthsClamped('2027-01-31', 1) // '2027-02-28'
 * @example addMonthsClamped('2027-01-31', 2) // '2027-03-31'
 */
export function addMonthsClamped(anchor: string, months: number): string {
  const a = parseDate(anchor)
  const total = a.y * 12 + (a.m - 1) + months
  const y = Math.floor(total / 12)
  const m = total - y * 12 + 1
  return formatDate({ y, m, d: Math.min(a.d, daysInMonth(y, m)) })
}

/** Day number of a calendar date (days since 1970-01-01), for calendar-day differences free of DST. */
function dayNumber(date: string): number {
  const { y, m, d } = parseDate(date)
  return Date.UTC(y, m - 1, d) / 86_400_000
}

/**
 * Calendar days from `from` (inclusive) to `to` (exclusive).
 * @example daysBetween('2028-02-01', '2028-03-01') // 29
 */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from)
}

/**
 * The calendar date `days` days after `date` (before it when negative).
 * @example addDays('2027-03-31', -21) // '2027-03-10'
 */
export function addDays(date: string, days: number): string {
  const t = new Date((dayNumber(date) + days) * 86_400_000)
  return formatDate({ y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() })
}

/**
 * The calendar date after `date`.
 * @example nextDay('2026-12-31') // '2027-01-01'
 */
export function nextDay(date: string): string {
  return addDays(date, 1)
}

/**
 * The UTC instant of local midnight starting `date` in `zone`: the first instant whose local date
 * is `date` (DST-safe: where midnight does not exist the day starts at the first valid time; where
 * it happens twice, at the first).
 * @example startOfDay('2026-03-29', 'Europe/Amsterdam') // Date.UTC(2026, 2, 28, 23)
 */
export function startOfDay(date: string, zone: string): number {
  const key = `${zone} ${date}`
  const known = midnights.get(key)
  if (known !== undefined) return known
  const { y, m, d } = parseDate(date)
  let t = DateTime.fromObject({ year: y, month: m, day: d }, { zone }).startOf('day').toMillis()
  // Where the clocks go back over midnight (America/Havana, Atlantic/Azores) the day has two
  // midnights: it starts at the first, the instant its usage day starts too (`localDate`).
  // Offsets change on quarter hours, so stepping back by them finds it.
  const dayOf = localDayOf(zone)
  for (let k = 0; k < 16 && dayOf(t - QUARTER_HOUR) === date; k++) t -= QUARTER_HOUR
  // A memo of a pure function (zone rules do not change while the process runs), kept small.
  if (midnights.size >= 50_000) midnights.clear()
  midnights.set(key, t)
  return t
}
const midnights = new Map<string, number>()

/**
 * The local calendar date of an instant in `zone`.
 * @example localDate(Date.UTC(2026, 6, 11, 22, 30), 'Europe/Amsterdam') // '2026-07-12'
 */
export function localDate(instant: number, zone: string): string {
  return localDayOf(zone)(instant)
}

const QUARTER_HOUR = 15 * 60_000
const dayFunctions = new Map<string, (instant: number) => string>()

/**
 * The local calendar day (`YYYY-MM-DD`) of instants in `zone`, as a function fast enough for the
 * ingestion path: UTC offsets only change on quarter hours, so one lookup per quarter hour is kept.
 * @example localDayOf('Europe/Amsterdam')(Date.UTC(2026, 6, 19, 22, 30)) // '2026-07-20'
 */
export function localDayOf(zone: string): (instant: number) => string {
  const known = dayFunctions.get(zone)
  if (known) return known
  const format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
  const memo = new Map<number, string>()
  const dayOf = (instant: number) => {
    const q = Math.floor(instant / QUARTER_HOUR)
    let day = memo.get(q)
    if (day === undefined) {
      if (memo.size > 10_000) memo.clear()
      day = format.format(q * QUARTER_HOUR)
      memo.set(q, day)
    }
    return day
  }
  dayFunctions.set(zone, dayOf)
  return dayOf
}
