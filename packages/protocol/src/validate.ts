/**
 * Batch and usage validation for the collector (zod 4, measured faster than valibot on a
 * 500-event batch: bench/validator). The SDK never imports this file:
 * it would pull the schema library into `t.js`.
 *
 * A batch is checked in two steps so that one bad event does not refuse its siblings:
 * the envelope (`v`, `sentAt`, `events` array) refuses the whole request (`invalid_batch`),
 * each event alone is refused with `invalid_event` and its index.
 */
import { z } from 'zod'
import { ID_PATTERN, MAX_EVENTS, MAX_STRING } from './limits.js'
import { CHAT_PHASES, type BrowserEvent, type ChatPhase, type UsageEvent } from './events.js'
import { describe } from './issues.js'

/** NUL bytes break PostgreSQL text and lone surrogates break UTF-8: refuse both. */
const safe = (s: string) => s.isWellFormed() && !s.includes('\u0000')
const text = z.string().min(1).max(MAX_STRING).refine(safe, 'NUL or a lone surrogate')
const id = z.string().regex(ID_PATTERN)
const time = z.number().int().min(0).max(8.64e15)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

const envelope = z.object({
  v: z.literal(1),
  sentAt: time,
  sdk: z.string().max(MAX_STRING).refine(safe, 'NUL or a lone surrogate').optional(),
  events: z.array(z.unknown()).min(1).max(MAX_EVENTS),
})

const base = { id, session: id, ts: time }
const browserEvent = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('impression'), campaign: text }),
  z.object({ ...base, type: z.literal('engagement'), advisor: text }),
  z.object({ ...base, type: z.literal('chat'), conversation: id, bot: text, phase: z.enum(CHAT_PHASES as [string, ...string[]]) }),
])

const usageEvent = z.discriminatedUnion('type', [
  z.object({ id, type: z.literal('alert'), alert: text, user: text.optional(), ts: time }),
  z.object({ id, type: z.literal('action'), action: text, quantity: z.number().int().min(1).max(1_000_000).default(1), member: text.optional(), ts: time }),
  z.object({ id, type: z.literal('contacts'), count, ts: time }),
  z.object({ id, type: z.literal('email'), count: count.min(1), ts: time }),
])

/** An id of the wire contract (`ID_PATTERN`). */
export const IdSchema = id
/**
 * The schemas as the collector's API document shows them (`/openapi.json`): a whole batch
 * (the envelope, each event one of the browser events) and a whole usage request.
 */
export const EnvelopeSchema = envelope.extend({ events: z.array(browserEvent).min(1).max(MAX_EVENTS) })
export const BrowserEventSchema = browserEvent
/** The envelope as the beacon route checks it first: its events are left to {@link parseEvent}. */
export const BatchEnvelopeSchema = envelope
export const UsageEventSchema = usageEvent

export type Envelope = { v: 1; sentAt: number; sdk?: string | undefined; events: unknown[] }
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string }

function check<T>(schema: z.ZodType, input: unknown): Checked<T> {
  const r = schema.safeParse(input)
  return r.success ? { ok: true, value: r.data as T } : { ok: false, message: describe(r.error.issues) }
}

/**
 * Checks the batch envelope; the events inside are checked one by one with {@link parseEvent}.
 * A well-formed envelope is recognised by {@link envelopeWellFormed} without the schema, as events
 * are; a property test holds the two to the same answers.
 */
export const parseEnvelope = (input: unknown): Checked<Envelope> => {
  const value = envelopeWellFormed(input)
  return value ? { ok: true, value } : check(envelope, input)
}

/**
 * The envelope `input` is when `v`, `sentAt`, `sdk` and `events` are as the envelope's schema wants
 * them (unknown fields dropped); null for anything else, which the schema then answers.
 */
export function envelopeWellFormed(input: unknown): Envelope | null {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return null
  const { v, sentAt, sdk, events } = input as Record<string, unknown>
  if (v !== 1 || !isTime(sentAt) || !Array.isArray(events) || events.length < 1 || events.length > MAX_EVENTS) return null
  if (sdk === undefined) return { v, sentAt, events }
  return typeof sdk === 'string' && sdk.length <= MAX_STRING && safe(sdk) ? { v, sentAt, sdk, events } : null
}
/**
 * Checks one browser event; unknown fields are dropped. A well-formed event is recognised by
 * {@link wellFormed} without the schema; anything else is parsed by the schema, which answers
 * it (and its message) either way. The schema stays the definition: a property test checks that
 * every event the shortcut takes, the schema takes to the same value.
 */
export const parseEvent = (input: unknown): Checked<BrowserEvent> => {
  const value = wellFormed(input)
  return value ? { ok: true, value } : check(browserEvent, input)
}

const isId = (v: unknown): v is string => typeof v === 'string' && ID_PATTERN.test(v)
const isText = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= MAX_STRING && safe(v)
const isTime = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 8.64e15
const PHASES = new Set<unknown>(CHAT_PHASES)

/**
 * The browser event `input` is when every field is as {@link browserEvent} wants it, with the
 * schema's rules (ID_PATTERN, MAX_STRING, well-formed text, integer times); null for anything
 * else. Measured in bench/validator: the beacon route checks each event of every batch, and the
 * schema's general path was the largest part of a request's checks (docs/performance.md).
 */
export function wellFormed(input: unknown): BrowserEvent | null {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return null
  const e = input as Record<string, unknown>
  const { id, session, ts } = e
  if (!isId(id) || !isId(session) || !isTime(ts)) return null
  switch (e.type) {
    case 'impression':
      return isText(e.campaign) ? { id, session, ts, type: 'impression', campaign: e.campaign } : null
    case 'engagement':
      return isText(e.advisor) ? { id, session, ts, type: 'engagement', advisor: e.advisor } : null
    case 'chat':
      return isId(e.conversation) && isText(e.bot) && PHASES.has(e.phase)
        ? { id, session, ts, type: 'chat', conversation: e.conversation, bot: e.bot, phase: e.phase as ChatPhase }
        : null
    default:
      return null
  }
}
/** Checks one server-to-server usage event (`POST /v1/usage`). */
export const parseUsageEvent = (input: unknown): Checked<UsageEvent> => check(usageEvent, input)
