/**
 * Webhooks (docs/webhooks.md): the outbox and its delivery.
 *
 * - `emit` appends an event to the account's outbox inside the transaction that writes the fact
 *   it reports (an invoice, a purchase, a refusal), so the event exists exactly when the fact
 *   does: a crash after the commit loses none, a rollback leaves none. Each event has a key naming
 *   its fact, so the same fact never yields two events, and an `evt_…` id receivers deduplicate by.
 * - The delivery loop (`createWebhookDelivery`, started by the server) POSTs each event to each
 *   endpoint of its account, signed, in the account's order: a later event is sent only once the
 *   earlier ones to that endpoint were delivered or given up. A failed attempt is retried with
 *   exponential backoff and jitter until 72 hours after the event, then marked failed. Delivery
 *   is at least once: an attempt whose answer is lost (a crash, a timeout) is made again.
 * - Only to public addresses (docs/webhooks.md, "Where webhooks may go"): each attempt resolves
 *   the endpoint's name itself and connects only to an address it checked (`postWebhook`).
 */
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import type { Logger } from 'pino'
import type { DeliveryRow, DeliveryUpdate, Repository } from '../engines/repository.js'
import type { Clock } from '../domain/clock.js'
import { SIGNATURE_HEADER, signWebhook } from '../domain/webhook-signature.js'
import { guardedLookup, isPublicAddress, literalAddress, PrivateAddressError, type Resolve } from '../domain/webhook-target.js'

export const WEBHOOK_EVENT_TYPES = [
  'invoice.finalized',
  'credits.low',
  'credits.purchased',
  'quota.email_reached',
  'subscription.renewed',
  'usage.refused_spike',
  // Changes made in the billing portal (docs/portal.md) and the purchases and transfers of the API.
  'subscription.change_scheduled',
  'subscription.changed',
  'subscription.cancellation_scheduled',
  'subscription.cancellation_undone',
  'credits.transferred',
  'emails.purchased',
  'billing_details.updated',
] as const
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/** What `POST`s to an endpoint: the JSON body of every delivery. */
export interface WebhookPayload {
  id: string
  type: WebhookEventType
  /** ISO-8601 instant the fact happened (the transaction's time). */
  created: string
  account: string
  data: unknown
}

export const newEventId = (): string => `evt_${randomBytes(12).toString('hex')}`

/**
 * Writes an event to the outbox in the caller's transaction (the account must be locked, so the
 * account's sequence has no gaps or races). `fact` names what happened; the same fact again is a no-op.
 */
export function emit(tx: Repository, account: string, type: WebhookEventType, fact: string, data: unknown, at: number): Promise<boolean> {
  return tx.insertOutboxEvent(account, { key: `${type}:${fact}`, id: newEventId(), type, created: at, data })
}

/** A refused-beacon spike event for the account, in a transaction of its own. */
export async function emitRejectionSpike(
  tx: Repository,
  req: { account: string; minute: number; refused: number; threshold: number; at: number },
): Promise<boolean> {
  await tx.lockAccount(req.account)
  const minute = new Date(req.minute).toISOString()
  return emit(tx, req.account, 'usage.refused_spike', minute, { minute, refused: req.refused, threshold: req.threshold }, req.at)
}

export const payloadOf = (d: DeliveryRow): WebhookPayload => ({
  id: d.event.id,
  type: d.event.type as WebhookEventType,
  created: new Date(d.event.created).toISOString(),
  account: d.account,
  data: d.event.data,
})

export interface DeliverySettings {
  /** First retry after this; each further one waits twice as long (default 10 s). */
  retryBaseMs: number
  /** No wait longer than this (default 1 h). */
  retryMaxMs: number
  /** An event is given up this long after it was created (default 72 h). */
  giveUpAfterMs: number
  /** One attempt waits this long for an answer (default 5 s). */
  attemptTimeoutMs: number
  /** The loop looks for due deliveries this often when idle (default 1 s). */
  pollMs: number
  /** Deliveries attempted at once, each of a different (account, endpoint) (default 20). */
  batch: number
}

export const DEFAULT_DELIVERY: DeliverySettings = {
  retryBaseMs: 10_000,
  retryMaxMs: 3_600_000,
  giveUpAfterMs: 72 * 3_600_000,
  attemptTimeoutMs: 5_000,
  pollMs: 1_000,
  batch: 20,
}

/**
 * The wait before retry number `attempts` (1 after the first failure): exponential, capped, and
 * jittered down to half at random ("equal jitter"), so endpoints that failed together do not all
 * come back at the same instant.
 */
export function retryDelay(attempts: number, s: Pick<DeliverySettings, 'retryBaseMs' | 'retryMaxMs'>, random: () => number = Math.random): number {
  const full = Math.min(s.retryMaxMs, s.retryBaseMs * 2 ** Math.min(attempts - 1, 40))
  return Math.round(full / 2 + (full / 2) * random())
}

/**
 * How an attempt ended: `ok` for a 2xx answer; `permanent` when no retry can succeed (an endpoint
 * whose URL is written with an address webhooks may not go to).
 */
export interface AttemptOutcome {
  ok: boolean
  status: number | null
  error: string | null
  /** Not sent: the host is, or resolves only to, addresses webhooks may not go to. */
  refused?: boolean
  permanent?: boolean
}

/** What an attempt's outcome makes of its delivery. */
export function afterAttempt(d: DeliveryRow, outcome: AttemptOutcome, at: number, s: DeliverySettings, random: () => number = Math.random): DeliveryUpdate {
  const attempts = d.attempts + 1
  const last = { attempts, lastAt: at, lastStatus: outcome.status, lastError: outcome.error }
  if (outcome.ok) return { ...last, status: 'delivered', nextAt: at }
  if (outcome.permanent) return { ...last, status: 'failed', nextAt: at }
  const nextAt = at + retryDelay(attempts, s, random)
  if (nextAt >= d.event.created + s.giveUpAfterMs) return { ...last, status: 'failed', nextAt: at }
  return { ...last, status: 'pending', nextAt }
}

/** The storage calls the loop makes (bound in ./store.ts). */
export interface DeliveryStore {
  /** Due deliveries, each leased until `leaseUntil` so no other loop sends it meanwhile. */
  claimDeliveries(now: number, limit: number, leaseUntil: number): Promise<(DeliveryRow & { url: string; secret: string })[]>
  recordDelivery(account: string, seq: number, endpoint: string, update: DeliveryUpdate): Promise<void>
}

/** Leases due deliveries in one transaction: the heads of their queues, with where to send them. */
export async function claimDeliveries(tx: Repository, now: number, limit: number, leaseUntil: number) {
  const due = await tx.dueDeliveries(now, limit)
  const out: (DeliveryRow & { url: string; secret: string })[] = []
  const endpoints = new Map<string, Awaited<ReturnType<Repository['webhookEndpoints']>>>()
  for (const d of due) {
    let list = endpoints.get(d.account)
    if (!list) {
      list = await tx.webhookEndpoints(d.account)
      endpoints.set(d.account, list)
    }
    const ep = list.find((e) => e.id === d.endpoint)
    if (!ep) continue
    await tx.updateDelivery(d.account, d.seq, d.endpoint, { ...d, nextAt: leaseUntil })
    out.push({ ...d, url: ep.url, secret: ep.secret })
  }
  return out
}

/**
 * One POST of a webhook, with `node:http`/`node:https` so that the connection goes only to an
 * address `lookup` checked (docs/webhooks.md, "Where webhooks may go"): a name is resolved by
 * `lookup` and the socket is given only what passed; a URL written with an IP address skips any
 * lookup, so it is checked here. Redirects are not followed (a 3xx is a failure like any other
 * non-2xx) and the answer's body is not read: only the status counts. Each attempt has its own
 * connection, closed once the status is in.
 */
export function postWebhook(
  target: string,
  headers: Record<string, string>,
  body: string,
  opts: { timeoutMs: number; allowPrivateNetworks: boolean; lookup: LookupFunction },
): Promise<AttemptOutcome> {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    return Promise.resolve({ ok: false, status: null, error: 'refused: not a URL', permanent: true })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve({ ok: false, status: null, error: `refused: ${url.protocol} is not http or https`, permanent: true })
  }
  const literal = literalAddress(url.hostname)
  if (literal !== null && !opts.allowPrivateNetworks && !isPublicAddress(literal)) {
    // No name to re-point: this endpoint can never be sent to while the setting is off.
    return Promise.resolve({ ok: false, status: null, error: `refused: ${literal} is not a public address`, refused: true, permanent: true })
  }
  const signal = AbortSignal.timeout(opts.timeoutMs)
  return new Promise<AttemptOutcome>((resolve) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const req = send(url, {
      method: 'POST',
      agent: false,
      lookup: opts.lookup,
      signal,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    })
    req.on('response', (res) => {
      const status = res.statusCode ?? 0
      res.destroy()
      resolve({ ok: status >= 200 && status < 300, status, error: status >= 200 && status < 300 ? null : `HTTP ${status}` })
    })
    req.on('error', (e) => {
      const refused = e instanceof PrivateAddressError
      const error = signal.aborted ? 'timed out' : e.message || String((e as { code?: unknown }).code ?? e)
      resolve({ ok: false, status: null, error: error.slice(0, 200), ...(refused ? { refused } : {}) })
    })
    req.end(body)
  })
}

export interface WebhookDelivery {
  /** One pass: attempts every due delivery (as many passes as it takes while some are delivered). */
  runOnce(): Promise<number>
  start(): void
  stop(): Promise<void>
}

export function createWebhookDelivery(deps: {
  store: DeliveryStore
  clock: Clock
  logger: Logger
  settings?: Partial<DeliverySettings>
  random?: () => number
  /** `server.webhooks.allowPrivateNetworks`: send to loopback, private and link-local addresses too (default false). */
  allowPrivateNetworks?: boolean
  /** Resolves an endpoint's host name (default `dns.lookup`); tests put their own. */
  resolve?: Resolve
}): WebhookDelivery {
  const s: DeliverySettings = { ...DEFAULT_DELIVERY, ...deps.settings }
  const { store, clock, logger } = deps
  const allowPrivateNetworks = deps.allowPrivateNetworks ?? false
  const lookup = guardedLookup(allowPrivateNetworks, deps.resolve)
  let timer: NodeJS.Timeout | undefined
  let running: Promise<number> | undefined
  let stopped = false

  const attempt = async (d: DeliveryRow & { url: string; secret: string }) => {
    const body = JSON.stringify(payloadOf(d))
    const headers = { 'content-type': 'application/json', 'user-agent': 'Tally-Webhooks/1', [SIGNATURE_HEADER]: signWebhook(body, d.secret, clock.now()) }
    const outcome = await postWebhook(d.url, headers, body, { timeoutMs: s.attemptTimeoutMs, allowPrivateNetworks, lookup })
    if (outcome.refused) {
      logger.warn({ account: d.account, event: d.event.id, endpoint: d.endpoint, reason: outcome.error }, 'webhook not sent: not a public address')
    }
    const update = afterAttempt(d, outcome, clock.now(), s, deps.random)
    await store.recordDelivery(d.account, d.seq, d.endpoint, update)
    if (update.status === 'failed') logger.warn({ account: d.account, event: d.event.id, endpoint: d.endpoint, attempts: update.attempts }, 'webhook given up')
    return update.status === 'delivered'
  }

  const pass = async (): Promise<number> => {
    let sent = 0
    for (;;) {
      const now = clock.now()
      const claimed = await store.claimDeliveries(now, s.batch, now + s.attemptTimeoutMs + 5_000)
      if (claimed.length === 0) return sent
      const results = await Promise.all(claimed.map(attempt))
      sent += results.filter(Boolean).length
      // Only a delivery made unblocks the next event of its queue: without one, wait for the timer.
      if (!results.some(Boolean) || stopped) return sent
    }
  }

  const runOnce = () =>
    (running ??= pass().finally(() => {
      running = undefined
    }))

  return {
    runOnce,
    start() {
      stopped = false
      const tick = () => {
        runOnce()
          .catch((err) => logger.error({ err }, 'webhook delivery failed'))
          .finally(() => {
            if (!stopped) {
              timer = setTimeout(tick, s.pollMs)
              timer.unref()
            }
          })
      }
      tick()
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running?.catch(() => {})
    },
  }
}
