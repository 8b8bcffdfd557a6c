/**
 * Billing periods. Seed 004: "Your subscription is prolonged automatically each month on the same
 * day you started your first subscription plan (so for example, if you purchased the subscription
 * on July 12, next billing date will be August 12.)" Every boundary is computed from the anchor
 * (never from the previous period's end) with the day clamped to short months, so Jan 31 gives
 * Feb 28/29 then Mar 31 again (lago-api #1567/#1840/#6173, Kill Bill #127). Boundaries are local
 * midnights in the account's IANA zone, kept as UTC instants, and periods are half-open.
 *
 * Seed 004 again: "After your long-term subscription ends you will be automatically moved to
 * standard monthly subscription unless you purchase new long-term plan." A term of 3, 6 or 12
 * months is one period; what follows is monthly from the same anchor, unless a `changes` entry
 * bought a new long term. A cancelled subscription ends with the period holding `cancelledAt`.
 */
import { DateTime } from 'luxon'
import { CYCLE_MONTHS, type Cycle, type Subscription } from '@tally/protocol'

/** Months per cycle: defined once, in the contract (docs/protocol.md §7). */
export { CYCLE_MONTHS }

/**
 * A change of the subscription, dated by a calendar day in the account's zone.
 * A higher recurring price is an upgrade (at once, prorated); a lower or equal one a downgrade (at
 * the period's end). `products` is the whole list chosen from `at`: products added take effect at
 * once (prorated), products removed at the period's end. `cycle` buys a new term from the next
 * period boundary on or after `at`.
 */
export interface SubscriptionChange {
  at: string
  plan?: string | undefined
  seats?: number | undefined
  products?: readonly string[] | undefined
  cycle?: Cycle | undefined
}

/** The protocol's subscription plus its history of changes. */
export type BillingSubscription = Subscription & { changes?: readonly SubscriptionChange[] | undefined }

/** One billing period: `[start, end)` in UTC milliseconds, with its local calendar dates. */
export interface Period {
  /** 0 for the first period after the anchor, then 1, 2, ... */
  index: number
  /** The cycle this period was bought on. */
  cycle: Cycle
  months: number
  /** Months from the anchor to the start of this period. */
  offset: number
  start: number
  end: number
  /** Local date of `start` (inclusive), `YYYY-MM-DD`. */
  startDate: string
  /** Local date of `end` (exclusive). */
  endDate: string
  /** Calendar days in the period (the denominator of every proration). */
  days: number
  /** True for the final period of a cancelled subscription. */
  last: boolean
}

interface Ymd { y: number; m: number; d: number }

function parseDate(date: string): Ymd {
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
 * The UTC instant of local midnight starting `date` in `zone` (DST-safe: midnight's offset is the
 * one in force on that day; where midnight does not exist the day starts at the first valid time).
 * @example startOfDay('2026-03-29', 'Europe/Amsterdam') // Date.UTC(2026, 2, 28, 23)
 */
export function startOfDay(date: string, zone: string): number {
  const key = `${zone} ${date}`
  const known = midnights.get(key)
  if (known !== undefined) return known
  const { y, m, d } = parseDate(date)
  const t = DateTime.fromObject({ year: y, month: m, day: d }, { zone }).startOf('day').toMillis()
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

function sortedChanges(sub: BillingSubscription): SubscriptionChange[] {
  return [...(sub.changes ?? [])].map((c, i) => ({ c, i })).sort((a, b) => (a.c.at < b.c.at ? -1 : a.c.at > b.c.at ? 1 : a.i - b.i)).map((x) => x.c)
}

/**
 * Every period of the subscription from the anchor, lazily; endless unless cancelled.
 * @example allPeriods({ plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 1, contacts: 0 }, 'UTC').next().value?.endDate // '2026-08-12'
 */
export function* allPeriods(sub: BillingSubscription, zone: string): Generator<Period> {
  const cycleChanges = sortedChanges(sub).filter((c) => c.cycle !== undefined)
  let offset = 0
  let index = 0
  let previousStart: string | null = null
  for (;;) {
    const startDate = addMonthsClamped(sub.start, offset)
    // A cycle bought between the previous boundary (exclusive) and this one (inclusive) starts here;
    // the subscription's own cycle opens the first period.
    let cycle: Cycle = index === 0 ? sub.cycle : 'monthly'
    for (const c of cycleChanges) {
      if ((previousStart === null || c.at > previousStart) && c.at <= startDate && c.cycle) cycle = c.cycle
    }
    const months = CYCLE_MONTHS[cycle]
    const endDate = addMonthsClamped(sub.start, offset + months)
    const last = sub.cancelledAt !== undefined && sub.cancelledAt < endDate
    yield {
      index, cycle, months, offset,
      start: startOfDay(startDate, zone), end: startOfDay(endDate, zone),
      startDate, endDate, days: daysBetween(startDate, endDate), last,
    }
    if (last) return
    previousStart = startDate
    offset += months
    index++
  }
}

/**
 * The periods that overlap `[from, to)` (UTC milliseconds), in order.
 * @example periods(sub, 'Europe/Amsterdam', Date.UTC(2026, 6, 1), Date.UTC(2027, 6, 1)).length // 12
 */
export function periods(sub: BillingSubscription, zone: string, from: number, to: number): Period[] {
  const out: Period[] = []
  for (const p of allPeriods(sub, zone)) {
    if (p.start >= to) break
    if (p.end > from) out.push(p)
  }
  return out
}

/**
 * The period holding `instant`, or null before the anchor and after a cancelled subscription ended.
 * @example periodAt(sub, 'UTC', Date.UTC(2026, 7, 20))?.startDate // '2026-08-12'
 */
export function periodAt(sub: BillingSubscription, zone: string, instant: number): Period | null {
  for (const p of allPeriods(sub, zone)) {
    if (instant < p.start) return null
    if (instant < p.end) return p
  }
  return null
}

/** The period with this index, or null when a cancelled subscription has fewer. */
export function periodByIndex(sub: BillingSubscription, zone: string, index: number): Period | null {
  for (const p of allPeriods(sub, zone)) if (p.index === index) return p
  return null
}

/**
 * When a cancelled subscription stops (the end of its last period), or null while it renews.
 * After it, the account's beacons are refused (docs/rules.md §5).
 */
export function subscriptionEnd(sub: BillingSubscription, zone: string): number | null {
  if (sub.cancelledAt === undefined) return null
  let end = 0
  for (const p of allPeriods(sub, zone)) end = p.end
  return end
}

/**
 * The monthly slices of the anchor calendar, `[anchor + k months, anchor + k + 1 months)`, that
 * start before `to`; free credits are granted per slice (seed 003: "free CRM credits each month").
 */
export function monthSlices(sub: BillingSubscription, zone: string, to: number): { month: number; start: number; end: number; startDate: string }[] {
  const out: { month: number; start: number; end: number; startDate: string }[] = []
  for (const p of allPeriods(sub, zone)) {
    if (p.start >= to) break
    for (let k = p.offset; k < p.offset + p.months; k++) {
      const startDate = addMonthsClamped(sub.start, k)
      const start = startOfDay(startDate, zone)
      if (start >= to) break
      out.push({ month: k, start, end: startOfDay(addMonthsClamped(sub.start, k + 1), zone), startDate })
    }
  }
  return out
}
