/**
 * Calendar days `YYYY-MM-DD`, read strictly (`Date.parse` alone reads Feb 30 as Mar 2): the one
 * parser of the days a client sends, shared by the collector and the pages it serves.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** A day in ms. */
export const DAY_MS = 86_400_000

/** UTC midnight of a real calendar day (not 2026-02-30), or NaN. */
export function calendarDay(y: number, m: number, d: number): number {
  const t = Date.UTC(y, m - 1, d)
  const day = new Date(t)
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d ? t : Number.NaN
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
  return new Date((parseIsoDay(day) as number) + n * DAY_MS).toISOString().slice(0, 10)
}
