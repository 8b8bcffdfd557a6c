/**
 * `POST /v1/containers/{container}/events` (docs/protocol.md §3): HTTP only; the counting is
 * the ingest service's (../services/ingest.ts).
 *
 * Cheap refusals come first: the client's rate, the declared size, the container and its
 * origin, the container's rate, bot user agents. Only then is the body read (counting bytes as
 * they stream, so an undeclared size is stopped at the limit too), parsed, and each event checked
 * alone so that one bad event does not refuse its siblings. The answer is sent after the store
 * committed the batch.
 */
import { Hono, type Context } from 'hono'
import { isbot } from 'isbot'
import {
  MAX_AGE_MS,
  MAX_BATCH_CONVERSATIONS,
  MAX_BODY_BYTES,
  MAX_FUTURE_MS,
  parseEnvelope,
  parseEvent,
  type BatchResult,
  type EventCode,
  type RejectedEvent,
} from '@tally/protocol'
import { fail, TallyError } from '../errors.js'
import { hostAllowed, requestHost } from '../domain/origin.js'
import { addressKey, createFairLimiter, createLimiter } from '../domain/ratelimit.js'
import type { AppDeps } from '../context.js'
import type { IngestEvent, IngestStatus } from '../services/store.js'
import type { ContainerEntry } from '../domain/config.js'
import type { RejectionRecord } from '../engines/repository.js'
import { subscriptionEnded } from '../domain/billing-account.js'
import { rejectionSpikeHook } from '../services/rejection-spike.js'
import { readJson } from '../middleware/body.js'
import { clientOf } from '../middleware/client.js'
import { createSessionGate } from '../domain/sessions.js'
import { isErrorReason, type ForbiddenReason, type RejectionReason } from '@tally/protocol'

/**
 * Requests of the address's rate that each conversation a beacon names beyond the first costs. Two:
 * a conversation's fold costs the storage thread up to two and a half times an in-order event's
 * (an event out of order reads and rewrites the states of up to 8 events after it), and a page
 * names one conversation at a time, so only a beacon built to fold many pays it.
 */
export const CONVERSATION_COST = 2

export function eventRoutes(deps: AppDeps): Hono {
  const { store, clock, config, metrics, rejections } = deps
  const limits = config.current().server.rateLimits
  const perIp = createLimiter(limits.perIp, clock)
  /** Addresses whose beacon of several conversations is being stored now (at most one each). */
  const folding = new Set<string>()
  // Shared fairly among the container's client addresses (../domain/ratelimit.ts).
  const perContainer = createFairLimiter(limits.perContainer, clock)
  const sessionGate = createSessionGate(config.current().server.sessionsPerHour, clock)
  const app = new Hono()
  const spike = rejectionSpikeHook(deps)

  app.post('/v1/containers/:container/events', async (c) => {
    const receivedAt = clock.now()
    const containerId = c.req.param('container')
    const verdict = requestHost(c.req.header('origin'), c.req.header('referer'))
    const entry = config.container(containerId)
    try {
      return await handle(c, receivedAt, containerId, verdict, entry)
    } catch (e) {
      // Every refusal a storefront can cause is counted (docs/protocol.md §5), under one of the
      // reasons of REJECTION_REASONS (@tally/protocol); a 403 was counted with its precise reason already.
      if (e instanceof TallyError && isErrorReason(e.code)) note(containerId, entry?.accountId ?? null, e.code, verdict.host, '', receivedAt)
      throw e
    }
  })

  return app

  async function handle(
    c: Context,
    receivedAt: number,
    containerId: string,
    verdict: ReturnType<typeof requestHost>,
    entry: ContainerEntry | undefined,
  ): Promise<Response> {
    const address = addressKey(clientOf(c).address)
    limit(perIp.take(address), 'too many requests from this address')

    // Refused before anything else is read (the body reader checks again as bytes stream in).
    const declared = c.req.header('content-length')
    if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) {
      throw fail('payload_too_large', `the body exceeds ${MAX_BODY_BYTES} bytes`)
    }

    const forbidden: ForbiddenReason | null = !entry
      ? 'unknown_container'
      : entry.account.active === false
        ? 'account_inactive'
        : subscriptionEnded(entry.account, receivedAt)
          ? 'subscription_ended'
          : !verdict.ok
            ? verdict.reason
            : !hostAllowed(verdict.host, entry.domains)
              ? 'origin_not_allowed'
              : null
    if (forbidden) forbid(containerId, entry, forbidden, verdict.host, receivedAt)

    limit(perContainer.take(containerId, address), 'too many requests for this container')

    if (isBotAgent(c.req.header('user-agent'))) {
      metrics.events.inc({ result: 'dropped', reason: 'bot' })
      note(containerId, entry?.accountId ?? null, 'bot', verdict.host, '', receivedAt)
      const none: BatchResult = { accepted: 0, duplicates: 0, rejected: [] }
      return c.json(none, 200, { 'X-Tally-Dropped': 'bot' })
    }

    const json = await readJson(c, MAX_BODY_BYTES)
    const env = parseEnvelope(json)
    if (!env.ok) throw fail('invalid_batch', env.message)

    const { container, account, accountId } = entry as ContainerEntry
    const { sentAt, events: raw } = env.value
    // Each conversation a beacon names may be folded again on the storage thread: beyond the first,
    // each costs the address CONVERSATION_COST more requests of its rate (docs/security.md,
    // "Conversations"). A chat widget's beacon names one and costs one; a beacon of 16 costs 31.
    // Refused, nothing of it is counted or stored, and the address is refused at once, unread,
    // until the cost could be had.
    // And one such beacon of an address is stored at a time: the storage thread takes one at once
    // from it, never a burst, so another account's beacon waits behind one at most. A beacon refused
    // for that has paid for its reading all the same.
    const named = namedConversations(raw)
    const folder = named > 1 ? address : null
    if (folder !== null) {
      limit(perIp.take(folder, CONVERSATION_COST * (named - 1)), 'too many conversations from this address')
      if (folding.has(folder)) limit(1000, 'a beacon of several conversations from this address is still being stored')
    }
    const rejected: RejectedEvent[] = []
    const events: IngestEvent[] = []
    /** The batch index of each event passed to the store. */
    const slots: number[] = []
    const conversations = new Set<string>()
    // Refusals are counted once per (code, subject) of the request, not once per event: a batch of
    // 500 refused events costs one count of each kind (the answer still lists each event).
    const refusals = new Map<string, { code: EventCode; subject: string; count: number }>()
    const reject = (index: number, code: EventCode, subject = '') => {
      rejected.push({ index, code })
      const key = `${code}\u0000${subject}`
      const seen = refusals.get(key)
      if (seen) seen.count++
      else refusals.set(key, { code, subject, count: 1 })
    }
    for (let i = 0; i < raw.length; i++) {
      const r = parseEvent(raw[i])
      if (!r.ok) {
        reject(i, 'invalid_event')
        continue
      }
      const e = r.value
      const time = receivedAt - (sentAt - e.ts)
      const subject = e.type === 'impression' ? e.campaign : e.type === 'engagement' ? e.advisor : e.bot
      if (time - receivedAt > MAX_FUTURE_MS) {
        reject(i, 'event_in_future', subject)
        continue
      }
      if (receivedAt - time > MAX_AGE_MS) {
        reject(i, 'event_too_old', subject)
        continue
      }
      if (e.type === 'impression') {
        const code = catalog(container.campaigns, e.campaign, 'unknown_campaign', 'inactive_campaign')
        if (code) {
          reject(i, code, subject)
          continue
        }
        slots.push(i)
        events.push({ id: e.id, type: 'impression', session: e.session, subject: e.campaign, time })
      } else if (e.type === 'engagement') {
        const code = catalog(container.advisors, e.advisor, 'unknown_advisor', 'inactive_advisor')
        if (code) {
          reject(i, code, subject)
          continue
        }
        slots.push(i)
        events.push({ id: e.id, type: 'engagement', session: e.session, subject: e.advisor, time })
      } else {
        // An inactive bot is billed like an unknown one: not at all (docs/protocol.md has one code for both).
        if (catalog(container.bots, e.bot, 'unknown_bot', 'unknown_bot')) {
          reject(i, 'unknown_bot', subject)
          continue
        }
        // A batch folds at most MAX_BATCH_CONVERSATIONS conversations (docs/security.md): the work of a request stays small.
        if (!conversations.has(e.conversation)) {
          if (conversations.size >= MAX_BATCH_CONVERSATIONS) {
            reject(i, 'too_many_conversations', subject)
            continue
          }
          conversations.add(e.conversation)
        }
        slots.push(i)
        events.push({ id: e.id, type: 'chat', session: e.session, subject: e.bot, time, conversation: e.conversation, phase: e.phase })
      }
    }

    let accepted = 0
    let duplicates = 0
    if (events.length > 0) {
      // A session and a chat conversation each open new billable units: both count against the
      // address's hourly cap (docs/security.md).
      const opened = new Set<string>()
      for (const e of events) {
        opened.add(`s:${e.session}`)
        if (e.type === 'chat') opened.add(`c:${e.conversation}`)
      }
      const over = sessionGate.admit(containerId, address, opened)
      if (over.size > 0) {
        for (const e of events) if (over.has(`s:${e.session}`) || (e.type === 'chat' && over.has(`c:${e.conversation}`))) e.suspicious = true
        const flagged = events.filter((e) => e.suspicious).length
        metrics.events.inc({ result: 'suspicious', reason: 'sessions_per_hour' }, flagged)
        note(containerId, accountId, 'suspicious', verdict.host, '', receivedAt, flagged)
      }
      if (folder !== null) folding.add(folder)
      let statuses: IngestStatus[]
      try {
        statuses = await store.ingest({ account: accountId, container: containerId, receivedAt, timeZone: account.timezone, events })
      } finally {
        if (folder !== null) folding.delete(folder)
      }
      statuses.forEach((s, k) => {
        if (s === 'accepted') accepted++
        else if (s === 'duplicate') duplicates++
        else reject(slots[k] as number, s, events[k]?.subject)
      })
      rejected.sort((a, b) => a.index - b.index)
      if (accepted) metrics.events.inc({ result: 'accepted', reason: '' }, accepted)
      if (duplicates) metrics.events.inc({ result: 'duplicate', reason: '' }, duplicates)
    }
    for (const { code, subject, count } of refusals.values()) {
      metrics.events.inc({ result: 'rejected', reason: code }, count)
      note(containerId, accountId, code, verdict.host, subject, receivedAt, count)
    }
    const result: BatchResult = { accepted, duplicates, rejected }
    return c.json(result)
  }

  function limit(waitMs: number, message: string) {
    if (waitMs > 0) throw fail('rate_limited', message, { 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))) })
  }

  /**
   * One 403 for every reason; the reason goes to the rejections table and to the log, one line per
   * (container, reason) and minute with its count, never a line per request (docs/security.md).
   */
  function forbid(containerId: string, entry: ContainerEntry | undefined, reason: ForbiddenReason, host: string, at: number): never {
    metrics.events.inc({ result: 'refused', reason })
    rejections.noteAndLog(record(containerId, entry?.accountId ?? null, reason, host, '', at))
    if (entry) spike(entry.accountId)
    throw fail('forbidden', 'this container does not accept events from this page')
  }

  /** Counts a refusal (../services/rejections.ts sums and writes them; counting never changes the answer). */
  function note(containerId: string, account: string | null, reason: RejectionReason, host: string, subject: string, at: number, count = 1) {
    rejections.note(record(containerId, account, reason, host, subject, at, count))
  }

  function record(containerId: string, account: string | null, reason: RejectionReason, host: string, subject: string, at: number, count = 1): RejectionRecord {
    return { at, container: containerId.slice(0, 64), account, reason, origin: host.slice(0, 253), subject: subject.slice(0, 64), count }
  }
}

/**
 * isbot's verdict per user agent, remembered: its one regular expression of about a thousand
 * alternatives was a measurable part of each request (docs/performance.md), and a browser sends
 * the same string every time. Bounded against a client that sends a new string each time: at most
 * BOT_CACHE strings of at most 512 characters, forgotten all at once when full.
 */
const BOT_CACHE = 1000
const botVerdicts = new Map<string, boolean>()
function isBotAgent(ua: string | undefined): boolean {
  if (ua === undefined || ua.length > 512) return isbot(ua)
  let verdict = botVerdicts.get(ua)
  if (verdict === undefined) {
    if (botVerdicts.size >= BOT_CACHE) botVerdicts.clear()
    verdict = isbot(ua)
    botVerdicts.set(ua, verdict)
  }
  return verdict
}

/** The conversations a batch's chat events name, up to the MAX_BATCH_CONVERSATIONS it may fold. */
function namedConversations(raw: readonly unknown[]): number {
  const seen = new Set<unknown>()
  for (const e of raw) {
    if (typeof e !== 'object' || e === null || (e as { type?: unknown }).type !== 'chat') continue
    seen.add((e as { conversation?: unknown }).conversation)
    if (seen.size === MAX_BATCH_CONVERSATIONS) break
  }
  return seen.size
}

function catalog<C extends string>(list: Record<string, { active: boolean }>, id: string, unknown: C, inactive: C): C | null {
  if (!Object.hasOwn(list, id)) return unknown
  return list[id]?.active === false ? inactive : null
}
