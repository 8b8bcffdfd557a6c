/**
 * The answers of the billing reads and the billing run (docs/billing-api.md), in zod: the
 * document's `#/components/schemas/…` (each `.meta({ id })`).
 */
import { z } from 'zod'
import { CYCLES } from '@tally/protocol'
import type { InvoiceKind, LedgerEntry, LineKind } from '@tally/billing'
import { parseIsoInstant } from '../../domain/dates.js'
import { date, instant, int, ms, text, zone } from './define.js'

/** A list that names every member of the union `T`: the compiler says which one is missing. */
const every =
  <T extends string>() =>
  <const L extends readonly [T, ...T[]]>(list: L & ([Exclude<T, L[number]>] extends [never] ? unknown : { missing: Exclude<T, L[number]> })): L =>
    list

const LINE_KINDS = every<LineKind>()(['base', 'seats', 'product', 'contacts', 'usage', 'contacts_excess', 'adjustment', 'minimum', 'credits', 'emails'])
export const INVOICE_KINDS = every<InvoiceKind>()(['recurring', 'upgrade', 'rebalance', 'credits', 'emails'])
const LEDGER_TYPES = every<LedgerEntry['type']>()(['grant', 'purchase', 'spend', 'transfer_out', 'transfer_in', 'expiry'])

export const currency = z.string().regex(/^[A-Z]{3}$/)
export const minor = int.meta({ description: 'Minor units.' })

export const PeriodRef = z
  .object({ index: int, start: ms, end: ms, startDate: date, endDate: date })
  .meta({ id: 'PeriodRef', description: 'A billing period: `[start, end)`, with its local dates (end exclusive).' })

export const InvoiceLine = z
  .object({
    kind: z.enum(LINE_KINDS),
    description: text,
    quantity: int.meta({ description: 'Units (seats, blocks of usage, 1 for a flat fee); negative for a credit.' }),
    unitPrice: int.meta({ description: 'Minor units per unit and month.' }),
    months: int,
    discountPercent: z.number().min(0).max(100),
    proration: z
      .object({ days: int, of: int })
      .nullable()
      .meta({ description: 'The share of the period billed (days of its days); null for the whole period.' }),
    discount: int.meta({
      description:
        'The cycle discount as an amount, minor units: quantity x unitPrice x months x proration, rounded once half to even, less this, is `amount`.',
    }),
    meter: z.enum(['impressions', 'engagements', 'chatSessions', 'alerts', 'contacts']).optional(),
    contacts: int.meta({ description: 'The contact count a `contacts` line prices.' }).optional(),
    product: text.meta({ description: 'The product of a `product` line.' }).optional(),
    amount: minor,
    from: date.meta({ description: 'First local day the line charges for.' }),
    to: date.meta({ description: 'The local day after the last one it charges for (equal to `from` for a one-off charge).' }),
    period: PeriodRef,
  })
  .meta({ id: 'InvoiceLine' })

const invoiceFields = {
  key: z.string().meta({ description: 'Stable name: `recurring:3`, `upgrade:3:0`, `rebalance:3:2`, `credits:purchase:<id>`.' }),
  kind: z.enum(INVOICE_KINDS),
  status: z.enum(['draft', 'finalized']),
  number: int.nullable().meta({ description: 'Gap-free per account, given when finalized.' }),
  currency,
  issuedAt: ms,
  issuedDate: date,
  period: PeriodRef.nullable(),
  lines: z.array(InvoiceLine),
  total: minor,
  amountUnit: z.literal('minor').optional().meta({ description: 'Every amount of the invoice is in integer minor units of `currency` (cents for EUR).' }),
  pricedBy: z
    .object({ account: int, plan: int.nullable() })
    .optional()
    .meta({
      description:
        "The configuration versions that priced it: the account's and its plan's, as `GET /v1/admin/accounts/{id}/history` lists them (docs/configuration.md). Absent on invoices of a collector before versions.",
    }),
}
export const Invoice = z.object(invoiceFields).meta({ id: 'Invoice', description: 'An invoice as billing computes it (amounts in integer minor units).' })
export const AccountInvoice = z
  .object({ account: text, ...invoiceFields })
  .meta({ id: 'AccountInvoice', description: 'A finalized invoice of the account: the stored invoice and the account id.' })

export const Invoices = z
  .object({
    account: text,
    timezone: zone,
    invoices: z.array(
      z.object({
        number: int.nullable(),
        key: text,
        kind: z.enum(INVOICE_KINDS),
        status: z.enum(['draft', 'finalized']),
        issuedDate: date,
        period: PeriodRef.nullable(),
        currency: text,
        total: int,
      }),
    ),
  })
  .meta({ id: 'Invoices' })

export const Wallets = z
  .record(
    z.string(),
    z.object({ balance: int, lots: z.array(z.object({ lot: text, kind: z.enum(['free', 'purchased']), remaining: int, expiresAt: int.nullable() })) }),
  )
  .meta({ id: 'Wallets', description: 'Balances by wallet (`account`, `member:<name>`), with their live lots.' })

export const Credits = z.object({ account: text, timezone: zone, asOf: instant, wallets: Wallets }).meta({ id: 'Credits' })

export const Period = z
  .object({
    account: text,
    timezone: zone,
    asOf: instant,
    period: PeriodRef,
    cycle: z.enum(CYCLES),
    planId: text,
    planName: z.string().meta({ description: "The plan's `name` in the configuration, else its id." }),
    seats: int,
    products: z.array(text).meta({ description: 'The add-on products chosen, in force now.' }),
    paidContacts: int,
    meters: z
      .object({
        impressions: int,
        engagements: int,
        chatSessions: int,
        alerts: int,
        emails: int,
        contacts: int.nullable(),
        credits: z.record(z.string(), int).meta({ description: 'Credits spent by action.' }),
      })
      .meta({ description: 'Usage so far in the period.' }),
    included: z.object({ impressions: int, engagements: int, chatSessions: int, alerts: int }),
    emails: z.object({ quota: int, granted: int, sent: int, left: int }),
    credits: Wallets,
    preview: Invoice.nullable().meta({ description: 'The next recurring invoice from the usage so far (a draft).' }),
  })
  .meta({ id: 'Period', description: 'Period bounds, meters against the included quotas, email quota, credit balances, invoice preview.' })

const lotDraws = z.array(z.object({ lot: text, credits: int }))
const ledgerEntry = <T extends (typeof LEDGER_TYPES)[number]>(type: T, description: string, fields: z.ZodRawShape) =>
  z
    .object({
      id: z.string().meta({ description: 'Unique in the log: `action:<event id>`, `purchase:<id>`, `transfer:<id>`, `grant:<month>`, `expiry:<lot>`.' }),
      type: z.literal(type),
      wallet: z.string().meta({ description: '`account` or `member:<name>`.' }),
      at: ms,
      credits: int.min(0).meta({ description: "Always positive; the direction is the entry's type." }),
      time: instant.meta({ description: '`at` as ISO-8601.' }),
      ...fields,
    })
    .meta({ description })

export const LedgerEntrySchema = z
  .union([
    ledgerEntry('grant', 'The free credits of a month; they expire at its end.', { lot: text, expiresAt: ms }),
    ledgerEntry('purchase', 'A credit pack bought.', { lot: text, pack: text, price: int, currency: text }),
    ledgerEntry('spend', 'Credits paid for an action.', { action: text, quantity: int, draws: lotDraws }),
    ledgerEntry('transfer_out', 'Credits sent to a member.', { to: text, draws: lotDraws }),
    ledgerEntry('transfer_in', 'Credits received by a member.', {
      from: text,
      lots: z.array(z.object({ lot: text, source: text, credits: int, expiresAt: int.nullable() })),
    }),
    ledgerEntry('expiry', 'The unspent rest of a lot at its expiry.', { lot: text }),
  ])
  .meta({ id: 'LedgerEntry' })

export const CreditLog = z.object({ account: text, timezone: zone, entries: z.array(LedgerEntrySchema) }).meta({ id: 'CreditLog' })

const INSTANT_RULE = 'expected an ISO-8601 instant'
export const BillingRun = z
  .object({
    asOf: z
      .string(INSTANT_RULE)
      .refine((v) => !Number.isNaN(parseIsoInstant(v)), INSTANT_RULE)
      .optional()
      .meta({ description: 'ISO-8601 date or date-time with offset, not in the future; default now.' }),
    account: z.string('expected an account id').optional().meta({ description: 'Only this account; default every account.' }),
  })
  .meta({ id: 'BillingRun' })

export const BillingRunResult = z
  .object({
    asOf: instant,
    accounts: z.array(
      z.object({
        account: text,
        ledger: int.meta({ description: 'Credit log entries written (grants, expiries).' }),
        invoices: z.array(z.object({ number: int.nullable(), key: text, total: int, currency: text })),
        error: z.string().optional().meta({ description: "Why the account's run failed; the other accounts ran." }),
      }),
    ),
  })
  .meta({ id: 'BillingRunResult' })
