/** Webhook bodies (docs/webhooks.md) and the answers of the webhook admin routes, in zod. */
import { z } from 'zod'
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../services/webhooks.js'
import { INVOICE_KINDS, PeriodRef, currency, minor } from './billing-schemas.js'
import { date, instant, int, text } from './define.js'
import { BillingDetails, PortalChange } from './portal-schemas.js'

/** The longest endpoint URL. */
export const MAX_URL = 2048
const URL_RULE = `expected an http or https URL without credentials, at most ${MAX_URL} characters`
const isWebUrl = (raw: string): boolean => {
  try {
    const url = new URL(raw)
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password
  } catch {
    return false
  }
}

/** The body of a webhook of one type (docs/webhooks.md): the envelope every type shares, its own `data`. */
const webhookEvent = (type: WebhookEventType, id: string, description: string, data: z.ZodObject) =>
  z
    .object({
      id: z
        .string()
        .regex(/^evt_[0-9a-f]{24}$/)
        .meta({ description: 'Unique per event: a receiver that saw this id already has it (deliveries are at least once).' }),
      type: z.literal(type),
      created: instant.meta({ description: 'When the fact happened.' }),
      account: text,
      data,
    })
    .meta({ id, description })

const WEBHOOKS: Record<WebhookEventType, z.ZodObject> = {
  'invoice.finalized': webhookEvent(
    'invoice.finalized',
    'WebhookInvoiceFinalized',
    'An invoice was finalized by a billing run.',
    z.object({ number: int, key: text, kind: z.enum(INVOICE_KINDS), issuedDate: date, period: PeriodRef.nullable(), currency, total: minor }),
  ),
  'credits.low': webhookEvent(
    'credits.low',
    'WebhookCreditsLow',
    "A spend or transfer took a wallet below the plan's `creditsLowThreshold`.",
    z.object({ wallet: z.string().meta({ description: '`account` or `member:<name>`.' }), balance: int, threshold: int }),
  ),
  'credits.purchased': webhookEvent(
    'credits.purchased',
    'WebhookCreditsPurchased',
    'A credit pack was bought.',
    z.object({
      id: text,
      pack: text,
      credits: int,
      balance: int.meta({ description: 'The account wallet after the purchase.' }),
      invoice: z.string().meta({ description: "Key of the pack's invoice, finalized by the next billing run." }),
    }),
  ),
  'quota.email_reached': webhookEvent(
    'quota.email_reached',
    'WebhookEmailQuotaReached',
    'The first email send of the month refused for want of quota (once a month).',
    z.object({
      month: date.meta({ description: 'First day of the month of the anchor calendar.' }),
      quota: int,
      granted: int,
      sent: int,
      refused: int.meta({ description: 'Emails of the refused send.' }),
    }),
  ),
  'subscription.renewed': webhookEvent(
    'subscription.renewed',
    'WebhookSubscriptionRenewed',
    'The recurring invoice of a new period (not the first) was finalized.',
    z.object({ period: PeriodRef, invoice: z.object({ number: int, key: text, total: int, currency: text }) }),
  ),
  'usage.refused_spike': webhookEvent(
    'usage.refused_spike',
    'WebhookRefusedSpike',
    "More beacons than the plan's `refusedSpikePerMinute` were refused in one minute (once a minute).",
    z.object({ minute: instant.meta({ description: 'Start of the minute.' }), refused: int, threshold: int }),
  ),
  'subscription.change_scheduled': webhookEvent(
    'subscription.change_scheduled',
    'WebhookSubscriptionChangeScheduled',
    "A plan, seat, product or cycle change made in the billing portal that waits for the period's end.",
    PortalChange,
  ),
  'subscription.changed': webhookEvent(
    'subscription.changed',
    'WebhookSubscriptionChanged',
    'A plan, seat or product change made in the billing portal that took effect at once (an upgrade invoice follows).',
    PortalChange,
  ),
  'subscription.cancellation_scheduled': webhookEvent(
    'subscription.cancellation_scheduled',
    'WebhookCancellationScheduled',
    'Cancelled in the billing portal: the subscription ends at `endsOn`.',
    z.object({ cancelledAt: date, endsOn: date.nullable().meta({ description: 'The local day the subscription ends (exclusive).' }) }),
  ),
  'subscription.cancellation_undone': webhookEvent(
    'subscription.cancellation_undone',
    'WebhookCancellationUndone',
    'A scheduled cancellation was undone in the billing portal: the subscription renews.',
    z.object({ renewsOn: date.nullable() }),
  ),
  'credits.transferred': webhookEvent(
    'credits.transferred',
    'WebhookCreditsTransferred',
    'Credits were sent from the account wallet to a member (irreversible).',
    z.object({
      id: text,
      to: text,
      credits: int,
      balance: int.meta({ description: 'The account wallet after the transfer.' }),
      moved: z.object({ purchased: int, free: int }),
    }),
  ),
  'emails.purchased': webhookEvent(
    'emails.purchased',
    'WebhookEmailsPurchased',
    'An email pack was bought for the running month.',
    z.object({
      id: text,
      pack: text,
      emails: int,
      month: date,
      invoice: z.string().meta({ description: "Key of the pack's invoice, finalized by the next billing run." }),
    }),
  ),
  'billing_details.updated': webhookEvent(
    'billing_details.updated',
    'WebhookBillingDetailsUpdated',
    'The invoice information was changed; invoices issued from now on print it.',
    BillingDetails,
  ),
}

export const WebhookEvent = z
  .union(WEBHOOK_EVENT_TYPES.map((t) => WEBHOOKS[t]) as unknown as [z.ZodObject, ...z.ZodObject[]])
  .meta({
    id: 'WebhookEvent',
    description: 'The JSON body of a webhook, signed in `Tally-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` (docs/webhooks.md).',
  })

export const WebhookEndpointInput = z
  .object({
    url: z
      .string(URL_RULE)
      .max(MAX_URL, URL_RULE)
      .refine(isWebUrl, URL_RULE)
      .meta({
        format: 'uri',
        description:
          'http or https, without credentials, naming a public host: a loopback, private, link-local, multicast or reserved address, or `localhost`, is `400 invalid_request` unless the collector has `server.webhooks.allowPrivateNetworks` (docs/webhooks.md).',
      }),
  })
  .meta({ id: 'WebhookEndpointInput' })
export const WebhookEndpointCreated = z
  .object({
    account: text,
    id: text,
    url: text,
    secret: z
      .string()
      .regex(/^whsec_/)
      .meta({ description: 'Signs every delivery. Shown only here: keep it.' }),
    created: instant,
  })
  .meta({ id: 'WebhookEndpointCreated' })
export const WebhookEndpoints = z
  .object({ account: text, endpoints: z.array(z.object({ id: text, url: text, created: instant })) })
  .meta({ id: 'WebhookEndpoints' })
export const WebhookEndpointDeleted = z.object({ account: text, id: text, deleted: z.literal(true) }).meta({ id: 'WebhookEndpointDeleted' })
export const WebhookDeliveries = z
  .object({
    account: text,
    deliveries: z.array(
      z.object({
        event: WebhookEvent,
        endpoint: text,
        status: z.enum(['pending', 'delivered', 'failed']),
        attempts: int,
        nextAttempt: instant.nullable(),
        lastAttempt: instant.nullable(),
        lastStatus: int.nullable().meta({ description: 'HTTP status of the last attempt; null when it got no answer.' }),
        lastError: text.nullable(),
      }),
    ),
    next: int.nullable().meta({ description: 'Pass as `before` for the next page; null on the last.' }),
  })
  .meta({ id: 'WebhookDeliveries' })
export const WebhookRedelivery = z
  .object({ account: text, event: text, endpoints: int.meta({ description: 'Endpoints the event is sent to again.' }) })
  .meta({ id: 'WebhookRedelivery' })
