import { describe, expect, it } from 'vitest'
import { parseEnvelope, parseEvent, parseUsageEvent } from './validate.js'
import { MAX_EVENTS } from './limits.js'

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
