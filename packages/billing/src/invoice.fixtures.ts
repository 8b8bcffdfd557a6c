/** The account and the readers the invoice tests share (invoice*.test.ts). */
import type { BillingData, Invoice } from './invoice.js'
import type { BillingAccount, InvoiceLine } from './rating.js'
import type { BillingSubscription } from './period.js'
import { growth, pro } from './testing/plans.js'

export function account(sub: Partial<BillingSubscription> = {}, timezone = 'UTC'): BillingAccount {
  return {
    timezone,
    plans: { growth, pro },
    members: ['alice'],
    subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 3, contacts: 1000, ...sub },
  }
}
export const none: BillingData = { usage: [], ledger: [] }
export const utc = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d)
export const totals = (invoices: Invoice[]) => invoices.map((i) => [i.key, i.total])
export const lines = (i: Invoice | undefined) => i?.lines.map((l) => [l.kind, l.quantity, l.unitPrice, l.amount])
/** A line as a reader checks it: quantity x unit price x months x proration - discount = amount. */
export const columns = (l: InvoiceLine | undefined) =>
  l && [l.kind, l.quantity, l.unitPrice, l.months, l.proration ? `${l.proration.days}/${l.proration.of}` : '1', l.discount, l.amount]
