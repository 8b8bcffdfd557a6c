/**
 * Generated account histories for the billing oracle: a subscription (plan, cycle, seats,
 * products, declared contacts, zone), its changes (plans, seats, products, cycles), perhaps a
 * cancellation, perhaps an edit of a past change, and usage that arrives over a year (alerts,
 * contact readings, some dated up to 71 hours before they arrive), credit purchases and transfers,
 * and billing runs at each boundary and in between. The same history drives the collector and the
 * model (test/oracle/model.ts).
 */
import fc from 'fast-check'
import { firstInstant, plusMonths, type Change, type Cycle, type ModelPlan, type Sub } from './model.js'

/** The plans, as the model reads them; `toPlan` gives the configuration's form. */
export const MODEL_PLANS: Record<string, ModelPlan> = {
  growth: {
    currency: 'EUR',
    basePrice: 4900,
    seatPrice: 1500,
    includedAlerts: 5,
    alertOverage: { per: 2, price: 3 },
    contactRanges: [
      { upTo: 1000, price: 0 },
      { upTo: 5000, price: 2900 },
      { upTo: null, price: 9900 },
    ],
    products: { data: 1900, push: 500 },
    discount: { quarterly: 5, semiannual: 10, annual: 20 },
    packs: { small: { credits: 1000, price: 1000 } },
  },
  pro: {
    currency: 'EUR',
    basePrice: 9900,
    seatPrice: 2000,
    includedAlerts: 10,
    alertOverage: { per: 1, price: 2 },
    contactRanges: [
      { upTo: 2000, price: 1000 },
      { upTo: 8000, price: 4000 },
      { upTo: null, price: 12000 },
    ],
    products: { data: 2900, push: 500 },
    discount: { quarterly: 5, semiannual: 10, annual: 15 },
    packs: { small: { credits: 1000, price: 1000 } },
  },
  flat: {
    currency: 'EUR',
    basePrice: 3000,
    seatPrice: 1000,
    includedAlerts: 3,
    alertOverage: { per: 5, price: 7 },
    contactRanges: [],
    products: { push: 700 },
    discount: { quarterly: 3, annual: 10 },
    packs: { small: { credits: 1000, price: 1000 } },
  },
}

export const ZONES = ['UTC', 'Europe/Amsterdam', 'America/Havana', 'Atlantic/Azores', 'Asia/Kolkata', 'America/New_York']

export type Happening =
  | { kind: 'alerts'; arrives: number; ts: number; count: number; id: string }
  | { kind: 'contacts'; arrives: number; ts: number; count: number; id: string }
  | { kind: 'purchase'; arrives: number; id: string }
  | { kind: 'transfer'; arrives: number; id: string; credits: number }
  | { kind: 'edit'; arrives: number }
  | { kind: 'run'; arrives: number }

export interface History {
  zone: string
  /** The subscription before the edit, and after it (the same when there is none). */
  before: Sub
  after: Sub
  /** Everything that happens, in order of arrival. */
  happenings: Happening[]
  /** The last instant of the account-year. */
  end: number
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const CYCLES: Cycle[] = ['monthly', 'quarterly', 'semiannual', 'annual']
const COUNTS = [0, 600, 1000, 1200, 2500, 3000, 5000, 6000, 9000]

const day = (start: string, offset: number) => new Date(Date.parse(`${start}T00:00:00Z`) + offset * DAY).toISOString().slice(0, 10)

const changeArb = fc.record({
  offset: fc.integer({ min: -5, max: 370 }),
  what: fc.constantFrom('seats', 'plan', 'products', 'cycle', 'plan+seats', 'seats+products'),
  seats: fc.integer({ min: 0, max: 5 }),
  plan: fc.constantFrom('growth', 'pro', 'flat'),
  products: fc.subarray(['data', 'push']),
  cycle: fc.constantFrom(...CYCLES),
})

const eventArb = fc.record({
  kind: fc.constantFrom('alerts', 'alerts', 'contacts', 'contacts', 'purchase', 'transfer', 'pair'),
  offset: fc.integer({ min: 0, max: 366 }),
  hour: fc.integer({ min: 0, max: 23 }),
  delay: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 71 })),
  count: fc.integer({ min: 1, max: 9 }),
  contacts: fc.constantFrom(...COUNTS),
})

export const historyArb: fc.Arbitrary<History> = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    start: fc.record({ m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 31 }) }),
    plan: fc.constantFrom('growth', 'growth', 'pro', 'flat'),
    cycle: fc.constantFrom(...CYCLES),
    seats: fc.integer({ min: 0, max: 4 }),
    contacts: fc.constantFrom(...COUNTS),
    products: fc.subarray(['data', 'push']),
    changes: fc.array(changeArb, { maxLength: 3 }),
    cancel: fc.option(fc.integer({ min: -10, max: 400 }), { nil: undefined, freq: 3 }),
    edit: fc.option(fc.record({ change: fc.nat(), seats: fc.integer({ min: 0, max: 6 }), after: fc.integer({ min: 0, max: 40 }) }), {
      nil: undefined,
      freq: 2,
    }),
    events: fc.array(eventArb, { maxLength: 24 }),
    runs: fc.array(fc.integer({ min: 0, max: 370 * 24 }), { maxLength: 6 }),
    late: fc.integer({ min: 0, max: 30 }),
  })
  .map((g) => {
    const m = g.start.m
    const d = Math.min(g.start.d, [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!)
    const start = `2026-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
    const changes: Change[] = g.changes.map((c) => {
      const out: Change = { at: day(start, c.offset) }
      if (c.what.includes('seats')) out.seats = c.seats
      if (c.what.includes('plan')) out.plan = c.plan
      if (c.what.includes('products')) out.products = c.products
      if (c.what === 'cycle') out.cycle = c.cycle
      return out
    })
    const before: Sub = {
      plan: g.plan,
      cycle: g.cycle,
      start,
      seats: g.seats,
      contacts: g.contacts,
      products: g.products,
      changes,
      ...(g.cancel === undefined ? {} : { cancelledAt: day(start, g.cancel) }),
    }
    const t0 = firstInstant(start, g.zone)
    const end = firstInstant(plusMonths(start, 12), g.zone) + 2 * DAY
    const happenings: Happening[] = []
    let after = before
    const edited = g.edit && changes.length > 0 ? g.edit.change % changes.length : -1
    const target = edited >= 0 ? changes[edited] : undefined
    if (g.edit && target) {
      after = { ...before, changes: changes.map((c, i) => (i === edited ? { ...c, seats: g.edit!.seats } : c)) }
      happenings.push({ kind: 'edit', arrives: Math.max(t0, firstInstant(target.at, g.zone)) + g.edit.after * DAY + 5 * HOUR })
    }
    g.events.forEach((e, i) => {
      const arrives = t0 + e.offset * DAY + e.hour * HOUR + 17 * 60_000
      const ts = arrives - e.delay * HOUR
      const id = `ev-${i}${i % 4 === 0 ? ':x' : ''}`
      if (e.kind === 'alerts') happenings.push({ kind: 'alerts', arrives, ts, count: e.count, id })
      else if (e.kind === 'contacts') happenings.push({ kind: 'contacts', arrives, ts, count: e.contacts, id })
      else if (e.kind === 'pair') {
        // Out of order around a run: a reading, a run the next day (its rebalance is due at midnight),
        // then a reading dated the day before the first (55 hours old, inside the 72-hour window).
        happenings.push({ kind: 'contacts', arrives, ts: arrives, count: e.contacts, id: `${id}a` })
        happenings.push({ kind: 'run', arrives: arrives + 30 * HOUR })
        happenings.push({
          kind: 'contacts',
          arrives: arrives + 31 * HOUR,
          ts: arrives - 24 * HOUR,
          count: COUNTS[(e.count * 7) % COUNTS.length]!,
          id: `${id}b`,
        })
      } else if (e.kind === 'purchase') happenings.push({ kind: 'purchase', arrives, id })
      else happenings.push({ kind: 'transfer', arrives, id, credits: 50 * e.count })
    })
    // A run shortly after each boundary of the anchor calendar, a few at any time, and one at the end.
    for (let k = 1; k <= 12; k++) happenings.push({ kind: 'run', arrives: firstInstant(plusMonths(start, k), g.zone) + ((g.late * (k + 1)) % 31) * HOUR })
    for (const h of g.runs) happenings.push({ kind: 'run', arrives: t0 + h * HOUR })
    happenings.push({ kind: 'run', arrives: end })
    const order = { edit: 0, alerts: 1, contacts: 1, purchase: 1, transfer: 1, run: 2 } as const
    const kept = happenings.filter((h) => h.arrives <= end)
    kept.sort((a, b) => a.arrives - b.arrives || order[a.kind] - order[b.kind])
    return { zone: g.zone, before, after, happenings: kept, end }
  })

/** The configuration form of a model plan. */
export function toPlan(p: ModelPlan) {
  return {
    currency: p.currency,
    basePrice: p.basePrice,
    seatPrice: p.seatPrice,
    included: { alerts: p.includedAlerts },
    overage: { alerts: p.alertOverage },
    contactRanges: p.contactRanges,
    emailsPerContact: 4,
    freeCredits: 500,
    creditCosts: { sms: 2 },
    creditPacks: p.packs,
    products: Object.fromEntries(Object.entries(p.products).map(([id, price]) => [id, { price }])),
    cycleDiscountPercent: p.discount,
  }
}
