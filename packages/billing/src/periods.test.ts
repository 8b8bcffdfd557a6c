/**
 * The period in force is computed, not walked (docs/performance.md, "Periods"): the same answers
 * as the walk from the subscription's first period (`testing/walk.ts`, the code it replaced) over
 * random subscriptions: starts on month ends and 29 Feb, zones with DST (at midnight too, and
 * Apia's skipped day), every cycle, plan, seat, product and cycle changes, cancellations.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Cycle } from '@tally/protocol'
import {
  addMonthsClamped,
  allPeriods,
  monthSliceAt,
  monthSlices,
  periodAt,
  periodByIndex,
  periodOn,
  periods,
  startOfDay,
  subscriptionEnd,
  type BillingSubscription,
  type SubscriptionChange,
} from './period.js'
import { periodTermsAt, termsAt, termsTimeline, type BillingAccount } from './rating.js'
import { emailMonthAt, emailWindow, emailsAt, type Invoice } from './invoice.js'
import { creditsDue, openLedger, replay } from './ledger.js'
import type { UsageRow } from './meters.js'
import { growth, pro } from './testing/plans.js'
import {
  walkEmailMonthAt,
  walkEmailWindow,
  walkEmailsAt,
  walkMonthSlices,
  walkPeriodAt,
  walkPeriodByIndex,
  walkPeriods,
  walkSubscriptionEnd,
  walkTermsAt,
  walkTermsTimeline,
} from './testing/walk.js'

const DAY = 86_400_000
const ZONES = [
  'UTC',
  'Europe/Amsterdam',
  'America/New_York',
  'America/Sao_Paulo',
  'America/Santiago',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Apia',
  'Pacific/Chatham',
  'America/St_Johns',
  'Asia/Tehran',
]
const CYCLES: Cycle[] = ['monthly', 'quarterly', 'semiannual', 'annual']
const small = { ...growth, basePrice: 900 }
const plans = { growth, pro, small }

const day = (y: number, m: number, d: number) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`
/** Start days: month ends, 29 Feb, DST change days, any day. */
const startDay = fc.oneof(
  fc
    .record({ y: fc.integer({ min: 2008, max: 2030 }), m: fc.integer({ min: 1, max: 12 }), d: fc.constantFrom(28, 29, 30, 31) })
    .map(({ y, m, d }) => day(y, m, Math.min(d, new Date(Date.UTC(y, m, 0)).getUTCDate()))),
  fc.constantFrom('2012-02-29', '2016-02-29', '2024-02-29', '2011-12-29', '2011-12-31', '2026-03-29', '2026-10-25', '2026-03-08', '2026-11-01'),
  fc
    .record({ y: fc.integer({ min: 2008, max: 2030 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }) })
    .map(({ y, m, d }) => day(y, m, d)),
)
/** A change dated some days from the start (before it too), or on a boundary. */
const change = (start: string): fc.Arbitrary<SubscriptionChange & { products?: string[] }> =>
  fc
    .record({
      days: fc.oneof(
        fc.integer({ min: -40, max: 3700 }),
        fc.integer({ min: 0, max: 120 }).map((k) => -k - 1000),
      ),
      boundary: fc.boolean(),
      months: fc.integer({ min: 0, max: 120 }),
      plan: fc.option(fc.constantFrom('growth', 'pro', 'small', 'gone'), { nil: undefined }),
      seats: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
      products: fc.option(fc.subarray(['data', 'push', 'other']), { nil: undefined }),
      cycle: fc.option(fc.constantFrom(...CYCLES), { nil: undefined }),
    })
    .map(({ days, boundary, months, plan, seats, products, cycle }) => {
      const at = boundary
        ? addMonthsClamped(start, months)
        : days <= -1000
          ? addMonthsClamped(start, days + 1000)
          : new Date(Date.parse(start) + days * DAY).toISOString().slice(0, 10)
      const c: SubscriptionChange & { products?: string[] } = { at }
      if (plan !== undefined) c.plan = plan
      if (seats !== undefined) c.seats = seats
      if (products !== undefined) c.products = products
      if (cycle !== undefined) c.cycle = cycle
      return c
    })
const account: fc.Arbitrary<BillingAccount> = startDay.chain((start) =>
  fc
    .record({
      zone: fc.constantFrom(...ZONES),
      cycle: fc.constantFrom(...CYCLES),
      seats: fc.integer({ min: 0, max: 4 }),
      products: fc.subarray(['data', 'push']),
      changes: fc.array(change(start), { maxLength: 6 }),
      cancel: fc.option(fc.integer({ min: -10, max: 3000 }), { nil: undefined }),
    })
    .map(({ zone, cycle, seats, products, changes, cancel }) => {
      const subscription: BillingSubscription = { plan: 'growth', cycle, start, seats, contacts: 1200, products, changes }
      if (cancel !== undefined) subscription.cancelledAt = new Date(Date.parse(start) + cancel * DAY).toISOString().slice(0, 10)
      return { timezone: zone, subscription, plans }
    }),
)
/** Instants around the subscription: any hour, and the instants next to local midnights. */
const instants = (a: BillingAccount) =>
  fc.array(
    fc.oneof(
      fc.integer({ min: -60, max: 3800 * 24 }).map((h) => Date.parse(a.subscription.start) + h * 3_600_000 + 1234),
      fc
        .tuple(fc.integer({ min: -2, max: 125 }), fc.constantFrom(-1, 0, 1))
        .map(([k, d]) => startOfDay(addMonthsClamped(a.subscription.start, k), a.timezone) + d),
    ),
    { minLength: 1, maxLength: 8 },
  )

const runs = Number(process.env.PERIOD_RUNS ?? 300)

describe('the period in force, computed', () => {
  it('gives the periods, the months and the end the walk from the first period gives', () => {
    fc.assert(
      fc.property(
        account.chain((a) => fc.tuple(fc.constant(a), instants(a))),
        ([a, ats]) => {
          const sub = a.subscription
          const zone = a.timezone
          const walked = [...take(walkPeriods(sub, zone), 140)]
          expect([...take(allPeriods(sub, zone), 140)]).toEqual(walked)
          expect(subscriptionEnd(sub, zone)).toBe(walkSubscriptionEnd(sub, zone))
          for (const i of [0, 1, 2, 7, 50, 130]) expect(periodByIndex(sub, zone, i)).toEqual(walkPeriodByIndex(sub, zone, i))
          for (const p of walked.slice(0, 30)) expect(periodOn(sub, zone, p.startDate)).toEqual(p)
          for (const at of ats) {
            expect(periodAt(sub, zone, at)).toEqual(walkPeriodAt(sub, zone, at))
            const slices = walkMonthSlices(sub, zone, at + 1)
            expect(monthSliceAt(sub, zone, at)).toEqual(walkPeriodAt(sub, zone, at) ? (slices.find((s) => s.start <= at && at < s.end) ?? null) : null)
            expect(monthSlices(sub, zone, at + 1)).toEqual(slices)
            expect(monthSlices(sub, zone, at + 90 * DAY, at)).toEqual(walkMonthSlices(sub, zone, at + 90 * DAY).filter((s) => s.start > at))
            const from = at - 400 * DAY
            expect(periods(sub, zone, from, at)).toEqual(walked.filter((p) => p.start < at && p.end > from))
          }
        },
      ),
      { numRuns: runs },
    )
  })

  it('gives the terms in force, upgrades and pending changes included, that the walk gives', () => {
    fc.assert(
      fc.property(
        account.chain((a) => fc.tuple(fc.constant(a), instants(a))),
        ([a, ats]) => {
          expect([...take(termsTimeline(a), 130)]).toEqual([...take(walkTermsTimeline(a), 130)])
          for (const at of ats) {
            expect(termsAt(a, at)).toEqual(walkTermsAt(a, at))
            const pt = periodTermsAt(a, at)
            expect(pt).toEqual([...take(walkTermsTimeline(a), 140)].find((t) => t.period.start <= at && at < t.period.end) ?? null)
          }
        },
      ),
      { numRuns: runs },
    )
  })

  it('checks emails against the same window, quota, month and sends as the walk, from a window or from all the data', () => {
    fc.assert(
      fc.property(
        account.chain((a) =>
          fc.tuple(
            fc.constant(a),
            instants(a),
            fc.array(
              fc.record({
                d: fc.integer({ min: -5, max: 3700 }),
                emails: fc.integer({ min: 0, max: 9000 }),
                contacts: fc.option(fc.integer({ min: 0, max: 9000 }), { nil: undefined }),
              }),
              { maxLength: 25 },
            ),
            fc.array(fc.record({ k: fc.integer({ min: 0, max: 110 }), contacts: fc.integer({ min: 0, max: 9000 }) }), { maxLength: 4 }),
          ),
        ),
        ([a, ats, rowSpecs, billed]) => {
          const start = Date.parse(a.subscription.start)
          const usage: UsageRow[] = rowSpecs.map(({ d, emails, contacts }) => ({
            day: new Date(start + d * DAY).toISOString().slice(0, 10),
            emails,
            ...(contacts === undefined ? {} : { contacts }),
          }))
          const finalized = billed.map(
            ({ k, contacts }) =>
              ({
                key: `recurring:${k}`,
                kind: 'recurring',
                status: 'finalized',
                number: k + 1,
                currency: 'EUR',
                issuedAt: start,
                issuedDate: a.subscription.start,
                period: null,
                total: 0,
                amountUnit: 'minor',
                lines: [{ kind: 'contacts', quantity: 1, contacts, period: { index: k } }],
              }) as unknown as Invoice,
          )
          const data = { usage, finalized, emailGrants: [] }
          for (const at of ats) {
            const w = emailWindow(a, at)
            expect(w).toEqual(walkEmailWindow(a, at))
            expect(emailMonthAt(a, at)).toBe(walkEmailMonthAt(a, at))
            expect(emailsAt(a, data, at)).toEqual(walkEmailsAt(a, data, at))
            if (w) {
              const window = {
                usage: usage.filter((r) => r.day >= w.fromDay && r.day < w.toDay),
                finalized: finalized.filter((i) => w.invoiceKeys.includes(i.key)),
                emailGrants: [],
              }
              expect(emailsAt(a, window, at)).toEqual(walkEmailsAt(a, window, at))
            }
          }
        },
      ),
      { numRuns: runs },
    )
  })

  it('grants the free credits of the same months from an open ledger as from the whole log', () => {
    fc.assert(
      fc.property(
        account.chain((a) => fc.tuple(fc.constant(a), instants(a))),
        ([a, ats]) => {
          const sorted = [...ats].sort((x, y) => x - y)
          let log = replay([])
          let open = openLedger(log)
          for (const at of sorted) {
            const due = creditsDue(a, log, at)
            expect(creditsDue(a, open, at)).toEqual(due)
            log = replay([...log.entries.values(), ...due])
            open = openLedger(log)
          }
        },
      ),
      { numRuns: Math.ceil(runs / 3) },
    )
  })
})

function* take<T>(it: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return
  let i = 0
  for (const x of it) {
    yield x
    if (++i >= n) return
  }
}
