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
import { CYCLE_MONTHS, type Cycle, type Subscription } from '@tally/protocol'
import { addMonthsClamped, daysBetween, localDate, parseDate, startOfDay } from './dates.js'

/** Months per cycle: defined once, in the contract (docs/protocol.md §7). */
export { CYCLE_MONTHS }
export { addMonthsClamped, daysBetween, addDays, nextDay, startOfDay, localDate, localDayOf } from './dates.js'

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

function sortedChanges(sub: BillingSubscription): SubscriptionChange[] {
  return [...(sub.changes ?? [])]
    .map((c, i) => ({ c, i }))
    .sort((a, b) => (a.c.at < b.c.at ? -1 : a.c.at > b.c.at ? 1 : a.i - b.i))
    .map((x) => x.c)
}

/**
 * A stretch of the timeline: `count` periods of `months` months on `cycle`, the first at `offset`
 * months from the anchor with number `index` (`count` is Infinity for the monthly tail of a
 * subscription that renews).
 */
interface Run {
  index: number
  offset: number
  cycle: Cycle
  months: number
  count: number
}

/**
 * The smallest offset `o >= from` whose boundary `addMonthsClamped(anchor, o)` is on or after
 * `date` (`strict`: after it), computed, not walked: the boundary of the month difference is in
 * `date`'s own month, the one before it in the month before.
 */
function firstOffset(anchor: string, date: string, from: number, strict: boolean): number {
  const a = parseDate(anchor)
  const d = parseDate(date)
  const diff = d.y * 12 + d.m - (a.y * 12 + a.m)
  const b = addMonthsClamped(anchor, diff)
  const o = (strict ? b > date : b >= date) ? diff : diff + 1
  return Math.max(from, o)
}

/**
 * The timeline of a subscription as runs of equal periods, in order. The rules, once: the first
 * period is on the subscription's cycle, every later one monthly, except that a cycle bought
 * between the previous boundary (exclusive) and a boundary (inclusive) starts a term there (the
 * last such change wins); a cancelled subscription ends with the period whose end is after
 * `cancelledAt`. Built from the cycle changes only, never period by period, so its size and cost
 * follow the changes and not the subscription's age (docs/performance.md, "Periods").
 */
function runsOf(sub: BillingSubscription): Run[] {
  const changes = sortedChanges(sub).filter((c) => c.cycle !== undefined)
  const cancelled = sub.cancelledAt
  const runs: Run[] = []
  // Cancelled before it started: no period, nothing billed (docs/rules.md §5).
  if (cancelled !== undefined && cancelled < sub.start) return runs
  let offset = 0
  let index = 0
  let next = 0
  for (;;) {
    // A period that may open a term: the first one, or the one a pending cycle change starts.
    const startDate = addMonthsClamped(sub.start, offset)
    let cycle: Cycle = index === 0 ? sub.cycle : 'monthly'
    for (let c = changes[next]; c && c.at <= startDate; c = changes[++next]) if (c.cycle) cycle = c.cycle
    const months = CYCLE_MONTHS[cycle]
    runs.push({ index, offset, cycle, months, count: 1 })
    if (cancelled !== undefined && cancelled < addMonthsClamped(sub.start, offset + months)) break
    offset += months
    index++
    // Monthly periods up to the boundary on or after the next cycle change (or for ever).
    const change = changes[next]
    const until = change ? firstOffset(sub.start, change.at, offset, false) : Infinity
    // The last one, for a cancelled subscription: the first whose end is after `cancelledAt`.
    const last = cancelled !== undefined ? firstOffset(sub.start, cancelled, offset + 1, true) - 1 : Infinity
    if (last < until) {
      runs.push({ index, offset, cycle: 'monthly', months: 1, count: last - offset + 1 })
      break
    }
    if (until > offset) runs.push({ index, offset, cycle: 'monthly', months: 1, count: until - offset })
    if (until === Infinity) break
    index += until - offset
    offset = until
  }
  return runs
}

/** Period `k` of a run. */
function periodOfRun(sub: BillingSubscription, zone: string, run: Run, k: number): Period {
  const offset = run.offset + k * run.months
  const startDate = addMonthsClamped(sub.start, offset)
  const endDate = addMonthsClamped(sub.start, offset + run.months)
  return {
    index: run.index + k,
    cycle: run.cycle,
    months: run.months,
    offset,
    start: startOfDay(startDate, zone),
    end: startOfDay(endDate, zone),
    startDate,
    endDate,
    days: daysBetween(startDate, endDate),
    last: sub.cancelledAt !== undefined && sub.cancelledAt < endDate,
  }
}

/** Months from the anchor to the end of the last period, or Infinity while the subscription renews. */
function endOffset(runs: readonly Run[]): number {
  const r = runs[runs.length - 1]
  return r ? r.offset + r.count * r.months : 0
}

/**
 * Every period of the subscription from the anchor, lazily; endless unless cancelled.
 * @example allPeriods({ plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 1, contacts: 0 }, 'UTC').next().value?.endDate // '2026-08-12'
 */
export function allPeriods(sub: BillingSubscription, zone: string): Generator<Period> {
  return periodsFrom(sub, zone, 0)
}

/**
 * The periods from number `index` on, lazily: the first is found without walking those before it.
 * @example periodsFrom(sub, 'UTC', 99).next().value?.index // 99
 */
export function* periodsFrom(sub: BillingSubscription, zone: string, index: number): Generator<Period> {
  for (const run of runsOf(sub)) {
    if (index >= run.index + run.count) continue
    for (let k = Math.max(0, index - run.index); k < run.count; k++) yield periodOfRun(sub, zone, run, k)
  }
}

/**
 * The periods that overlap `[from, to)` (UTC milliseconds), in order.
 * @example periods(sub, 'Europe/Amsterdam', Date.UTC(2026, 6, 1), Date.UTC(2027, 6, 1)).length // 12
 */
export function periods(sub: BillingSubscription, zone: string, from: number, to: number): Period[] {
  const out: Period[] = []
  const first = Number.isFinite(from) ? periodAt(sub, zone, from) : null
  for (const p of periodsFrom(sub, zone, first ? first.index : 0)) {
    if (p.start >= to) break
    if (p.end > from) out.push(p)
  }
  return out
}

/**
 * The period holding a local calendar day (`startDate <= date < endDate`), or null before the
 * anchor and after a cancelled subscription ended: computed from the runs, not walked.
 * @example periodOn(sub, 'UTC', '2026-08-20')?.startDate // '2026-08-12'
 */
export function periodOn(sub: BillingSubscription, zone: string, date: string): Period | null {
  const runs = runsOf(sub)
  // The last boundary on or before `date`.
  const offset = firstOffset(sub.start, date, 0, true) - 1
  if (offset < 0 || offset >= endOffset(runs)) return null
  let run = runs[0]
  for (const r of runs) if (r.offset <= offset) run = r
  if (!run) return null
  return periodOfRun(sub, zone, run, Math.floor((offset - run.offset) / run.months))
}

/**
 * The period holding `instant`, or null before the anchor and after a cancelled subscription ended.
 * The period of the instant's local day, checked against the instants of its boundaries.
 * @example periodAt(sub, 'UTC', Date.UTC(2026, 7, 20))?.startDate // '2026-08-12'
 */
export function periodAt(sub: BillingSubscription, zone: string, instant: number): Period | null {
  if (!Number.isFinite(instant)) return null
  let p = periodOn(sub, zone, localDate(instant, zone))
  if (!p) {
    // Before the anchor, or after the end: the first or the last period may still hold the instant.
    const first = periodByIndex(sub, zone, 0)
    if (first && instant < first.start) return null
    const runs = runsOf(sub)
    const lastRun = runs[runs.length - 1]
    p = first && instant < first.end ? first : lastRun && lastRun.count !== Infinity ? periodOfRun(sub, zone, lastRun, lastRun.count - 1) : null
    if (!p) return null
  }
  while (p && instant < p.start) p = p.index > 0 ? periodByIndex(sub, zone, p.index - 1) : null
  while (p && instant >= p.end) p = periodByIndex(sub, zone, p.index + 1)
  return p
}

/** The period with this index, or null when a cancelled subscription has fewer. */
export function periodByIndex(sub: BillingSubscription, zone: string, index: number): Period | null {
  if (!Number.isSafeInteger(index) || index < 0) return null
  for (const run of runsOf(sub)) {
    if (index < run.index + run.count) return periodOfRun(sub, zone, run, index - run.index)
  }
  return null
}

/**
 * When a cancelled subscription stops (the end of its last period), or null while it renews.
 * After it, the account's beacons are refused (docs/rules.md §5).
 */
export function subscriptionEnd(sub: BillingSubscription, zone: string): number | null {
  if (sub.cancelledAt === undefined) return null
  const end = endOffset(runsOf(sub))
  return startOfDay(addMonthsClamped(sub.start, end), zone)
}

/** A month of the anchor calendar, `[anchor + k months, anchor + k + 1 months)`. */
export interface MonthSlice {
  month: number
  start: number
  end: number
  startDate: string
}

function sliceOf(sub: BillingSubscription, zone: string, k: number): MonthSlice {
  const startDate = addMonthsClamped(sub.start, k)
  return { month: k, start: startOfDay(startDate, zone), end: startOfDay(addMonthsClamped(sub.start, k + 1), zone), startDate }
}

/** The last month of the anchor calendar that starts at or before `instant` (-1 before the anchor). */
function sliceIndexAt(sub: BillingSubscription, zone: string, instant: number): number {
  let k = firstOffset(sub.start, localDate(instant, zone), 0, true) - 1
  while (k >= 0 && startOfDay(addMonthsClamped(sub.start, k), zone) > instant) k--
  while (startOfDay(addMonthsClamped(sub.start, k + 1), zone) <= instant) k++
  return k
}

/**
 * The monthly slices of the anchor calendar, `[anchor + k months, anchor + k + 1 months)`, that
 * start before `to` (and after `after`, when given: the first of them found without walking the
 * ones before); free credits are granted per slice (seed 003: "free CRM credits each month").
 */
export function monthSlices(sub: BillingSubscription, zone: string, to: number, after?: number): MonthSlice[] {
  const out: MonthSlice[] = []
  const end = endOffset(runsOf(sub))
  const from = after === undefined || after === Number.NEGATIVE_INFINITY ? 0 : sliceIndexAt(sub, zone, after) + 1
  for (let k = from; k < end; k++) {
    const s = sliceOf(sub, zone, k)
    if (s.start >= to) break
    out.push(s)
  }
  return out
}

/**
 * The month of the anchor calendar holding `instant`, or null outside the subscription (what
 * `monthSlices(sub, zone, instant + 1).find(...)` gives, without the months before it).
 * @example monthSliceAt(sub, 'UTC', Date.UTC(2026, 7, 20))?.startDate // '2026-08-12'
 */
export function monthSliceAt(sub: BillingSubscription, zone: string, instant: number): MonthSlice | null {
  if (!periodAt(sub, zone, instant)) return null
  return sliceOf(sub, zone, sliceIndexAt(sub, zone, instant))
}
