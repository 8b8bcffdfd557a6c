/**
 * Corners of the billing rules, worked by hand on the `growth` plan (docs/billing.md): each bills what
 * docs/rules.md §5 says, with the issue's numbers. A later billing run sees the earlier runs'
 * invoices as finalized, as the collector stores them.
 */
import { describe, expect, it } from 'vitest'
import { growth, pro } from './testing/plans.js'
import { computeInvoices, runBilling, type BillingData, type Invoice } from './invoice.js'
import type { UsageRow } from './meters.js'
import type { BillingAccount } from './rating.js'
import type { BillingSubscription } from './period.js'

function account(sub: Partial<BillingSubscription> = {}, timezone = 'UTC'): BillingAccount {
  return {
    timezone,
    plans: { growth, pro },
    members: ['alice'],
    subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 3, contacts: 1000, ...sub },
  }
}
const utc = (y: number, m: number, d: number, h = 0) => Date.UTC(y, m - 1, d, h)

/** Runs billing at each instant in turn, keeping what each run finalized; returns every invoice finalized. */
function runs(steps: { at: number; account: BillingAccount; usage: UsageRow[] }[]): Invoice[] {
  const finalized: Invoice[] = []
  let ledger: BillingData['ledger'] = []
  for (const s of steps) {
    const r = runBilling(s.account, { usage: s.usage, ledger, finalized }, s.at)
    ledger = [...ledger, ...r.ledger]
    finalized.push(...r.invoices)
  }
  return finalized
}
const totals = (invoices: Invoice[]) => invoices.map((i) => [i.key, i.total])

describe('the minimum price compares like with like (corner 1)', () => {
  it('keeps the quarterly discount: 9400 x 3 less 5% = 26790, no minimum line', () => {
    const a = account({ changes: [{ at: '2026-07-20', cycle: 'quarterly' }] })
    const inv = computeInvoices(a, { usage: [], ledger: [] }, utc(2026, 8, 12))
    expect(totals(inv)).toEqual([
      ['recurring:0', 9400],
      ['recurring:1', 26790],
    ])
    expect(inv[1]?.lines.map((l) => l.kind)).toEqual(['base', 'seats', 'contacts'])
  })

  it('holds a monthly period after a quarterly first invoice to one month of its fees, 9400', () => {
    const a = account({ cycle: 'quarterly', changes: [{ at: '2026-08-01', seats: 1 }] })
    const inv = computeInvoices(a, { usage: [], ledger: [] }, utc(2026, 10, 12))
    // 4900 + 1500 = 6400 on the fees, a true-up of 3000 to the first invoice's 9400 a month.
    expect(totals(inv)).toEqual([
      ['recurring:0', 26790],
      ['recurring:1', 9400],
    ])
    expect(inv[1]?.lines.at(-1)).toMatchObject({ kind: 'minimum', amount: 3000 })
  })

  it('counts only the period recurring fees: usage of the period before does not fill the minimum', () => {
    const a = account({ changes: [{ at: '2026-08-01', seats: 1 }] })
    // 1001 alerts over in July: 1001 in arrears, and the August fees 6400 are still trued up to 9400.
    const inv = computeInvoices(a, { usage: [{ day: '2026-07-20', alerts: 2001 }], ledger: [] }, utc(2026, 8, 12))
    expect(inv[1]?.lines.map((l) => [l.kind, l.amount])).toEqual([
      ['base', 4900],
      ['seats', 1500],
      ['contacts', 0],
      ['usage', 1001],
      ['minimum', 3000],
    ])
    expect(inv[1]?.total).toBe(10401)
  })

  it('bills nothing for a subscription cancelled before its start', () => {
    const a = account({ cancelledAt: '2026-07-01' })
    expect(computeInvoices(a, { usage: [], ledger: [] }, utc(2027, 1, 1))).toEqual([])
  })
})

describe('an out-of-order contact reading (corner 2)', () => {
  it('charges a rebalance only what earlier ones did not: 74209 in all, not 95871', () => {
    const a = account({ cycle: 'annual' })
    const oct1: UsageRow = { day: '2026-10-01', contacts: 1200 }
    const sep30: UsageRow = { day: '2026-09-30', contacts: 6000 }
    const inv = runs([
      { at: utc(2026, 10, 2), account: a, usage: [oct1] },
      { at: utc(2026, 10, 2, 12), account: a, usage: [oct1, sep30] },
    ])
    const rebalances = inv.filter((i) => i.kind === 'rebalance')
    expect(totals(rebalances)).toEqual([
      ['rebalance:0:1', 21662],
      ['rebalance:0:2', 52547],
    ])
    expect(rebalances.reduce((n, i) => n + i.total, 0)).toBe(74209)
    // Sep 30 paid at 1000 (range 0), Oct 1 on at 1200 (range 1): both stretches now at range 2.
    expect(rebalances[1]?.lines.map((l) => [l.from, l.to, l.quantity, l.unitPrice, l.proration?.days, l.amount])).toEqual([
      ['2026-09-30', '2026-10-01', -1, 0, 1, 0],
      ['2026-09-30', '2026-10-01', 1, 9900, 1, 260],
      ['2026-10-01', '2027-07-12', -1, 2900, 284, -21662],
      ['2026-10-01', '2027-07-12', 1, 9900, 284, 73949],
    ])
  })

  it('charges the one day a late reading adds before a higher finalized rebalance', () => {
    const a = account({ cycle: 'annual' })
    const oct1: UsageRow = { day: '2026-10-01', contacts: 6000 }
    const sep30: UsageRow = { day: '2026-09-30', contacts: 1200 }
    const inv = runs([
      { at: utc(2026, 10, 2), account: a, usage: [oct1] },
      { at: utc(2026, 10, 2, 12), account: a, usage: [oct1, sep30] },
    ])
    // Oct 1 on is paid at range 2 already: the Sep 30 reading adds range 1 for that one day, 2900 x 12 x 0.8 / 365 = 76.27.
    expect(totals(inv.filter((i) => i.kind === 'rebalance'))).toEqual([
      ['rebalance:0:2', 73949],
      ['rebalance:0:1', 76],
    ])
  })
})

describe('late usage after a cancellation (corner 3)', () => {
  it('bills usage accepted after the final invoice on an invoice of its own, once', () => {
    const a = account({ cancelledAt: '2026-07-20' })
    const inv = runs([
      { at: utc(2026, 8, 12), account: a, usage: [{ day: '2026-07-25', alerts: 1001 }] },
      // Two alerts dated inside the period arrive an hour later.
      { at: utc(2026, 8, 12, 1), account: a, usage: [{ day: '2026-07-25', alerts: 1003 }] },
      { at: utc(2026, 9, 1), account: a, usage: [{ day: '2026-07-25', alerts: 1003 }] },
    ])
    expect(totals(inv)).toEqual([
      ['recurring:0', 9400],
      ['recurring:1', 1],
      ['recurring:1:late:1', 2],
    ])
    expect(inv[2]?.lines.map((l) => [l.kind, l.meter, l.quantity, l.unitPrice, l.amount])).toEqual([['adjustment', 'alerts', 2, 1, 2]])
  })
})

describe('editing a change that was already invoiced (corner 4)', () => {
  it('bills the difference: 1017 for 4 seats, then 1016 for 5, 2033 in all', () => {
    // The period Feb 28 to Mar 31, 2027 (31 days) of an anchor on Jan 31; Mar 10 leaves 21 days.
    const before = account({ start: '2026-01-31', changes: [{ at: '2027-03-10', seats: 4 }] })
    const after = account({ start: '2026-01-31', changes: [{ at: '2027-03-10', seats: 5 }] })
    const inv = runs([
      { at: utc(2027, 3, 10, 1), account: before, usage: [] },
      { at: utc(2027, 3, 11), account: after, usage: [] },
    ])
    const upgrades = inv.filter((i) => i.kind === 'upgrade')
    expect(totals(upgrades)).toEqual([
      ['upgrade:13:2027-03-10:seats=4', 1017],
      ['upgrade:13:2027-03-10:seats=5', 1016],
    ])
    expect(upgrades.reduce((n, i) => n + i.total, 0)).toBe(2033)
  })
})

describe('contacts: the excess in arrears once, the next fee on the latest reading (docs/rules.md §5)', () => {
  it('bills a one-day spike from 1000 to 1200 as one excess, not an excess plus a month at the higher range', () => {
    const a = account()
    const usage: UsageRow[] = [
      { day: '2026-07-20', contacts: 1200 },
      { day: '2026-07-21', contacts: 1000 },
    ]
    const inv = computeInvoices(a, { usage, ledger: [] }, utc(2026, 8, 12))
    expect(inv[1]?.lines.map((l) => [l.kind, l.amount])).toEqual([
      ['base', 4900],
      ['seats', 4500],
      ['contacts', 0],
      ['contacts_excess', 2900],
    ])
  })

  it('keeps the latest reading for a period without one', () => {
    const a = account()
    const inv = computeInvoices(a, { usage: [{ day: '2026-07-20', contacts: 1200 }], ledger: [] }, utc(2026, 9, 12))
    // August pays for 1200 in advance (range 2900), and so does September, with no reading in August.
    expect(inv.map((i) => i.lines.find((l) => l.kind === 'contacts')?.amount)).toEqual([0, 2900, 2900])
  })
})
