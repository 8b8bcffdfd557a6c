/**
 * The request and answer schemas of the billing portal's routes (docs/portal.md), declared once in
 * zod: the routes validate with them (`valid`) and `/openapi.json` is generated from them
 * (./ops-portal.ts), so the two cannot drift.
 */
import { z } from 'zod'
import { CYCLES, ID_PATTERN } from '@tally/protocol'
import { LedgerEntrySchema, PeriodRef } from './billing-schemas.js'
import { date, instant, int, text, zone } from './define.js'

const id = z.string().regex(ID_PATTERN, 'expected 1-64 characters of [A-Za-z0-9._:-]')
/** An idempotency key the page makes once per form: the same key again answers the first result. */
const key = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'expected 8-64 characters of [A-Za-z0-9_-]')
  .meta({ description: 'Idempotency key, made once per form: a repeat answers the first result and changes nothing.' })
const money = int

export const SessionRequest = z
  .strictObject({
    member: id.optional().meta({ description: "A member of the account: the session sees that member's wallet only and cannot manage the subscription." }),
    returnUrl: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional()
      .meta({ description: 'Where the portal\'s "Return" link goes.' }),
  })
  .meta({ id: 'PortalSessionRequest' })
export const SessionAnswer = z
  .object({
    url: z.string().meta({ description: 'Single-use link that opens a signed-in portal; give it to the browser at once.' }),
    expiresAt: instant.meta({ description: 'The session ends then (about an hour).' }),
  })
  .meta({ id: 'PortalSession' })

export const ChangeFields = {
  plan: id.optional(),
  seats: z.number().int().min(1).max(100_000).optional(),
  products: z.array(id).max(100).optional().meta({ description: 'The whole list of products wanted.' }),
  cycle: z.enum(CYCLES).optional(),
}
export const PreviewRequest = z.strictObject(ChangeFields).meta({ id: 'PortalPreviewRequest' })
export const ChangeRequest = z.strictObject({ ...ChangeFields, key }).meta({ id: 'PortalChangeRequest' })

/** An invoice line as billing computes it (the full shape: `InvoiceLine`); the portal shows these fields. */
const Line = z.object({ kind: z.string(), description: z.string(), amount: money }).loose()
const Terms = z.object({ plan: z.string(), seats: int, products: z.array(z.string()) })
const ChangeAsked = z.object({
  at: date,
  plan: z.string().optional(),
  seats: int.optional(),
  products: z.array(z.string()).optional(),
  cycle: z.enum(CYCLES).optional(),
})
const Effective = z
  .enum(['now', 'period_end'])
  .meta({ description: "`now`: part of it takes effect today; `period_end`: all of it waits for the period's end." })
export const Preview = z
  .object({
    change: ChangeAsked,
    effective: Effective,
    chargeNow: z
      .object({ total: money, lines: z.array(Line) })
      .nullable()
      .meta({ description: 'The prorated upgrade invoice issued at once, null when nothing is billed now.' }),
    periodEnd: date,
    next: z.object({ total: money, cycle: z.string(), lines: z.array(Line) }).meta({ description: 'Recurring fees of the next period with the change.' }),
    current: z.object({ total: money, cycle: z.string() }).meta({ description: 'The same without it.' }),
    today: Terms,
    fromPeriodEnd: Terms,
    currency: z.string(),
  })
  .meta({ id: 'PortalPreview' })
export const ChangeAnswer = z.object({ status: z.enum(['applied', 'scheduled']), preview: Preview, invoice: int.nullable() }).meta({ id: 'PortalChangeResult' })

export const KeyOnly = z.strictObject({ key }).meta({ id: 'PortalKey' })
export const CancelAnswer = z
  .object({ status: z.enum(['cancelled', 'resumed']), cancelledAt: date.nullable(), endsOn: date.nullable() })
  .meta({ id: 'PortalCancellation' })

export const PackRequest = z.strictObject({ pack: id, key }).meta({ id: 'PortalPackRequest' })
export const TransferRequest = z.strictObject({ to: id, credits: z.number().int().min(1).max(1_000_000_000), key }).meta({ id: 'PortalTransferRequest' })
export const PurchaseAnswer = z
  .object({ status: z.enum(['accepted', 'duplicate']), pack: z.string(), credits: int.optional(), emails: int.optional(), invoice: z.string() })
  .meta({ id: 'PortalPurchaseResult' })
export const TransferAnswer = z
  .object({ status: z.enum(['accepted', 'duplicate', 'rejected']), to: z.string(), credits: int, balance: int, code: z.string().optional() })
  .meta({ id: 'PortalTransferResult' })

const line = (max: number) =>
  z
    .string()
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the point: refuse control characters in a printed line
    .refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s), 'no control characters')
const BillingDetailsFields = {
  company: line(200).min(1).meta({ description: 'Company name, printed on invoices.' }),
  address: line(500).meta({ description: 'Postal address; lines separated by newlines.' }),
  taxId: line(64).meta({ description: 'VAT or tax id, as the company writes it.' }),
  email: z.email().max(254).meta({ description: 'Where invoices are sent.' }),
}
export const BillingDetails = z.strictObject(BillingDetailsFields).meta({ id: 'BillingDetails' })
export type BillingDetails = z.output<typeof BillingDetails>
export const BillingDetailsRequest = z.strictObject({ ...BillingDetailsFields, key }).meta({ id: 'PortalBillingDetailsRequest' })
export const BillingDetailsAnswer = z.object({ details: BillingDetails, since: instant }).meta({ id: 'PortalBillingDetails' })

const PAYMENT_STATUSES = ['paid', 'failed', 'refunded'] as const
export const PaymentRequest = z
  .strictObject({
    id: id.meta({ description: "The report's id: the same id again records nothing more." }),
    status: z.enum(PAYMENT_STATUSES),
    reference: line(200).meta({ description: "The processor's reference of the charge or refund." }),
    date: date.optional().meta({ description: 'The local day it happened; today when left out.' }),
  })
  .meta({ id: 'PaymentReport' })
export type PaymentReport = z.output<typeof PaymentRequest>
/** The `:number` of a payment report's path. */
export const InvoiceNumberPath = z.object({ number: z.string().regex(/^[0-9]{1,9}$/, 'expected an invoice number') })
const AT_RULE = 'expected an ISO-8601 date or date-time with offset'
/** The admin's report (docs/protocol.md §6): `{ status, at, reference }`, with an optional id. */
export const AdminPaymentRequest = z
  .strictObject({
    status: z.enum(PAYMENT_STATUSES),
    at: z
      .string(AT_RULE)
      .refine((v) => date.safeParse(v).success || instant.safeParse(v).success, AT_RULE)
      .optional()
      .meta({ description: "When it happened: a date-time with offset (kept as the account's local day) or a local day; now when left out." }),
    reference: line(200).meta({ description: "The processor's reference of the charge or refund." }),
    id: id
      .optional()
      .meta({
        description: "The report's id: the same id again records nothing more. Without one, the same status, `at` and reference again record nothing more.",
      }),
  })
  .meta({ id: 'AdminPaymentReport' })
const Payment = z.object({ status: z.enum(PAYMENT_STATUSES), reference: z.string(), date, reportedAt: instant })
export const PaymentAnswer = z
  .object({ invoice: int, id: z.string(), status: z.enum(['accepted', 'duplicate']), payment: Payment })
  .meta({ id: 'PaymentReportResult' })

export const LEDGER_TYPES = ['grant', 'purchase', 'spend', 'transfer_out', 'transfer_in', 'expiry'] as const
export const LogQuery = z.strictObject({
  wallet: z.string().max(80).optional().meta({ description: "`account` or `member:<id>` (a member's session: its own only)." }),
  type: z.enum(LEDGER_TYPES).optional().meta({ description: 'Only entries of this type.' }),
  from: date.optional().meta({ description: 'From this local day.' }),
  to: date.optional().meta({ description: 'Up to this local day (inclusive).' }),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'expected 1 to 500')
    .transform(Number)
    .pipe(z.number().int().min(1, 'expected 1 to 500').max(500, 'expected 1 to 500'))
    .meta({ intRange: [1, 500], description: 'The newest this many (default 200).' })
    .optional(),
})
export const PortalCreditLog = z
  .object({
    account: text,
    timezone: zone,
    // Each entry of the credit log (`LedgerEntry`), with its local day.
    entries: z.array(
      z.union(
        LedgerEntrySchema.options.map((o) => o.extend({ day: date.meta({ description: 'The local day of `at`.' }) })) as unknown as [
          z.ZodObject,
          ...z.ZodObject[],
        ],
      ),
    ),
  })
  .meta({ id: 'PortalCreditLog' })

export const Notice = z
  .object({
    kind: z.enum(['payment_failed', 'change_scheduled', 'cancellation_scheduled', 'term_ending', 'credits_low', 'email_quota_reached']),
    severity: z.enum(['critical', 'warning', 'info']),
    message: text.meta({ description: 'What it says, in plain words.' }),
    date: date.optional().meta({ description: 'The local day it is about, when it has one.' }),
    invoice: int.optional().meta({ description: 'The invoice it is about (payment failed).' }),
  })
  .meta({ id: 'Notice' })
export const Notices = z.object({ account: text, notices: z.array(Notice).meta({ description: 'Most urgent first.' }) }).meta({ id: 'Notices' })

const PlanView = z.object({
  id: text,
  name: text,
  currency: text,
  basePrice: money,
  seatPrice: money,
  products: z.array(z.object({ id: text, name: text, price: money })),
  cycleDiscountPercent: z.record(z.string(), z.number()),
})
const Fees = z.object({ total: money, cycle: text, lines: z.array(Line) })
export const PortalState = z
  .object({
    account: z.object({ id: text, name: text, timezone: zone }),
    role: z.enum(['manager', 'member']),
    member: text.nullable(),
    expiresAt: instant,
    returnUrl: text.nullable(),
    policy: z
      .object({
        plans: z.array(text),
        cycles: z.array(z.enum(CYCLES)),
        products: z.boolean(),
        creditPacks: z.boolean(),
        emailPacks: z.boolean(),
        transfers: z.boolean(),
        cancel: z.boolean(),
        billingDetails: z.boolean(),
      })
      .loose()
      .nullable()
      .meta({ description: "What the plan lets the portal change (the manager's session only)." }),
    subscription: z.object({
      plan: PlanView,
      cycle: z.enum(CYCLES),
      seats: int,
      products: z.array(text),
      status: z.enum(['active', 'cancelling', 'ended']),
      period: PeriodRef,
      renewsOn: date.nullable(),
      cancelledAt: date.nullable(),
      endsOn: date.nullable(),
      recurring: Fees.nullable().meta({ description: 'What the period in force costs.' }),
      next: Terms.nullable().meta({ description: "The terms from the period's end." }),
    }),
    usage: z.object({
      meters: z.array(z.object({ meter: text, used: int, included: int.nullable() })),
      contacts: z.object({ paid: int, highest: int }),
      emails: z.object({ quota: int, granted: int, sent: int, left: int }).loose().nullable(),
      creditsByAction: z.array(z.object({ action: text, credits: int })),
      containers: z.array(z.object({ id: text, name: text, impressions: int, engagements: int, chatSessions: int })),
    }),
    wallets: z.array(z.object({ wallet: text, balance: int })),
    members: z.array(text),
    plans: z.array(PlanView),
    packs: z.object({
      credits: z.array(z.object({ id: text, credits: int, price: money })),
      emails: z.array(z.object({ id: text, emails: int, price: money })),
    }),
    invoices: z.array(
      z.object({
        number: int.nullable(),
        kind: text,
        issuedDate: date,
        total: money,
        currency: text,
        period: PeriodRef.nullable(),
        payment: Payment.extend({ id: text }).nullable(),
      }),
    ),
    billingDetails: BillingDetailsAnswer.nullable(),
    notices: z.array(Notice),
  })
  .meta({ id: 'PortalState' })

/** The `data` of the portal's subscription change webhooks. */
export const PortalChange = z.object({
  change: ChangeAsked,
  effective: Effective,
  periodEnd: date,
  chargeNow: money.nullable().meta({ description: 'Total of the upgrade invoice issued at once.' }),
  nextTotal: money,
  currency: z.string(),
})
