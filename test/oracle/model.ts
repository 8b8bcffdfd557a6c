/**
 * A reference model of Tally's billing, written from docs/rules.md and docs/billing.md alone: it
 * imports nothing from `packages/billing` or the collector. Slow and obvious: calendar arithmetic
 * by hand, the first instant of a local date found by stepping through the day, every amount an
 * exact fraction of integers rounded once, half to even, in integer minor units.
 *
 * It bills what the runs of a history see: each run at time T sees the usage that arrived by T
 * and the subscription as configured at T, and the invoices earlier runs finalized, which never
 * change (docs/billing.md, "Invoices").
 */

import type { ModelPlan, Change, Seen, ModelLine, ModelInvoice } from './model-types.js'
import { nextDate, daysFrom, dateIn, firstInstant, amount, type ModelPeriod, modelPeriods } from './model-calendar.js'

export type { Cycle, ModelPlan, Change, Sub, Seen, ModelLine, ModelInvoice } from './model-types.js'
export { MONTHS } from './model-types.js'
export { plusMonths, nextDate, daysFrom, dateIn, firstInstant, halfEven, type ModelPeriod, modelPeriods } from './model-calendar.js'

// ---------- terms ----------

interface Terms {
  plan: string
  seats: number
  products: string[]
}
const same = (a: Terms, b: Terms) => a.plan === b.plan && a.seats === b.seats && a.products.join() === b.products.join()
function offeredBy(plans: Record<string, ModelPlan>, plan: string, ids: string[]): string[] {
  return [...new Set(ids)].filter((id) => Object.hasOwn(plans[plan]?.products ?? {}, id)).sort()
}
function baseAndSeats(plans: Record<string, ModelPlan>, t: Terms, p: ModelPeriod): number {
  const plan = plans[t.plan]!
  const d = p.cycle === 'monthly' ? 0 : (plan.discount[p.cycle] ?? 0)
  return amount(1, plan.basePrice, p.months, d) + amount(t.seats, plan.seatPrice, p.months, d)
}

export interface PeriodTerms {
  start: Terms
  end: Terms
  upgrades: { at: string; change: Change; before: Terms; after: Terms }[]
}

/** The terms of each period: changes on or before its start apply to it whole; within it, an upgrade at once, the rest at its end. */
function termsOf(seen: Seen, periods: ModelPeriod[]): PeriodTerms[] {
  const { sub, plans } = seen
  const changes = sub.changes
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.plan !== undefined || c.seats !== undefined || c.products !== undefined)
    .sort((a, b) => (a.c.at < b.c.at ? -1 : a.c.at > b.c.at ? 1 : a.i - b.i))
    .map(({ c }) => c)
  const apply = (t: Terms, c: Change): Terms => {
    const plan = c.plan !== undefined && plans[c.plan] ? c.plan : t.plan
    return { plan, seats: c.seats ?? t.seats, products: offeredBy(plans, plan, c.products ?? t.products) }
  }
  let current: Terms = { plan: sub.plan, seats: sub.seats, products: offeredBy(plans, sub.plan, sub.products) }
  let pending: Terms | null = null
  let next = 0
  return periods.map((p) => {
    if (pending) current = pending
    pending = null
    let start = current
    const upgrades: PeriodTerms['upgrades'] = []
    for (; next < changes.length && changes[next]!.at < p.endDate; next++) {
      const c = changes[next]!
      const target = apply(pending ?? current, c)
      if (c.at <= p.startDate) {
        current = start = target
        pending = null
        continue
      }
      const raised = baseAndSeats(plans, target, p) > baseAndSeats(plans, current, p)
      const base = raised ? target : current
      const now: Terms = { plan: base.plan, seats: base.seats, products: offeredBy(plans, base.plan, [...current.products, ...target.products]) }
      if (!same(now, current)) {
        upgrades.push({ at: c.at, change: c, before: current, after: now })
        current = now
      }
      pending = same(target, current) ? null : target
    }
    return { start, end: current, upgrades }
  })
}

// ---------- lines ----------

function rangeOf(plan: ModelPlan, contacts: number): { index: number; price: number; upTo: number | null } {
  for (let i = 0; i < plan.contactRanges.length; i++) {
    const r = plan.contactRanges[i]!
    if (r.upTo === null || contacts <= r.upTo) return { index: i, price: r.price, upTo: r.upTo }
  }
  const i = plan.contactRanges.length - 1
  const r = plan.contactRanges[i]
  return r ? { index: i, price: r.price, upTo: r.upTo } : { index: -1, price: 0, upTo: null }
}

/** The recurring fees of terms over a period, or its last `days` days, as lines (sign -1: the credit of unused time). */
function fees(plans: Record<string, ModelPlan>, t: Terms, contacts: number, p: ModelPeriod, sign: 1 | -1, days = p.days): ModelLine[] {
  const plan = plans[t.plan]!
  const d = p.cycle === 'monthly' ? 0 : (plan.discount[p.cycle] ?? 0)
  const lines: ModelLine[] = [{ kind: 'base', period: p.index, amount: amount(sign, plan.basePrice, p.months, d, days, p.days) }]
  if (t.seats > 0) lines.push({ kind: 'seats', period: p.index, amount: amount(sign * t.seats, plan.seatPrice, p.months, d, days, p.days) })
  for (const id of t.products)
    lines.push({ kind: 'product', product: id, period: p.index, amount: amount(sign, plan.products[id]!, p.months, d, days, p.days) })
  if (plan.contactRanges.length > 0)
    lines.push({ kind: 'contacts', period: p.index, amount: amount(sign, rangeOf(plan, contacts).price, p.months, d, days, p.days) })
  return lines
}

// ---------- the model ----------

interface State {
  p: ModelPeriod
  terms: PeriodTerms
  alerts: number
  maxContacts: number | null
  lastContacts: number | null
  contactsStart: number
  contactsEnd: number
  /** Rebalances: the day, the count after, and the segments of days it charges, each with the count paid before. */
  rebalances: { day: string; after: number; range: number; key: string; segments: { from: string; to: string; paid: number }[] }[]
}

/** The contacts count a finalized recurring invoice billed period `index` at, from the model's memory of it. */
type Memory = Map<string, ModelInvoice>

function states(seen: Seen, periods: ModelPeriod[], finalized: Memory): State[] {
  const terms = termsOf(seen, periods)
  const out: State[] = []
  let paid = seen.sub.contacts
  periods.forEach((p, i) => {
    const pt = terms[i]!
    let alerts = 0
    let maxContacts: number | null = null
    let lastContacts: number | null = null
    const readings: [string, number][] = []
    for (let d = p.startDate; d < p.endDate; d = nextDate(d)) {
      const row = seen.days.get(d)
      if (!row) continue
      alerts += row.alerts
      if (row.contacts !== undefined) {
        maxContacts = Math.max(maxContacts ?? 0, row.contacts)
        lastContacts = row.contacts
        readings.push([d, row.contacts])
      }
    }
    const prev = out[i - 1]
    if (prev) paid = prev.lastContacts ?? prev.contactsEnd
    const billed = finalized.get(`recurring:${i}`)?.detail as { contacts?: number } | undefined
    if (billed?.contacts !== undefined) paid = billed.contacts
    const contactsStart = paid
    const rebalances: State['rebalances'] = []
    if (p.months > 1) {
      const planOn = (day: string) => {
        let t = pt.start
        for (const u of pt.upgrades) if (u.at <= day) t = u.after
        return seen.plans[t.plan]!
      }
      const range = (day: string, c: number) => rangeOf(planOn(day), c).index
      // Rebalances already invoiced are facts: from their day on, the term is paid at their count.
      const facts = [...finalized.values()]
        .filter((f) => f.kind === 'rebalance' && (f.detail as { period: number }).period === i)
        .map((f) => ({ ...(f.detail as { day: string; after: number }), key: f.key }))
        .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
      const days = [...new Set([...readings.map(([d]) => d), ...facts.map((f) => f.day)])].sort()
      for (const day of days) {
        for (const f of facts) {
          if (f.day !== day || range(day, f.after) <= range(day, paid)) continue
          rebalances.push({ day, after: f.after, range: range(day, f.after), key: f.key, segments: [{ from: day, to: p.endDate, paid }] })
          paid = f.after
        }
        const reading = readings.find(([d]) => d === day)?.[1]
        if (reading === undefined || range(day, reading) <= range(day, paid)) continue
        // Day by day, from the reading to the term's end: what each day was paid at, and the stretches of equal pay.
        const r = range(day, reading)
        const segments: { from: string; to: string; paid: number }[] = []
        let was = paid
        for (let d = day; d < p.endDate; d = nextDate(d)) {
          for (const f of facts) if (f.day === d && d > day && range(d, f.after) > range(d, was)) was = f.after
          if (range(d, was) >= r) break
          const seg = segments[segments.length - 1]
          if (seg && seg.paid === was && seg.to === d) seg.to = nextDate(d)
          else segments.push({ from: d, to: nextDate(d), paid: was })
        }
        let key = `rebalance:${i}:${r}`
        if (facts.some((f) => f.key === key)) key = `${key}:${day}`
        rebalances.push({ day, after: reading, range: r, key, segments })
        paid = reading
      }
    }
    out.push({ p, terms: pt, alerts, maxContacts, lastContacts, contactsStart, contactsEnd: paid, rebalances })
  })
  return out
}

function contactsOn(s: State, day: string): number {
  let c = s.contactsStart
  for (const r of s.rebalances) if (r.day < day) c = r.after
  return c
}

/** What a closed period's usage costs: alerts beyond the included ones, the contacts above the paid range. */
function arrears(seen: Seen, s: State): ModelLine[] {
  const plan = seen.plans[s.terms.end.plan]!
  const lines: ModelLine[] = []
  const over = s.alerts - plan.includedAlerts * s.p.months
  if (over > 0) lines.push({ kind: 'usage', meter: 'alerts', period: s.p.index, amount: Math.ceil(over / plan.alertOverage.per) * plan.alertOverage.price })
  if (s.maxContacts !== null) {
    const from = rangeOf(plan, s.contactsEnd)
    const to = rangeOf(plan, s.maxContacts)
    if (to.index > from.index && to.price > from.price) {
      const d = s.p.cycle === 'monthly' ? 0 : (plan.discount[s.p.cycle] ?? 0)
      lines.push({ kind: 'contacts_excess', meter: 'contacts', period: s.p.index, amount: amount(1, to.price - from.price, s.p.months, d) })
    }
  }
  return lines
}

/** The upgrade key: the period, the change's day and what it sets (docs/billing.md, "Invoices"). */
function upgradeKey(index: number, c: Change): string {
  const parts = [`upgrade:${index}:${c.at}`]
  if (c.plan !== undefined) parts.push(`plan=${c.plan}`)
  if (c.seats !== undefined) parts.push(`seats=${c.seats}`)
  if (c.products !== undefined) parts.push(`products=${[...new Set(c.products)].sort().join('+')}`)
  return parts.join(':')
}

const escapeId = (id: string) => id.replaceAll('%', '%25').replaceAll(':', '%3A')

/**
 * One billing run at `asOf`: the invoices due and not finalized yet, finalized into `memory`
 * (which the next run sees). Returns the run's invoices.
 */
export function modelRun(seen: Seen, asOf: number, memory: Memory): ModelInvoice[] {
  const { plans, zone } = seen
  const periods = modelPeriods(seen.sub, zone, nextDate(dateIn(asOf, zone))).filter((p) => p.start <= asOf)
  const ss = states(seen, periods, memory)
  const due: ModelInvoice[] = []
  /** Arrears billed so far, by period and meter (amounts). */
  const billed = new Map<string, number>()
  const record = (inv: ModelInvoice) => {
    for (const l of inv.lines)
      if (l.kind === 'usage' || l.kind === 'contacts_excess' || l.kind === 'adjustment') {
        const k = `${l.period}:${l.meter}`
        billed.set(k, (billed.get(k) ?? 0) + l.amount)
      }
  }
  const emit = (inv: ModelInvoice) => {
    if (inv.issuedAt > asOf) return
    const known = memory.get(inv.key)
    if (known) return known
    if (inv.lines.length === 0) return undefined
    inv.total = inv.lines.reduce((n, l) => n + l.amount, 0)
    due.push(inv)
    return inv
  }
  // A period is settled once an earlier run finalized the recurring invoice two periods after it
  // (docs/rules.md §5, "Settled periods"): nothing is issued for it and nothing re-prices it.
  const settled = (q: number) =>
    [...memory.keys()].some((key) => {
      const m = /^recurring:(\d+)/.exec(key)
      return m !== null && Number(m[1]) >= q + 2
    })
  const adjustmentsUpTo = (last: number): ModelLine[] => {
    const lines: ModelLine[] = []
    for (let q = 0; q <= last; q++) {
      const s = ss[q]
      if (!s || settled(q)) continue
      const now = new Map(arrears(seen, s).map((l) => [l.meter!, l.amount]))
      for (const meter of ['alerts', 'contacts']) {
        const diff = (now.get(meter) ?? 0) - (billed.get(`${q}:${meter}`) ?? 0)
        if (diff !== 0) lines.push({ kind: 'adjustment', meter, period: q, amount: diff })
      }
    }
    return lines
  }
  let minimum: number | null = null
  const recurring = (k: number, advance: State | undefined, closed: State | undefined, issuedAt: number) => {
    const key = `recurring:${k}`
    let inv = memory.get(key)
    if (!inv) {
      const lines: ModelLine[] = []
      const contacts = advance?.contactsStart ?? 0
      if (advance) lines.push(...fees(plans, advance.terms.start, contacts, advance.p, 1))
      if (closed) lines.push(...arrears(seen, closed))
      lines.push(...adjustmentsUpTo(k - 2))
      if (advance && k > 0 && minimum !== null) {
        const own = lines.filter((l) => ['base', 'seats', 'product', 'contacts'].includes(l.kind)).reduce((n, l) => n + l.amount, 0)
        const plan = plans[advance.terms.start.plan]!
        const d = advance.p.cycle === 'monthly' ? 0 : (plan.discount[advance.p.cycle] ?? 0)
        const floor = amount(1, minimum, advance.p.months, d)
        if (own < floor) lines.push({ kind: 'minimum', period: advance.p.index, amount: floor - own })
      }
      const detail = advance && plans[advance.terms.start.plan]!.contactRanges.length > 0 ? { contacts } : {}
      inv = { key, kind: 'recurring', issuedAt, lines, total: 0, detail }
      if (issuedAt > asOf) return
      if (!emit(inv)) return
    }
    if (k === 0 && advance) {
      // The first invoice's monthly recurring fees before discount: its units times their monthly prices.
      const t = advance.terms.start
      const plan = plans[t.plan]!
      minimum =
        plan.basePrice +
        t.seats * plan.seatPrice +
        t.products.reduce((n, id) => n + plan.products[id]!, 0) +
        (plan.contactRanges.length > 0 ? rangeOf(plan, advance.contactsStart).price : 0)
      const billedAt = (memory.get('recurring:0')?.detail as { minimum?: number } | undefined)?.minimum
      if (billedAt !== undefined) minimum = billedAt
      ;(inv.detail as { minimum?: number }).minimum = minimum
    }
    record(inv)
  }

  ss.forEach((s, i) => {
    const p = s.p
    recurring(i, s, ss[i - 1], p.start)
    const within: ModelInvoice[] = []
    const keys = new Set<string>()
    for (const u of s.terms.upgrades) {
      const contacts = contactsOn(s, u.at)
      const days = daysFrom(u.at, p.endDate)
      const lines = [...fees(plans, u.before, contacts, p, -1, days), ...fees(plans, u.after, contacts, p, 1, days)]
      let key = upgradeKey(i, u.change)
      for (let n = 2; keys.has(key); n++) key = `${upgradeKey(i, u.change)}#${n}`
      keys.add(key)
      within.push({ key, kind: 'upgrade', issuedAt: firstInstant(u.at, zone), lines, total: 0 })
    }
    const replaced = [...memory.values()].filter((f) => f.kind === 'upgrade' && (f.detail as { period: number }).period === i && !keys.has(f.key))
    const draft = within.find((w) => !memory.has(w.key))
    if (draft) for (const f of replaced) for (const l of f.lines) draft.lines.push({ ...l, amount: -l.amount })
    for (const w of within) w.detail = { period: i }
    for (const r of s.rebalances) {
      let t = s.terms.start
      for (const u of s.terms.upgrades) if (u.at <= r.day) t = u.after
      const plan = plans[t.plan]!
      const d = p.cycle === 'monthly' ? 0 : (plan.discount[p.cycle] ?? 0)
      const lines: ModelLine[] = []
      for (const g of r.segments) {
        const days = daysFrom(g.from, g.to)
        lines.push({ kind: 'contacts', period: i, amount: amount(-1, rangeOf(plan, g.paid).price, p.months, d, days, p.days) })
        lines.push({ kind: 'contacts', period: i, amount: amount(1, rangeOf(plan, r.after).price, p.months, d, days, p.days) })
      }
      within.push({
        key: r.key,
        kind: 'rebalance',
        issuedAt: firstInstant(nextDate(r.day), zone),
        lines,
        total: 0,
        detail: { period: i, day: r.day, after: r.after },
      })
    }
    if (!settled(i)) for (const w of within) emit(w)
    if (p.last && p.end <= asOf) {
      recurring(i + 1, undefined, s, p.end)
      if (memory.has(`recurring:${i + 1}`) || due.some((d) => d.key === `recurring:${i + 1}`)) {
        for (let n = 1; ; n++) {
          const key = `recurring:${i + 1}:late:${n}`
          const done = memory.get(key)
          if (done) {
            record(done)
            continue
          }
          // Not the run that issued the final invoice: late usage is what arrived after it.
          if (!memory.has(`recurring:${i + 1}`)) break
          const lines = adjustmentsUpTo(i)
          if (lines.length > 0) emit({ key, kind: 'recurring', issuedAt: asOf, lines, total: 0 })
          break
        }
      }
    }
  })
  for (const b of seen.purchases) {
    if (b.at > asOf) continue
    const plan = plans[termsAtInstant(seen, ss, b.at)]!
    const pack = plan.packs[b.pack]
    if (!pack) continue
    emit({ key: `credits:purchase:${escapeId(b.id)}`, kind: 'credits', issuedAt: b.at, lines: [{ kind: 'credits', period: -1, amount: pack.price }], total: 0 })
  }
  for (const inv of due) memory.set(inv.key, inv)
  return due
}

/** The plan in force at an instant (for a pack's price). */
function termsAtInstant(seen: Seen, ss: State[], at: number): string {
  const s = ss.find((x) => x.p.start <= at && at < x.p.end) ?? ss[ss.length - 1]
  if (!s) return seen.sub.plan
  let t = s.terms.start
  for (const u of s.terms.upgrades) if (firstInstant(u.at, seen.zone) <= at) t = u.after
  return t.plan
}
