import { describe, expect, it } from 'vitest'
import { CHAT_BACKDATE_MS, CHAT_IDLE_MS, MAX_CONVERSATION_EVENTS } from '@tally/protocol'
import { NOW, batch, chat, setup } from '../testkit.js'

const MIN = 60_000

describe('chat through the ingestion route', () => {
  const sessionsOf = (count: ReturnType<typeof setup>['count']) =>
    count("SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = 'bot' AND subject = 'bot_help'")

  it('rolls up 3 sessions for a 31-minute conversation sent as it happens', async () => {
    const { post, clock, count } = setup()
    for (const [phase, at] of [
      ['start', 0],
      ['ping', 10],
      ['ping', 20],
      ['end', 31],
    ] as const) {
      clock.set(NOW + at * MIN)
      await post(batch([chat(phase, NOW + at * MIN)], NOW + at * MIN))
    }
    expect(sessionsOf(count)).toBe(3)
    expect(count("SELECT sessions AS n FROM conversations WHERE conversation = 'conv_1'")).toBe(3)
  })

  it('gives the same count when the events arrive out of order and some twice', async () => {
    const { post, clock, count } = setup()
    const start = chat('start', NOW)
    const end = chat('end', NOW + 31 * MIN)
    // Received over half an hour (witnessed), in an order that is not the events' own.
    const at = async (minute: number, events: unknown[]) => {
      clock.set(NOW + minute * MIN)
      await post(batch(events, NOW + minute * MIN))
    }
    await at(2, [start])
    await at(31, [end])
    await at(32, [chat('ping', NOW + 20 * MIN), chat('handoff', NOW + 25 * MIN)])
    await at(33, [start, end])
    await at(34, [chat('resume', NOW + 28 * MIN), chat('handoff', NOW + 25 * MIN)])
    // bot time: 0-25 and 28-31 = 28 minutes -> 2 sessions
    expect(sessionsOf(count)).toBe(2)
    expect(count("SELECT bot_ms AS n FROM conversations WHERE conversation = 'conv_1'")).toBe(28 * MIN)
  })

  it('moves the sessions to the start day when a late start arrives from the day before', async () => {
    const { post, clock, count } = setup()
    const dayStart = Date.UTC(2026, 6, 19, 21, 58) // 23:58 in Amsterdam on July 19
    clock.set(dayStart + 4 * MIN)
    await post(batch([chat('ping', dayStart + 4 * MIN)], dayStart + 4 * MIN))
    clock.set(dayStart + 12 * MIN)
    await post(batch([chat('end', dayStart + 12 * MIN)], dayStart + 12 * MIN))
    expect(count("SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = 'bot' AND day = '2026-07-20'")).toBe(1)
    // The start, delayed, dated 4 minutes before the first event (within the clock-skew allowance).
    clock.set(dayStart + 22 * MIN)
    const res = await post(batch([chat('start', dayStart)], dayStart + 22 * MIN))
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    expect(count("SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = 'bot' AND day = '2026-07-20'")).toBe(0)
    expect(count("SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = 'bot' AND day = '2026-07-19'")).toBe(1)
    expect(count("SELECT bot_ms AS n FROM conversations WHERE conversation = 'conv_1'")).toBe(12 * MIN)
  })

  it('refuses an event dated more than the clock-skew allowance before the conversation started', async () => {
    const { post, clock, count } = setup()
    clock.set(NOW + 20 * MIN)
    await post(batch([chat('ping', NOW + 20 * MIN)], NOW + 20 * MIN))
    const res = await post(batch([chat('start', NOW + 20 * MIN - CHAT_BACKDATE_MS - 1), chat('start', NOW + 20 * MIN - CHAT_BACKDATE_MS)], NOW + 20 * MIN))
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [{ index: 0, code: 'event_before_conversation' }] })
    expect(count("SELECT started_at AS n FROM conversations WHERE conversation = 'conv_1'")).toBe(NOW + 20 * MIN - CHAT_BACKDATE_MS)
  })

  it('closes an idle conversation at its last event after 30 minutes, keeping its sessions', async () => {
    const { post, clock, store } = setup()
    await post(batch([chat('start', NOW)], NOW))
    clock.set(NOW + 20 * MIN)
    await post(batch([chat('ping', NOW + 20 * MIN)], NOW + 20 * MIN))
    clock.set(NOW + 20 * MIN + CHAT_IDLE_MS)
    expect(await store.closeIdleConversations(clock.now(), CHAT_IDLE_MS)).toBe(0)
    clock.advance(1)
    expect(await store.closeIdleConversations(clock.now(), CHAT_IDLE_MS)).toBe(1)
    const [row] = await store.conversations('acme', NOW - 1, NOW + 1)
    expect(row).toMatchObject({ conversation: 'conv_1', status: 'idle', lastEventAt: NOW + 20 * MIN, endedAt: null, sessions: 2, startedAt: NOW })
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

  it('bills a start, a ping, a tab frozen for 5 hours and the end sent on wake as 1 session, not 20', async () => {
    const { post, clock, count } = setup()
    clock.set(NOW + MIN)
    await post(batch([chat('start', NOW), chat('ping', NOW + MIN)], NOW + MIN))
    clock.set(NOW + 301 * MIN)
    expect(await (await post(batch([chat('end', NOW + 301 * MIN)], NOW + 301 * MIN))).json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    expect(sessionsOf(count)).toBe(1)
    expect(count("SELECT ended_at IS NULL AS n FROM conversations WHERE conversation = 'conv_1'")).toBe(1)
  })

  it('refuses the events of a conversation past its cap with a code, and still counts the others', async () => {
    const { post, clock, count } = setup()
    clock.set(NOW + 40 * MIN)
    const pings = Array.from({ length: 500 }, (_, k) => chat('ping', NOW + 40 * MIN - 1000 + k, 'conv_big'))
    await post(batch(pings, NOW + 40 * MIN))
    await post(
      batch(
        pings.map((p, k) => ({ ...p, id: `again${k}`, ts: (p.ts as number) + 500 })),
        NOW + 40 * MIN,
      ),
    )
    const res = await post(batch([chat('ping', NOW + 40 * MIN, 'conv_big'), chat('start', NOW + 40 * MIN, 'conv_small')], NOW + 40 * MIN))
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [{ index: 0, code: 'conversation_too_long' }] })
    expect(count("SELECT COUNT(*) AS n FROM chat_events WHERE conversation = 'conv_big'")).toBe(MAX_CONVERSATION_EVENTS)
  })

  it('answers a retried event of a full conversation as a duplicate, not conversation_too_long (docs/rules.md §3)', async () => {
    const { post, clock, count } = setup()
    clock.set(NOW + 40 * MIN)
    // In order (an event may land at most CHAT_REORDER_EVENTS back), so the conversation fills up.
    const pings = Array.from({ length: 500 }, (_, k) => chat('ping', NOW + 40 * MIN - 1000 + k, 'conv_big'))
    const more = Array.from({ length: 500 }, (_, k) => ({ ...chat('ping', NOW + 40 * MIN - 500 + k, 'conv_big'), id: `again${k}` }))
    await post(batch(pings, NOW + 40 * MIN))
    await post(batch(more, NOW + 40 * MIN))
    // The room is counted after deduplication: the last stored event, retried, and a new one sent twice in one request.
    const last = more[499]!
    const res = await post(batch([last, chat('ping', NOW + 40 * MIN, 'conv_big', 'bot_help', 'late'), { ...last }], NOW + 40 * MIN))
    expect(await res.json()).toEqual({ accepted: 0, duplicates: 2, rejected: [{ index: 1, code: 'conversation_too_long' }] })
    expect(count("SELECT COUNT(*) AS n FROM chat_events WHERE conversation = 'conv_big'")).toBe(MAX_CONVERSATION_EVENTS)
  })
})
