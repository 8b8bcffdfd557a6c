/**
 * Strict ISO-8601 dates and instants, the one parser of every date a client sends (`asOf`,
 * `since`, `from`, `to`): `Date.parse` alone reads "1" as 2001-01-01 and Feb 30 as Mar 2.
 */
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
