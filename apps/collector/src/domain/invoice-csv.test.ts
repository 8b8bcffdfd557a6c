/**
 * The CSV form of invoices: the columns a reader checks each line by, amounts in integer minor
 * units as in the JSON, and rows that check by themselves for any plan, cycle and proration.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { Plan } from '@tally/protocol'
import { computeInvoices, type BillingAccount, type Invoice, type InvoiceLine } from '@tally/billing'
import { CSV_HEADER, formatProration, invoiceCsv } from './invoice-csv.js'
import { parseCsv } from '../testkit.js'

const growth: Plan = {
  currency: 'EUR',
  basePrice: 4900,
  seatPrice: 1500,
  included: { impressions: 100000 },
  overage: { impressions: { per: 1000, price: 40 } },
  contactRanges: [
    { upTo: 1000, price: 0 },
    { upTo: 5000, price: 2900 },
    { upTo: null, price: 9900 },
  ],
  emailsPerContact: 4,
  freeCredits: 0,
  creditCosts: {},
  creditPacks: {},
  products: { data: { name: 'DataUnlimited, all contacts', price: 1900 } },
  cycleDiscountPercent: { quarterly: 5, semiannual: 10, annual: 20 },
}
const account = (sub: Partial<BillingAccount['subscription']> = {}, plans: Record<string, Plan> = { growth }): BillingAccount => ({
  timezone: 'Europe/Amsterdam',
  plans,
  subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 3, contacts: 1000, ...sub },
})

const byName = (rows: string[][]) => rows.slice(1).map((r) => Object.fromEntries(CSV_HEADER.map((h, i) => [h, r[i] ?? ''])))

describe('invoice CSV', () => {
  it('names the unit of its amounts in the header: integer minor units, as in the JSON', () => {
    const [first] = computeInvoices(account(), { usage: [], ledger: [] }, Date.UTC(2026, 6, 12))
    if (!first) throw new Error('no invoice')
    const rows = parseCsv(invoiceCsv(first))
    expect(rows[0]).toEqual([
      'invoice',
      'issued',
      'kind',
      'description',
      'from',
      'to',
      'quantity',
      'unit_price_minor',
      'months',
      'proration',
      'discount_minor',
      'amount_minor',
      'currency',
    ])
    expect(byName(rows).map((r) => r.amount_minor)).toEqual(first.lines.map((l) => String(l.amount)).concat(String(first.total)))
  })

  it('prints a quarter as quantity, unit price, months and the discount amount, never 1 x 49.00 = 139.65', () => {
    const [first] = computeInvoices(account({ cycle: 'quarterly', products: ['data'] }), { usage: [], ledger: [] }, Date.UTC(2026, 6, 12))
    if (!first) throw new Error('no invoice')
    expect(
      invoiceCsv({ ...first, number: 7 })
        .split('\r\n')
        .slice(1),
    ).toEqual([
      '7,2026-07-12,base,Plan growth,2026-07-12,2026-10-12,1,4900,3,1,735,13965,EUR',
      '7,2026-07-12,seats,Seats,2026-07-12,2026-10-12,3,1500,3,1,675,12825,EUR',
      '7,2026-07-12,product,"Product DataUnlimited, all contacts",2026-07-12,2026-10-12,1,1900,3,1,285,5415,EUR',
      '7,2026-07-12,contacts,Contacts up to 1000 (1000),2026-07-12,2026-10-12,1,0,3,1,0,0,EUR',
      '7,2026-07-12,total,Total,2026-07-12,2026-10-12,,,,,,32205,EUR',
      '',
    ])
  })

  it('prefixes a description a spreadsheet would run as a formula, and writes negative amounts as numbers', () => {
    const [first] = computeInvoices(account(), { usage: [], ledger: [] }, Date.UTC(2026, 6, 12))
    if (!first) throw new Error('no invoice')
    const line = first.lines[0] as InvoiceLine
    // An adjustment that gives money back: a negative amount, and a plan name chosen in configuration.
    const hostile: Invoice = {
      ...first,
      number: 9,
      lines: [
        {
          ...line,
          kind: 'adjustment',
          description: '=HYPERLINK("https://evil.test")',
          quantity: 1,
          unitPrice: -500,
          months: 1,
          proration: null,
          discount: 0,
          amount: -500,
        },
      ],
      total: -500,
    }
    expect(invoiceCsv(hostile).split('\r\n').slice(1, 3)).toEqual([
      `9,${first.issuedDate},adjustment,"'=HYPERLINK(""https://evil.test"")",${line.from ?? first.issuedDate},${line.to ?? ''},1,-500,1,1,0,-500,EUR`,
      `9,${first.issuedDate},total,Total,${first.period?.startDate},${first.period?.endDate},,,,,,-500,EUR`,
    ])
  })

  it('dates a rebalance row by the days it charges for, with its proration as days of the term', () => {
    const r = computeInvoices(account({ cycle: 'annual' }), { usage: [{ day: '2026-10-01', contacts: 1200 }], ledger: [] }, Date.UTC(2026, 9, 2)).find(
      (i) => i.kind === 'rebalance',
    )
    if (!r) throw new Error('no rebalance')
    const [, charge] = byName(parseCsv(invoiceCsv(r)))
    expect(charge).toMatchObject({
      from: '2026-10-01',
      to: '2027-07-12',
      quantity: '1',
      unit_price_minor: '2900',
      months: '12',
      proration: '284/365',
      discount_minor: '5415',
      amount_minor: '21662',
    })
  })

  it('prints a line finalized before lines carried their discount and dates with columns that still check', () => {
    const period = { index: 1, start: 0, end: 1, startDate: '2027-02-28', endDate: '2027-03-31' }
    const old = [
      {
        kind: 'base',
        description: 'Plan pro',
        quantity: 1,
        unitPrice: 9900,
        months: 1,
        discountPercent: 0,
        proration: { days: 21, of: 31 },
        amount: 6706,
        period,
      },
      { kind: 'adjustment', description: 'Late usage', quantity: 0, unitPrice: 2900, months: 1, discountPercent: 0, amount: 7000, period },
    ] as unknown as InvoiceLine[]
    const inv: Invoice = {
      key: 'upgrade:1:0',
      kind: 'upgrade',
      status: 'finalized',
      number: 3,
      currency: 'EUR',
      issuedAt: 0,
      issuedDate: '2027-03-10',
      period,
      lines: old,
      total: 13706,
      amountUnit: 'minor',
    }
    expect(
      byName(parseCsv(invoiceCsv(inv)))
        .slice(0, 2)
        .map((r) => [r.from, r.to, r.quantity, r.unit_price_minor, r.months, r.proration, r.discount_minor, r.amount_minor]),
    ).toEqual([
      ['2027-03-10', '2027-03-31', '1', '9900', '1', '21/31', '0', '6706'],
      ['2027-02-28', '2027-03-31', '1', '7000', '1', '1', '0', '7000'],
    ])
  })

  it('gives rows that check for any plan, cycle and proration: round(quantity x unit price x months x proration) - discount = amount', () => {
    const halfEven = (num: bigint, den: bigint): bigint => {
      const q = num / den - (num % den < 0n ? 1n : 0n)
      const twice = 2n * (num - q * den)
      return twice > den || (twice === den && q % 2n !== 0n) ? q + 1n : q
    }
    const percent = fc.integer({ min: 0, max: 1000 }).map((n) => n / 10)
    const plan = fc
      .record({ basePrice: fc.nat(30000), seatPrice: fc.nat(9000), data: fc.nat(9000), q: percent, s: percent, a: percent })
      .map(
        ({ basePrice, seatPrice, data, q, s, a }): Plan => ({
          ...growth,
          basePrice,
          seatPrice,
          products: { data: { price: data } },
          cycleDiscountPercent: { quarterly: q, semiannual: s, annual: a },
        }),
      )
    const day = (n: number) => new Date(Date.UTC(2026, 6, 12) + n * 86_400_000).toISOString().slice(0, 10)
    const changes = fc.array(
      fc.record({
        at: fc.integer({ min: 1, max: 400 }).map(day),
        plan: fc.constantFrom('growth', 'pro'),
        seats: fc.nat(8),
        products: fc.constantFrom<string[]>([], ['data']),
      }),
      { maxLength: 3 },
    )
    const cycle = fc.constantFrom('monthly' as const, 'quarterly' as const, 'semiannual' as const, 'annual' as const)
    const contacts = fc.array(fc.record({ day: fc.integer({ min: 0, max: 400 }).map(day), contacts: fc.nat(7000) }), { maxLength: 4 })
    fc.assert(
      fc.property(plan, plan, cycle, changes, contacts, (g, p, c, ch, usage) => {
        const a = account({ cycle: c, changes: ch }, { growth: g, pro: p })
        for (const inv of computeInvoices(a, { usage, ledger: [] }, Date.UTC(2027, 9, 1))) {
          const rows = byName(parseCsv(invoiceCsv(inv)))
          const total = rows.pop()
          let sum = 0
          for (const r of rows) {
            const [days, of] = r.proration === '1' ? [1n, 1n] : ((r.proration ?? '').split('/').map(BigInt) as [bigint, bigint])
            const gross = BigInt(r.quantity ?? '') * BigInt(r.unit_price_minor ?? '') * BigInt(r.months ?? '') * days
            expect(halfEven(gross, of) - BigInt(r.discount_minor ?? '')).toBe(BigInt(r.amount_minor ?? ''))
            expect((r.from ?? '') <= (r.to ?? '')).toBe(true)
            sum += Number(r.amount_minor)
          }
          expect(total?.amount_minor).toBe(String(sum))
        }
      }),
      { numRuns: 60 },
    )
  })

  it.each([
    [null, '1'],
    [{ days: 21, of: 31 }, '21/31'],
  ])('shows proration %j as %s', (p, shown) => {
    expect(formatProration(p)).toBe(shown)
  })
})
