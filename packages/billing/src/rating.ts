/**
 * Rating: what the plan in force charges. Prices are per month (docs/protocol.md §7: "a longer cycle charges
 * months x price less its discount"); included quotas are per month too, so a 3-month period
 * includes three times as much. Usage beyond the included quota is charged per started block of
 * `per` units. Contacts are priced by volume range: the price of the range the count falls in.
 *
 * Changes: an upgrade (a higher base-and-seats fee for the period) takes effect at once and is
 * prorated by days over the whole period (lago-api PR#6194 divided by a shrunken one); anything
 * else waits for the period's end (docs/rules.md §5). Products (seed 004: the price depends on the
 * "products chosen") are priced like seats: one added takes effect at once, prorated; one removed
 * stays to the period's end.
 *
 * Every line carries the columns that decide it, so a reader can check it by hand:
 * `round(quantity x unitPrice x months x days/of) - discount = amount`, and `from`-`to` are the days
 * it charges for (docs/billing.md, "Reading a line").
 */
import type { Cycle, Meter, Plan } from '@tally/protocol'
import { discountAmount, grossAmount, lineAmount, type Priced } from './money.js'
import { addDays, allPeriods, periodAt, periodOn, periodsFrom, startOfDay, type BillingSubscription, type Period, type SubscriptionChange } from './period.js'
export { contactsExcessLine, overage, usageLines } from './usage-lines.js'

/** What billing needs of an account: its zone, its subscription, the plans, its members. */
export interface BillingAccount {
  timezone: string
  subscription: BillingSubscription
  plans: Readonly<Record<string, Plan>>
  members?: readonly string[] | undefined
}

/** The plan, seats and products in force. */
export interface Terms {
  planId: string
  plan: Plan
  seats: number
  /** Ids of the chosen products, sorted, each offered by `plan`. */
  products: readonly string[]
}

/** A period with the terms in force at its start and end, and the upgrades made within it. */
export interface PeriodTerms {
  period: Period
  start: Terms
  end: Terms
  /** Changes that took effect within the period; `change` is the index in `subscription.changes`. */
  upgrades: { at: string; change: number; before: Terms; after: Terms }[]
}

/** The meters of the included quotas and overage prices. */
export const RATED_METERS = ['impressions', 'engagements', 'chatSessions', 'alerts'] as const satisfies readonly Meter[]

export const METER_LABELS: Record<Meter, string> = {
  impressions: 'Impressions',
  engagements: 'Engagements',
  chatSessions: 'Chat sessions',
  alerts: 'Alert sessions',
}

/** The part of a period a line belongs to. */
export interface PeriodRef {
  index: number
  start: number
  end: number
  startDate: string
  endDate: string
}

/** Kinds of invoice lines. */
export type LineKind = 'base' | 'seats' | 'product' | 'contacts' | 'usage' | 'contacts_excess' | 'adjustment' | 'minimum' | 'credits' | 'emails'

/**
 * One invoice line. Its columns check by hand:
 * `round_half_even(quantity x unitPrice x months x proration.days/proration.of) - discount = amount`
 * (no proration: a factor of 1), and `amount = lineAmount(this)`: the one exact fraction rounded once.
 * Amounts are integer minor units of the invoice's currency.
 */
export interface InvoiceLine extends Priced {
  kind: LineKind
  description: string
  /** The usage meter of a `usage`, `contacts_excess` or `adjustment` line. */
  meter?: Meter | 'contacts' | undefined
  /** The contact count a `contacts` line prices (what the period was paid for). */
  contacts?: number | undefined
  /** The product id of a `product` line. */
  product?: string | undefined
  /** Days of the period billed, of its days; null for the whole period (a factor of 1). */
  proration: { days: number; of: number } | null
  /** The cycle discount as an amount (minor units): the rounded gross less `amount`. */
  discount: number
  amount: number
  /** First local day the line charges for. */
  from: string
  /** The local day after the last one it charges for (exclusive); equal to `from` for a one-off charge (a credit pack). */
  to: string
  period: PeriodRef
}

/** What a caller gives `priced`: the fields that decide a line, its dates optional. */
export type LineInput = Omit<InvoiceLine, 'amount' | 'discount' | 'from' | 'to' | 'proration'> & {
  proration?: { days: number; of: number } | null | undefined
  from?: string | undefined
  to?: string | undefined
}

/** A period as referenced by its lines. */
export function periodRef(p: Period): PeriodRef {
  return { index: p.index, start: p.start, end: p.end, startDate: p.startDate, endDate: p.endDate }
}

/**
 * The cycle discount of a plan, percent.
 * @example discountFor(plan, 'quarterly') // 5
 */
export function discountFor(plan: Plan, cycle: Cycle): number {
  return cycle === 'monthly' ? 0 : (plan.cycleDiscountPercent[cycle] ?? 0)
}

/**
 * The contact range a count falls in (volume tiers: one price for the whole count). With no ranges
 * the price is 0; past the last finite range without an open one, the last range applies.
 * @example contactRange(plan, 1200) // { index: 1, upTo: 5000, price: 2900 }
 */
export function contactRange(plan: Plan, contacts: number): { index: number; upTo: number | null; price: number } {
  const ranges = plan.contactRanges
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]
    if (r && (r.upTo === null || contacts <= r.upTo)) return { index: i, upTo: r.upTo, price: r.price }
  }
  const lastIndex = ranges.length - 1
  const last = ranges[lastIndex]
  return last ? { index: lastIndex, upTo: last.upTo, price: last.price } : { index: -1, upTo: null, price: 0 }
}

function rangeLabel(r: { upTo: number | null }, contacts: number): string {
  return r.upTo === null ? `Contacts (${contacts})` : `Contacts up to ${r.upTo} (${contacts})`
}

/**
 * The recurring lines of a period: base price, seats, one line per chosen product, contact range;
 * `sign` -1 gives the credit of unused time, `proration` the share of the period (its last `days`
 * days: a change runs to the period's end).
 */
export function recurringLines(t: Terms, contacts: number, period: Period, proration?: { days: number; of: number }, sign: 1 | -1 = 1): InvoiceLine[] {
  const ref = periodRef(period)
  const base = { months: period.months, discountPercent: discountFor(t.plan, period.cycle), proration, period: ref }
  const prefix = sign < 0 ? 'Unused time: ' : ''
  const lines: LineInput[] = [{ ...base, kind: 'base', description: `${prefix}Plan ${t.planId}`, quantity: sign, unitPrice: t.plan.basePrice }]
  if (t.seats > 0) {
    lines.push({ ...base, kind: 'seats', description: `${prefix}Seats`, quantity: sign * t.seats, unitPrice: t.plan.seatPrice })
  }
  for (const id of t.products) {
    const product = Object.hasOwn(t.plan.products, id) ? t.plan.products[id] : undefined
    if (!product) continue
    lines.push({ ...base, kind: 'product', product: id, description: `${prefix}Product ${product.name ?? id}`, quantity: sign, unitPrice: product.price })
  }
  const out = lines.map(priced)
  const contactsLine = contactRangeLine(t.plan, contacts, period, proration, sign)
  if (contactsLine) out.push(contactsLine)
  return out
}

/** The contact-range line of a period, or null when the plan has no ranges. */
export function contactRangeLine(plan: Plan, contacts: number, period: Period, proration?: { days: number; of: number }, sign: 1 | -1 = 1): InvoiceLine | null {
  if (plan.contactRanges.length === 0) return null
  const r = contactRange(plan, contacts)
  return priced({
    kind: 'contacts',
    meter: 'contacts',
    months: period.months,
    discountPercent: discountFor(plan, period.cycle),
    proration,
    period: periodRef(period),
    description: (sign < 0 ? 'Unused time: ' : '') + rangeLabel(r, contacts),
    quantity: sign,
    unitPrice: r.price,
    contacts,
  })
}

/**
 * A line with its amount computed by the one rounding rule, its discount as an amount, and the
 * days it charges for: the whole period, or its last `proration.days` days.
 */
export function priced(l: LineInput): InvoiceLine {
  const proration = l.proration ?? null
  const from = l.from ?? (proration ? addDays(l.period.endDate, -proration.days) : l.period.startDate)
  const to = l.to ?? l.period.endDate
  const line: InvoiceLine = { ...l, proration, discount: discountAmount(l), amount: lineAmount(l), from, to }
  if (line.meter === undefined) delete line.meter
  if (line.product === undefined) delete line.product
  return line
}

/** The columns a reader checks a line by (CSV, PDF): `round(quantity x unitPrice x months x proration) - discount = amount`. */
export interface LineColumns {
  from: string
  to: string
  quantity: number
  unitPrice: number
  months: number
  proration: { days: number; of: number } | null
  discount: number
  amount: number
}

/**
 * The checkable columns of a line. Lines finalized before lines carried `discount`, `from` and
 * `to` get them here: the discount is the rounded gross less the amount, the dates are the
 * period's (or its last days when prorated), and a late-usage adjustment, then a bare difference
 * of amounts, reads as one unit of that difference.
 * @example lineColumns(line) // { from: '2027-03-10', to: '2027-03-31', quantity: 3, unitPrice: 2000, months: 1, proration: { days: 21, of: 31 }, discount: 0, amount: 4065 }
 */
export function lineColumns(l: InvoiceLine): LineColumns {
  const proration = l.proration ?? null
  const from = typeof l.from === 'string' ? l.from : proration ? addDays(l.period.endDate, -proration.days) : l.period.startDate
  const to = typeof l.to === 'string' ? l.to : l.period.endDate
  if (typeof l.discount === 'number') {
    return { from, to, quantity: l.quantity, unitPrice: l.unitPrice, months: l.months, proration, discount: l.discount, amount: l.amount }
  }
  if (l.kind === 'adjustment') return { from, to, quantity: 1, unitPrice: l.amount, months: 1, proration: null, discount: 0, amount: l.amount }
  const gross = grossAmount({ quantity: l.quantity, unitPrice: l.unitPrice, months: l.months, proration })
  return { from, to, quantity: l.quantity, unitPrice: l.unitPrice, months: l.months, proration, discount: gross - l.amount, amount: l.amount }
}

/** The base-and-seats fee of a period under some terms: what decides upgrade or downgrade of plan and seats. */
function fee(t: Pick<Terms, 'plan' | 'seats'>, period: Period): number {
  const d = discountFor(t.plan, period.cycle)
  return (
    lineAmount({ quantity: 1, unitPrice: t.plan.basePrice, months: period.months, discountPercent: d }) +
    lineAmount({ quantity: t.seats, unitPrice: t.plan.seatPrice, months: period.months, discountPercent: d })
  )
}

function planOf(account: BillingAccount, id: string): Plan | undefined {
  // Own properties only: a change naming "constructor" names an unknown plan.
  return Object.hasOwn(account.plans, id) ? account.plans[id] : undefined
}

/** The chosen products a plan offers, sorted and each once. */
function offered(plan: Plan, ids: Iterable<string>): string[] {
  return [...new Set(ids)].filter((id) => Object.hasOwn(plan.products, id)).sort()
}

function sameTerms(a: Terms, b: Terms): boolean {
  return a.planId === b.planId && a.seats === b.seats && a.products.length === b.products.length && a.products.every((p, i) => p === b.products[i])
}

/** Terms after a change: its plan (if known), seats and products replace the given ones. */
function applyChange(account: BillingAccount, t: Terms, c: SubscriptionChange): Terms {
  const plan = c.plan !== undefined ? planOf(account, c.plan) : undefined
  const next: Terms = plan && c.plan !== undefined ? { planId: c.plan, plan, seats: t.seats, products: t.products } : { ...t }
  if (c.seats !== undefined) next.seats = c.seats
  next.products = offered(next.plan, c.products ?? t.products)
  return next
}

/**
 * The terms of every period in order (lazily; endless unless cancelled).
 * Within a period, a change that raises the base-and-seats fee takes its plan and seats at once;
 * products it adds (that the plan in force offers) are taken at once too; the rest of the change
 * (a lower fee, products removed) waits for the period's end.
 * @example termsTimeline(account).next().value?.start.planId // 'growth'
 */
export function termsTimeline(account: BillingAccount): Generator<PeriodTerms> {
  return termsOver(account, allPeriods(account.subscription, account.timezone))
}

/**
 * The rules of `termsTimeline`, once, over the given periods in order. A period that holds no
 * change only takes the pending terms at its start, so the periods between two that hold changes
 * may be left out: given every period that holds a change before the last one asked for, the
 * answers are the same as over all of them.
 */
function* termsOver(account: BillingAccount, periods: Iterable<Period>): Generator<PeriodTerms> {
  const sub = account.subscription
  const changes = (sub.changes ?? [])
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.plan !== undefined || c.seats !== undefined || c.products !== undefined)
    .sort((a, b) => (a.c.at < b.c.at ? -1 : a.c.at > b.c.at ? 1 : a.i - b.i))
  const firstPlan = planOf(account, sub.plan) ?? Object.values(account.plans)[0]
  if (!firstPlan) return
  let current: Terms = { planId: sub.plan, plan: firstPlan, seats: sub.seats, products: offered(firstPlan, sub.products ?? []) }
  let pending: Terms | null = null
  let next = 0
  for (const period of periods) {
    if (pending) current = pending
    pending = null
    let start = current
    const upgrades: PeriodTerms['upgrades'] = []
    for (let c = changes[next]; c && c.c.at < period.endDate; c = changes[++next]) {
      const target = applyChange(account, pending ?? current, c.c)
      if (c.c.at <= period.startDate) {
        current = start = target
        pending = null
        continue
      }
      const raised = fee(target, period) > fee(current, period)
      const now: Terms = raised ? { ...target } : { ...current }
      now.products = offered(now.plan, [...current.products, ...target.products])
      if (!sameTerms(now, current)) {
        upgrades.push({ at: c.c.at, change: c.i, before: current, after: now })
        current = now
      }
      pending = sameTerms(target, current) ? null : target
    }
    yield { period, start, end: current, upgrades }
  }
}

/**
 * The terms of the periods from number `from` to `to` (the one given), without walking the periods
 * before `from`: only those that hold a change are visited (docs/performance.md, "Periods").
 * @example termsBetween(account, 99, periodByIndex(sub, zone, 99))[0]?.period.index // 99
 */
export function termsBetween(account: BillingAccount, from: number, to: Period): PeriodTerms[] {
  const sub = account.subscription
  const zone = account.timezone
  const holding = new Map<number, Period>()
  for (const c of sub.changes ?? []) {
    if (c.at >= to.endDate) continue
    // A change dated before the anchor is taken at the start of the first period.
    // biome-ignore lint/complexity/useMathMinMax: dates are ISO strings, which Math.max would turn into NaN
    const p = periodOn(sub, zone, c.at < sub.start ? sub.start : c.at)
    if (p && p.index < from) holding.set(p.index, p)
  }
  const before = [...holding.values()].sort((a, b) => a.index - b.index)
  function* visited(): Generator<Period> {
    yield* before
    for (const p of periodsFrom(sub, zone, from)) {
      if (p.index > to.index) return
      yield p
    }
  }
  const out: PeriodTerms[] = []
  for (const pt of termsOver(account, visited())) if (pt.period.index >= from) out.push(pt)
  return out
}

/**
 * The period in force at an instant and its terms (at its start, its end, its upgrades), or null
 * outside the subscription; its cost follows the changes, not the subscription's age.
 */
export function periodTermsAt(account: BillingAccount, instant: number): PeriodTerms | null {
  const period = periodAt(account.subscription, account.timezone, instant)
  if (!period) return null
  return termsBetween(account, period.index, period)[0] ?? null
}

/**
 * The period and terms in force at an instant, or null outside the subscription.
 * @example termsAt(account, Date.UTC(2026, 7, 1))?.terms.planId // 'growth'
 */
export function termsAt(account: BillingAccount, instant: number): { period: Period; terms: Terms } | null {
  const pt = periodTermsAt(account, instant)
  if (!pt) return null
  let terms = pt.start
  for (const u of pt.upgrades) if (startOfDay(u.at, account.timezone) <= instant) terms = u.after
  return { period: pt.period, terms }
}
