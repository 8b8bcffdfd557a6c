/**
 * The test oracle of the period computations: the walk from the subscription's first period that
 * `period.ts`, `rating.ts`, `invoice.ts` and `ledger.ts` did before they computed the period in
 * force directly (docs/performance.md, "Periods"). Kept as it was, for the property tests in
 * `../periods.test.ts` to compare against; nothing outside the tests uses it.
 */
import { CYCLE_MONTHS, type Cycle, type Plan } from '@tally/protocol'
import { addMonthsClamped, daysBetween, localDate, nextDay, startOfDay, type BillingSubscription, type Period, type SubscriptionChange } from '../period.js'
import { emailQuota } from '../meters.js'
import { periodStates, quotaContacts, type BillingData, type EmailAllowance, type EmailGrant } from '../invoice.js'
import type { UsageRow } from '../meters.js'
import type { BillingAccount, PeriodTerms, Terms } from '../rating.js'
import { discountFor } from '../rating.js'
import { lineAmount } from '../money.js'

function sortedChanges(sub: BillingSubscription): SubscriptionChange[] {
  return [...(sub.changes ?? [])]
    .map((c, i) => ({ c, i }))
    .sort((a, b) => (a.c.at < b.c.at ? -1 : a.c.at > b.c.at ? 1 : a.i - b.i))
    .map((x) => x.c)
}

/** Every period from the anchor, each from the previous (the old `allPeriods`). */
export function* walkPeriods(sub: BillingSubscription, zone: string): Generator<Period> {
  const cycleChanges = sortedChanges(sub).filter((c) => c.cycle !== undefined)
  let offset = 0
  let index = 0
  let previousStart: string | null = null
  // Cancelled before it started: no period (docs/rules.md §5).
  if (sub.cancelledAt !== undefined && sub.cancelledAt < sub.start) return
  for (;;) {
    const startDate = addMonthsClamped(sub.start, offset)
    let cycle: Cycle = index === 0 ? sub.cycle : 'monthly'
    for (const c of cycleChanges) {
      if ((previousStart === null || c.at > previousStart) && c.at <= startDate && c.cycle) cycle = c.cycle
    }
    const months = CYCLE_MONTHS[cycle]
    const endDate = addMonthsClamped(sub.start, offset + months)
    const last = sub.cancelledAt !== undefined && sub.cancelledAt < endDate
    yield {
      index,
      cycle,
      months,
      offset,
      start: startOfDay(startDate, zone),
      end: startOfDay(endDate, zone),
      startDate,
      endDate,
      days: daysBetween(startDate, endDate),
      last,
    }
    if (last) return
    previousStart = startDate
    offset += months
    index++
  }
}

export function walkPeriodAt(sub: BillingSubscription, zone: string, instant: number): Period | null {
  for (const p of walkPeriods(sub, zone)) {
    if (instant < p.start) return null
    if (instant < p.end) return p
  }
  return null
}

export function walkPeriodByIndex(sub: BillingSubscription, zone: string, index: number): Period | null {
  for (const p of walkPeriods(sub, zone)) if (p.index === index) return p
  return null
}

export function walkSubscriptionEnd(sub: BillingSubscription, zone: string): number | null {
  if (sub.cancelledAt === undefined) return null
  let end = startOfDay(sub.start, zone)
  for (const p of walkPeriods(sub, zone)) end = p.end
  return end
}

export function walkMonthSlices(sub: BillingSubscription, zone: string, to: number): { month: number; start: number; end: number; startDate: string }[] {
  const out: { month: number; start: number; end: number; startDate: string }[] = []
  for (const p of walkPeriods(sub, zone)) {
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

function fee(t: Pick<Terms, 'plan' | 'seats'>, period: Period): number {
  const d = discountFor(t.plan, period.cycle)
  return (
    lineAmount({ quantity: 1, unitPrice: t.plan.basePrice, months: period.months, discountPercent: d }) +
    lineAmount({ quantity: t.seats, unitPrice: t.plan.seatPrice, months: period.months, discountPercent: d })
  )
}
function planOf(account: BillingAccount, id: string): Plan | undefined {
  return Object.hasOwn(account.plans, id) ? account.plans[id] : undefined
}
function offered(plan: Plan, ids: Iterable<string>): string[] {
  return [...new Set(ids)].filter((id) => Object.hasOwn(plan.products, id)).sort()
}
function sameTerms(a: Terms, b: Terms): boolean {
  return a.planId === b.planId && a.seats === b.seats && a.products.length === b.products.length && a.products.every((p, i) => p === b.products[i])
}
function applyChange(account: BillingAccount, t: Terms, c: SubscriptionChange): Terms {
  const plan = c.plan !== undefined ? planOf(account, c.plan) : undefined
  const next: Terms = plan && c.plan !== undefined ? { planId: c.plan, plan, seats: t.seats, products: t.products } : { ...t }
  if (c.seats !== undefined) next.seats = c.seats
  next.products = offered(next.plan, c.products ?? t.products)
  return next
}

/** The terms of every period, walked from the first (the old `termsTimeline` over `walkPeriods`). */
export function* walkTermsTimeline(account: BillingAccount): Generator<PeriodTerms> {
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
  for (const period of walkPeriods(sub, account.timezone)) {
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

export function walkTermsAt(account: BillingAccount, instant: number): { period: Period; terms: Terms } | null {
  for (const pt of walkTermsTimeline(account)) {
    if (instant < pt.period.start) return null
    if (instant >= pt.period.end) continue
    let terms = pt.start
    for (const u of pt.upgrades) if (startOfDay(u.at, account.timezone) <= instant) terms = u.after
    return { period: pt.period, terms }
  }
  return null
}

/** The old email window: `walkPeriodAt` and `walkPeriodByIndex`. */
export function walkEmailWindow(account: BillingAccount, at: number): { fromDay: string; toDay: string; invoiceKeys: string[] } | null {
  const p = walkPeriodAt(account.subscription, account.timezone, at)
  if (!p) return null
  const prev = p.index > 0 ? walkPeriodByIndex(account.subscription, account.timezone, p.index - 1) : null
  return { fromDay: (prev ?? p).startDate, toDay: p.endDate, invoiceKeys: [...(prev ? [`recurring:${prev.index}`] : []), `recurring:${p.index}`] }
}

function walkEmailAllowance(
  account: BillingAccount,
  usage: readonly UsageRow[],
  at: number,
  paidContacts: number,
  plan: Plan,
  grants: readonly EmailGrant[] = [],
): EmailAllowance {
  const slice = walkMonthSlices(account.subscription, account.timezone, at + 1).find((s) => s.start <= at && at < s.end)
  const quota = emailQuota(plan.emailsPerContact, quotaContacts(plan, paidContacts))
  if (!slice) return { quota, granted: 0, sent: 0, left: 0 }
  const endDate = localDate(slice.end, account.timezone)
  let sent = 0
  for (const r of usage) if (r.day >= slice.startDate && r.day < endDate) sent += r.emails ?? 0
  let granted = 0
  for (const g of grants) if (g.month === slice.startDate) granted += g.emails
  return { quota, granted, sent, left: Math.max(0, quota + granted - sent) }
}

/**
 * The old `emailsAt`: every period state from the first (`periodStates`, whose timeline the tests
 * show equal to `walkTermsTimeline`), the one holding `at` picked.
 */
export function walkEmailsAt(account: BillingAccount, data: Pick<BillingData, 'usage' | 'finalized' | 'emailGrants'>, at: number): EmailAllowance | null {
  const ps = periodStates(account, { ...data, ledger: [] }, at).find((s) => s.period.start <= at && at < s.period.end)
  if (!ps) return null
  const day = localDate(at, account.timezone)
  let terms = ps.start
  for (const u of ps.upgrades) if (startOfDay(u.at, account.timezone) <= at) terms = u.after
  let paid = ps.contactsStart
  for (const r of ps.rebalances) if (r.day < nextDay(day)) paid = r.after
  return walkEmailAllowance(account, data.usage, at, paid, terms.plan, data.emailGrants)
}

export function walkEmailMonthAt(account: BillingAccount, at: number): string | null {
  if (!walkPeriodAt(account.subscription, account.timezone, at)) return null
  return walkMonthSlices(account.subscription, account.timezone, at + 1).find((s) => s.start <= at && at < s.end)?.startDate ?? null
}
