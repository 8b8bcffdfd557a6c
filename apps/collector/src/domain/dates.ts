/**
 * Strict ISO-8601 dates and instants, the one parser of every date a client sends (`asOf`,
 * `since`, `from`, `to`): `Date.parse` alone reads "1" as 2001-01-01 and Feb 30 as Mar 2.
 */
import { startOfDay } from '@tally/billing'
import { calendarDay, parseIsoDay } from '@tally/protocol'

/** The calendar-day helpers live in the contract (packages/protocol/src/dates.ts), shared with the pages. */
export { addDays, parseIsoDay } from '@tally/protocol'

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/

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
