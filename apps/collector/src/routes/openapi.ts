/**
 * `GET /openapi.json`: an OpenAPI 3.1 document generated from the routes the app really
 * registered (`app.routes`), so a route can neither be missing from it nor linger after it is
 * gone. Each route's operation id, words and schemas come from `OPERATIONS` below, keyed by method
 * and Hono path; path parameters are read from the path itself, the usage query from the table the
 * route validates with, the limits from `@tally/protocol`, the admin bodies from its config
 * schemas. The admin reads under `/v1/admin/accounts/{id}/…` are derived from the account reads
 * they mirror. A registered route without an entry still appears, marked `x-undocumented`, and the
 * openapi test fails on it.
 *
 * The document passes Redocly's `recommended` rules, generates a typed client with
 * openapi-typescript, and every GET route's live answers are checked against it
 * (openapi-*.test.ts).
 */
import type { Context } from 'hono'
import type { IncomingMessage } from 'node:http'
import {
  AccountSchema, ContainerSchema, CYCLES, EVENT_CODES, ID_PATTERN, MAX_BODY_BYTES, MAX_EVENTS, MAX_STRING, USAGE_CODES,
  ERROR_STATUS,
} from '@tally/protocol'
import type { InvoiceKind, LedgerEntry, LineKind } from '@tally/billing'
import { GROUPINGS, METERS, USAGE_QUERY } from '../services/usage-report.js'
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../services/webhooks.js'
import { REJECTIONS_QUERY } from './rejections.js'
import { PORTAL_COMPONENTS, PORTAL_OPERATIONS } from './portal-schemas.js'

type Schema = Record<string, unknown>
type Auth = 'none' | 'account' | 'secret' | 'admin' | 'dashboard' | 'portal'

/** One answer: its media types (with a schema, or `{}` for a body its type alone describes) and headers. */
export interface Reply {
  description: string
  content?: Record<string, { schema?: Schema }>
  headers?: Record<string, { description: string; required?: boolean; schema: Schema }>
}

export interface Operation {
  /** Stable camelCase name: what a generated client calls the method. Never rename one. */
  operationId: string
  summary: string
  description?: string
  tags: string[]
  auth: Auth
  /** Words for the path parameters the Hono path names (`:file`). */
  path?: Record<string, { description: string; schema?: Schema }>
  query?: ReadonlyArray<{ name: string; description: string; schema: Schema; required?: boolean }>
  body?: { contentType: string; schema: Schema }
  responses: Record<string, Reply>
}

/** A list that names every member of the union `T`: the compiler says which one is missing. */
const every = <T extends string>() =>
  <const L extends readonly T[]>(list: L & ([Exclude<T, L[number]>] extends [never] ? unknown : { missing: Exclude<T, L[number]> })): L => list

const LINE_KINDS = every<LineKind>()(['base', 'seats', 'product', 'contacts', 'usage', 'contacts_excess', 'adjustment', 'minimum', 'credits', 'emails'])
const INVOICE_KINDS = every<InvoiceKind>()(['recurring', 'upgrade', 'rebalance', 'credits', 'emails'])
const LEDGER_TYPES = every<LedgerEntry['type']>()(['grant', 'purchase', 'spend', 'transfer_out', 'transfer_in', 'expiry'])

const id: Schema = { type: 'string', pattern: ID_PATTERN.source }
const str: Schema = { type: 'string', maxLength: MAX_STRING }
const text: Schema = { type: 'string' }
const int: Schema = { type: 'integer' }
const ms: Schema = { type: 'integer', description: 'UTC milliseconds since the epoch.' }
/** Beside every answer that carries instants: one zone rule for every time shown (the dashboard shows them there, labelled). */
const zone: Schema = { type: 'string', description: 'The account\'s IANA time zone: its days and periods are local there, and the dashboard shows the answer\'s instants there, labelled.' }
const date: Schema = { type: 'string', format: 'date' }
const instant: Schema = { type: 'string', format: 'date-time' }
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] })
const obj = (properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema =>
  ({ type: 'object', properties, required })
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` })
const lotDraws: Schema = { type: 'array', items: obj({ lot: text, credits: int }) }

/** A config schema of `@tally/protocol` as JSON Schema: what a body may say, or what it becomes. */
const configSchema = (schema: typeof AccountSchema | typeof ContainerSchema, io: 'input' | 'output'): Schema => {
  const { $schema: _dialect, ...rest } = schema.toJSONSchema({ io, target: 'draft-2020-12' }) as Schema
  return rest
}

const ledgerEntry = (type: LedgerEntry['type'], description: string, fields: Record<string, Schema>): Schema => ({
  ...obj({
    id: { type: 'string', description: 'Unique in the log: `action:<event id>`, `purchase:<id>`, `transfer:<id>`, `grant:<month>`, `expiry:<lot>`.' },
    type: { const: type }, wallet: { type: 'string', description: '`account` or `member:<name>`.' }, at: ms,
    credits: { type: 'integer', minimum: 0, description: 'Always positive; the direction is the entry\'s type.' },
    time: { ...instant, description: '`at` as ISO-8601.' }, ...fields,
  }),
  description,
})

const invoice: Schema = obj({
  key: { type: 'string', description: 'Stable name: `recurring:3`, `upgrade:3:0`, `rebalance:3:2`, `credits:purchase:<id>`.' },
  kind: { enum: [...INVOICE_KINDS] }, status: { enum: ['draft', 'finalized'] },
  number: { type: ['integer', 'null'], description: 'Gap-free per account, given when finalized.' },
  currency: { type: 'string', pattern: '^[A-Z]{3}$' }, issuedAt: ms, issuedDate: date,
  period: nullable(ref('PeriodRef')), lines: { type: 'array', items: ref('InvoiceLine') },
  total: { ...int, description: 'Minor units.' },
  amountUnit: { const: 'minor', description: 'Every amount of the invoice is in integer minor units of `currency` (cents for EUR).' },
}, ['key', 'kind', 'status', 'number', 'currency', 'issuedAt', 'issuedDate', 'period', 'lines', 'total'])

/** The body of a webhook of one type (docs/webhooks.md): the envelope every type shares, its own `data`. */
const webhookEvent = (type: WebhookEventType, description: string, data: Schema): Schema => ({
  ...obj({
    id: { type: 'string', pattern: '^evt_[0-9a-f]{24}$', description: 'Unique per event: a receiver that saw this id already has it (deliveries are at least once).' },
    type: { const: type }, created: { ...instant, description: 'When the fact happened.' }, account: text, data,
  }),
  description,
})

const WEBHOOK_SCHEMAS: Record<WebhookEventType, [string, Schema]> = {
  'invoice.finalized': ['WebhookInvoiceFinalized', webhookEvent('invoice.finalized', 'An invoice was finalized by a billing run.', obj({
    number: int, key: text, kind: { enum: [...INVOICE_KINDS] }, issuedDate: date, period: nullable(ref('PeriodRef')),
    currency: { type: 'string', pattern: '^[A-Z]{3}$' }, total: { ...int, description: 'Minor units.' },
  }))],
  'credits.low': ['WebhookCreditsLow', webhookEvent('credits.low', 'A spend or transfer took a wallet below the plan\'s `creditsLowThreshold`.', obj({
    wallet: { type: 'string', description: '`account` or `member:<name>`.' }, balance: int, threshold: int,
  }))],
  'credits.purchased': ['WebhookCreditsPurchased', webhookEvent('credits.purchased', 'A credit pack was bought.', obj({
    id: text, pack: text, credits: int, balance: { ...int, description: 'The account wallet after the purchase.' },
    invoice: { type: 'string', description: 'Key of the pack\'s invoice, finalized by the next billing run.' },
  }))],
  'quota.email_reached': ['WebhookEmailQuotaReached', webhookEvent('quota.email_reached', 'The first email send of the month refused for want of quota (once a month).', obj({
    month: { ...date, description: 'First day of the month of the anchor calendar.' }, quota: int, granted: int, sent: int,
    refused: { ...int, description: 'Emails of the refused send.' },
  }))],
  'subscription.renewed': ['WebhookSubscriptionRenewed', webhookEvent('subscription.renewed', 'The recurring invoice of a new period (not the first) was finalized.', obj({
    period: ref('PeriodRef'), invoice: obj({ number: int, key: text, total: int, currency: text }),
  }))],
  'usage.refused_spike': ['WebhookRefusedSpike', webhookEvent('usage.refused_spike', 'More beacons than the plan\'s `refusedSpikePerMinute` were refused in one minute (once a minute).', obj({
    minute: { ...instant, description: 'Start of the minute.' }, refused: int, threshold: int,
  }))],
  'subscription.change_scheduled': ['WebhookSubscriptionChangeScheduled', webhookEvent('subscription.change_scheduled', 'A plan, seat, product or cycle change made in the billing portal that waits for the period\'s end.', ref('PortalChange'))],
  'subscription.changed': ['WebhookSubscriptionChanged', webhookEvent('subscription.changed', 'A plan, seat or product change made in the billing portal that took effect at once (an upgrade invoice follows).', ref('PortalChange'))],
  'subscription.cancellation_scheduled': ['WebhookCancellationScheduled', webhookEvent('subscription.cancellation_scheduled', 'Cancelled in the billing portal: the subscription ends at `endsOn`.', obj({
    cancelledAt: date, endsOn: { ...date, description: 'The local day the subscription ends (exclusive).' },
  }))],
  'subscription.cancellation_undone': ['WebhookCancellationUndone', webhookEvent('subscription.cancellation_undone', 'A scheduled cancellation was undone in the billing portal: the subscription renews.', obj({ renewsOn: date }))],
  'credits.transferred': ['WebhookCreditsTransferred', webhookEvent('credits.transferred', 'Credits were sent from the account wallet to a member (irreversible).', obj({
    id: text, to: text, credits: int, balance: { ...int, description: 'The account wallet after the transfer.' },
    moved: obj({ purchased: int, free: int }),
  }))],
  'emails.purchased': ['WebhookEmailsPurchased', webhookEvent('emails.purchased', 'An email pack was bought for the running month.', obj({
    id: text, pack: text, emails: int, month: date, invoice: { type: 'string', description: 'Key of the pack\'s invoice, finalized by the next billing run.' },
  }))],
  'billing_details.updated': ['WebhookBillingDetailsUpdated', webhookEvent('billing_details.updated', 'The invoice information was changed; invoices issued from now on print it.', ref('BillingDetails'))],
}

const SCHEMAS: Record<string, Schema> = {
  ...Object.fromEntries(WEBHOOK_EVENT_TYPES.map((t) => WEBHOOK_SCHEMAS[t])),
  WebhookEvent: {
    oneOf: WEBHOOK_EVENT_TYPES.map((t) => ref(WEBHOOK_SCHEMAS[t][0])),
    description: 'The JSON body of a webhook, signed in `Tally-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` (docs/webhooks.md).',
  },
  WebhookEndpointInput: obj({ url: { type: 'string', format: 'uri', maxLength: 2048, description: 'http or https, without credentials, naming a public host: a loopback, private, link-local, multicast or reserved address, or `localhost`, is `400 invalid_request` unless the collector has `server.webhooks.allowPrivateNetworks` (docs/webhooks.md).' } }),
  WebhookEndpointCreated: obj({
    account: text, id: text, url: text,
    secret: { type: 'string', pattern: '^whsec_', description: 'Signs every delivery. Shown only here: keep it.' }, created: instant,
  }),
  WebhookEndpoints: obj({ account: text, endpoints: { type: 'array', items: obj({ id: text, url: text, created: instant }) } }),
  WebhookEndpointDeleted: obj({ account: text, id: text, deleted: { const: true } }),
  WebhookDeliveries: obj({
    account: text,
    deliveries: {
      type: 'array',
      items: obj({
        event: ref('WebhookEvent'), endpoint: text, status: { enum: ['pending', 'delivered', 'failed'] }, attempts: int,
        nextAttempt: nullable(instant), lastAttempt: nullable(instant),
        lastStatus: { type: ['integer', 'null'], description: 'HTTP status of the last attempt; null when it got no answer.' },
        lastError: nullable(text),
      }),
    },
    next: { type: ['integer', 'null'], description: 'Pass as `before` for the next page; null on the last.' },
  }),
  WebhookRedelivery: obj({ account: text, event: text, endpoints: { ...int, description: 'Endpoints the event is sent to again.' } }),
  Error: obj({
    error: obj({
      code: { type: 'string', enum: Object.keys(ERROR_STATUS) }, message: { type: 'string' },
      errorId: { type: 'string', description: 'On a 500 only: the id of the log line that tells what failed. A 500 is a bug, not worth retrying.' },
    }, ['code', 'message']),
  }),
  Health: obj({ status: { const: 'ok' } }),
  Ready: obj({ status: { const: 'ready' } }),
  OpenApiDocument: {
    ...obj({
      openapi: { type: 'string', pattern: '^3\\.1\\.' }, info: { type: 'object' }, servers: { type: 'array', items: obj({ url: text, description: text }, ['url']) },
      tags: { type: 'array' }, paths: { type: 'object' }, components: { type: 'object' },
    }),
    description: 'This document.',
  },
  Batch: {
    ...obj({
      v: { const: 1 }, sentAt: { ...int, description: 'Client clock, ms since the epoch: corrects the events\' `ts` for skew.' },
      sdk: str,
      events: {
        type: 'array', minItems: 1, maxItems: MAX_EVENTS,
        items: {
          oneOf: [
            obj({ id, type: { const: 'impression' }, session: id, campaign: id, ts: int }),
            obj({ id, type: { const: 'engagement' }, session: id, advisor: id, ts: int }),
            obj({
              id, type: { const: 'chat' }, session: id, conversation: id, bot: id,
              phase: { enum: ['start', 'ping', 'handoff', 'resume', 'end'] }, ts: int,
            }),
          ],
        },
      },
    }, ['v', 'sentAt', 'events']),
    description: `At most ${MAX_BODY_BYTES} bytes. Sent as text/plain (sendBeacon, no preflight) or application/json.`,
  },
  BatchResult: obj({
    accepted: int, duplicates: int,
    rejected: { type: 'array', items: obj({ index: int, code: { type: 'string', enum: [...EVENT_CODES] } }) },
  }),
  UsageEvents: obj({
    events: {
      type: 'array', minItems: 1, maxItems: MAX_EVENTS,
      items: {
        oneOf: [
          obj({ id, type: { const: 'alert' }, alert: str, user: str, ts: int }, ['id', 'type', 'ts']),
          obj({ id, type: { const: 'action' }, action: id, quantity: { type: 'integer', minimum: 1 }, member: id, ts: int }, ['id', 'type', 'action', 'ts']),
          obj({ id, type: { const: 'contacts' }, count: { type: 'integer', minimum: 0 }, ts: int }),
          obj({ id, type: { const: 'email' }, count: { type: 'integer', minimum: 1 }, ts: int }),
        ],
      },
    },
  }),
  UsageResults: obj({
    results: {
      type: 'array',
      items: obj({
        id: { type: 'string', description: 'The event\'s id (empty when the event had none).' }, status: { enum: ['accepted', 'duplicate', 'rejected'] },
        code: { type: 'string', enum: [...USAGE_CODES] },
        credits: { ...obj({ spent: int, balance: int }), description: 'Actions: the credits the event spent and the wallet\'s balance after it.' },
      }, ['id', 'status']),
    },
  }),
  CreditPurchase: obj({ pack: id, id }),
  CreditPurchaseResult: obj({
    id: text, status: { enum: ['accepted', 'duplicate'] }, pack: text, credits: int,
    balance: { ...int, description: 'The account wallet\'s balance after the purchase.' },
    invoice: { type: 'string', description: 'Key of the pack\'s invoice (`credits:purchase:<id>`), finalized by the next billing run.' },
  }),
  CreditTransfer: obj({ to: id, credits: { type: 'integer', minimum: 1 }, id }),
  CreditTransferResult: obj({
    id: text, status: { enum: ['accepted', 'duplicate', 'rejected'] },
    code: { enum: ['insufficient_credits'], description: 'Why a transfer was rejected; nothing moved.' }, to: text, credits: int,
    balance: { ...int, description: 'The account wallet\'s balance.' },
    moved: {
      ...obj({ purchased: int, free: int }),
      description: 'On an accepted or duplicate transfer: the credits moved by kind of lot, purchased first.',
    },
  }, ['id', 'status', 'to', 'credits', 'balance']),
  EmailPurchase: obj({ pack: id, id }),
  EmailPurchaseResult: obj({
    id: text, status: { enum: ['accepted', 'duplicate'] }, pack: text, emails: int,
    month: { ...date, description: 'First local day of the month of the anchor calendar the pack adds to.' },
    invoice: { type: 'string', description: 'Key of the pack\'s invoice (`emails:purchase:<id>`), finalized by the next billing run.' },
  }),
  EmailGrant: obj({
    emails: { type: 'integer', minimum: 1, maximum: 10_000_000, description: 'Emails added to the quota of the current month.' },
    id: { ...id, description: 'Idempotency key: the same id again answers `duplicate` and grants nothing more.' },
    note: { type: 'string', maxLength: 500, description: 'Why, for the log.' },
  }, ['emails', 'id']),
  EmailGrantResult: obj({
    account: text, id: text, status: { enum: ['accepted', 'duplicate'] }, emails: int,
    month: { ...date, description: 'First local day of the month of the anchor calendar the grant adds to.' },
    note: nullable(text), grantedAt: instant,
  }),
  UsageReport: obj({
    account: text, timezone: zone, from: date, to: date, groupBy: { type: 'array', items: { enum: [...GROUPINGS] } },
    filters: { ...obj({ container: id, campaign: id, advisor: id, bot: id }, []), description: 'The filters applied.' },
    names: {
      ...obj(Object.fromEntries(['campaign', 'advisor', 'bot'].map((k) => [k, { type: 'object', additionalProperties: text }]))),
      description: 'Display names from the configuration of the campaigns, advisors and bots of the rows that have one (JSON only).',
    },
    rows: {
      type: 'array',
      items: {
        type: 'object',
        description: 'One row per combination of the grouping keys, only the keys of `groupBy`. A key is null where the usage has '
          + 'none (an impression has no advisor; alerts and credits have no container). `containerName` comes with `container` '
          + '(empty where the container is null).',
        properties: {
          ...Object.fromEntries(GROUPINGS.map((g) => [g, { type: ['string', 'null'] }])),
          containerName: text,
          ...Object.fromEntries(METERS.map((m) => [m, int])),
        },
        required: [...METERS],
      },
    },
  }),
  Rejections: obj({
    account: text, timezone: zone,
    since: { ...instant, description: 'Where the rows start: `since` as given (a date is local midnight in `timezone`), or 7 days before now.' },
    rejections: {
      type: 'array',
      items: obj({
        container: text, reason: text, origin: { type: 'string', description: 'The page\'s host, empty when the request named none; `*` for the refusals past the day\'s budget of distinct keys.' },
        subject: { type: 'string', description: 'The campaign, advisor or bot a refused event named; empty for a whole request.' },
        count: int, firstSeen: instant, lastSeen: instant,
      }),
    },
    nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` (with the same `since` and `sort`) for the next page; null on the last.' },
  }),
  PeriodRef: { ...obj({ index: int, start: ms, end: ms, startDate: date, endDate: date }), description: 'A billing period: `[start, end)`, with its local dates (end exclusive).' },
  InvoiceLine: {
    ...obj({
      kind: { enum: [...LINE_KINDS] }, description: text,
      quantity: { ...int, description: 'Units (seats, blocks of usage, 1 for a flat fee); negative for a credit.' },
      unitPrice: { ...int, description: 'Minor units per unit and month.' }, months: int,
      discountPercent: { type: 'number', minimum: 0, maximum: 100 },
      proration: { ...nullable(obj({ days: int, of: int })), description: 'The share of the period billed (days of its days); null for the whole period.' },
      discount: { ...int, description: 'The cycle discount as an amount, minor units: quantity x unitPrice x months x proration, rounded once half to even, less this, is `amount`.' },
      meter: { enum: ['impressions', 'engagements', 'chatSessions', 'alerts', 'contacts'] },
      contacts: { ...int, description: 'The contact count a `contacts` line prices.' },
      product: { ...text, description: 'The product of a `product` line.' },
      amount: { ...int, description: 'Minor units.' },
      from: { ...date, description: 'First local day the line charges for.' },
      to: { ...date, description: 'The local day after the last one it charges for (equal to `from` for a one-off charge).' },
      period: ref('PeriodRef'),
    }, ['kind', 'description', 'quantity', 'unitPrice', 'months', 'discountPercent', 'proration', 'discount', 'amount', 'from', 'to', 'period']),
  },
  Invoice: { ...invoice, description: 'An invoice as billing computes it (amounts in integer minor units).' },
  AccountInvoice: {
    ...invoice, properties: { account: text, ...(invoice.properties as Record<string, Schema>) }, required: ['account', ...(invoice.required as string[])],
    description: 'A finalized invoice of the account: the stored invoice and the account id.',
  },
  Invoices: obj({
    account: text, timezone: zone,
    invoices: {
      type: 'array',
      items: obj({
        number: { type: ['integer', 'null'] }, key: text, kind: { enum: [...INVOICE_KINDS] }, status: { enum: ['draft', 'finalized'] },
        issuedDate: date, period: nullable(ref('PeriodRef')), currency: text, total: int,
      }),
    },
  }),
  Wallets: {
    type: 'object', description: 'Balances by wallet (`account`, `member:<name>`), with their live lots.',
    additionalProperties: obj({
      balance: int,
      lots: { type: 'array', items: obj({ lot: text, kind: { enum: ['free', 'purchased'] }, remaining: int, expiresAt: { type: ['integer', 'null'] } }) },
    }),
  },
  Credits: obj({ account: text, timezone: zone, asOf: instant, wallets: ref('Wallets') }),
  Period: {
    ...obj({
      account: text, timezone: zone, asOf: instant, period: ref('PeriodRef'), cycle: { enum: [...CYCLES] }, planId: text,
      planName: { type: 'string', description: 'The plan\'s `name` in the configuration, else its id.' }, seats: int,
      products: { type: 'array', items: text, description: 'The add-on products chosen, in force now.' }, paidContacts: int,
      meters: {
        ...obj({
          impressions: int, engagements: int, chatSessions: int, alerts: int, emails: int, contacts: { type: ['integer', 'null'] },
          credits: { type: 'object', additionalProperties: int, description: 'Credits spent by action.' },
        }),
        description: 'Usage so far in the period.',
      },
      included: obj({ impressions: int, engagements: int, chatSessions: int, alerts: int }),
      emails: obj({ quota: int, granted: int, sent: int, left: int }),
      credits: ref('Wallets'),
      preview: { ...nullable(ref('Invoice')), description: 'The next recurring invoice from the usage so far (a draft).' },
    }),
    description: 'Period bounds, meters against the included quotas, email quota, credit balances, invoice preview.',
  },
  LedgerEntry: {
    oneOf: [
      ledgerEntry('grant', 'The free credits of a month; they expire at its end.', { lot: text, expiresAt: ms }),
      ledgerEntry('purchase', 'A credit pack bought.', { lot: text, pack: text, price: int, currency: text }),
      ledgerEntry('spend', 'Credits paid for an action.', { action: text, quantity: int, draws: lotDraws }),
      ledgerEntry('transfer_out', 'Credits sent to a member.', { to: text, draws: lotDraws }),
      ledgerEntry('transfer_in', 'Credits received by a member.', {
        from: text, lots: { type: 'array', items: obj({ lot: text, source: text, credits: int, expiresAt: { type: ['integer', 'null'] } }) },
      }),
      ledgerEntry('expiry', 'The unspent rest of a lot at its expiry.', { lot: text }),
    ],
  },
  CreditLog: obj({ account: text, timezone: zone, entries: { type: 'array', items: ref('LedgerEntry') } }),
  BillingRun: obj({
    asOf: { type: 'string', description: 'ISO-8601 date or date-time with offset, not in the future; default now.' },
    account: { type: 'string', description: 'Only this account; default every account.' },
  }, []),
  BillingRunResult: obj({
    asOf: instant,
    accounts: {
      type: 'array',
      items: obj({
        account: text, ledger: { ...int, description: 'Credit log entries written (grants, expiries).' },
        invoices: { type: 'array', items: obj({ number: { type: ['integer', 'null'] }, key: text, total: int, currency: text }) },
        error: { type: 'string', description: 'Why the account\'s run failed; the other accounts ran.' },
      }, ['account', 'ledger', 'invoices']),
    },
  }),
  AccountInput: { ...configSchema(AccountSchema, 'input'), description: 'An account of the configuration file (docs/protocol.md §7). Without `containers` the account keeps its containers.' },
  Account: configSchema(AccountSchema, 'output'),
  AccountApplied: obj({ id: text, account: ref('Account') }),
  // One object, not an `allOf`: the container refuses keys it does not know (docs/configuration.md), so `account` is one of its properties here.
  ContainerInput: ((container) => ({
    ...container,
    properties: { ...(container.properties as Record<string, Schema>), account: { type: 'string', description: 'The owner; required for a new container.' } },
    description: 'A container of the configuration file (docs/protocol.md §7).',
  }))(configSchema(ContainerSchema, 'input')),
  Container: configSchema(ContainerSchema, 'output'),
  ContainerApplied: obj({ id: text, account: text, container: ref('Container') }),
  AccountList: obj({
    accounts: {
      type: 'array',
      items: obj({
        id: text, name: text, active: { type: 'boolean' }, plan: text,
        timezone: { type: 'string', description: 'IANA time zone of the account: its days, periods and the times it is shown in.' },
        containers: { type: 'array', items: text, description: 'Container ids.' },
      }),
    },
  }),
  AccountPatch: {
    type: 'object',
    description: 'A JSON merge patch (RFC 7396) of an account: a field left out is kept, `null` removes an optional field, objects merge, arrays and other values replace. The result must be a valid account.',
  },
  ContainerPatch: {
    type: 'object',
    description: 'A JSON merge patch (RFC 7396) of a container: a field left out is kept, `null` removes a field (a campaign, an advisor, a bot), objects merge (`{"campaigns":{"cmp_new":{}}}` adds a campaign), arrays replace: add a domain by sending the full `domains` list.',
  },
}

const JSON_TYPE = 'application/json'
const json = (description: string, schema: string): Reply => ({ description, content: { [JSON_TYPE]: { schema: ref(schema) } } })
const error = (description: string): Reply => json(description, 'Error')
const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 1 } } }
const STORAGE: Reply = { ...error('`unavailable`: storage is failing; nothing was written. Retry later.'), headers: retryAfter }
const errors = {
  400: error('`invalid_request`: the message names the parameter.'),
  401: error('`unauthorized`: no key, or a key of no account.'),
  secret403: error('`forbidden`: the read key; this route needs the secret key.'),
  admin401: error('`unauthorized`: no admin token, or a wrong one.'),
  body400: error('`invalid_json`: the body is not JSON; `invalid_request` (or `invalid_batch`): the message names the field.'),
  413: error(`\`payload_too_large\`: the body is over ${MAX_BODY_BYTES} bytes.`),
}
const csv: Schema = { type: 'string', description: "RFC 4180, CRLF line ends; a text field starting with =, +, -, @, a tab or a CR is written with a leading ' (docs/security.md), numbers as they are." }
const sameAs = 'The same for any account, with the admin token.'

/** A built SDK file, as `GET /t.js` and its siblings serve it. */
function sdkFile(operationId: string, summary: string): Operation {
  const etag = { ETag: { description: 'Strong validator of this coding of the file.', required: true, schema: text } }
  return {
    operationId, summary, tags: ['browser'], auth: 'none',
    description: 'Brotli when `Accept-Encoding` allows it, else gzip, else uncompressed (`Vary: Accept-Encoding`), with an ETag per coding and `Cache-Control: public, max-age=300, stale-while-revalidate=86400, stale-if-error=86400`.',
    responses: {
      200: { description: 'JavaScript.', content: { 'text/javascript': { schema: text } }, headers: etag },
      304: { description: 'Not modified: `If-None-Match` named the ETag of this coding.', headers: etag },
      503: error('`unavailable`: the SDK is not built.'),
    },
  }
}

/** Keyed by `METHOD /hono/path`, as `app.routes` lists them. */
export const OPERATIONS: Record<string, Operation> = {
  'GET /healthz': {
    operationId: 'getHealthz', summary: 'Liveness', tags: ['operations'], auth: 'none',
    responses: { 200: json('The process answers.', 'Health') },
  },
  'GET /readyz': {
    operationId: 'getReadyz', summary: 'Readiness: the database answers', tags: ['operations'], auth: 'none',
    responses: { 200: json('Ready.', 'Ready'), 503: STORAGE },
  },
  'GET /metrics': {
    operationId: 'getMetrics', summary: 'Prometheus metrics', tags: ['operations'], auth: 'none',
    responses: { 200: { description: 'Text exposition format 0.0.4.', content: { 'text/plain': { schema: text } } } },
  },
  'GET /openapi.json': {
    operationId: 'getOpenApi', summary: 'This document', tags: ['operations'], auth: 'none',
    description: '`servers` holds the origin the request reached: its own URL, or `X-Forwarded-Proto` and `X-Forwarded-Host` from a trusted proxy.',
    responses: { 200: json('OpenAPI 3.1.', 'OpenApiDocument') },
  },
  'GET /t.js': sdkFile('getScript', 'The script-tag SDK'),
  'GET /t.debug.js': sdkFile('getDebugScript', 'The script-tag SDK with `data-debug` console diagnostics'),
  'GET /sdk.mjs': sdkFile('getModuleScript', 'The ESM SDK for `<script type="module">`, its dependency included'),
  'POST /v1/containers/:container/events': {
    operationId: 'postEvents', summary: 'Browser beacons (docs/protocol.md §3)', tags: ['browser'], auth: 'none',
    description: 'The Origin (else Referer) must match one of the container\'s domains. 200 only after the batch is committed.',
    path: { container: { description: 'The container id of the script tag\'s `data-container`.' } },
    body: { contentType: 'text/plain', schema: ref('Batch') },
    responses: {
      200: {
        ...json('Counted, duplicates and per-event rejections.', 'BatchResult'),
        headers: { 'X-Tally-Dropped': { description: '`bot`: a bot user agent; nothing was counted.', schema: { const: 'bot' } } },
      },
      400: error('`invalid_json` or `invalid_batch`.'),
      403: error('`forbidden`: unknown container, origin not allowed or account inactive (one body for all; the reason is logged).'),
      413: errors[413],
      429: { ...error('`rate_limited`: too many requests from this address or for this container.'), headers: retryAfter },
      503: STORAGE,
    },
  },
  'POST /v1/usage': {
    operationId: 'postUsage', summary: 'Server-side usage: alerts, actions, contacts, emails (docs/protocol.md §4)', tags: ['server usage'], auth: 'secret',
    body: { contentType: JSON_TYPE, schema: ref('UsageEvents') },
    responses: {
      200: json('Per-event results in request order.', 'UsageResults'),
      400: error('`invalid_json`, or `invalid_batch`: no `events` array, or an empty or oversized one.'),
      401: errors[401], 403: errors.secret403, 413: errors[413], 503: STORAGE,
    },
  },
  'POST /v1/credits/purchase': {
    operationId: 'postCreditPurchase', summary: 'Buy a credit pack (idempotent by id)', tags: ['server usage'], auth: 'secret',
    body: { contentType: JSON_TYPE, schema: ref('CreditPurchase') },
    responses: {
      200: json('The purchase and the new balance.', 'CreditPurchaseResult'),
      400: error('`invalid_json`, or `invalid_request`: a bad `id`, or a pack the plan does not have.'),
      401: errors[401], 403: errors.secret403, 413: errors[413], 503: STORAGE,
    },
  },
  'POST /v1/credits/transfer': {
    operationId: 'postCreditTransfer', summary: 'Send credits to a member wallet (irreversible, idempotent by id)', tags: ['server usage'], auth: 'secret',
    body: { contentType: JSON_TYPE, schema: ref('CreditTransfer') },
    responses: {
      200: json('accepted, duplicate, or rejected with insufficient_credits.', 'CreditTransferResult'),
      400: error('`invalid_json`, or `invalid_request`: a bad `id`, `to` not a member, `credits` not a positive integer.'),
      401: errors[401], 403: errors.secret403, 413: errors[413], 503: STORAGE,
    },
  },
  'POST /v1/emails/purchase': {
    operationId: 'postEmailPurchase', summary: 'Buy an email pack for this month (idempotent by id)', tags: ['server usage'], auth: 'secret',
    description: 'Adds the pack\'s emails to the quota of the month that is running; invoiced like a credit pack (docs/billing.md, "Email grants").',
    body: { contentType: JSON_TYPE, schema: ref('EmailPurchase') },
    responses: {
      200: json('The purchase (the original one for a repeated id).', 'EmailPurchaseResult'),
      400: error('`invalid_json`, or `invalid_request`: a bad `id`, a pack the plan does not have, or no current period.'),
      401: errors[401], 403: errors.secret403, 413: errors[413], 503: STORAGE,
    },
  },
  'GET /v1/usage': {
    operationId: 'getUsage', summary: 'Usage by day, container, campaign, advisor and bot (docs/protocol.md §5)', tags: ['read'], auth: 'account',
    description: 'Days are calendar days in the account\'s time zone; `from` and `to` are both included.',
    query: USAGE_QUERY,
    responses: {
      200: {
        description: 'The rows; CSV (RFC 4180) with format=csv or Accept: text/csv.',
        content: { [JSON_TYPE]: { schema: ref('UsageReport') }, 'text/csv': { schema: csv } },
        headers: { 'Content-Disposition': { description: 'CSV only: `attachment; filename="usage-{account}-{from}-{to}.csv"`.', schema: text } },
      },
      400: errors[400], 401: errors[401], 503: STORAGE,
    },
  },
  'GET /v1/period': {
    operationId: 'getPeriod', summary: 'The current period at a glance', tags: ['read'], auth: 'account',
    responses: {
      200: json('Current period.', 'Period'), 401: errors[401],
      404: error('`not_found`: no current period (the subscription has not started or has ended).'), 503: STORAGE,
    },
  },
  'GET /v1/invoices': {
    operationId: 'getInvoices', summary: 'Finalized invoices', tags: ['read'], auth: 'account',
    responses: { 200: json('Invoices in number order.', 'Invoices'), 401: errors[401], 503: STORAGE },
  },
  'GET /v1/invoices/:file': {
    operationId: 'getInvoice', summary: 'One invoice: {number}, {number}.json, {number}.csv or {number}.pdf', tags: ['read'], auth: 'account',
    path: { file: { description: 'The invoice number, optionally with `.json`, `.csv` or `.pdf`.', schema: { type: 'string', examples: ['1', '1.pdf'] } } },
    responses: {
      200: {
        description: 'JSON, CSV or PDF by the extension, else by Accept.',
        content: {
          [JSON_TYPE]: { schema: ref('AccountInvoice') },
          'text/csv': { schema: { ...csv, description: 'One row per line and a `total` row; amounts in integer minor units, as in the JSON; a description starting with =, +, -, @, a tab or a CR has a leading \'.' } },
          'application/pdf': {},
        },
        headers: { 'Content-Disposition': { description: 'CSV and PDF: `attachment; filename="invoice-{account}-{number}.{ext}"`.', schema: text } },
      },
      401: errors[401], 404: error('`not_found`: no such invoice.'), 503: STORAGE,
    },
  },
  'GET /v1/invoices/:number/:file': {
    operationId: 'getInvoiceEvidence', summary: 'The billable units behind each line of an invoice', tags: ['read'], auth: 'account',
    description: 'Per line: every unit of a usage line\'s meter in its period (impressions, engagements, conversations with their chat '
      + 'sessions, alerts) and a summary row (`used` = the sum of the unit rows, `included`, `per`, `blocks` = the line\'s quantity); '
      + 'the contacts readings of a contacts excess line; one `charge` row for any other line. Streamed as it is read (docs/evidence.md).',
    path: {
      number: { description: 'The invoice number.', schema: { type: 'string', pattern: '^[0-9]{1,9}$', examples: ['2'] } },
      file: {
        description: '`evidence`, `evidence.csv` or `evidence.jsonl`: without an extension, JSON lines for Accept: application/x-ndjson, else CSV.',
        schema: { type: 'string', enum: ['evidence', 'evidence.csv', 'evidence.jsonl'] },
      },
    },
    responses: {
      200: {
        description: 'CSV (the default) or JSON lines: one row per unit, summary or charge, in line order.',
        content: {
          'text/csv': { schema: { ...csv, description: 'Header `line,lineKind,meter,record,id,container,session,subject,time,end,receivedFirst,receivedLast,botMs,quantity,used,included,per,blocks,billedBefore,credits,member,note`; times ISO-8601; a text field starting with =, +, -, @, a tab or a CR has a leading \' (docs/evidence.md), numbers never.' } },
          'application/x-ndjson': { schema: { type: 'string', description: 'One JSON object per line with the CSV\'s columns as keys, empty ones left out.' } },
        },
        headers: { 'Content-Disposition': { description: '`attachment; filename="evidence-{account}-{number}.{csv|jsonl}"`.', schema: text } },
      },
      401: errors[401], 404: error('`not_found`: no such invoice, or a file other than `evidence[.csv|.jsonl]`.'), 503: STORAGE,
    },
  },
  'GET /v1/credits': {
    operationId: 'getCredits', summary: 'Credit balances by wallet and lot', tags: ['read'], auth: 'account',
    responses: { 200: json('Balances, with the grants and expiries due by now.', 'Credits'), 401: errors[401], 503: STORAGE },
  },
  'GET /v1/credits/log': {
    operationId: 'getCreditLog', summary: 'The credit log', tags: ['read'], auth: 'account',
    query: [{ name: 'wallet', description: 'Only this wallet (`account`, `member:alice`).', schema: { type: 'string' } }],
    responses: { 200: json('Grants, purchases, spends, transfers and expiries, in written order.', 'CreditLog'), 401: errors[401], 503: STORAGE },
  },
  'GET /v1/rejections': {
    operationId: 'getRejections', summary: 'Refused beacons by container, reason and origin', tags: ['read'], auth: 'account',
    query: REJECTIONS_QUERY,
    responses: { 200: json('One page of counts per container, reason, origin and subject.', 'Rejections'), 400: errors[400], 401: errors[401], 503: STORAGE },
  },
  'GET /v1/admin/accounts': {
    operationId: 'adminListAccounts', summary: 'The accounts in force', tags: ['admin'], auth: 'admin',
    description: 'The configuration file with the admin changes replayed over it.',
    responses: { 200: json('Every account, in the order of the configuration.', 'AccountList'), 401: errors.admin401 },
  },
  'GET /v1/admin/accounts/:id': {
    operationId: 'adminGetAccount', summary: 'An account as in force (keys and containers included)', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The account id.', schema: id } },
    responses: {
      200: json('The account.', 'AccountApplied'), 400: error('`invalid_request`: not an id (docs/protocol.md §7).'),
      401: errors.admin401, 404: error('`not_found`: no such account.'),
    },
  },
  'PATCH /v1/admin/accounts/:id': {
    operationId: 'adminPatchAccount', summary: 'Change some fields of an account (JSON merge patch)', tags: ['admin'], auth: 'admin',
    description: 'RFC 7396 over the account in force; persisted like a PUT, so it survives a restart. Containers are kept unless the patch names `containers`.',
    path: { id: { description: 'The account id.', schema: id } },
    body: { contentType: JSON_TYPE, schema: ref('AccountPatch') },
    responses: {
      200: json('The account as applied.', 'AccountApplied'), 400: errors.body400, 401: errors.admin401,
      404: error('`not_found`: no such account (create one with PUT).'),
      409: error('`conflict`: a container id or key is taken by another account, or a container id belonged to another account (docs/protocol.md §6).'), 413: errors[413], 503: STORAGE,
    },
  },
  'GET /v1/admin/containers/:id': {
    operationId: 'adminGetContainer', summary: 'A container as in force, with its account', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The container id.', schema: id } },
    responses: {
      200: json('The container.', 'ContainerApplied'), 400: error('`invalid_request`: not an id (docs/protocol.md §7).'),
      401: errors.admin401, 404: error('`not_found`: no such container.'),
    },
  },
  'PATCH /v1/admin/containers/:id': {
    operationId: 'adminPatchContainer', summary: 'Change some fields of a container (JSON merge patch)', tags: ['admin'], auth: 'admin',
    description: 'RFC 7396 over the container in force; persisted like a PUT. Arrays replace whole: to add a domain, send the full `domains` list.',
    path: { id: { description: 'The container id.', schema: id } },
    body: { contentType: JSON_TYPE, schema: ref('ContainerPatch') },
    responses: {
      200: json('The container as applied.', 'ContainerApplied'), 400: errors.body400, 401: errors.admin401,
      404: error('`not_found`: no such container (create one with PUT).'),
      409: error('`conflict`: `account` names another account.'), 413: errors[413], 503: STORAGE,
    },
  },
  'PUT /v1/admin/accounts/:id': {
    operationId: 'adminPutAccount', summary: 'Create or replace an account (the config file\'s shape)', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The account id.' } },
    body: { contentType: JSON_TYPE, schema: ref('AccountInput') },
    responses: {
      200: json('The account as applied.', 'AccountApplied'), 400: errors.body400, 401: errors.admin401,
      409: error('`conflict`: a container id or key is taken by another account, or a container id belonged to another account (docs/protocol.md §6).'), 503: STORAGE,
    },
  },
  'PUT /v1/admin/containers/:id': {
    operationId: 'adminPutContainer', summary: 'Create or replace a container; `account` names the owner of a new one', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The container id.' } },
    body: { contentType: JSON_TYPE, schema: ref('ContainerInput') },
    responses: {
      200: json('The container as applied.', 'ContainerApplied'), 400: errors.body400, 401: errors.admin401,
      409: error('`conflict`: it belongs, or belonged, to another account (docs/protocol.md §6).'), 503: STORAGE,
    },
  },
  'POST /v1/admin/billing/run': {
    operationId: 'adminPostBillingRun', summary: 'Close every period that ended by asOf (idempotent)', tags: ['admin'], auth: 'admin',
    body: { contentType: JSON_TYPE, schema: ref('BillingRun') },
    responses: {
      200: json('Invoices and credit entries written, per account; an account whose storage failed says why in `error`.', 'BillingRunResult'),
      400: error('`invalid_json`, or `invalid_request`: `asOf` not ISO-8601 or in the future, `account` unknown.'),
      401: errors.admin401, 413: errors[413],
    },
  },
  'POST /v1/admin/accounts/:id/email-grants': {
    operationId: 'adminPostEmailGrant', summary: 'Grant extra emails for the current month of the quota (idempotent by id)', tags: ['admin'], auth: 'admin',
    description: 'Counted by the email quota check and shown in `GET /v1/period` as `emails.granted` (docs/billing.md, "Emails").',
    path: { id: { description: 'The account id.' } },
    body: { contentType: JSON_TYPE, schema: ref('EmailGrant') },
    responses: {
      200: json('The grant as stored (the original one for a repeated id).', 'EmailGrantResult'),
      400: error('`invalid_json`, or `invalid_request`: a bad `id`, `emails` or `note`, or the account has no current period.'),
      401: errors.admin401, 404: error('`not_found`: no such account.'), 413: errors[413], 503: STORAGE,
    },
  },
  'POST /v1/admin/accounts/:id/webhooks': {
    operationId: 'adminPostWebhookEndpoint', summary: 'Add a webhook endpoint; the answer shows its secret, once', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The account id.' } },
    body: { contentType: JSON_TYPE, schema: ref('WebhookEndpointInput') },
    responses: {
      201: json('The endpoint with its signing secret.', 'WebhookEndpointCreated'), 400: errors.body400, 401: errors.admin401,
      404: error('`not_found`: no such account.'), 409: error('`conflict`: the account has 10 endpoints already.'), 413: errors[413], 503: STORAGE,
    },
  },
  'GET /v1/admin/accounts/:id/webhooks': {
    operationId: 'adminGetWebhookEndpoints', summary: 'The account\'s webhook endpoints (without secrets)', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The account id.' } },
    responses: { 200: json('Endpoints, oldest first.', 'WebhookEndpoints'), 401: errors.admin401, 404: error('`not_found`: no such account.'), 503: STORAGE },
  },
  'DELETE /v1/admin/accounts/:id/webhooks/:endpoint': {
    operationId: 'adminDeleteWebhookEndpoint', summary: 'Remove a webhook endpoint and what was still to be sent to it', tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The account id.' }, endpoint: { description: 'The endpoint id (`we_…`).' } },
    responses: {
      200: json('Removed.', 'WebhookEndpointDeleted'), 401: errors.admin401, 404: error('`not_found`: no such account or endpoint.'), 503: STORAGE,
    },
  },
  'GET /v1/admin/accounts/:id/webhooks/deliveries': {
    operationId: 'adminGetWebhookDeliveries', summary: 'The webhook delivery log, newest event first, paged', tags: ['admin'], auth: 'admin',
    description: 'One row per event and endpoint. A page ends at an event\'s boundary.',
    path: { id: { description: 'The account id.' } },
    query: [
      { name: 'limit', description: 'Rows per page, 1 to 200 (default 50).', schema: { type: 'integer', minimum: 1, maximum: 200 } },
      { name: 'before', description: 'The `next` of the previous page.', schema: { type: 'integer', minimum: 1 } },
    ],
    responses: {
      200: json('Deliveries with their events.', 'WebhookDeliveries'), 400: errors[400], 401: errors.admin401,
      404: error('`not_found`: no such account.'), 503: STORAGE,
    },
  },
  'POST /v1/admin/accounts/:id/webhooks/deliveries/:event/redeliver': {
    operationId: 'adminPostWebhookRedelivery', summary: 'Send an event again to every endpoint of the account', tags: ['admin'], auth: 'admin',
    description: 'The event keeps its id, so a receiver that has it already can tell.',
    path: { id: { description: 'The account id.' }, event: { description: 'The event id (`evt_…`).' } },
    responses: {
      202: json('Queued for delivery.', 'WebhookRedelivery'), 401: errors.admin401, 404: error('`not_found`: no such account or event.'), 503: STORAGE,
    },
  },
  'GET /dashboard': {
    operationId: 'getDashboard', summary: 'The dashboard, or its sign-in form', tags: ['dashboard'], auth: 'none',
    description: '`/dashboard/` redirects here (301).',
    responses: { 200: { description: 'HTML.', content: { 'text/html': { schema: text } } } },
  },
  'POST /dashboard/sign-in': {
    operationId: 'postDashboardSignIn', summary: 'Sign in with the read key', tags: ['dashboard'], auth: 'none',
    body: { contentType: 'application/x-www-form-urlencoded', schema: obj({ key: { type: 'string' } }) },
    responses: {
      303: {
        description: 'Signed in: an HttpOnly, SameSite=Strict cookie, back to /dashboard.',
        headers: { Location: { description: '`/dashboard`.', required: true, schema: text }, 'Set-Cookie': { description: '`tally_session`.', required: true, schema: text } },
      },
      401: { description: 'Wrong key, or the secret key: the form again with the reason.', content: { 'text/html': { schema: text } } },
      403: { description: 'Posted from another site (`Sec-Fetch-Site`, or `Origin` naming another host): nobody is signed in; a page says so.', content: { 'text/html': { schema: text } } },
    },
  },
  'POST /dashboard/sign-out': {
    operationId: 'postDashboardSignOut', summary: 'Sign out', tags: ['dashboard'], auth: 'none',
    responses: {
      303: { description: 'The cookie cleared, back to /dashboard.', headers: { Location: { description: '`/dashboard`.', required: true, schema: text } } },
      403: { description: 'Posted from another site: nobody is signed out; a page says so.', content: { 'text/html': { schema: text } } },
    },
  },
  'GET /dashboard/assets/:file': {
    operationId: 'getDashboardAsset', summary: 'The dashboard\'s scripts and styles (uPlot included)', tags: ['dashboard'], auth: 'none',
    path: { file: { description: 'A file name: `app.js`, `app.css`, `favicon.svg`, `uPlot.iife.min.js`, `uPlot.min.css`.' } },
    responses: {
      200: { description: 'JavaScript, CSS or the SVG icon.', content: { 'text/javascript': { schema: text }, 'text/css': { schema: text }, 'image/svg+xml': { schema: text } } },
      404: error('`not_found`: no such file.'),
    },
  },
}

/**
 * Registered routes left out of the document, each with the reason. A trailing-slash path is a
 * redirect for people who type it; as an API path it would be ambiguous with the one it redirects to.
 */
export const UNLISTED: Record<string, string> = {
  'GET /dashboard/': 'redirects to /dashboard (301), described there',
}

const ADMIN_MIRROR = /^\/v1\/admin\/accounts\/:id(\/.+)$/

// The portal's operations are generated from the zod schemas its routes validate with.
Object.assign(OPERATIONS, PORTAL_OPERATIONS)

/** The admin twin of an account read's operation id: `getUsage` -> `adminGetUsage`. */
export const adminOperationId = (base: string): string => `admin${base[0]?.toUpperCase() ?? ''}${base.slice(1)}`

/** The entry of a route, the admin mirror of an account read derived from that read. */
export function operationOf(method: string, path: string): Operation | undefined {
  const own = OPERATIONS[`${method} ${path}`]
  if (own) return own
  const mirrored = method === 'GET' ? ADMIN_MIRROR.exec(path) : null
  const base = mirrored ? OPERATIONS[`GET /v1${mirrored[1]}`] : undefined
  if (!base || base.auth !== 'account') return undefined
  const notFound = base.responses[404]
  const invalid = base.responses[400]
  const badId = '`invalid_request`: the account id is not an id (docs/protocol.md §7).'
  return {
    ...base,
    operationId: adminOperationId(base.operationId),
    summary: `${base.summary} (admin, any account)`,
    description: base.description ? `${sameAs} ${base.description}` : sameAs,
    tags: ['admin'], auth: 'admin',
    path: { id: { description: 'The account id.' }, ...base.path },
    responses: {
      ...base.responses,
      400: error(invalid ? `${badId} ${invalid.description}` : badId),
      401: errors.admin401,
      404: error(notFound ? `\`not_found\`: no such account. ${notFound.description}` : '`not_found`: no such account.'),
    },
  }
}

const SECURITY: Record<Auth, Array<Record<string, string[]>>> = {
  none: [],
  account: [{ accountKey: [] }, { dashboardSession: [] }],
  secret: [{ secretKey: [] }],
  admin: [{ adminToken: [] }],
  dashboard: [{ dashboardSession: [] }],
  portal: [{ portalSession: [] }],
}

const TAGS = [
  { name: 'browser', description: 'The script-tag SDK and the beacons it sends (docs/protocol.md §3).' },
  { name: 'server usage', description: 'The vendor\'s backend reports usage and moves credits, with the secret key (docs/protocol.md §4).' },
  { name: 'read', description: 'Usage, period, invoices, credits and refused beacons of the key\'s account (docs/protocol.md §5).' },
  { name: 'admin', description: 'Configuration, the billing run and every account\'s reads, with the admin token (docs/protocol.md §6).' },
  { name: 'dashboard', description: 'The read API for people: HTML, its sign-in and its files.' },
  { name: 'portal', description: 'The billing portal: the account\'s own people see and change their plan, credits and invoices (docs/portal.md).' },
  { name: 'operations', description: 'Health, readiness, metrics and this document.' },
]

/**
 * Answers any operation can give. Node's HTTP server refuses over-large headers before any route
 * runs; anything a route did not expect is a 500 with the error body (`onError` in app.ts).
 */
const COMMON_RESPONSES = {
  HeadersTooLarge: { description: 'Request headers over 16 KiB, refused by the HTTP server before any route runs; no body.' },
  Unexpected: {
    description: 'An unexpected failure: `500 internal`, logged.',
    content: { [JSON_TYPE]: { schema: ref('Error') } },
  },
}

/**
 * The origin the client reached this collector at, for `servers`: the request's own URL, or
 * what a trusted proxy (`server.trustedProxies`) says in `X-Forwarded-Proto` and
 * `X-Forwarded-Host`. From anyone else those headers could be a lie.
 */
export function servedOrigin(c: Context, trusted: (address: string) => boolean): string {
  const url = new URL(c.req.url)
  let proto = url.protocol.slice(0, -1)
  let host = url.host
  const peer = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress
  if (peer !== undefined && trusted(peer)) {
    const first = (name: string) => c.req.header(name)?.split(',')[0]?.trim()
    const fProto = first('x-forwarded-proto')?.toLowerCase()
    if (fProto === 'http' || fProto === 'https') proto = fProto
    const fHost = first('x-forwarded-host')
    if (fHost && /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(fHost)) host = fHost
  }
  try {
    return new URL(`${proto}://${host}`).origin
  } catch {
    return url.origin
  }
}

/**
 * Builds the document from the registered routes (middleware, method ALL, is left out);
 * `origin` is the server the document names (see `servedOrigin`), else the relative `/`.
 */
export function openApiDocument(routes: ReadonlyArray<{ method: string; path: string }>, origin = '/'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  const seen = new Set<string>()
  for (const { method, path } of routes) {
    const key = `${method} ${path}`
    if (method === 'ALL' || seen.has(key) || Object.hasOwn(UNLISTED, key)) continue
    seen.add(key)
    const op = operationOf(method, path)
    const params = [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => {
      const name = m[1] as string
      const words = op?.path?.[name]
      return { name, in: 'path', required: true, ...(words ? { description: words.description } : {}), schema: words?.schema ?? { type: 'string' } }
    })
    const openPath = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    const entry: Record<string, unknown> = op
      ? {
        operationId: op.operationId, summary: op.summary, ...(op.description ? { description: op.description } : {}), tags: op.tags,
        security: SECURITY[op.auth],
        parameters: [...params, ...(op.query ?? []).map((q) => ({ name: q.name, in: 'query', required: q.required ?? false, description: q.description, schema: q.schema }))],
        ...(op.body ? { requestBody: { required: true, content: { [op.body.contentType]: { schema: op.body.schema } } } } : {}),
        responses: {
          ...Object.fromEntries(Object.entries(op.responses).map(([status, r]) => [status, {
            description: r.description,
            ...(r.headers ? { headers: r.headers } : {}),
            ...(r.content ? { content: r.content } : {}),
          }])),
          431: { $ref: '#/components/responses/HeadersTooLarge' },
          default: { $ref: '#/components/responses/Unexpected' },
        },
      }
      : { summary: `${method} ${path}`, 'x-undocumented': true, parameters: params, responses: { default: { description: 'Not documented yet.' } } }
    paths[openPath] = { ...paths[openPath], [method.toLowerCase()]: entry }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tally collector', version: '1',
      description: 'Usage tracking and billing: browser beacons, server-side usage, the read API, admin. Errors are `{ "error": { "code", "message" } }`.',
      // The project grants no licence (its packages are private and name none): say so until it picks one.
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: origin, description: 'This collector, as the request for this document reached it.' }],
    tags: TAGS,
    paths,
    components: {
      schemas: { ...SCHEMAS, ...PORTAL_COMPONENTS },
      responses: COMMON_RESPONSES,
      securitySchemes: {
        accountKey: { type: 'http', scheme: 'bearer', description: "The account's read key (rk_…) or secret key (sk_…)." },
        secretKey: { type: 'http', scheme: 'bearer', description: "The account's secret key (sk_…)." },
        adminToken: { type: 'http', scheme: 'bearer', description: 'TALLY_ADMIN_TOKEN.' },
        dashboardSession: { type: 'apiKey', in: 'cookie', name: 'tally_session', description: 'Set by POST /dashboard/sign-in; GET requests only.' },
        portalSession: { type: 'apiKey', in: 'cookie', name: 'tally_portal', description: 'Set by opening a link of POST /v1/portal/sessions; writes also need the page\'s `X-Tally-CSRF` header (docs/portal.md).' },
      },
    },
  }
}
