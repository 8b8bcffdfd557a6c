/**
 * Batch and usage validation for the collector (valibot). The SDK never imports this file:
 * it would pull the schema library into `t.js`.
 *
 * A batch is checked in two steps so that one bad event does not refuse its siblings:
 * the envelope (`v`, `sentAt`, `events` array) refuses the whole request (`invalid_batch`),
 * each event alone is refused with `invalid_event` and its index.
 */
import * as v from 'valibot'
import { ID_PATTERN, MAX_EVENTS, MAX_STRING } from './limits.js'
import { CHAT_PHASES, type BrowserEvent, type UsageEvent } from './events.js'

/** NUL bytes break PostgreSQL text and lone surrogates break UTF-8: refuse both. */
const safe = (s: string) => s.isWellFormed() && !s.includes('\u0000')
const text = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_STRING), v.check(safe))
const id = v.pipe(v.string(), v.regex(ID_PATTERN))
const time = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8.64e15))
const count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER))

const envelope = v.object({
  v: v.literal(1),
  sentAt: time,
  sdk: v.optional(v.pipe(v.string(), v.maxLength(MAX_STRING), v.check(safe))),
  events: v.pipe(v.array(v.unknown()), v.minLength(1), v.maxLength(MAX_EVENTS)),
})

const base = { id, session: id, ts: time }
const browserEvent = v.variant('type', [
  v.object({ ...base, type: v.literal('impression'), campaign: text }),
  v.object({ ...base, type: v.literal('engagement'), advisor: text }),
  v.object({
    ...base,
    type: v.literal('chat'),
    conversation: id,
    bot: text,
    phase: v.picklist(CHAT_PHASES),
  }),
])

const usageEvent = v.variant('type', [
  v.object({ id, type: v.literal('alert'), alert: text, user: v.optional(text), ts: time }),
  v.object({
    id,
    type: v.literal('action'),
    action: text,
    quantity: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000)), 1),
    member: v.optional(text),
    ts: time,
  }),
  v.object({ id, type: v.literal('contacts'), count, ts: time }),
  v.object({ id, type: v.literal('email'), count: v.pipe(count, v.minValue(1)), ts: time }),
])

export type Envelope = { v: 1; sentAt: number; sdk?: string | undefined; events: unknown[] }
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string }

function check<T>(schema: v.GenericSchema<unknown, T>, input: unknown): Checked<T> {
  const r = v.safeParse(schema, input)
  if (r.success) return { ok: true, value: r.output }
  const issue = r.issues[0]
  const path = issue.path?.map((p) => String(p.key)).join('.') ?? ''
  return { ok: false, message: path ? `${path}: ${issue.message}` : issue.message }
}

/** Checks the batch envelope; the events inside are checked one by one with {@link parseEvent}. */
export const parseEnvelope = (input: unknown): Checked<Envelope> => check(envelope, input)
/** Checks one browser event; unknown fields are dropped. */
export const parseEvent = (input: unknown): Checked<BrowserEvent> => check(browserEvent, input)
/** Checks one server-to-server usage event (`POST /v1/usage`). */
export const parseUsageEvent = (input: unknown): Checked<UsageEvent> =>
  check(usageEvent as v.GenericSchema<unknown, UsageEvent>, input)
