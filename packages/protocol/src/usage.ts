/** The usage report's contract (`GET /v1/usage`, docs/protocol.md §5): its meters and its range rule. */
import { parseIsoDay } from './dates.js'

/** The metered units of a plan: what it includes and prices past that. */
export const METERS = ['impressions', 'engagements', 'chatSessions', 'alerts'] as const
export type Meter = (typeof METERS)[number]

/**
 * The meters of a usage row, in column order. `suspicious`: units of sessions over the
 * per-address cap (docs/security.md), shown and never billed.
 */
export const USAGE_METERS = ['impressions', 'engagements', 'chatSessions', 'alerts', 'credits', 'suspicious'] as const
export type UsageMeter = (typeof USAGE_METERS)[number]

/** Grouped by day, the range is at most this many days (ten years): every day is a row, zeros included. */
export const MAX_DAY_ROWS = 3660

/** When `from` is left out the range is this many days ending at `to`. */
export const DEFAULT_RANGE_DAYS = 30

/** What is wrong with a range: a bound that is not a day (years 1970 to 9998), or `from` after `to`. */
export type RangeProblem = { param: 'from' | 'to'; problem: 'not_a_day' } | { param: 'from'; problem: 'after_to' }

/** The range rule: both bounds calendar days, `from` on or before `to` (both included); null when it holds. */
export function rangeProblem(from: string, to: string): RangeProblem | null {
  if (parseIsoDay(to) === undefined) return { param: 'to', problem: 'not_a_day' }
  if (parseIsoDay(from) === undefined) return { param: 'from', problem: 'not_a_day' }
  if (from > to) return { param: 'from', problem: 'after_to' }
  return null
}

/** Days in the inclusive range (1 when `from` is `to`); the range must hold the rule. */
export function rangeDays(from: string, to: string): number {
  return ((parseIsoDay(to) as number) - (parseIsoDay(from) as number)) / 86_400_000 + 1
}
