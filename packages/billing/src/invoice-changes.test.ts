/** Invoices over changes of the subscription: upgrades prorated at once, downgrades at the period end, products chosen and dropped. */
import { describe, expect, it } from 'vitest'
import { computeInvoices, invoicesDue } from './invoice.js'
import { termsAt } from './rating.js'
import { account, columns, lines, none, totals, utc } from './invoice.fixtures.js'

describe('plan changes', () => {
  it('prorates an upgrade by days over the whole period, at once', () => {
    // The period Feb 28 - Mar 31 2027 has 31 days; the upgrade on Mar 10 leaves 21 of them.
    const a = account({ start: '2027-01-31', changes: [{ at: '2027-03-10', plan: 'pro' }] })
    const invoices = computeInvoices(a, none, utc(2027, 4, 30))
    const up = invoices.find((i) => i.kind === 'upgrade')
    expect(up?.issuedDate).toBe('2027-03-10')
    expect(up?.lines.every((l) => l.proration?.days === 21 && l.proration.of === 31)).toBe(true)
    // -4900 x 21/31 = -3319.35 -> -3319; -4500 x 21/31 = -3048.39 -> -3048; 9900 x 21/31 = 6706.45 -> 6706; 6000 x 21/31 = 4064.52 -> 4065
    expect(lines(up)).toEqual([
      ['base', -1, 4900, -3319],
      ['seats', -3, 1500, -3048],
      ['contacts', -1, 0, 0],
      ['base', 1, 9900, 6706],
      ['seats', 3, 2000, 4065],
      ['contacts', 1, 0, 0],
    ])
    expect(up?.total).toBe(4404)
    expect(totals(invoices.filter((i) => i.kind === 'recurring'))).toEqual([
      ['recurring:0', 9400],
      ['recurring:1', 9400],
      ['recurring:2', 15900],
      ['recurring:3', 15900],
    ])
  })

  it('takes a downgrade at the end of the period, with no invoice of its own', () => {
    const a = account({ changes: [{ at: '2026-07-20', seats: 1 }] })
    const invoices = computeInvoices(a, none, utc(2026, 8, 12))
    expect(totals(invoices)).toEqual([
      ['recurring:0', 9400],
      ['recurring:1', 9400],
    ])
    // 4900 + 1500 = 6400 is below the first invoice: the minimum price holds.
    expect(lines(invoices[1])).toEqual([
      ['base', 1, 4900, 4900],
      ['seats', 1, 1500, 1500],
      ['contacts', 1, 0, 0],
      ['minimum', 1, 3000, 3000],
    ])
  })
})

describe('products', () => {
  it('bills each chosen product in advance, one line each, less the cycle discount as for the base price', () => {
    const [first] = invoicesDue(account({ cycle: 'quarterly', products: ['push', 'data'] }), none, utc(2026, 7, 12))
    // 1900 x 3 = 5700 less 5% (285) = 5415; 500 x 3 = 1500 less 75 = 1425
    expect(first?.lines.map(columns)).toEqual([
      ['base', 1, 4900, 3, '1', 735, 13965],
      ['seats', 3, 1500, 3, '1', 675, 12825],
      ['product', 1, 1900, 3, '1', 285, 5415],
      ['product', 1, 500, 3, '1', 75, 1425],
      ['contacts', 1, 0, 3, '1', 0, 0],
    ])
    expect(first?.lines.filter((l) => l.kind === 'product').map((l) => [l.product, l.description])).toEqual([
      ['data', 'Product DataUnlimited'],
      ['push', 'Product push'],
    ])
    expect(first?.total).toBe(13965 + 12825 + 5415 + 1425)
  })

  it('adds a product at once, prorated by days over the whole period, and removes one at the period end', () => {
    const a = account({
      start: '2027-01-31',
      products: ['data'],
      changes: [
        { at: '2027-03-10', products: ['data', 'push'] },
        { at: '2027-04-10', products: ['push'] },
      ],
    })
    const invoices = computeInvoices(a, none, utc(2027, 5, 31))
    // Periods start Jan 31, Feb 28, Mar 31, Apr 30, May 31. 9400 + DataUnlimited 1900 = 11300.
    // Mar 10: push added for 21 of the 31 days of Feb 28 - Mar 31: 500 x 21/31 = 338.71 -> 339.
    // Apr 10: data removed, still billed to Apr 30; from then 9400 + 500 = 9900, below the first 11300.
    expect(totals(invoices)).toEqual([
      ['recurring:0', 11300],
      ['recurring:1', 11300],
      ['upgrade:1:2027-03-10:products=data+push', 339],
      ['recurring:2', 11800],
      ['recurring:3', 11300],
      ['recurring:4', 11300],
    ])
    const up = invoices.find((i) => i.kind === 'upgrade')
    expect(up?.lines.map(columns)).toEqual([
      ['base', -1, 4900, 1, '21/31', 0, -3319],
      ['seats', -3, 1500, 1, '21/31', 0, -3048],
      ['product', -1, 1900, 1, '21/31', 0, -1287],
      ['contacts', -1, 0, 1, '21/31', 0, 0],
      ['base', 1, 4900, 1, '21/31', 0, 3319],
      ['seats', 3, 1500, 1, '21/31', 0, 3048],
      ['product', 1, 1900, 1, '21/31', 0, 1287],
      ['product', 1, 500, 1, '21/31', 0, 339],
      ['contacts', 1, 0, 1, '21/31', 0, 0],
    ])
    expect(up?.lines.every((l) => l.from === '2027-03-10' && l.to === '2027-03-31')).toBe(true)
    expect(termsAt(a, utc(2027, 4, 20))?.terms.products).toEqual(['data', 'push'])
    expect(termsAt(a, utc(2027, 4, 30))?.terms.products).toEqual(['push'])
    // The minimum price counts the product of the first invoice.
    expect(lines(invoices.find((i) => i.key === 'recurring:3'))).toEqual([
      ['base', 1, 4900, 4900],
      ['seats', 3, 1500, 4500],
      ['product', 1, 500, 500],
      ['contacts', 1, 0, 0],
      ['minimum', 1, 1400, 1400],
    ])
  })

  it('holds the minimum price when a product of the first invoice is dropped', () => {
    const invoices = computeInvoices(account({ products: ['data'], changes: [{ at: '2026-07-20', products: [] }] }), none, utc(2026, 8, 12))
    expect(totals(invoices)).toEqual([
      ['recurring:0', 11300],
      ['recurring:1', 11300],
    ])
    expect(lines(invoices[1])).toEqual([
      ['base', 1, 4900, 4900],
      ['seats', 3, 1500, 4500],
      ['contacts', 1, 0, 0],
      ['minimum', 1, 1900, 1900],
    ])
  })

  it("carries chosen products over an upgrade, credited at the old price and charged at the new plan's", () => {
    const a = account({ start: '2027-01-31', products: ['data'], changes: [{ at: '2027-03-10', plan: 'pro' }] })
    const up = computeInvoices(a, none, utc(2027, 3, 31)).find((i) => i.kind === 'upgrade')
    // DataUnlimited: -1900 x 21/31 = -1287.10 -> -1287 and +2900 x 21/31 = 1964.52 -> 1965
    expect(lines(up)).toEqual([
      ['base', -1, 4900, -3319],
      ['seats', -3, 1500, -3048],
      ['product', -1, 1900, -1287],
      ['contacts', -1, 0, 0],
      ['base', 1, 9900, 6706],
      ['seats', 3, 2000, 4065],
      ['product', 1, 2900, 1965],
      ['contacts', 1, 0, 0],
    ])
    expect(up?.total).toBe(4404 + 1965 - 1287)
  })

  it('takes a product added at once even when the same change lowers the seats, which wait for the period end', () => {
    const a = account({ start: '2027-01-31', products: ['data'], changes: [{ at: '2027-03-10', seats: 1, products: ['data', 'push'] }] })
    const invoices = computeInvoices(a, none, utc(2027, 3, 31))
    expect(totals(invoices)).toEqual([
      ['recurring:0', 11300],
      ['recurring:1', 11300],
      ['upgrade:1:2027-03-10:seats=1:products=data+push', 339],
      ['recurring:2', 11300],
    ])
    // 4900 + 1 x 1500 + 1900 + 500 = 8800, held at the first invoice's 11300
    expect(lines(invoices.at(-1))).toEqual([
      ['base', 1, 4900, 4900],
      ['seats', 1, 1500, 1500],
      ['product', 1, 1900, 1900],
      ['product', 1, 500, 500],
      ['contacts', 1, 0, 0],
      ['minimum', 1, 2500, 2500],
    ])
  })
})
