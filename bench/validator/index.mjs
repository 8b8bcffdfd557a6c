#!/usr/bin/env node
// bench/validator: per-event validation of a 500-event batch with zod 4 (what @tally/protocol
// uses: parseEnvelope + parseEvent per event, whose well-formed shortcut takes every valid event)
// against the zod schema alone on every event, and an equivalent valibot schema, in one run.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import * as v from 'valibot'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const { parseEnvelope, parseEvent, BrowserEventSchema, ID_PATTERN, MAX_STRING, MAX_EVENTS } = await import(join(ROOT, 'packages/protocol/dist/index.js'))

const safe = (s) => s.isWellFormed() && !s.includes('\u0000')
const text = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_STRING), v.check(safe))
const id = v.pipe(v.string(), v.regex(ID_PATTERN))
const time = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8.64e15))
const base = { id, session: id, ts: time }
const vEvent = v.variant('type', [
  v.object({ ...base, type: v.literal('impression'), campaign: text }),
  v.object({ ...base, type: v.literal('engagement'), advisor: text }),
  v.object({ ...base, type: v.literal('chat'), conversation: id, bot: text, phase: v.picklist(['start', 'ping', 'handoff', 'resume', 'end']) }),
])
const vEnvelope = v.object({
  v: v.literal(1),
  sentAt: time,
  sdk: v.optional(v.pipe(v.string(), v.maxLength(MAX_STRING), v.check(safe))),
  events: v.pipe(v.array(v.unknown()), v.minLength(1), v.maxLength(MAX_EVENTS)),
})

const now = Date.now()
const events = Array.from({ length: 500 }, (_, i) =>
  i % 3 === 0
    ? { id: `ev-${i}`, type: 'impression', session: 's_abc', campaign: `cmp_${i % 7}`, ts: now }
    : i % 3 === 1
      ? { id: `ev-${i}`, type: 'engagement', session: 's_abc', advisor: `adv_${i % 5}`, ts: now }
      : { id: `ev-${i}`, type: 'chat', session: 's_abc', conversation: 'conv_1', bot: 'bot_help', phase: 'ping', ts: now },
)
// One bad event in the batch, as happens: both libraries must report it.
events[250] = { id: 'bad id', type: 'impression', session: 's_abc', campaign: 'cmp_1', ts: now }
const batch = JSON.parse(JSON.stringify({ v: 1, sentAt: now, sdk: 'bench', events }))

const zod = () => {
  const env = parseEnvelope(batch)
  let bad = 0
  for (const e of env.value.events) if (!parseEvent(e).ok) bad++
  return bad
}
const schemaOnly = () => {
  const env = parseEnvelope(batch)
  let bad = 0
  for (const e of env.value.events) if (!BrowserEventSchema.safeParse(e).success) bad++
  return bad
}
const valibot = () => {
  const env = v.safeParse(vEnvelope, batch)
  let bad = 0
  for (const e of env.output.events) if (!v.safeParse(vEvent, e).success) bad++
  return bad
}
if (valibot() !== 1 || zod() !== 1 || schemaOnly() !== 1) throw new Error('the two validators disagree on the batch')

function ops(fn, ms = 3000) {
  for (let i = 0; i < 200; i++) fn()
  let n = 0
  const start = performance.now()
  while (performance.now() - start < ms) {
    for (let i = 0; i < 20; i++) fn()
    n += 20
  }
  return n / ((performance.now() - start) / 1000)
}
const zodOps = ops(zod)
const valibotOps = ops(valibot)
const schemaOps = ops(schemaOnly)
const fmt = (n) => Math.round(n).toLocaleString('en-US')
console.log(`500-event batch, one invalid event`)
console.log(`@tally/protocol (shortcut, zod for the rest) ${fmt(zodOps)} batches/s  (${fmt(zodOps * 500)} events/s)`)
console.log(`valibot (same rules)     ${fmt(valibotOps)} batches/s  (${fmt(valibotOps * 500)} events/s)`)
console.log(`zod schema on every event ${fmt(schemaOps)} batches/s  (${fmt(schemaOps * 500)} events/s)`)
console.log(`ratio @tally/protocol / valibot: ${(zodOps / valibotOps).toFixed(2)}; @tally/protocol / zod schema alone: ${(zodOps / schemaOps).toFixed(2)}`)
