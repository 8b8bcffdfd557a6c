/**
 * Strict ISO-8601 dates and instants, the one parser of every date a client sends (`asOf`,
 * `since`, `from`, `to`): `Date.parse` alone reads "1" as 2001-01-01 and Feb 30 as Mar 2.
 */
import { startOfDay } from '@tally/billing'

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/

/** UTC midnight of a real calendar day (not 2026-02-30), or NaN. */
function calendarDay(y: number, m: number, d: number): number {
  const t = Date.UTC(y, m - 1, d)
  const day = new Date(t)
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d ? t : Number.NaN
}

/**
 * An ISO-8601 date (UTC midnight) or date-time with its offset, in ms; NaN for anything else.
 * @example parseIsoInstant('2026-07-20T12:00:00Z') // 1784548800000
 */
export function parseIsoInstant(s: string): number {
  const m = ISO_INSTANT.exec(s)
  if (!m || Number.isNaN(calendarDay(Number(m[1]), Number(m[2]), Number(m[3])))) return Number.NaN
  return Date.parse(s)
}

/**
 * A calendar date `YYYY-MM-DD` as its UTC midnight, in years 1970-9998 (so the day after is a
 * date too); undefined otherwise.
 */
export function parseIsoDay(s: string): number | undefined {
  const m = ISO_DATE.exec(s)
  if (!m || Number(m[1]) < 1970 || Number(m[1]) > 9998) return undefined
  const t = calendarDay(Number(m[1]), Number(m[2]), Number(m[3]))
  return Number.isNaN(t) ? undefined : t
}

/** The calendar day `n` days after `day` (`YYYY-MM-DD`). */
export function addDays(day: string, n: number): string {
  return new Date((parseIsoDay(day) as number) + n * 86_400_000).toISOString().slice(0, 10)
}

/**
 * A day or an instant a client sends about an account: a date `YYYY-MM-DD` is a calendar day in
 * the account's time zone, as `from` and `to` of `GET /v1/usage` are (checked by the same
 * `parseIsoDay`), and stands for its local midnight; a date-time with `Z` or an offset is that
 * instant. NaN for anything else.
 * @example localInstant('2026-07-21', 'Europe/Amsterdam') // Date.UTC(2026, 6, 20, 22)
 */
export function localInstant(s: string, zone: string): number {
  if (ISO_DATE.test(s)) return parseIsoDay(s) === undefined ? Number.NaN : startOfDay(s, zone)
  return parseIsoInstant(s)
}
