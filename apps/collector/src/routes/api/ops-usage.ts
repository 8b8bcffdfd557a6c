/** The beacon route (docs/protocol.md §3) and the server-side usage and credit routes (§4), declared once. */
import { z } from 'zod'
import { error, errors, json, JSON_TYPE, retryAfter, STORAGE, type Operation } from './define.js'
import {
  Batch,
  BatchResult,
  CreditPurchase,
  CreditPurchaseResult,
  CreditTransfer,
  CreditTransferResult,
  EmailPurchase,
  EmailPurchaseResult,
  UsageEvents,
  UsageResults,
} from './schemas.js'

export const USAGE_OPERATIONS: Record<string, Operation> = {
  'POST /v1/containers/:container/events': {
    operationId: 'postEvents',
    summary: 'Browser beacons (docs/protocol.md §3)',
    tags: ['browser'],
    auth: 'none',
    description: "The Origin (else Referer) must match one of the container's domains. 200 only after the batch is committed.",
    path: { container: { description: "The container id of the script tag's `data-container`." } },
    body: { contentType: 'text/plain', schema: Batch },
    responses: {
      200: {
        ...json('Counted, duplicates and per-event rejections.', BatchResult),
        headers: { 'X-Tally-Dropped': { description: '`bot`: a bot user agent; nothing was counted.', schema: z.literal('bot') } },
      },
      400: error('`invalid_json` or `invalid_batch`.'),
      403: error('`forbidden`: unknown container, origin not allowed or account inactive (one body for all; the reason is logged).'),
      413: errors[413],
      429: { ...error('`rate_limited`: too many requests from this address or for this container.'), headers: retryAfter },
      503: STORAGE,
    },
  },
  'POST /v1/usage': {
    operationId: 'postUsage',
    summary: 'Server-side usage: alerts, actions, contacts, emails (docs/protocol.md §4)',
    tags: ['server usage'],
    auth: 'secret',
    body: { contentType: JSON_TYPE, schema: UsageEvents, code: 'invalid_batch' },
    responses: {
      200: json('Per-event results in request order.', UsageResults),
      400: error('`invalid_json`, or `invalid_batch`: no `events` array, or an empty or oversized one.'),
      401: errors[401],
      403: errors.secret403,
      413: errors[413],
      503: STORAGE,
    },
  },
  'POST /v1/credits/purchase': {
    operationId: 'postCreditPurchase',
    summary: 'Buy a credit pack (idempotent by id)',
    tags: ['server usage'],
    auth: 'secret',
    body: { contentType: JSON_TYPE, schema: CreditPurchase },
    responses: {
      200: json('The purchase and the new balance.', CreditPurchaseResult),
      400: error('`invalid_json`, or `invalid_request`: a bad `id`, or a pack the plan does not have.'),
      401: errors[401],
      403: errors.secret403,
      413: errors[413],
      503: STORAGE,
    },
  },
  'POST /v1/credits/transfer': {
    operationId: 'postCreditTransfer',
    summary: 'Send credits to a member wallet (irreversible, idempotent by id)',
    tags: ['server usage'],
    auth: 'secret',
    body: { contentType: JSON_TYPE, schema: CreditTransfer },
    responses: {
      200: json('accepted, duplicate, or rejected with insufficient_credits.', CreditTransferResult),
      400: error('`invalid_json`, or `invalid_request`: a bad `id`, `to` not a member, `credits` not a positive integer.'),
      401: errors[401],
      403: errors.secret403,
      413: errors[413],
      503: STORAGE,
    },
  },
  'POST /v1/emails/purchase': {
    operationId: 'postEmailPurchase',
    summary: 'Buy an email pack for this month (idempotent by id)',
    tags: ['server usage'],
    auth: 'secret',
    description: 'Adds the pack\'s emails to the quota of the month that is running; invoiced like a credit pack (docs/billing.md, "Email grants").',
    body: { contentType: JSON_TYPE, schema: EmailPurchase },
    responses: {
      200: json('The purchase (the original one for a repeated id).', EmailPurchaseResult),
      400: error('`invalid_json`, or `invalid_request`: a bad `id`, a pack the plan does not have, or no current period.'),
      401: errors[401],
      403: errors.secret403,
      413: errors[413],
      503: STORAGE,
    },
  },
}
