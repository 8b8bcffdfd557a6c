/**
 * The PDF form of invoices: the unit of its amounts said above the table, and each line's columns
 * (from, to, quantity, unit price, months, proration, discount, amount) printed on its row.
 */
import { describe, expect, it } from 'vitest'
import type { Plan } from '@tally/protocol'
import { computeInvoices, type BillingAccount, type Invoice } from '@tally/billing'
import { invoicePdf } from './invoice-pdf.js'

const growth: Plan = {
  currency: 'EUR',
  basePrice: 4900,
  seatPrice: 1500,
  included: {},
  overage: {},
  contactRanges: [
    { upTo: 1000, price: 0 },
    { upTo: null, price: 2900 },
  ],
  emailsPerContact: 4,
  freeCredits: 0,
  creditCosts: {},
  creditPacks: {},
  products: {},
  cycleDiscountPercent: { quarterly: 5 },
}
const pro: Plan = { ...growth, basePrice: 9900, seatPrice: 2000 }
const account = (sub: Partial<BillingAccount['subscription']>): BillingAccount => ({
  timezone: 'UTC',
  plans: { growth, pro },
  subscription: { plan: 'growth', cycle: 'monthly', start: '2027-01-31', seats: 3, contacts: 1000, ...sub },
})

/** The text runs of an uncompressed PDF, in order; pdfkit writes them as TJ arrays of hex strings split by kerning. */
async function textOf(inv: Invoice): Promise<string[]> {
  const pdf = (await invoicePdf(inv, { id: 'acme', name: 'Acme Inc.' }, { compress: false })).toString('latin1')
  expect(pdf.match(/\/Type \/Page\b/g)).toHaveLength(1)
  return [...pdf.matchAll(/\[(.*?)\] TJ/g)].map((m) =>
    [...(m[1] ?? '').matchAll(/<([0-9a-f]*)>/g)].map((h) => Buffer.from(h[1] ?? '', 'hex').toString('latin1')).join(''),
  )
}

describe('invoice PDF', () => {
  it('says above the table that amounts are integers in minor units, and prints each column of a quarter', async () => {
    const [first] = computeInvoices(account({ cycle: 'quarterly' }), { usage: [], ledger: [] }, Date.UTC(2027, 0, 31))
    if (!first) throw new Error('no invoice')
    const text = await textOf(first)
    expect(text).toEqual(
      expect.arrayContaining([
        'Amounts: integers in minor units of EUR (100 = 1.00 EUR)',
        'Each line: quantity × unit price × months × proration, rounded half to even, less the discount = amount',
        'Description',
        'From',
        'To (excl.)',
        'Qty',
        'Unit price',
        'Months',
        'Proration',
        'Discount',
        'Amount',
        'Total: 26790 (minor units of EUR)',
      ]),
    )
    // The base line's row, cell by cell: 1 x 4900 x 3 x 1 - 735 = 13965
    const at = text.indexOf('Plan growth')
    expect(text.slice(at, at + 9)).toEqual(['Plan growth', '2027-01-31', '2027-04-30', '1', '4900', '3', '1', '735', '13965'])
  })

  it('prints an upgrade line with its proration as days of the period and the days it charges for', async () => {
    const up = computeInvoices(account({ changes: [{ at: '2027-03-10', plan: 'pro' }] }), { usage: [], ledger: [] }, Date.UTC(2027, 2, 11)).find(
      (i) => i.kind === 'upgrade',
    )
    if (!up) throw new Error('no upgrade')
    const text = await textOf(up)
    const at = text.indexOf('Unused time: Plan growth')
    expect(text.slice(at, at + 9)).toEqual(['Unused time: Plan growth', '2027-03-10', '2027-03-31', '-1', '4900', '1', '21/31', '0', '-3319'])
    expect(text).toContain('Total: 4404 (minor units of EUR)')
  })

  it('names a currency without minor digits plainly', async () => {
    const [first] = computeInvoices({ ...account({}), plans: { growth: { ...growth, currency: 'JPY' } } }, { usage: [], ledger: [] }, Date.UTC(2027, 0, 31))
    if (!first) throw new Error('no invoice')
    expect(await textOf(first)).toContain('Amounts: integers in minor units of JPY (1 = 1 JPY)')
  })
})
