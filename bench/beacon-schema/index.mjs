#!/usr/bin/env node
// bench/beacon-schema: the beacon route's per-event validation (parseEnvelope, then parseEvent
// for each event, so one bad event is refused alone) against the generic path every other route
// takes (one safeParse of the whole body with its declared schema, `EnvelopeSchema`, the one
// /openapi.json shows). The generic path refuses the whole batch on one bad event, so to keep the
// protocol's per-event answers it must fall back to the per-event pass: measured both ways, on a
// valid 500-event batch and on one with a bad event, in one run.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const { parseEnvelope, parseEvent, EnvelopeSchema } = await import(join(ROOT, 'packages/protocol/dist/index.js'))

const now = Date.now()
const eventsOf = () =>
  Array.from({ length: 500 }, (_, i) =>
    i % 3 === 0
      ? { id: `ev-${i}`, type: 'impression', session: 's_abc', campaign: `cmp_${i % 7}`, ts: now }
      : i % 3 === 1
        ? { id: `ev-${i}`, type: 'engagement', session: 's_abc', advisor: `adv_${i % 5}`, ts: now }
        : { id: `ev-${i}`, type: 'chat', session: 's_abc', conversation: 'conv_1', bot: 'bot_help', phase: 'ping', ts: now },
  )
const good = JSON.parse(JSON.stringify({ v: 1, sentAt: now, sdk: 'bench', events: eventsOf() }))
const badEvents = eventsOf()
badEvents[250] = { id: 'bad id', type: 'impression', session: 's_abc', campaign: 'cmp_1', ts: now }
const bad = JSON.parse(JSON.stringify({ v: 1, sentAt: now, sdk: 'bench', events: badEvents }))

const perEvent = (batch) => {
  const env = parseEnvelope(batch)
  let refused = 0
  for (const e of env.value.events) if (!parseEvent(e).ok) refused++
  return refused
}
const generic = (batch) => {
  if (EnvelopeSchema.safeParse(batch).success) return 0
  return perEvent(batch)
}
for (const [name, batch, want] of [
  ['valid', good, 0],
  ['one bad', bad, 1],
]) {
  if (perEvent(batch) !== want || generic(batch) !== want) throw new Error(`the two paths disagree on the ${name} batch`)
}

function ops(fn, ms) {
  let n = 0
  const start = performance.now()
  while (performance.now() - start < ms) {
    for (let i = 0; i < 10; i++) fn()
    n += 10
  }
  return n / ((performance.now() - start) / 1000)
}
// The machine is shared: the two paths take turns, 9 rounds each, and the medians are compared.
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const fmt = (n) => Math.round(n).toLocaleString('en-US')
for (const [name, batch] of [
  ['valid 500-event batch', good],
  ['500-event batch, one invalid event', bad],
]) {
  for (let i = 0; i < 100; i++) {
    perEvent(batch)
    generic(batch)
  }
  const per = []
  const gen = []
  for (let round = 0; round < 9; round++) {
    per.push(ops(() => perEvent(batch), 300))
    gen.push(ops(() => generic(batch), 300))
  }
  console.log(name)
  console.log(`  per event (the route)             ${fmt(median(per))} batches/s (median of 9)`)
  console.log(`  whole body, then per event        ${fmt(median(gen))} batches/s (median of 9)`)
  console.log(`  ratio generic / per event: ${(median(gen) / median(per)).toFixed(2)}`)
}
