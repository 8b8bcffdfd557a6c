import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CHAT_IDLE_MS } from '@tally/protocol'
import { conversationSessions, conversationStatus, foldConversation, foldMore, type PhaseEvent } from './chat.js'

const NOW = Date.UTC(2026, 6, 20, 12, 0, 0)
const MIN = 60_000
/** An event received as it happened (a page online the whole time). */
const ev = (phase: PhaseEvent['phase'], minutes: number, id = `${phase}@${minutes}`): PhaseEvent => ({
  id,
  phase,
  time: NOW + minutes * MIN,
  receivedAt: NOW + minutes * MIN,
})
const sessions = (events: PhaseEvent[]) => conversationSessions(foldConversation(events))

describe('chat sessions of a conversation', () => {
  const cases: Array<[string, PhaseEvent[], number]> = [
    ['31 minutes of bot time make 3 sessions (seed 001)', [ev('start', 0), ev('ping', 1), ev('ping', 2), ev('end', 31)], 3],
    ['30 minutes make 2', [ev('start', 0), ev('end', 30)], 2],
    ['15 minutes and 1 ms make 2', [ev('start', 0), { id: 'e', phase: 'end', time: NOW + 15 * MIN + 1, receivedAt: NOW + 15 * MIN + 1 }], 2],
    ['exactly 15 minutes make 1', [ev('start', 0), ev('end', 15)], 1],
    ['a start alone makes none', [ev('start', 0)], 0],
    ['pings extend the bot time', [ev('start', 0), ev('ping', 1), ev('ping', 16)], 2],
    ['time after a handoff, until the bot resumes, is excluded', [ev('start', 0), ev('handoff', 10), ev('ping', 20), ev('resume', 40), ev('end', 50)], 2],
    ['a handoff that never resumes stops the bot time', [ev('start', 0), ev('handoff', 14), ev('end', 29)], 1],
    ['a conversation whose start was lost counts from its first ping', [ev('ping', 0), ev('ping', 20)], 2],
    ['events after the end are ignored', [ev('start', 0), ev('end', 10), ev('ping', 40)], 1],
    [
      'a conversation idle for over 30 minutes ended at its last event: a ping from a tab woken hours later adds nothing',
      [ev('start', 0), ev('ping', 10), ev('ping', 130), ev('end', 131)],
      1,
    ],
    ['a start, a ping, the tab frozen for 5 hours, then an end on wake: the end adds nothing', [ev('start', 0), ev('ping', 1), ev('end', 301)], 1],
    ['a start and an end 31 minutes apart with every ping lost: idle, so it ended at the start', [ev('start', 0), ev('end', 31)], 0],
    ['exactly 30 minutes without an event is not idle yet', [ev('start', 0), ev('ping', 30)], 2],
  ]
  it.each(cases)('%s', (_n, events, expected) => {
    expect(sessions(events)).toBe(expected)
  })

  it('gives the same result in any order and with repeated phase events', () => {
    const events = [ev('start', 0), ev('ping', 5), ev('handoff', 12), ev('ping', 20), ev('resume', 25), ev('ping', 33), ev('end', 41)]
    const expected = foldConversation(events)
    expect(expected.botMs).toBe((12 + 16) * MIN)
    fc.assert(
      fc.property(
        fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        fc.array(fc.integer({ min: 0, max: events.length - 1 }), { maxLength: 5 }),
        (shuffled, repeats) => {
          const withCopies = [...shuffled, ...repeats.map((i) => events[i] as PhaseEvent)]
          expect(foldConversation(withCopies)).toEqual(expected)
        },
      ),
    )
  })
})

describe('only witnessed bot time is billed', () => {
  it('bills one session, not 284, for a start stamped 71 hours ago and an end sent in the same request', () => {
    const forged: PhaseEvent[] = [
      { id: 'a', phase: 'start', time: NOW - 71 * 60 * MIN, receivedAt: NOW },
      { id: 'b', phase: 'end', time: NOW, receivedAt: NOW },
    ]
    // A 71-hour gap is idle anyway; a forger who adds a ping every 29 minutes gets the same answer.
    const pinged: PhaseEvent[] = Array.from({ length: 147 }, (_, k) => ({
      id: `p${k}`,
      phase: k === 0 ? 'start' : 'ping',
      time: NOW - (146 - k) * 29 * MIN,
      receivedAt: NOW,
    }))
    expect(foldConversation(pinged).botMs).toBe(146 * 29 * MIN)
    expect(conversationSessions(foldConversation(pinged))).toBe(1)
    expect(conversationSessions(foldConversation(forged))).toBe(0)
  })

  it('bills a conversation sent as it happened in full', () => {
    expect(sessions([ev('start', 0), ev('ping', 10), ev('ping', 20), ev('end', 31)])).toBe(3)
  })

  it('bills the time between the first and the last receipt, plus the tolerance, when a page sent its events late', () => {
    // 40 minutes of bot time, but the first 30 reached the collector only together at minute 30.
    const late = [ev('start', 0), ev('ping', 10), ev('ping', 20), ev('ping', 30), ev('ping', 40)].map((e) => ({
      ...e,
      receivedAt: Math.max(e.receivedAt, NOW + 30 * MIN),
    }))
    expect(foldConversation(late).botMs).toBe(40 * MIN)
    // Received from minute 30 to minute 40: 10 minutes + 5 of tolerance = 15 minutes = 1 session.
    expect(conversationSessions(foldConversation(late))).toBe(1)
  })
})

describe('folding as events arrive', () => {
  const phase = fc.constantFrom<PhaseEvent['phase']>('start', 'ping', 'ping', 'ping', 'handoff', 'resume', 'end')
  const conversation = fc
    .array(fc.record({ phase, minute: fc.integer({ min: 0, max: 240 }), delay: fc.integer({ min: 0, max: 20 }) }), { minLength: 1, maxLength: 25 })
    .map((xs) => xs.map((x, i): PhaseEvent => ({ id: `e${i}`, phase: x.phase, time: NOW + x.minute * MIN, receivedAt: NOW + (x.minute + x.delay) * MIN })))

  it('gives the fold of all the events, whatever the arrival order and batching', async () => {
    await fc.assert(
      fc.asyncProperty(
        conversation,
        fc.func(fc.integer()),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 30 }),
        async (events, order, sizes) => {
          const arrival = [...events].sort((a, b) => order(a.id) - order(b.id) || (a.id < b.id ? -1 : 1))
          const stored: PhaseEvent[] = []
          let state = null
          let at = 0
          for (let k = 0; at < arrival.length; k++) {
            const batch = arrival.slice(at, at + (sizes[k % sizes.length] as number))
            at += batch.length
            stored.push(...batch)
            state = await foldMore(state, batch, async () => [...stored])
          }
          expect(state).toEqual(foldConversation(events))
        },
      ),
    )
  })

  it('folds only the new events while they arrive in order', async () => {
    let reloads = 0
    const reload = async () => {
      reloads++
      return []
    }
    let state = await foldMore(null, [ev('start', 0)], reload)
    for (let m = 1; m <= 60; m++) state = await foldMore(state, [ev('ping', m)], reload)
    expect(reloads).toBe(0)
    expect(state.events).toBe(61)
    expect(conversationSessions(state)).toBe(4)
  })

  it('says open, idle or ended', () => {
    const open = foldConversation([ev('start', 0), ev('ping', 5)])
    expect(conversationStatus(open, NOW + 5 * MIN)).toBe('open')
    expect(conversationStatus(open, NOW + 5 * MIN + CHAT_IDLE_MS + 1)).toBe('idle')
    expect(conversationStatus(foldConversation([ev('start', 0), ev('ping', 5), ev('ping', 90)]), NOW + 90 * MIN)).toBe('idle')
    expect(conversationStatus(foldConversation([ev('start', 0), ev('end', 5)]), NOW + 5 * MIN)).toBe('ended')
  })
})
