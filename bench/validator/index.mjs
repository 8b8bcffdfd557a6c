#!/usr/bin/env node
// bench/validator: per-event validation of a 500-event batch with valibot (what @tally/protocol
// uses: parseEnvelope + parseEvent per event) against an equivalent zod 4 schema, in one run.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { z } from 'zod'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const { parseEnvelope, parseEvent, ID_PATTERN, MAX_STRING, MAX_EVENTS } = await import(join(ROOT, 'packages/protocol/dist/index.js'))

const safe = (s) => s.isWellFormed() && !s.includes('\u0000')
const text = z.string().min(1).max(MAX_STRING).refine(safe)
const id = z.string().regex(ID_PATTERN)
const time = z.number().int().min(0).max(8.64e15)
const base = { id, session: id, ts: time }
const zEvent = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('impression'), campaign: text }),
  z.object({ ...base, type: z.literal('engagement'), advisor: text }),
  z.object({ ...base, type: z.literal('chat'), conversation: id, bot: text, phase: z.enum(['start', 'ping', 'handoff', 'resume', 'end']) }),
])
const zEnvelope = z.object({ v: z.literal(1), sentAt: time, sdk: z.string().max(MAX_STRING).refine(safe).optional(), events: z.array(z.unknown()).min(1).max(MAX_EVENTS) })

const now = Date.now()
const events = Array.from({ length: 500 }, (_, i) => (
  i % 3 === 0 ? { id: `ev-${i}`, type: 'impression', session: 's_abc', campaign: `cmp_${i % 7}`, ts: now }
    : i % 3 === 1 ? { id: `ev-${i}`, type: 'engagement', session: 's_abc', advisor: `adv_${i % 5}`, ts: now }
      : { id: `ev-${i}`, type: 'chat', session: 's_abc', conversation: 'conv_1', bot: 'bot_help', phase: 'ping', ts: now }))
// One bad event in the batch, as happens: both libraries must report it.
events[250] = { id: 'bad id', type: 'impression', session: 's_abc', campaign: 'cmp_1', ts: now }
const batch = JSON.parse(JSON.stringify({ v: 1, sentAt: now, sdk: 'bench', events }))

const valibot = () => {
  const env = parseEnvelope(batch)
  let bad = 0
  for (const e of env.value.events) if (!parseEvent(e).ok) bad++
  return bad
}
const zod = () => {
  const env = zEnvelope.safeParse(batch)
  let bad = 0
  for (const e of env.data.events) if (!zEvent.safeParse(e).success) bad++
  return bad
}
if (valibot() !== 1 || zod() !== 1) throw new Error('the two validators disagree on the batch')

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
const v = ops(valibot)
const zz = ops(zod)
const fmt = (n) => Math.round(n).toLocaleString('en-US')
console.log(`500-event batch, one invalid event`)
console.log(`valibot  ${fmt(v)} batches/s  (${fmt(v * 500)} events/s)`)
console.log(`zod 4    ${fmt(zz)} batches/s  (${fmt(zz * 500)} events/s)`)
console.log(`ratio valibot / zod: ${(v / zz).toFixed(2)}`)
