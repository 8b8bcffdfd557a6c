import { describe, expect, it } from 'vitest'
import type { Plan } from '@tally/protocol'
import { contactRange, overage, termsAt, termsTimeline, type BillingAccount } from './rating.js'
import { growth as shared } from './testing/plans.js'

const growth: Plan = {
  ...shared,
  included: { impressions: 100000, engagements: 5000 },
  overage: { impressions: { per: 1000, price: 40 }, engagements: { per: 100, price: 150 } },
  creditCosts: {},
  creditPacks: {},
  products: {},
  cycleDiscountPercent: { quarterly: 5 },
}
const pro: Plan = { ...growth, basePrice: 9900 }

describe('contact ranges', () => {
  it.each([
    [0, 0, 0],
    [1000, 0, 0],
    [1001, 1, 2900],
    [5000, 1, 2900],
    [5001, 2, 9900],
    [10_000_000, 2, 9900],
  ])('prices %i contacts at the whole range they fall in (range %i, %i)', (contacts, index, price) => {
    expect(contactRange(growth, contacts)).toMatchObject({ index, price })
  })

  it('uses the last range past a closed list, and 0 with none', () => {
    expect(contactRange({ ...growth, contactRanges: [{ upTo: 10, price: 5 }] }, 11)).toMatchObject({ index: 0, price: 5 })
    expect(contactRange({ ...growth, contactRanges: [] }, 11)).toMatchObject({ index: -1, price: 0 })
  })
})

describe('overage', () => {
  it.each([
    [100000, null],
    [100001, 1],
    [101000, 1],
    [101001, 2],
  ])('charges %i impressions in started blocks of 1000 over the included 100000', (used, blocks) => {
    expect(overage(growth, { months: 1 }, 'impressions', used)?.blocks ?? null).toBe(blocks)
  })

  it('includes the monthly quota once per month of a long period', () => {
    expect(overage(growth, { months: 3 }, 'impressions', 300000)).toBeNull()
    expect(overage(growth, { months: 3 }, 'impressions', 300001)?.blocks).toBe(1)
  })

  it('charges nothing for a meter without an overage price', () => {
    expect(overage(growth, { months: 1 }, 'alerts', 1_000_000)).toBeNull()
  })
})

describe('plan changes', () => {
  const account = (changes: { at: string; plan?: string; seats?: number; products?: string[] }[]): BillingAccount => ({
    timezone: 'UTC',
    plans: { growth, pro },
    subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 3, contacts: 0, changes },
  })

  it('applies an upgrade at once and a downgrade at the next boundary', () => {
    const a = account([
      { at: '2026-07-20', plan: 'pro' },
      { at: '2026-08-20', seats: 1 },
    ])
    expect(termsAt(a, Date.UTC(2026, 6, 19))?.terms.planId).toBe('growth')
    expect(termsAt(a, Date.UTC(2026, 6, 20))?.terms.planId).toBe('pro')
    expect(termsAt(a, Date.UTC(2026, 7, 25))?.terms.seats).toBe(3)
    expect(termsAt(a, Date.UTC(2026, 8, 12))?.terms.seats).toBe(1)
  })

  it('takes a change dated on a boundary for the whole period that starts there', () => {
    const [, second] = [...take(termsTimeline(account([{ at: '2026-08-12', plan: 'pro' }])), 2)]
    expect(second?.start.planId).toBe('pro')
    expect(second?.upgrades).toEqual([])
  })

  it('takes products added at once and products removed at the next boundary, like seats', () => {
    const withProducts: BillingAccount = {
      ...account([
        { at: '2026-07-20', products: ['b', 'a'] },
        { at: '2026-08-20', products: ['b'] },
      ]),
      plans: { growth: { ...growth, products: { a: { price: 100 }, b: { price: 200 } } }, pro },
    }
    expect(termsAt(withProducts, Date.UTC(2026, 6, 19))?.terms.products).toEqual([])
    expect(termsAt(withProducts, Date.UTC(2026, 6, 20))?.terms.products).toEqual(['a', 'b'])
    expect(termsAt(withProducts, Date.UTC(2026, 7, 25))?.terms.products).toEqual(['a', 'b'])
    expect(termsAt(withProducts, Date.UTC(2026, 8, 12))?.terms.products).toEqual(['b'])
    const [first] = [...take(termsTimeline(withProducts), 1)]
    expect(first?.upgrades.map((u) => [u.at, u.change, u.before.products, u.after.products])).toEqual([['2026-07-20', 0, [], ['a', 'b']]])
  })

  it('ignores a product the plan in force does not offer', () => {
    const a: BillingAccount = { ...account([{ at: '2026-07-20', products: ['nope', 'constructor'] }]) }
    expect(termsAt(a, Date.UTC(2026, 6, 21))?.terms.products).toEqual([])
    expect([...take(termsTimeline(a), 1)][0]?.upgrades).toEqual([])
  })

  it('ignores a change naming an unknown plan', () => {
    expect(termsAt(account([{ at: '2026-07-20', plan: 'nope', seats: 5 }]), Date.UTC(2026, 6, 21))?.terms).toMatchObject({ planId: 'growth', seats: 5 })
  })

  it('ignores a change naming a built-in object property as its plan (constructor, toString)', () => {
    for (const plan of ['constructor', 'toString']) {
      expect(termsAt(account([{ at: '2026-07-20', plan, seats: 5 }]), Date.UTC(2026, 6, 21))?.terms).toMatchObject({ planId: 'growth', seats: 5 })
    }
  })
})

function* take<T>(it: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return
  for (const x of it) {
    yield x
    if (--n === 0) return
  }
}
