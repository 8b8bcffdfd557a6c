import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CHAT_IDLE_MS } from '@tally/protocol'
import { foldConversation, type PhaseEvent } from '../chat.js'
import { NOW, batch, chat, setup } from '../testkit.js'

const MIN = 60_000
const ev = (phase: PhaseEvent['phase'], minutes: number, id = `${phase}@${minutes}`): PhaseEvent =>
  ({ id, phase, time: NOW + minutes * MIN })

describe('chat sessions of a conversation', () => {
  const cases: Array<[string, PhaseEvent[], number]> = [
    ['31 minutes of bot time make 3 sessions', [ev('start', 0), ev('end', 31)], 3],
    ['30 minutes make 2', [ev('start', 0), ev('end', 30)], 2],
    ['15 minutes and 1 ms make 2', [ev('start', 0), { id: 'e', phase: 'end', time: NOW + 15 * MIN + 1 }], 2],
    ['exactly 15 minutes make 1', [ev('start', 0), ev('end', 15)], 1],
    ['a start alone makes none', [ev('start', 0)], 0],
    ['pings extend the bot time', [ev('start', 0), ev('ping', 1), ev('ping', 16)], 2],
    ['time after a handoff, until the bot resumes, is excluded', [ev('start', 0), ev('handoff', 10), ev('ping', 20), ev('resume', 40), ev('end', 50)], 2],
    ['a handoff that never resumes stops the bot time', [ev('start', 0), ev('handoff', 14), ev('end', 60)], 1],
    ['a conversation whose start was lost counts from its first ping', [ev('ping', 0), ev('ping', 20)], 2],
    ['events after the end are ignored', [ev('start', 0), ev('end', 10), ev('ping', 40)], 1],
    ['a conversation idle for over 30 minutes ended at its last event: a ping from a tab woken hours later adds nothing', [ev('start', 0), ev('ping', 10), ev('ping', 130), ev('end', 131)], 1],
    ['exactly 30 minutes without an event is not idle yet', [ev('start', 0), ev('ping', 30)], 2],
  ]
  it.each(cases)('%s', (_n, events, sessions) => {
    expect(foldConversation(events).sessions).toBe(sessions)
  })

  it('gives the same result in any order and with repeated phase events', () => {
    const events = [ev('start', 0), ev('ping', 5), ev('handoff', 12), ev('ping', 20), ev('resume', 25), ev('ping', 33), ev('end', 41)]
    const expected = foldConversation(events)
    expect(expected.botMs).toBe((12 + 16) * MIN)
    fc.assert(fc.property(
      fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
      fc.array(fc.integer({ min: 0, max: events.length - 1 }), { maxLength: 5 }),
      (shuffled, repeats) => {
        const withCopies = [...shuffled, ...repeats.map((i, k) => ({ ...(events[i] as PhaseEvent), id: `copy${k}` }))]
        expect(foldConversation(withCopies)).toEqual(expected)
      },
    ))
  })
})

describe('chat through the ingestion route', () => {
  const sessionsOf = (count: ReturnType<typeof setup>['count']) =>
    count("SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = 'bot' AND subject = 'bot_help'")

  it('rolls up 3 sessions for a 31-minute conversation sent as it happens', async () => {
    const { post, clock, count } = setup()
    for (const [phase, at] of [['start', 0], ['ping', 10], ['ping', 20], ['end', 31]] as const) {
      clock.set(NOW + at * MIN)
      await post(batch([chat(phase, NOW + at * MIN)], NOW + at * MIN))
    }
    expect(sessionsOf(count)).toBe(3)
    expect(count("SELECT sessions AS n FROM conversations WHERE conversation = 'conv_1'")).toBe(3)
  })

  it('gives the same count when the events arrive out of order and some twice', async () => {
    const { post, clock, count } = setup()
    clock.set(NOW + 60 * MIN)
    const sentAt = NOW + 60 * MIN
    const start = chat('start', NOW)
    const end = chat('end', NOW + 31 * MIN)
    await post(batch([end], sentAt))
    await post(batch([chat('ping', NOW + 20 * MIN), chat('handoff', NOW + 25 * MIN)], sentAt))
    await post(batch([start, end], sentAt))
    await post(batch([chat('resume', NOW + 28 * MIN), chat('handoff', NOW + 25 * MIN)], sentAt))
    // bot time: 0-25 and 28-31 = 28 minutes -> 2 sessions
    expect(sessionsOf(count)).toBe(2)
    expect(count("SELECT bot_ms AS n FROM conversations WHERE conversation = 'conv_1'")).toBe(28 * MIN)
  })

  it('moves the sessions to the start day when a late start arrives from the day before', async () => {
    const { post, clock, count } = setup()
    const dayStart = Date.UTC(2026, 6, 19, 21, 50) // 23:50 in Amsterdam on July 19
    clock.set(dayStart + 40 * MIN)
    await post(batch([chat('ping', dayStart + 20 * MIN), chat('end', dayStart + 30 * MIN)], dayStart + 40 * MIN))
    expect(count("SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = 'bot' AND day = '2026-07-20'")).toBe(1)
    await post(batch([chat('start', dayStart)], dayStart + 40 * MIN))
    expect(count("SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = 'bot' AND day = '2026-07-20'")).toBe(0)
    expect(count("SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = 'bot' AND day = '2026-07-19'")).toBe(2)
  })

  it('closes an idle conversation at its last event after 30 minutes, keeping its sessions', async () => {
    const { post, clock, store } = setup()
    clock.set(NOW + 20 * MIN)
    await post(batch([chat('start', NOW), chat('ping', NOW + 20 * MIN)], NOW + 20 * MIN))
    clock.set(NOW + 20 * MIN + CHAT_IDLE_MS)
    expect(await store.closeIdleConversations(clock.now(), CHAT_IDLE_MS)).toBe(0)
    clock.advance(1)
    expect(await store.closeIdleConversations(clock.now(), CHAT_IDLE_MS)).toBe(1)
    const [row] = await store.conversations('acme', NOW - 1, NOW + 1)
    expect(row).toMatchObject({ conversation: 'conv_1', status: 'idle', endedAt: NOW + 20 * MIN, sessions: 2, startedAt: NOW })
  })

  it('keeps the sessions of a conversation the sweeper closed when a late ping arrives hours later', async () => {
    const { post, clock, store, count } = setup()
    clock.set(NOW + 10 * MIN)
    await post(batch([chat('start', NOW), chat('ping', NOW + 10 * MIN)], NOW + 10 * MIN))
    clock.set(NOW + 3 * 60 * MIN)
    await store.closeIdleConversations(clock.now(), CHAT_IDLE_MS)
    await post(batch([chat('ping', clock.now())], clock.now()))
    expect(sessionsOf(count)).toBe(1)
    const [row] = await store.conversations('acme', NOW - 1, NOW + 1)
    expect(row).toMatchObject({ status: 'idle', lastEventAt: NOW + 10 * MIN, sessions: 1 })
  })

  it('marks a conversation ended at its end event', async () => {
    const { post, store } = setup()
    await post(batch([chat('start', NOW - 10 * MIN), chat('end', NOW - 5 * MIN)]))
    const [row] = await store.conversations('acme', NOW - 11 * MIN, NOW)
    expect(row).toMatchObject({ status: 'ended', endedAt: NOW - 5 * MIN, sessions: 1, bot: 'bot_help' })
  })
})
