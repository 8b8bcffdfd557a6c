import { describe, expect, it } from 'vitest'
import { growth, pro } from './testing/plans.js'
import { computeInvoices, invoicesDue, preview, runBilling, type BillingData } from './invoice.js'
import type { UsageRow } from './meters.js'
import { purchase } from './ledger.js'
import type { BillingAccount } from './rating.js'
import { account, columns, lines, none, totals, utc } from './invoice.fixtures.js'

describe('recurring invoices', () => {
  it('bills the first period in advance: base price, seats and the contact range', () => {
    const [first] = invoicesDue(account(), none, utc(2026, 7, 12))
    expect(first?.key).toBe('recurring:0')
    expect(lines(first)).toEqual([
      ['base', 1, 4900, 4900],
      ['seats', 3, 1500, 4500],
      ['contacts', 1, 0, 0],
    ])
    expect(first?.total).toBe(9400)
    expect(first?.period).toMatchObject({ startDate: '2026-07-12', endDate: '2026-08-12' })
  })

  it.each([
    ['quarterly', 13965 + 12825],
    ['semiannual', 26460 + 24300],
    ['annual', 47040 + 43200],
  ] as const)('charges a %s term months x price less its discount upfront', (cycle, total) => {
    // quarterly 4900 x 3 x 0.95 = 13965, 4500 x 3 x 0.95 = 12825; semiannual x 6 x 0.9; annual x 12 x 0.8
    expect(invoicesDue(account({ cycle }), none, utc(2026, 7, 12))[0]?.total).toBe(total)
  })

  it('bills usage beyond the included quotas in arrears, partial blocks rounded up', () => {
    const usage: UsageRow[] = [
      { day: '2026-07-12', impressions: 60000, chatSessions: 510, alerts: 1000 },
      { day: '2026-08-11', impressions: 41001, engagements: 5000 },
      { day: '2026-08-12', impressions: 999999 },
    ]
    const inv = computeInvoices(account(), { usage, ledger: [] }, utc(2026, 8, 12)).find((i) => i.key === 'recurring:1')
    // impressions: 101001 - 100000 = 1001 over, per 1000 -> 2 blocks x 40; chat: 10 x 12; alerts and engagements within
    expect(lines(inv)).toEqual([
      ['base', 1, 4900, 4900],
      ['seats', 3, 1500, 4500],
      ['contacts', 1, 0, 0],
      ['usage', 2, 40, 80],
      ['usage', 10, 12, 120],
    ])
    expect(inv?.total).toBe(9600)
    expect(inv?.lines.filter((l) => l.kind === 'usage').every((l) => l.period.startDate === '2026-07-12')).toBe(true)
  })

  it('charges contacts above the paid range at the next boundary and moves to the next range', () => {
    const inv = computeInvoices(account(), { usage: [{ day: '2026-07-20', contacts: 1200 }], ledger: [] }, utc(2026, 8, 12)).at(-1)
    expect(lines(inv)).toEqual([
      ['base', 1, 4900, 4900],
      ['seats', 3, 1500, 4500],
      ['contacts', 1, 2900, 2900],
      ['contacts_excess', 1, 2900, 2900],
    ])
    expect(inv?.total).toBe(15200)
  })

  it('charges the range a late contacts reading reached for a period already billed in advance at the lower range', () => {
    const a = account()
    // Aug 12: periods 0 and 1 billed in advance for the 1000 contacts paid: 9400 each.
    const early = runBilling(a, { usage: [], ledger: [], finalized: [] }, utc(2026, 8, 12)).invoices
    expect(totals(early)).toEqual([
      ['recurring:0', 9400],
      ['recurring:1', 9400],
    ])
    // Then a reading of 1200 dated Aug 11 arrives late (period 0), and period 1 reads 1200 too.
    const usage = [
      { day: '2026-08-11', contacts: 1200 },
      { day: '2026-08-20', contacts: 1200 },
    ]
    const sep = runBilling(a, { usage, ledger: [], finalized: early }, utc(2026, 9, 12)).invoices
    // Sep 12: period 2 in advance at the 1001-5000 range (2900); period 0's excess late (+2900); and period 1,
    // billed for 1000 contacts but holding 1200, its excess 2900 - 0 = 2900.
    // 4900 + 4500 + 2900 + 2900 + 2900 = 18100
    expect(lines(sep[0])).toEqual([
      ['base', 1, 4900, 4900],
      ['seats', 3, 1500, 4500],
      ['contacts', 1, 2900, 2900],
      ['contacts_excess', 1, 2900, 2900],
      ['adjustment', 1, 2900, 2900],
    ])
    expect(sep[0]?.total).toBe(18100)
    // Oct 12: nothing more was owed for periods 0 and 1; period 3 at 2900 again: 12300.
    const oct = runBilling(a, { usage, ledger: [], finalized: [...early, ...sep] }, utc(2026, 10, 12)).invoices
    expect(totals(oct)).toEqual([['recurring:3', 12300]])
  })

  it('holds the minimum price when contacts fall (seed 004)', () => {
    const a = account({ contacts: 3000 })
    const invoices = computeInvoices(a, { usage: [{ day: '2026-07-20', contacts: 800 }], ledger: [] }, utc(2026, 9, 12))
    // first: 4900 + 4500 + 2900 = 12300; then the range of 800 contacts costs 0: 9400 + true-up 2900
    expect(totals(invoices)).toEqual([
      ['recurring:0', 12300],
      ['recurring:1', 12300],
      ['recurring:2', 12300],
    ])
    expect(lines(invoices[1])).toEqual([
      ['base', 1, 4900, 4900],
      ['seats', 3, 1500, 4500],
      ['contacts', 1, 0, 0],
      ['minimum', 1, 2900, 2900],
    ])
  })

  it('computes the true-up from the invoice own lines, not from late usage of earlier periods', () => {
    const a = account({ contacts: 3000 })
    const data: BillingData = { usage: [{ day: '2026-07-20', contacts: 800 }], ledger: [] }
    const finalized = runBilling(a, data, utc(2026, 8, 12)).invoices
    const late: BillingData = { usage: [...data.usage, { day: '2026-07-21', impressions: 102000 }], ledger: [], finalized }
    const inv = invoicesDue(a, late, utc(2026, 9, 12)).at(-1)
    expect(lines(inv)).toEqual([
      ['base', 1, 4900, 4900],
      ['seats', 3, 1500, 4500],
      ['contacts', 1, 0, 0],
      ['adjustment', 2, 40, 80],
      ['minimum', 1, 2900, 2900],
    ])
  })

  it('continues an annual term monthly, with the minimum per month of the first invoice', () => {
    const invoices = computeInvoices(account({ cycle: 'annual' }), none, utc(2027, 7, 12))
    // first: 90240 for 12 months = 7520 a month; the monthly price 9400 is above it
    expect(totals(invoices)).toEqual([
      ['recurring:0', 90240],
      ['recurring:1', 9400],
    ])
    expect(invoices[1]?.period).toMatchObject({ startDate: '2027-07-12', endDate: '2027-08-12' })
  })

  it('bills only the last usage after a cancelled subscription ends', () => {
    const a = account({ cancelledAt: '2026-08-20' })
    const invoices = computeInvoices(a, { usage: [{ day: '2026-09-01', alerts: 1010 }], ledger: [] }, utc(2027, 1, 1))
    expect(totals(invoices)).toEqual([
      ['recurring:0', 9400],
      ['recurring:1', 9400],
      ['recurring:2', 10],
    ])
    expect(lines(invoices[2])).toEqual([['usage', 10, 1, 10]])
  })
})

describe('rebalance and credit-pack invoices', () => {
  it('rebalances an annual term when contacts pass the paid range, for the rest of the term', () => {
    const a = account({ cycle: 'annual' })
    const invoices = computeInvoices(
      a,
      {
        usage: [
          { day: '2026-10-01', contacts: 1200 },
          { day: '2026-11-01', contacts: 4000 },
        ],
        ledger: [],
      },
      utc(2027, 7, 12),
    )
    const r = invoices.find((i) => i.kind === 'rebalance')
    // 2900 x 12 x 0.8 x 284/365 days (Oct 1 to Jul 12) = 21661.8 -> 21662
    expect(lines(r)).toEqual([
      ['contacts', -1, 0, 0],
      ['contacts', 1, 2900, 21662],
    ])
    expect(r?.issuedDate).toBe('2026-10-02')
    expect(invoices.filter((i) => i.kind === 'rebalance')).toHaveLength(1)
    // The monthly period after the term pays for the highest reading (4000 -> 2900).
    expect(invoices.at(-1)?.total).toBe(9400 + 2900)
  })

  it('gives a credit-pack purchase its own invoice', () => {
    const a = account()
    const r = purchase(a, [], { id: 'buy-1', pack: 'small', at: utc(2026, 7, 20) })
    const inv = invoicesDue(a, { usage: [], ledger: r.entries }, utc(2026, 7, 21)).find((i) => i.kind === 'credits')
    expect(inv).toMatchObject({ key: 'credits:buy-1', total: 1000, currency: 'EUR', issuedDate: '2026-07-20' })
    expect(lines(inv)).toEqual([['credits', 1, 1000, 1000]])
  })
})

describe('no empty invoices', () => {
  it('issues no invoice when a cancelled account has nothing left to bill, and numbers the next one without a gap', () => {
    const a = account({ cancelledAt: '2026-08-20' })
    const first = runBilling(a, none, utc(2026, 10, 1))
    expect(first.invoices.map((i) => [i.key, i.number])).toEqual([
      ['recurring:0', 1],
      ['recurring:1', 2],
    ])
    expect(preview(a, none, utc(2026, 9, 1))).toBeNull()
    // Usage of the last period reported after its end is still billed, as number 3.
    const late: BillingData = { usage: [{ day: '2026-09-01', alerts: 1010 }], ledger: first.ledger, finalized: first.invoices }
    const second = runBilling(a, late, utc(2026, 10, 2))
    expect(second.invoices.map((i) => [i.key, i.number, i.total])).toEqual([['recurring:2', 3, 10]])
  })

  it('issues an invoice whose lines sum to 0: its lines record the change', () => {
    const a: BillingAccount = {
      ...account({ changes: [{ at: '2026-07-20', products: ['guide'] }] }),
      plans: { growth: { ...growth, products: { guide: { price: 0 } } }, pro },
    }
    const up = computeInvoices(a, none, utc(2026, 7, 21)).find((i) => i.kind === 'upgrade')
    expect(up).toMatchObject({ key: 'upgrade:0:2026-07-20:products=guide', total: 0 })
    expect(up?.lines.filter((l) => l.kind === 'product')).toHaveLength(1)
  })
})

describe('invoice lines a person can check', () => {
  it('shows a long term as quantity x unit price x months less the discount amount, never as 1 x 49.00 = 139.65', () => {
    const [first] = invoicesDue(account({ cycle: 'quarterly' }), none, utc(2026, 7, 12))
    expect(columns(first?.lines[0])).toEqual(['base', 1, 4900, 3, '1', 735, 13965])
    expect(first?.lines[0]).toMatchObject({ from: '2026-07-12', to: '2026-10-12', proration: null })
  })

  it('dates a rebalance line by the days it charges for, not the whole term', () => {
    const a = account({ cycle: 'annual' })
    const r = computeInvoices(a, { usage: [{ day: '2026-10-01', contacts: 1200 }], ledger: [] }, utc(2026, 10, 2)).find((i) => i.kind === 'rebalance')
    // 2900 x 12 x 284/365 = 27077.26 -> 27077; less 20%: 21661.8 -> 21662, so the discount is 5415.
    expect(columns(r?.lines[1])).toEqual(['contacts', 1, 2900, 12, '284/365', 5415, 21662])
    expect(r?.lines.map((l) => [l.from, l.to])).toEqual([
      ['2026-10-01', '2027-07-12'],
      ['2026-10-01', '2027-07-12'],
    ])
    expect(r?.period).toMatchObject({ startDate: '2026-07-12', endDate: '2027-07-12' })
  })

  it('prices a late adjustment like the line it corrects when that gives the difference, else as one unit of it', () => {
    const a = account()
    const usage: UsageRow[] = [{ day: '2026-07-20', contacts: 1200, impressions: 100500 }]
    const first = runBilling(a, { usage, ledger: [] }, utc(2026, 8, 12))
    // Aug 12 billed period 0: 1 block of impressions (40) and the contacts excess 2900 - 0 = 2900.
    // Late readings of period 0: 2000 more impressions (3 blocks, so 2 more: 2 x 40) and 6000
    // contacts, whose excess is now 9900 - 0: 7000 more, which no count of the old unit price gives.
    const late: BillingData = { usage: [...usage, { day: '2026-08-01', contacts: 6000, impressions: 2000 }], ledger: first.ledger, finalized: first.invoices }
    const adj = invoicesDue(a, late, utc(2026, 9, 12))
      .at(-1)
      ?.lines.filter((l) => l.kind === 'adjustment')
    expect(adj?.map((l) => [l.meter, ...(columns(l) ?? [])])).toEqual([
      ['contacts', 'adjustment', 1, 7000, 1, '1', 0, 7000],
      ['impressions', 'adjustment', 2, 40, 1, '1', 0, 80],
    ])
    expect(adj?.every((l) => l.from === '2026-07-12' && l.to === '2026-08-12')).toBe(true)
  })
})
