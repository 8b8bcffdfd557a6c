import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { chatSessions, checkEmails, conversationBotMs, emailQuota, meters, rollupEvents, uniquePerSession, type MeterEvent } from './meters.js'

const MIN = 60_000

describe('chat usage sessions (seed 001)', () => {
  it.each([
    [0, 0],
    [1, 1],
    [15 * MIN, 1],
    [15 * MIN + 1, 2],
    [30 * MIN, 2],
    // "If a user converses with the bot for 31 minutes, then it would be counted as 3 sessions"
    [31 * MIN, 3],
    [-5, 0],
  ])('counts %i ms of bot time as %i sessions', (ms, sessions) => {
    expect(chatSessions(ms)).toBe(sessions)
  })

  it('excludes the time with a human agent from the bot session', () => {
    const ms = conversationBotMs([
      { ts: 0, phase: 'start' },
      { ts: 10 * MIN, phase: 'handoff' },
      { ts: 20 * MIN, phase: 'ping' },
      { ts: 30 * MIN, phase: 'resume' },
      { ts: 36 * MIN, phase: 'end' },
    ])
    expect(ms).toBe(16 * MIN)
    expect(chatSessions(ms)).toBe(2)
  })

  it('ends a conversation at its last event once idle for 30 minutes', () => {
    expect(
      conversationBotMs([
        { ts: 0, phase: 'start' },
        { ts: 20 * MIN, phase: 'ping' },
        { ts: 51 * MIN, phase: 'ping' },
      ]),
    ).toBe(20 * MIN)
  })

  it('bills a 31-minute conversation as 3 sessions on the day it started', () => {
    const rows = rollupEvents(
      [
        { id: 'c1', type: 'chat', session: 's', conversation: 'k', bot: 'b', phase: 'start', ts: Date.UTC(2026, 6, 12, 23, 50) },
        { id: 'c2', type: 'chat', session: 's', conversation: 'k', bot: 'b', phase: 'ping', ts: Date.UTC(2026, 6, 13, 0, 10) },
        { id: 'c3', type: 'chat', session: 's', conversation: 'k', bot: 'b', phase: 'end', ts: Date.UTC(2026, 6, 13, 0, 21) },
      ],
      'UTC',
    )
    expect(rows).toEqual([{ day: '2026-07-12', chatSessions: 3 }])
  })
})

describe('alert sessions (seed 001)', () => {
  it('counts an alert every 8 hours as 3 alert sessions a day', () => {
    const events: MeterEvent[] = [0, 8, 16].map((h) => ({ id: `a${h}`, type: 'alert', alert: 'sales-report', user: 'u1', ts: Date.UTC(2026, 6, 12, h) }))
    expect(rollupEvents(events, 'UTC')).toEqual([{ day: '2026-07-12', alerts: 3 }])
  })
})

describe('impressions and engagements (seed 000)', () => {
  const sighting = (i: number, campaign: string, session = 's1'): MeterEvent => ({
    id: `i${i}-${campaign}-${session}`,
    type: 'impression',
    session,
    campaign,
    ts: Date.UTC(2026, 6, 12, 10, i),
  })

  it.each([
    ['one campaign seen ten times by a visitor', 1, Array.from({ length: 10 }, (_, i) => sighting(i, 'cmp_summer'))],
    ['five campaigns on a page', 5, ['a', 'b', 'c', 'd', 'e'].map((c) => sighting(0, c))],
    ['one campaign in two sessions', 2, [sighting(0, 'a', 's1'), sighting(1, 'a', 's2')]],
  ])('counts %s as %i impressions', (_, count, events) => {
    expect(
      uniquePerSession(events.map((e) => ({ session: e.type === 'impression' ? e.session : '', subject: e.type === 'impression' ? e.campaign : '' }))),
    ).toBe(count)
    expect(rollupEvents(events, 'UTC')[0]?.impressions).toBe(count)
  })

  it('counts two advisors opened in one session as two engagements', () => {
    const e = (id: string, advisor: string): MeterEvent => ({ id, type: 'engagement', session: 's', advisor, ts: Date.UTC(2026, 6, 12) })
    expect(rollupEvents([e('1', 'adv_a'), e('2', 'adv_a'), e('3', 'adv_b')], 'UTC')[0]?.engagements).toBe(2)
  })

  it('counts a retried event id once', () => {
    const e: MeterEvent = { id: 'same', type: 'alert', alert: 'x', ts: Date.UTC(2026, 6, 12) }
    expect(rollupEvents([e, e, e], 'UTC')[0]?.alerts).toBe(1)
  })
})

describe('emails and contacts (seed 004)', () => {
  it('allows 4 x paid contacts emails a month, then refuses', () => {
    const quota = emailQuota(4, 1000)
    expect(quota).toBe(4000)
    expect(checkEmails(0, 4000, quota)).toEqual({ ok: true, left: 0 })
    expect(checkEmails(3999, 1, quota)).toEqual({ ok: true, left: 0 })
    expect(checkEmails(4000, 1, quota)).toEqual({ ok: false, code: 'quota_exceeded', left: 0 })
    // A send that would pass the quota is refused whole, not partly sent.
    expect(checkEmails(3990, 20, quota)).toEqual({ ok: false, code: 'quota_exceeded', left: 10 })
  })

  it('takes the highest contacts reading of the period and sums the rest', () => {
    const period = { startDate: '2026-07-12', endDate: '2026-08-12', start: Date.UTC(2026, 6, 12), end: Date.UTC(2026, 7, 12) }
    const m = meters(
      [
        { day: '2026-07-11', impressions: 99, contacts: 9999 },
        { day: '2026-07-12', impressions: 3, contacts: 1200, emails: 10 },
        { day: '2026-07-20', impressions: 4, contacts: 1500 },
        { day: '2026-08-11', impressions: 5, contacts: 900 },
        { day: '2026-08-12', impressions: 99 },
      ],
      period,
      [
        { type: 'spend', action: 'sms', credits: 4, at: Date.UTC(2026, 6, 13) },
        { type: 'spend', action: 'sms', credits: 2, at: Date.UTC(2026, 6, 14) },
        { type: 'spend', action: 'ai', credits: 10, at: Date.UTC(2026, 7, 12) },
      ],
    )
    expect(m).toEqual({ impressions: 12, engagements: 0, chatSessions: 0, alerts: 0, emails: 10, contacts: 1500, credits: { sms: 6 } })
  })
})

describe('meter properties', () => {
  const events: fc.Arbitrary<MeterEvent[]> = fc.array(
    fc.oneof(
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 3 }),
        type: fc.constant('impression' as const),
        session: fc.constantFrom('s1', 's2'),
        campaign: fc.constantFrom('a', 'b', 'c'),
        ts: fc.integer({ min: 0, max: 3 * 86_400_000 }),
      }),
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 3 }),
        type: fc.constant('engagement' as const),
        session: fc.constantFrom('s1', 's2'),
        advisor: fc.constantFrom('x', 'y'),
        ts: fc.integer({ min: 0, max: 3 * 86_400_000 }),
      }),
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 3 }),
        type: fc.constant('chat' as const),
        session: fc.constant('s1'),
        conversation: fc.constantFrom('k1', 'k2'),
        bot: fc.constant('b'),
        phase: fc.constantFrom('start' as const, 'ping' as const, 'handoff' as const, 'resume' as const, 'end' as const),
        ts: fc.integer({ min: 0, max: 3 * 86_400_000 }),
      }),
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 3 }),
        type: fc.constant('alert' as const),
        alert: fc.constant('r'),
        ts: fc.integer({ min: 0, max: 3 * 86_400_000 }),
      }),
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 3 }),
        type: fc.constant('contacts' as const),
        count: fc.nat(5000),
        ts: fc.integer({ min: 0, max: 3 * 86_400_000 }),
      }),
    ),
    { maxLength: 40 },
  )

  it('gives the same rollups for any order or repetition of the same events', () => {
    fc.assert(
      fc.property(
        events.chain((es) => fc.tuple(fc.constant(es), fc.shuffledSubarray([...es, ...es], { minLength: 2 * es.length }))),
        ([es, replayed]) => {
          // Ids are unique per event in a real log: make them so, keeping the repetition.
          const unique = es.map((e, i) => ({ ...e, id: `e${i}` }))
          const byIdentity = new Map(es.map((e, i) => [e, unique[i]]))
          const again = replayed.map((e) => byIdentity.get(e) ?? e)
          expect(rollupEvents(again, 'Europe/Amsterdam')).toEqual(rollupEvents(unique, 'Europe/Amsterdam'))
        },
      ),
      { numRuns: 200 },
    )
  })
})
