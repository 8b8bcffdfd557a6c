import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { BatchEnvelopeSchema, BrowserEventSchema, envelopeWellFormed, parseEnvelope, parseEvent, parseUsageEvent, wellFormed } from './validate.js'
import { MAX_EVENTS, MAX_STRING } from './limits.js'

const imp = { id: 'e1', type: 'impression', session: 's1', campaign: 'cmp_summer', ts: 1_763_759_999_000 }

describe('parseEnvelope', () => {
  it('accepts a batch and leaves the events for per-event checks', () => {
    const r = parseEnvelope({ v: 1, sentAt: 1_763_760_000_000, sdk: 'tally-js/1.0.0', events: [imp, 42] })
    expect(r.ok && r.value.events).toHaveLength(2)
  })
  it.each([
    ['no events', { v: 1, sentAt: 1, events: [] }],
    ['too many events', { v: 1, sentAt: 1, events: Array(MAX_EVENTS + 1).fill(imp) }],
    ['wrong version', { v: 2, sentAt: 1, events: [imp] }],
    ['missing sentAt', { v: 1, events: [imp] }],
    ['fractional sentAt', { v: 1, sentAt: 1.5, events: [imp] }],
    ['not an object', [imp]],
  ])('refuses %s', (_, input) => {
    expect(parseEnvelope(input).ok).toBe(false)
  })
})

describe('parseEvent', () => {
  it('drops unknown fields', () => {
    const r = parseEvent({ ...imp, extra: 'x', __proto__: { polluted: true } })
    expect(r).toEqual({ ok: true, value: imp })
  })
  it.each([
    ['an id with a space', { ...imp, id: 'a b' }],
    ['an id over 64 chars', { ...imp, id: 'a'.repeat(65) }],
    ['a NUL byte', { ...imp, campaign: 'cmp\u0000x' }],
    ['a lone surrogate', { ...imp, campaign: 'cmp\ud800' }],
    ['an unknown type', { ...imp, type: 'click' }],
    ['an unknown chat phase', { id: 'c', type: 'chat', session: 's', conversation: 'c1', bot: 'b', phase: 'pause', ts: 1 }],
    ['a string timestamp', { ...imp, ts: '2026-01-01' }],
  ])('refuses %s', (_, input) => {
    const r = parseEvent(input)
    expect(r.ok).toBe(false)
  })
  it('names the bad path in the message', () => {
    const r = parseEvent({ ...imp, campaign: 7 })
    expect(r.ok ? '' : r.message).toMatch(/^campaign: /)
  })
})

describe('parseUsageEvent', () => {
  it('defaults an action quantity to 1', () => {
    const r = parseUsageEvent({ id: 'u1', type: 'action', action: 'sms', ts: 1 })
    expect(r.ok && r.value).toEqual({ id: 'u1', type: 'action', action: 'sms', quantity: 1, ts: 1 })
  })
  it('refuses a negative contact count', () => {
    expect(parseUsageEvent({ id: 'u1', type: 'contacts', count: -1, ts: 1 }).ok).toBe(false)
  })
})

describe('the well-formed shortcut of parseEvent', () => {
  // Values near each rule's edges: ids and texts at 0, 1, 64 and 65 characters, with a space, a
  // NUL or a lone surrogate; times at the bounds, fractional, negative, as strings; every type
  // and phase, and a few that are not.
  const str = fc.oneof(
    fc.constantFrom('', 'a', 'a'.repeat(64), 'a'.repeat(65), 'a b', 'x\u0000', 'x\ud800', 'cmp_summer', 'conv:42', 'é', '😀'),
    fc.string({ maxLength: 70 }),
  )
  const field = fc.oneof(str, fc.constantFrom(0, 1, -1, 1.5, 8.64e15, 8.64e15 + 1, NaN, null, true), fc.constant(undefined))
  const valid = fc.constantFrom<Record<string, unknown>>(
    { id: 'e1', session: 's1', ts: 0, type: 'impression', campaign: 'cmp_summer' },
    { id: 'e1', session: 's1', ts: 8.64e15, type: 'engagement', advisor: 'adv_1' },
    { id: 'e1', session: 's1', ts: 1, type: 'chat', conversation: 'c1', bot: 'bot_help', phase: 'start' },
  )
  const key = fc.constantFrom('id', 'session', 'ts', 'type', 'campaign', 'advisor', 'conversation', 'bot', 'phase', 'extra')
  const value = fc.oneof(field, fc.constantFrom('impression', 'engagement', 'chat', 'click', 'ping', 'end', 'pause'))
  // A valid event with up to two fields replaced or removed.
  const event = fc.tuple(valid, fc.array(fc.tuple(key, value), { maxLength: 2 })).map(([base, changes]) => {
    const e = { ...base }
    for (const [k, v] of changes) {
      if (v === undefined) delete e[k]
      else e[k] = v
    }
    return e
  })

  it('takes exactly the events the schema takes, to the same value', () => {
    fc.assert(
      fc.property(fc.oneof(event, fc.anything()), (input) => {
        const schema = BrowserEventSchema.safeParse(input)
        const short = wellFormed(input)
        expect(short !== null).toBe(schema.success)
        if (schema.success) expect(short).toEqual(schema.data)
        expect(parseEvent(input).ok).toBe(schema.success)
      }),
      { numRuns: 20_000 },
    )
  })

  // A valid envelope with up to two fields replaced or removed: `v`, `sentAt`, `sdk` (empty, at and
  // past the length limit, NUL, lone surrogates), `events` (empty, one, the limit, past it, not an array).
  const list = fc.constantFrom(
    [],
    [{}],
    Array.from({ length: MAX_EVENTS }, () => 1),
    Array.from({ length: MAX_EVENTS + 1 }, () => 1),
    'x',
    null,
  )
  const envelopeKey = fc.constantFrom('v', 'sentAt', 'sdk', 'events', 'extra')
  const envelopeValue = fc.oneof(field, list, fc.constantFrom(1, 2, '1', 'a'.repeat(MAX_STRING), 'a'.repeat(MAX_STRING + 1)))
  const batch = fc
    .tuple(
      fc.constantFrom<Record<string, unknown>>({ v: 1, sentAt: 5, events: [{}] }, { v: 1, sentAt: 0, sdk: 'tally-js/1', events: [1, 2] }),
      fc.array(fc.tuple(envelopeKey, envelopeValue), { maxLength: 2 }),
    )
    .map(([base, changes]) => {
      const e = { ...base }
      for (const [k, v] of changes) {
        if (v === undefined) delete e[k]
        else e[k] = v
      }
      return e
    })

  it('takes exactly the envelopes the schema takes, to the same value', () => {
    fc.assert(
      fc.property(fc.oneof(batch, fc.anything()), (input) => {
        const schema = BatchEnvelopeSchema.safeParse(input)
        const short = envelopeWellFormed(input)
        expect(short !== null).toBe(schema.success)
        if (schema.success) expect(short).toEqual(schema.data)
        expect(parseEnvelope(input).ok).toBe(schema.success)
      }),
      { numRuns: 20_000 },
    )
  })
})
