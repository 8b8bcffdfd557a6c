/** Invoice keys after upgrades, finalizing, the current period, and the properties every run of invoices keeps. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Plan } from '@tally/protocol'
import { growth, pro } from './testing/plans.js'
import {
  computeInvoices,
  finalize,
  invoicesDue,
  nextNumber,
  periodSummary,
  preview,
  emailsAt,
  emailMonthAt,
  runBilling,
  upgradeKey,
  type BillingData,
} from './invoice.js'
import { rollupEvents, type MeterEvent, type UsageRow } from './meters.js'
import type { BillingAccount } from './rating.js'
import { daysBetween } from './period.js'
import { lineAmount } from './money.js'
import { account, none, utc } from './invoice.fixtures.js'

describe('upgrade invoice keys', () => {
  it('derives the key from the change, so a change back-dated before a finalized upgrade leaves its key alone', () => {
    const before = account({ changes: [{ at: '2026-07-25', seats: 5 }] })
    const first = runBilling(before, none, utc(2026, 7, 26))
    expect(first.invoices.map((i) => [i.key, i.number])).toEqual([
      ['recurring:0', 1],
      ['upgrade:0:2026-07-25:seats=5', 2],
    ])
    // The config gains an upgrade to pro on Jul 20, listed before the seats change of Jul 25.
    const after = account({
      changes: [
        { at: '2026-07-20', plan: 'pro' },
        { at: '2026-07-25', seats: 5 },
      ],
    })
    const stored: BillingData = { usage: [], ledger: first.ledger, finalized: first.invoices }
    const second = runBilling(after, stored, utc(2026, 8, 12))
    // Jul 20 - Aug 12 is 23 of 31 days: -3635 - 3339 + 7345 + 4452 = 4823. The seats invoice is not issued again.
    expect(second.invoices.map((i) => [i.key, i.number, i.total])).toEqual([
      ['upgrade:0:2026-07-20:plan=pro', 3, 4823],
      ['recurring:1', 4, 19900],
    ])
    expect(computeInvoices(after, stored, utc(2026, 8, 12)).find((i) => i.key === 'upgrade:0:2026-07-25:seats=5')).toBe(first.invoices[1])
  })

  it('recognises an upgrade invoice finalized under a positional key by its period and day', () => {
    const a = account({ changes: [{ at: '2026-07-25', seats: 5 }] })
    const first = runBilling(a, none, utc(2026, 7, 26))
    const positional = first.invoices.map((i) => (i.kind === 'upgrade' ? { ...i, key: 'upgrade:0:0' } : i))
    const next = runBilling(a, { usage: [], ledger: first.ledger, finalized: positional }, utc(2026, 8, 12))
    expect(next.invoices.map((i) => i.key)).toEqual(['recurring:1'])
  })

  it.each([
    [{ at: '2026-12-22', plan: 'pro' }, 'upgrade:5:2026-12-22:plan=pro'],
    [{ at: '2026-12-22', seats: 4, products: ['push', 'data', 'push'] }, 'upgrade:5:2026-12-22:seats=4:products=data+push'],
    [{ at: '2026-12-22', products: [] }, 'upgrade:5:2026-12-22:products='],
  ])('keys %j as %s', (change, key) => {
    expect(upgradeKey(5, change)).toBe(key)
  })
})

describe('finalizing', () => {
  it('numbers invoices without gaps and changes nothing when run again', () => {
    const a = account()
    const first = runBilling(a, none, utc(2026, 9, 12))
    expect(first.invoices.map((i) => [i.key, i.number, i.status])).toEqual([
      ['recurring:0', 1, 'finalized'],
      ['recurring:1', 2, 'finalized'],
      ['recurring:2', 3, 'finalized'],
    ])
    const stored: BillingData = { usage: [], ledger: first.ledger, finalized: first.invoices }
    expect(runBilling(a, stored, utc(2026, 9, 12))).toEqual({ ledger: [], invoices: [] })
    expect(runBilling(a, stored, utc(2026, 10, 12)).invoices.map((i) => i.number)).toEqual([4])
    expect(nextNumber([3, 1, 2])).toBe(4)
  })

  it('never changes a finalized invoice: late usage becomes an adjustment line on the next', () => {
    const a = account()
    const usage: UsageRow[] = [{ day: '2026-07-15', impressions: 100500 }]
    const run = runBilling(a, { usage, ledger: [] }, utc(2026, 8, 12))
    expect(run.invoices[1]?.total).toBe(9400 + 40)
    const late: BillingData = { usage: [...usage, { day: '2026-08-10', impressions: 1000 }], ledger: [], finalized: run.invoices }
    const all = computeInvoices(a, late, utc(2026, 9, 12))
    expect(all[1]).toBe(run.invoices[1])
    const adj = all[2]?.lines.find((l) => l.kind === 'adjustment')
    // 101500 over 100000 is 2 blocks; 1 was billed: 1 block more, 40
    expect(adj).toMatchObject({ meter: 'impressions', quantity: 1, unitPrice: 40, amount: 40, period: { startDate: '2026-07-12' } })
    expect(all[2]?.total).toBe(9400 + 40)
  })

  it('finalizes a draft under its number and leaves a finalized invoice alone', () => {
    const [draft] = invoicesDue(account(), none, utc(2026, 7, 12))
    if (!draft) throw new Error('no draft')
    const done = finalize(draft, 7)
    expect(done).toMatchObject({ status: 'finalized', number: 7, total: draft.total })
    expect(finalize(done, 8)).toBe(done)
  })
})

describe('the current period', () => {
  it('shows usage against the included quotas, the email quota left and the preview', () => {
    const a = account({}, 'Europe/Amsterdam')
    const s = periodSummary(a, { usage: [{ day: '2026-07-13', impressions: 10, emails: 100, contacts: 900 }], ledger: [] }, utc(2026, 7, 20))
    expect(s).toMatchObject({
      planId: 'growth',
      seats: 3,
      paidContacts: 1000,
      period: { startDate: '2026-07-12' },
      included: { impressions: 100000 },
      emails: { quota: 4000, granted: 0, sent: 100, left: 3900 },
    })
    expect(s?.meters.impressions).toBe(10)
    expect(s?.preview?.key).toBe('recurring:1')
  })

  it('adds the emails granted for the current month to the quota, and no grant of another month', () => {
    const a = account({}, 'Europe/Amsterdam')
    const usage = [{ day: '2026-07-13', emails: 4500, contacts: 900 }]
    const emailGrants = [
      { month: '2026-07-12', emails: 1000 },
      { month: '2026-07-12', emails: 500 },
      { month: '2026-08-12', emails: 9999 },
    ]
    expect(emailsAt(a, { usage, emailGrants }, utc(2026, 7, 20))).toEqual({ quota: 4000, granted: 1500, sent: 4500, left: 1000 })
    // August pays for July's 900 contacts, in the range up to 1000: the quota is for the range's 1000 (docs/rules.md §3).
    expect(emailsAt(a, { usage, emailGrants }, utc(2026, 8, 20))).toEqual({ quota: 4000, granted: 9999, sent: 0, left: 13999 })
    expect(emailsAt(a, { usage: [{ day: '2026-07-13', emails: 6000 }], emailGrants }, utc(2026, 7, 20))?.left).toBe(0)
  })

  it('invoices an email pack bought like a credit pack, at once, and a free grant not at all', () => {
    const a = account({}, 'Europe/Amsterdam')
    const at = utc(2026, 7, 20)
    const emailGrants = [
      { month: '2026-07-12', emails: 5000, id: 'purchase:p1', at, pack: { name: 'big', price: 1500, currency: 'EUR' } },
      { month: '2026-07-12', emails: 900, id: 'grant:g1', at },
    ]
    const due = invoicesDue(a, { usage: [], ledger: [], emailGrants }, at).filter((i) => i.kind === 'emails')
    expect(due).toHaveLength(1)
    expect(due[0]).toMatchObject({ key: 'emails:purchase:p1', issuedAt: at, issuedDate: '2026-07-20', currency: 'EUR', total: 1500 })
    expect(due[0]?.lines).toMatchObject([
      { kind: 'emails', description: 'Email pack big: 5000 emails', quantity: 1, unitPrice: 1500, amount: 1500, from: '2026-07-20', to: '2026-07-20' },
    ])
    expect(emailsAt(a, { usage: [], emailGrants }, at)).toMatchObject({ granted: 5900 })
  })

  it('keys a grant to the month of the anchor calendar holding its instant, and to none outside the subscription', () => {
    const a = account({ cycle: 'quarterly' }, 'Europe/Amsterdam')
    expect(emailMonthAt(a, utc(2026, 7, 20))).toBe('2026-07-12')
    expect(emailMonthAt(a, utc(2026, 9, 1))).toBe('2026-08-12')
    expect(emailMonthAt(a, utc(2026, 7, 1))).toBeNull()
  })
})

describe('invoice properties', () => {
  const row = fc.record({
    day: fc.integer({ min: 0, max: 91 }).map((d) => new Date(Date.UTC(2026, 6, 12) + d * 86_400_000).toISOString().slice(0, 10)),
    impressions: fc.nat(60000),
    engagements: fc.nat(3000),
    chatSessions: fc.nat(300),
    alerts: fc.nat(600),
    contacts: fc.option(fc.integer({ min: 0, max: 8000 }), { nil: undefined }),
  })
  const cycle = fc.constantFrom('monthly' as const, 'quarterly' as const)

  it('previews exactly the invoice that is finalized when the period closes', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), cycle, fc.integer({ min: 0, max: 80 }), (usage, c, at) => {
        const a = account({ cycle: c, changes: [{ at: '2026-08-01', plan: 'pro' }] }, 'Europe/Amsterdam')
        const t = Date.UTC(2026, 6, 12) + at * 86_400_000
        const p = preview(a, { usage, ledger: [] }, t)
        if (!p) throw new Error('no preview')
        const closed = runBilling(a, { usage, ledger: [] }, p.issuedAt).invoices.find((i) => i.key === p.key)
        expect(closed).toEqual({ ...p, status: 'finalized', number: closed?.number })
      }),
      { numRuns: 100 },
    )
  })

  it('gives every line columns that check: round(quantity x unit price x months x days/of) - discount = amount', () => {
    /** Half to even, written out again here so the check does not lean on the code it checks. */
    const halfEven = (num: bigint, den: bigint): bigint => {
      const q = num / den - (num % den < 0n ? 1n : 0n)
      const twice = 2n * (num - q * den)
      return twice > den || (twice === den && q % 2n !== 0n) ? q + 1n : q
    }
    const percent = fc.integer({ min: 0, max: 1000 }).map((n) => n / 10)
    const plan = fc
      .record({
        basePrice: fc.nat(20000),
        seatPrice: fc.nat(5000),
        data: fc.nat(7000),
        push: fc.nat(999),
        quarterly: percent,
        semiannual: percent,
        annual: percent,
      })
      .map(
        ({ basePrice, seatPrice, data, push, quarterly, semiannual, annual }): Plan => ({
          ...growth,
          basePrice,
          seatPrice,
          products: { data: { price: data }, push: { price: push } },
          cycleDiscountPercent: { quarterly, semiannual, annual },
        }),
      )
    const day = (n: number) => new Date(Date.UTC(2027, 0, 31) + n * 86_400_000).toISOString().slice(0, 10)
    const change = fc.record({
      at: fc.integer({ min: 0, max: 420 }).map(day),
      plan: fc.option(fc.constantFrom('growth', 'pro'), { nil: undefined }),
      seats: fc.option(fc.nat(6), { nil: undefined }),
      products: fc.option(fc.subarray(['data', 'push']), { nil: undefined }),
      cycle: fc.option(fc.constantFrom('monthly' as const, 'quarterly' as const, 'semiannual' as const, 'annual' as const), { nil: undefined }),
    })
    const usage = fc.array(
      fc.record({
        day: fc.integer({ min: 0, max: 420 }).map(day),
        impressions: fc.nat(250000),
        alerts: fc.nat(2500),
        contacts: fc.option(fc.integer({ min: 0, max: 8000 }), { nil: undefined }),
      }),
      { maxLength: 12 },
    )
    const cycle = fc.constantFrom('monthly' as const, 'quarterly' as const, 'semiannual' as const, 'annual' as const)
    fc.assert(
      fc.property(plan, plan, cycle, fc.array(change, { maxLength: 4 }), usage, fc.nat(3000), (g, p, c, changes, rows, contacts) => {
        const a: BillingAccount = {
          timezone: 'Europe/Amsterdam',
          plans: { growth: g, pro: p },
          subscription: { plan: 'growth', cycle: c, start: '2027-01-31', seats: 2, contacts, products: ['data'], changes },
        }
        const invoices = computeInvoices(a, { usage: rows, ledger: [] }, Date.UTC(2028, 3, 1))
        for (const inv of invoices) {
          expect(inv.lines.length).toBeGreaterThan(0)
          expect(inv.total).toBe(inv.lines.reduce((n, l) => n + l.amount, 0))
          for (const l of inv.lines) {
            const days = BigInt(l.proration?.days ?? 1)
            const of = BigInt(l.proration?.of ?? 1)
            const gross = BigInt(l.quantity) * BigInt(l.unitPrice) * BigInt(l.months) * days
            // The gross is rounded once, then the discount amount taken off (in that order: half to
            // even does not commute with subtracting an odd amount at a tie).
            expect(Number(halfEven(gross, of)) - l.discount).toBe(l.amount)
            // The discount is the cycle discount as an amount, within one minor unit of the exact one.
            const tenths = BigInt(Math.round(l.discountPercent * 10))
            const off = BigInt(l.discount) * of * 1000n - gross * tenths
            expect(off <= of * 1000n && off >= -of * 1000n).toBe(true)
            // And the amount is the one exact fraction rounded once.
            expect(l.amount).toBe(lineAmount(l))
            if (l.proration) {
              expect(l.proration.days).toBe(daysBetween(l.from, l.to))
              expect(l.proration.of).toBe(daysBetween(l.period.startDate, l.period.endDate))
              expect(l.to).toBe(l.period.endDate)
            } else {
              expect([l.from, l.to]).toEqual([l.period.startDate, l.period.endDate])
            }
          }
        }
      }),
      { numRuns: 150 },
    )
  })

  it('gives the same invoices for any order or repetition of the same events', () => {
    const event: fc.Arbitrary<MeterEvent> = fc.oneof(
      fc.record({
        id: fc.constant(''),
        type: fc.constant('impression' as const),
        session: fc.constantFrom('s1', 's2', 's3'),
        campaign: fc.constantFrom('a', 'b'),
        ts: fc.integer({ min: Date.UTC(2026, 6, 12), max: Date.UTC(2026, 8, 1) }),
      }),
      fc.record({
        id: fc.constant(''),
        type: fc.constant('alert' as const),
        alert: fc.constant('r'),
        ts: fc.integer({ min: Date.UTC(2026, 6, 12), max: Date.UTC(2026, 8, 1) }),
      }),
      fc.record({
        id: fc.constant(''),
        type: fc.constant('contacts' as const),
        count: fc.nat(3000),
        ts: fc.integer({ min: Date.UTC(2026, 6, 12), max: Date.UTC(2026, 8, 1) }),
      }),
    )
    const small: Plan = { ...growth, included: { impressions: 2, alerts: 3 }, overage: { impressions: { per: 2, price: 7 }, alerts: { per: 1, price: 3 } } }
    const a: BillingAccount = { ...account({}, 'Europe/Amsterdam'), plans: { growth: small, pro } }
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 40 }).chain((es) => {
          const unique = es.map((e, i) => ({ ...e, id: `e${i}` }))
          return fc.tuple(fc.constant(unique), fc.shuffledSubarray([...unique, ...unique], { minLength: unique.length * 2 }))
        }),
        ([events, replayed]) => {
          const asOf = Date.UTC(2026, 8, 12)
          const once = computeInvoices(a, { usage: rollupEvents(events, a.timezone), ledger: [] }, asOf)
          const again = computeInvoices(a, { usage: rollupEvents(replayed, a.timezone), ledger: [] }, asOf)
          expect(again).toEqual(once)
        },
      ),
      { numRuns: 100 },
    )
  })
})
