import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { parseConfig } from '@tally/protocol'
import { previewChange, withChange } from './change.js'
import { runBilling, upgradeKey, type Invoice } from './invoice.js'
import { periodAt, startOfDay } from './period.js'
import type { BillingAccount } from './rating.js'

/** The worked example of docs/configuration.md ("Products"). */
function account(): BillingAccount {
  const r = parseConfig({
    plans: {
      growth: {
        currency: 'EUR',
        basePrice: 4900,
        seatPrice: 1500,
        products: { data: { name: 'DataUnlimited', price: 1900 }, push: { price: 500 } },
        cycleDiscountPercent: { quarterly: 5 },
      },
      pro: { currency: 'EUR', basePrice: 9900, seatPrice: 1000, products: { data: { price: 900 }, push: { price: 500 } } },
      lite: { currency: 'EUR', basePrice: 1900, products: { push: { price: 300 } } },
    },
    accounts: {
      acme: {
        timezone: 'Europe/Amsterdam',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2027-01-31', seats: 3, products: ['data'] },
        keys: { secret: 'sk_12345678', read: 'rk_12345678' },
      },
    },
  })
  if (!r.ok) throw new Error(r.message)
  const a = r.value.accounts.acme!
  return { timezone: a.timezone, subscription: a.subscription, plans: r.value.plans }
}
const at = (day: string) => startOfDay(day, 'Europe/Amsterdam') + 10 * 3600_000

describe('previewChange', () => {
  it("bills a product added at once, prorated, and names the next period's fees", () => {
    const p = previewChange(account(), { usage: [], ledger: [] }, { at: '2027-03-10', products: ['data', 'push'] }, at('2027-03-10'))
    expect(p?.now?.total).toBe(339)
    expect(p?.effective).toBe('now')
    expect(p?.periodEnd).toBe('2027-03-31')
    expect(p?.current.total).toBe(11300)
    expect(p?.next.total).toBe(11800)
  })

  it("bills a downgrade nothing now and from the period's end, held at the first invoice by the minimum price", () => {
    const p = previewChange(account(), { usage: [], ledger: [] }, { at: '2027-04-10', products: [] }, at('2027-04-10'))
    expect(p?.now).toBeNull()
    expect(p?.effective).toBe('period_end')
    expect(p?.periodEnd).toBe('2027-04-30')
    expect(p?.today.products).toEqual(['data'])
    expect(p?.fromPeriodEnd.products).toEqual([])
    expect(p?.next.total).toBe(11300)
    expect(p?.next.lines.map((l) => l.kind)).toContain('minimum')
  })

  it('previews what the billing run then issues, for random changes on random days', () => {
    const acct = account()
    const change = fc.record({
      day: fc.integer({ min: 0, max: 300 }),
      plan: fc.option(fc.constantFrom('growth', 'pro', 'lite'), { nil: undefined }),
      seats: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
      push: fc.boolean(),
      cycle: fc.option(fc.constantFrom('monthly' as const, 'quarterly' as const), { nil: undefined }),
    })
    fc.assert(
      fc.property(change, (c) => {
        const instant = at('2027-02-01') + c.day * 86_400_000
        const period = periodAt(acct.subscription, acct.timezone, instant)!
        const day = new Date(instant).toISOString().slice(0, 10)
        const plan = c.plan ?? 'growth'
        const products = plan === 'lite' ? (c.push ? ['push'] : []) : c.push ? ['data', 'push'] : ['data']
        const ch = { at: day, plan: c.plan, seats: c.seats, products, cycle: c.cycle }
        // What was billed before the change, finalized as the run would have.
        const before = runBilling(acct, { usage: [], ledger: [], finalized: [] }, instant - 86_400_000)
        const data = { usage: [], ledger: [], finalized: before.invoices }
        const p = previewChange(acct, data, ch, instant)!
        const changed = withChange(acct, ch)
        const issued = runBilling(changed, data, instant).invoices
        const upgrade = issued.find((i) => i.key === upgradeKey(period.index, ch)) ?? null
        expect(p.now?.total ?? null).toBe(upgrade?.total ?? null)
        expect(p.now?.lines ?? null).toEqual(upgrade?.lines ?? null)
        const own = periodAt(changed.subscription, changed.timezone, instant)!
        const later = runBilling(changed, { ...data, finalized: [...before.invoices, ...issued] }, own.end).invoices
        const recurring = later.find((i: Invoice) => i.key === `recurring:${own.index + 1}`)!
        expect(p.next.lines).toEqual(recurring.lines.filter((l) => l.period.index === own.index + 1))
      }),
      { numRuns: 80 },
    )
  })
})
