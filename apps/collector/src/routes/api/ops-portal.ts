/** The billing portal's routes (docs/portal.md), the payment reports and the notices, declared once. */
import { z } from 'zod'
import { configId, error, ErrorBody, errors, json, JSON_TYPE, STORAGE, text, type Operation, type Reply } from './define.js'
import {
  AdminPaymentRequest,
  BillingDetailsAnswer,
  InvoiceNumberPath,
  BillingDetailsRequest,
  CancelAnswer,
  ChangeAnswer,
  ChangeRequest,
  KeyOnly,
  LogQuery,
  Notices,
  PackRequest,
  PaymentAnswer,
  PaymentRequest,
  PortalCreditLog,
  PortalState,
  Preview,
  PreviewRequest,
  PurchaseAnswer,
  SessionAnswer,
  SessionRequest,
  TransferAnswer,
  TransferRequest,
} from './portal-schemas.js'

const html = (description: string): Reply => ({ description, content: { 'text/html': { schema: text } } })
const body = (schema: z.ZodType) => ({ contentType: JSON_TYPE, schema })

const READ_ERRORS = { 401: error('`unauthorized`: no portal session, or it expired.'), 503: STORAGE }
const SESSION_ERRORS = {
  401: error('`unauthorized`: no portal session, or it expired.'),
  403: error(
    "`forbidden`: the CSRF token is missing or wrong, the request came from another site, a member's session asked to manage the subscription, or the plan's portal policy does not allow it.",
  ),
}
const WRITE = { 400: errors.body400, ...SESSION_ERRORS, 413: errors[413], 503: error('`unavailable`: storage is unavailable, retry later with the same key.') }
const PAYMENT_DESCRIPTION =
  "Tally never takes payments: the vendor's processor does, and the vendor reports each outcome here. The latest report is the invoice's payment status; a `failed` one shows a notice in the portal and the dashboard until a later `paid`."
const invoiceNumber = { description: 'The invoice number.', schema: InvoiceNumberPath.shape.number }

export const PORTAL_OPERATIONS: Record<string, Operation> = {
  'POST /v1/portal/sessions': {
    operationId: 'createPortalSession',
    summary: 'A signed-in billing portal for the account (single-use link)',
    tags: ['portal'],
    auth: 'secret',
    description:
      "The vendor's backend asks for it and sends the browser to `url` (or loads it in an iframe on one of the account's container domains). docs/portal.md.",
    body: body(SessionRequest),
    responses: {
      200: json('The link and when the session ends.', SessionAnswer),
      400: error('`invalid_request`: an unknown member or a bad return URL.'),
      401: errors[401],
      403: errors.secret403,
      413: errors[413],
      503: STORAGE,
    },
  },
  'GET /portal/open': {
    operationId: 'openPortal',
    summary: 'Opens a portal link once: sets the session cookie and goes to the portal',
    tags: ['portal'],
    auth: 'none',
    query: z.object({ token: z.string().optional().meta({ description: 'The token of a link from `POST /v1/portal/sessions`.' }) }),
    responses: {
      200: html('A page that sets the session cookie and goes on to `/portal`.'),
      401: html('The link was used already, expired, or is unknown.'),
      503: STORAGE,
    },
  },
  'GET /portal': {
    operationId: 'getPortalPage',
    summary: 'The billing portal page',
    tags: ['portal'],
    auth: 'portal',
    responses: {
      200: html('HTML.'),
      401: {
        description: 'No session, or it expired: an HTML page for a browser (`Accept: text/html`), else `unauthorized`.',
        content: { 'text/html': { schema: text }, [JSON_TYPE]: { schema: ErrorBody } },
      },
      503: STORAGE,
    },
  },
  'GET /portal/assets/:file': {
    operationId: 'getPortalAsset',
    summary: 'A file of the portal page',
    tags: ['portal'],
    auth: 'none',
    path: { file: { description: '`portal.js`, `portal.css` or `portal-forms.css`.' } },
    responses: {
      200: { description: 'JavaScript or CSS.', content: { 'text/javascript': { schema: text }, 'text/css': { schema: text } } },
      404: error('`not_found`: no such file.'),
    },
  },
  'GET /v1/portal/state': {
    operationId: 'getPortalState',
    summary: 'Everything the portal shows: plan, usage, wallets, invoices, notices, what may change',
    tags: ['portal'],
    auth: 'portal',
    responses: {
      200: json('The state (docs/portal.md, "State").', PortalState),
      ...READ_ERRORS,
      404: error('`not_found`: the subscription has not started or has ended.'),
    },
  },
  'GET /v1/portal/credits/log': {
    operationId: 'getPortalCreditLog',
    summary: 'The credit log of the wallets the session sees, filtered',
    tags: ['portal'],
    auth: 'portal',
    query: LogQuery,
    responses: {
      200: json('Entries, newest first.', PortalCreditLog),
      400: errors[400],
      ...READ_ERRORS,
      403: error("`forbidden`: a member's session asked for another wallet."),
    },
  },
  'POST /v1/portal/subscription/preview': {
    operationId: 'previewPortalChange',
    summary: "What a plan, seat, product or cycle change bills now and from the period's end",
    tags: ['portal'],
    auth: 'portal',
    body: body(PreviewRequest),
    responses: { 200: json('The preview: the same computation the confirmation bills.', Preview), ...WRITE },
  },
  'POST /v1/portal/subscription/changes': {
    operationId: 'confirmPortalChange',
    summary: "Makes a previewed change: upgrades at once (prorated), the rest at the period's end",
    tags: ['portal'],
    auth: 'portal',
    description:
      "Written like an admin change: the account's next version with its audit entry (`GET /v1/admin/accounts/{id}/history` shows it, by `portal:<session>`).",
    body: body(ChangeRequest),
    responses: {
      200: json("What was done, with its preview and the upgrade invoice's number.", ChangeAnswer),
      ...WRITE,
      409: error('`conflict`: a version dated later waits, or the configuration kept changing.'),
    },
  },
  'POST /v1/portal/subscription/cancel': {
    operationId: 'cancelPortalSubscription',
    summary: "Cancels at the period's end",
    tags: ['portal'],
    auth: 'portal',
    body: body(KeyOnly),
    responses: { 200: json('When it ends.', CancelAnswer), ...WRITE, 409: error('`conflict`: already cancelled.') },
  },
  'POST /v1/portal/subscription/resume': {
    operationId: 'resumePortalSubscription',
    summary: 'Undoes a scheduled cancellation before the period ends',
    tags: ['portal'],
    auth: 'portal',
    body: body(KeyOnly),
    responses: { 200: json('It renews again.', CancelAnswer), ...WRITE, 409: error('`conflict`: not cancelled.') },
  },
  'POST /v1/portal/credits/purchase': {
    operationId: 'buyPortalCredits',
    summary: 'Buys a credit pack',
    tags: ['portal'],
    auth: 'portal',
    body: body(PackRequest),
    responses: { 200: json('The purchase; its invoice is issued at once.', PurchaseAnswer), ...WRITE },
  },
  'POST /v1/portal/emails/purchase': {
    operationId: 'buyPortalEmails',
    summary: 'Buys an email pack for the running month',
    tags: ['portal'],
    auth: 'portal',
    body: body(PackRequest),
    responses: { 200: json('The purchase; its invoice is issued at once.', PurchaseAnswer), ...WRITE },
  },
  'POST /v1/portal/credits/transfer': {
    operationId: 'transferPortalCredits',
    summary: 'Sends credits to a member (irreversible)',
    tags: ['portal'],
    auth: 'portal',
    body: body(TransferRequest),
    responses: { 200: json('What moved, or `rejected` for want of credits.', TransferAnswer), ...WRITE },
  },
  'PUT /v1/portal/billing-details': {
    operationId: 'putPortalBillingDetails',
    summary: 'Changes the invoice information (printed on invoices issued from now on)',
    tags: ['portal'],
    auth: 'portal',
    body: body(BillingDetailsRequest),
    responses: { 200: json('The information in force and since when.', BillingDetailsAnswer), ...WRITE },
  },
  'GET /v1/portal/invoices/:file': {
    operationId: 'getPortalInvoice',
    summary: 'Downloads an invoice (PDF, CSV or JSON)',
    tags: ['portal'],
    auth: 'portal',
    path: { file: { description: '`{number}.pdf`, `{number}.csv` or `{number}.json`.' } },
    responses: {
      200: { description: 'The invoice.', content: { 'application/pdf': {}, 'text/csv': { schema: text }, [JSON_TYPE]: { schema: z.object({}).loose() } } },
      ...READ_ERRORS,
      403: error("`forbidden`: a member's session (invoices are the manager's)."),
      404: error('`not_found`: no such invoice.'),
    },
  },
  'POST /v1/portal/sign-out': {
    operationId: 'signOutPortal',
    summary: 'Ends the portal session',
    tags: ['portal'],
    auth: 'portal',
    responses: { 204: { description: 'Signed out.' }, ...SESSION_ERRORS },
  },
  'POST /v1/invoices/:number/payments': {
    operationId: 'reportInvoicePayment',
    summary: 'Reports what the payment processor did with an invoice',
    tags: ['server usage'],
    auth: 'secret',
    description: PAYMENT_DESCRIPTION,
    path: { number: invoiceNumber },
    body: body(PaymentRequest),
    responses: {
      200: json('The report as stored (a repeated id answers the first).', PaymentAnswer),
      400: errors.body400,
      401: errors[401],
      403: errors.secret403,
      404: error('`not_found`: no such invoice.'),
      413: errors[413],
      503: STORAGE,
    },
  },
  'POST /v1/admin/accounts/:id/invoices/:number/payments': {
    operationId: 'adminReportInvoicePayment',
    summary: 'Reports what the payment processor did with an invoice (docs/protocol.md §6)',
    tags: ['admin'],
    auth: 'admin',
    description: PAYMENT_DESCRIPTION,
    path: { id: { description: 'The account id.', schema: configId }, number: invoiceNumber },
    body: body(AdminPaymentRequest),
    responses: {
      200: json('The report as stored (the same report again answers the first).', PaymentAnswer),
      400: errors.body400,
      401: errors.admin401,
      404: error('`not_found`: no such account or invoice.'),
      413: errors[413],
      503: STORAGE,
    },
  },
  'GET /v1/notices': {
    operationId: 'getNotices',
    summary: 'What the account should know now: a failed payment, a change or cancellation scheduled, a term ending, credits low, email quota reached',
    tags: ['read'],
    auth: 'account',
    responses: { 200: json('Notices, most urgent first.', Notices), 401: errors[401], 503: STORAGE },
  },
}
