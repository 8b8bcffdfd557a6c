/**
 * The request and answer schemas of the billing portal's routes (docs/portal.md), declared once in
 * zod: the routes validate with them and the OpenAPI document (./openapi.ts) is generated from them
 * (`PORTAL_OPERATIONS`, `PORTAL_COMPONENTS`), so the two cannot drift.
 */
import { z } from 'zod'
import { CYCLES, ID_PATTERN } from '@tally/protocol'
import type { Operation, Reply } from './openapi.js'

const id = z.string().regex(ID_PATTERN)
/** An idempotency key the page makes once per form: the same key again answers the first result. */
const key = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/).describe('Idempotency key, made once per form: a repeat answers the first result and changes nothing.')
const date = z.iso.date()
const money = z.number().int()

export const SessionRequest = z.strictObject({
  member: id.optional().describe('A member of the account: the session sees that member\'s wallet only and cannot manage the subscription.'),
  returnUrl: z.url({ protocol: /^https?$/ }).max(2000).optional().describe('Where the portal\'s "Return" link goes.'),
})
export const SessionAnswer = z.object({
  url: z.string().describe('Single-use link that opens a signed-in portal; give it to the browser at once.'),
  expiresAt: z.iso.datetime().describe('The session ends then (about an hour).'),
})

export const ChangeFields = {
  plan: id.optional(),
  seats: z.number().int().min(1).max(100_000).optional(),
  products: z.array(id).max(100).optional().describe('The whole list of products wanted.'),
  cycle: z.enum(CYCLES).optional(),
}
export const PreviewRequest = z.strictObject(ChangeFields)
export const ChangeRequest = z.strictObject({ ...ChangeFields, key })

const Line = z.object({ kind: z.string(), description: z.string(), amount: money }).loose()
const Terms = z.object({ plan: z.string(), seats: z.number().int(), products: z.array(z.string()) })
export const Preview = z.object({
  change: z.object({ at: date, plan: z.string().optional(), seats: z.number().int().optional(), products: z.array(z.string()).optional(), cycle: z.enum(CYCLES).optional() }),
  effective: z.enum(['now', 'period_end']).describe('`now`: part of it takes effect today; `period_end`: all of it waits for the period\'s end.'),
  chargeNow: z.object({ total: money, lines: z.array(Line) }).nullable().describe('The prorated upgrade invoice issued at once, null when nothing is billed now.'),
  periodEnd: date,
  next: z.object({ total: money, cycle: z.string(), lines: z.array(Line) }).describe('Recurring fees of the next period with the change.'),
  current: z.object({ total: money, cycle: z.string() }).describe('The same without it.'),
  today: Terms, fromPeriodEnd: Terms, currency: z.string(),
})
export const ChangeAnswer = z.object({ status: z.enum(['applied', 'scheduled']), preview: Preview, invoice: z.number().int().nullable() })

export const KeyOnly = z.strictObject({ key })
export const CancelAnswer = z.object({ status: z.enum(['cancelled', 'resumed']), cancelledAt: date.nullable(), endsOn: date.nullable() })

export const PackRequest = z.strictObject({ pack: id, key })
export const TransferRequest = z.strictObject({ to: id, credits: z.number().int().min(1).max(1_000_000_000), key })
export const PurchaseAnswer = z.object({ status: z.enum(['accepted', 'duplicate']), pack: z.string(), credits: z.number().int().optional(), emails: z.number().int().optional(), invoice: z.string() })
export const TransferAnswer = z.object({
  status: z.enum(['accepted', 'duplicate', 'rejected']), to: z.string(), credits: z.number().int(), balance: z.number().int(), code: z.string().optional(),
})

const line = (max: number) => z.string().max(max).refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s), 'no control characters')
export const BillingDetails = z.strictObject({
  company: line(200).min(1).describe('Company name, printed on invoices.'),
  address: line(500).describe('Postal address; lines separated by newlines.'),
  taxId: line(64).describe('VAT or tax id, as the company writes it.'),
  email: z.email().max(254).describe('Where invoices are sent.'),
})
export type BillingDetails = z.output<typeof BillingDetails>
export const BillingDetailsRequest = BillingDetails.extend({ key })
export const BillingDetailsAnswer = z.object({ details: BillingDetails, since: z.iso.datetime() })

export const PaymentRequest = z.strictObject({
  id: id.describe('The report\'s id: the same id again records nothing more.'),
  status: z.enum(['paid', 'failed', 'refunded']),
  reference: line(200).describe('The processor\'s reference of the charge or refund.'),
  date: date.optional().describe('The local day it happened; today when left out.'),
})
export type PaymentReport = z.output<typeof PaymentRequest>
export const PaymentAnswer = z.object({
  invoice: z.number().int(), id: z.string(), status: z.enum(['accepted', 'duplicate']),
  payment: z.object({ status: z.enum(['paid', 'failed', 'refunded']), reference: z.string(), date: date, reportedAt: z.iso.datetime() }),
})

export const LogQuery = z.object({
  wallet: z.string().max(80).optional(),
  type: z.enum(['grant', 'purchase', 'spend', 'transfer_out', 'transfer_in', 'expiry']).optional(),
  from: date.optional(), to: date.optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
})

/** `{ error: { code, message } }` */
const ERROR = { $ref: '#/components/schemas/Error' }
const json = (description: string, schema: z.ZodType): Reply => ({ description, content: { 'application/json': { schema: toSchema(schema) } } })
const error = (description: string): Reply => ({ description, content: { 'application/json': { schema: ERROR } } })
const body = (schema: z.ZodType) => ({ contentType: 'application/json', schema: toSchema(schema) })
export const toSchema = (s: z.ZodType): Record<string, unknown> => {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  return rest
}

const STORAGE = error('`unavailable`: storage is unavailable, retry later.')
const READ_ERRORS = { 401: error('`unauthorized`: no portal session, or it expired.'), 503: STORAGE }
const SESSION_ERRORS = {
  401: error('`unauthorized`: no portal session, or it expired.'),
  403: error('`forbidden`: the CSRF token is missing or wrong, the request came from another site, a member\'s session asked to manage the subscription, or the plan\'s portal policy does not allow it.'),
}
const WRITE = {
  400: error('`invalid_request`: a field is missing or wrong (the message names it).'),
  ...SESSION_ERRORS,
  503: error('`unavailable`: storage is unavailable, retry later with the same key.'),
}

export const PORTAL_OPERATIONS: Record<string, Operation> = {
  'POST /v1/portal/sessions': {
    operationId: 'createPortalSession', summary: 'A signed-in billing portal for the account (single-use link)', tags: ['portal'], auth: 'secret',
    description: 'The vendor\'s backend asks for it and sends the browser to `url` (or loads it in an iframe on one of the account\'s container domains). docs/portal.md.',
    body: body(SessionRequest),
    responses: {
      200: json('The link and when the session ends.', SessionAnswer),
      400: error('`invalid_request`: an unknown member or a bad return URL.'),
      401: error('`unauthorized`: no account key.'), 403: error('`forbidden`: the read key (this needs the secret key).'),
    },
  },
  'GET /portal/open': {
    operationId: 'openPortal', summary: 'Opens a portal link once: sets the session cookie and goes to the portal', tags: ['portal'], auth: 'none',
    query: [{ name: 'token', required: true, description: 'The token of a link from `POST /v1/portal/sessions`.', schema: { type: 'string' } }],
    responses: {
      200: { description: 'A page that sets the session cookie and goes on to `/portal`.', content: { 'text/html': { schema: { type: 'string' } } } },
      401: { description: 'An HTML page: the link was used already, expired, or is unknown.', content: { 'text/html': { schema: { type: 'string' } } } }, 503: STORAGE,
    },
  },
  'GET /portal': {
    operationId: 'getPortalPage', summary: 'The billing portal page', tags: ['portal'], auth: 'portal',
    responses: { 200: { description: 'HTML.', content: { 'text/html': { schema: { type: 'string' } } } }, 401: { description: 'No session, or it expired: an HTML page for a browser (`Accept: text/html`), else `unauthorized`.', content: { 'text/html': { schema: { type: 'string' } }, 'application/json': { schema: ERROR } } }, 503: STORAGE },
  },
  'GET /portal/assets/:file': {
    operationId: 'getPortalAsset', summary: 'A file of the portal page', tags: ['portal'], auth: 'none',
    path: { file: { description: '`portal.js` or `portal.css`.' } },
    responses: { 200: { description: 'JavaScript or CSS.', content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } } }, 404: error('`not_found`: no such file.') },
  },
  'GET /v1/portal/state': {
    operationId: 'getPortalState', summary: 'Everything the portal shows: plan, usage, wallets, invoices, notices, what may change', tags: ['portal'], auth: 'portal',
    responses: { 200: { description: 'The state (docs/portal.md, "State").', content: { 'application/json': { schema: { type: 'object' } } } }, ...READ_ERRORS, 404: error('`not_found`: the subscription has not started or has ended.') },
  },
  'GET /v1/portal/credits/log': {
    operationId: 'getPortalCreditLog', summary: 'The credit log of the wallets the session sees, filtered', tags: ['portal'], auth: 'portal',
    query: [
      { name: 'wallet', description: '`account` or `member:<id>` (a member\'s session: its own only).', schema: { type: 'string' } },
      { name: 'type', description: 'Only entries of this type.', schema: { enum: ['grant', 'purchase', 'spend', 'transfer_out', 'transfer_in', 'expiry'] } },
      { name: 'from', description: 'From this local day.', schema: { type: 'string', format: 'date' } },
      { name: 'to', description: 'Up to this local day (inclusive).', schema: { type: 'string', format: 'date' } },
      { name: 'limit', description: 'The newest this many (default 200).', schema: { type: 'integer', minimum: 1, maximum: 500 } },
    ],
    responses: {
      200: { description: 'Entries, newest first.', content: { 'application/json': { schema: { type: 'object' } } } }, 400: WRITE[400], ...READ_ERRORS,
      403: error('`forbidden`: a member\'s session asked for another wallet.'),
    },
  },
  'POST /v1/portal/subscription/preview': {
    operationId: 'previewPortalChange', summary: 'What a plan, seat, product or cycle change bills now and from the period\'s end', tags: ['portal'], auth: 'portal',
    body: body(PreviewRequest), responses: { 200: json('The preview: the same computation the confirmation bills.', Preview), ...WRITE },
  },
  'POST /v1/portal/subscription/changes': {
    operationId: 'confirmPortalChange', summary: 'Makes a previewed change: upgrades at once (prorated), the rest at the period\'s end', tags: ['portal'], auth: 'portal',
    body: body(ChangeRequest), responses: { 200: json('What was done, with its preview and the upgrade invoice\'s number.', ChangeAnswer), ...WRITE },
  },
  'POST /v1/portal/subscription/cancel': {
    operationId: 'cancelPortalSubscription', summary: 'Cancels at the period\'s end', tags: ['portal'], auth: 'portal',
    body: body(KeyOnly), responses: { 200: json('When it ends.', CancelAnswer), ...WRITE, 409: error('`conflict`: already cancelled.') },
  },
  'POST /v1/portal/subscription/resume': {
    operationId: 'resumePortalSubscription', summary: 'Undoes a scheduled cancellation before the period ends', tags: ['portal'], auth: 'portal',
    body: body(KeyOnly), responses: { 200: json('It renews again.', CancelAnswer), ...WRITE, 409: error('`conflict`: not cancelled.') },
  },
  'POST /v1/portal/credits/purchase': {
    operationId: 'buyPortalCredits', summary: 'Buys a credit pack', tags: ['portal'], auth: 'portal',
    body: body(PackRequest), responses: { 200: json('The purchase; its invoice is issued at once.', PurchaseAnswer), ...WRITE },
  },
  'POST /v1/portal/emails/purchase': {
    operationId: 'buyPortalEmails', summary: 'Buys an email pack for the running month', tags: ['portal'], auth: 'portal',
    body: body(PackRequest), responses: { 200: json('The purchase; its invoice is issued at once.', PurchaseAnswer), ...WRITE },
  },
  'POST /v1/portal/credits/transfer': {
    operationId: 'transferPortalCredits', summary: 'Sends credits to a member (irreversible)', tags: ['portal'], auth: 'portal',
    body: body(TransferRequest), responses: { 200: json('What moved, or `rejected` for want of credits.', TransferAnswer), ...WRITE },
  },
  'PUT /v1/portal/billing-details': {
    operationId: 'putPortalBillingDetails', summary: 'Changes the invoice information (printed on invoices issued from now on)', tags: ['portal'], auth: 'portal',
    body: body(BillingDetailsRequest), responses: { 200: json('The information in force and since when.', BillingDetailsAnswer), ...WRITE },
  },
  'GET /v1/portal/invoices/:file': {
    operationId: 'getPortalInvoice', summary: 'Downloads an invoice (PDF, CSV or JSON)', tags: ['portal'], auth: 'portal',
    path: { file: { description: '`{number}.pdf`, `{number}.csv` or `{number}.json`.' } },
    responses: {
      200: { description: 'The invoice.', content: { 'application/pdf': {}, 'text/csv': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } }, ...READ_ERRORS,
      403: error('`forbidden`: a member\'s session (invoices are the manager\'s).'), 404: error('`not_found`: no such invoice.'),
    },
  },
  'POST /v1/portal/sign-out': {
    operationId: 'signOutPortal', summary: 'Ends the portal session', tags: ['portal'], auth: 'portal',
    responses: { 204: { description: 'Signed out.' }, ...SESSION_ERRORS },
  },
  'POST /v1/invoices/:number/payments': {
    operationId: 'reportInvoicePayment', summary: 'Reports what the payment processor did with an invoice', tags: ['server usage'], auth: 'secret',
    description: 'Tally never takes payments: the vendor\'s processor does, and the vendor reports each outcome here. The latest report is the invoice\'s payment status; a `failed` one shows a notice in the portal and the dashboard until a later `paid`.',
    path: { number: { description: 'The invoice number.', schema: { type: 'string', pattern: '^[0-9]{1,9}$' } } },
    body: body(PaymentRequest),
    responses: {
      200: json('The report as stored (a repeated id answers the first).', PaymentAnswer),
      400: error('`invalid_request`: a field is missing or wrong.'), 401: error('`unauthorized`.'), 403: error('`forbidden`: the read key.'),
      404: error('`not_found`: no such invoice.'),
    },
  },
  'GET /v1/notices': {
    operationId: 'getNotices', summary: 'What the account should know now: a failed payment, a change or cancellation scheduled, a term ending, credits low, email quota reached', tags: ['read'], auth: 'account',
    responses: { 200: { description: '`{ notices: [{ kind, severity, message, date?, invoice? }] }`, most urgent first.', content: { 'application/json': { schema: { type: 'object' } } } }, 401: error('`unauthorized`.'), 503: STORAGE },
  },
}

/** Components the webhook schemas of the portal refer to. */
export const PORTAL_COMPONENTS: Record<string, Record<string, unknown>> = {
  BillingDetails: toSchema(BillingDetails),
  PortalChange: toSchema(z.object({
    change: Preview.shape.change, effective: Preview.shape.effective, periodEnd: date,
    chargeNow: money.nullable().describe('Total of the upgrade invoice issued at once.'), nextTotal: money, currency: z.string(),
  })),
}
