/**
 * Chat that strangers cannot inflate or erase (docs/security.md, "Conversations"):
 * - over the hourly session cap, an event never adds billable time to a conversation, however old;
 * - a conversation belongs to the session that opened it: another session's events for it are
 *   refused with `conversation_session_mismatch`, so a stranger who knows its id can neither fill
 *   it (1,000 handoffs: `conversation_too_long` for the visitor) nor end it;
 * - an event dated before the conversation's start by more than the clock-skew allowance is refused
 *   (`event_before_conversation`), so a handoff dated 70 h back cannot close it with an idle gap.
 */
import { describe, expect, it } from 'vitest'
import { CHAT_BACKDATE_MS, MAX_EVENTS } from '@tally/protocol'
import { NOW, ORIGIN, batch, impression, nextId, setup, testConfig } from '../../apps/collector/src/testkit.js'

const MIN = 60_000
const CAP = 5

function world(perHour = 1_000_000) {
  const s = setup({ config: testConfig({ server: { sessionsPerHour: perHour } }) })
  const from = async (remote: string, events: unknown[]) => {
    const res = await s.app.request(
      '/v1/containers/ctr_shop/events',
      { method: 'POST', headers: { origin: ORIGIN }, body: JSON.stringify(batch(events, s.clock.now())) },
      { incoming: { socket: { remoteAddress: remote } } },
    )
    expect(res.status).toBe(200)
    return res.json() as Promise<{ accepted: number; duplicates: number; rejected: { index: number; code: string }[] }>
  }
  const talk = (session: string, phase: string, ts: number, conversation = 'conv_42') => ({
    id: nextId('c'),
    type: 'chat',
    session,
    conversation,
    bot: 'bot_help',
    phase,
    ts,
  })
  const billed = async () => (await s.store.billingData('acme')).usage.reduce((n, u) => n + (u.chatSessions ?? 0), 0)
  const suspicious = () => s.count("SELECT COALESCE(SUM(units), 0) AS n FROM rollups WHERE kind = 'suspicious'")
  /** The visitor's conversation as it happens: start, then a ping a minute for `minutes`, then end. */
  const visit = async (remote: string, session: string, startAt: number, minutes: number) => {
    for (let m = 0; m <= minutes; m++) {
      s.clock.set(startAt + m * MIN)
      const phase = m === 0 ? 'start' : m === minutes ? 'end' : 'ping'
      expect(await from(remote, [talk(session, phase, s.clock.now())])).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    }
  }
  return { ...s, from, talk, billed, suspicious, visit }
}

describe('an address over its hourly session cap', () => {
  it('adds no billable time to a conversation it opened in an earlier hour, by pinging it', async () => {
    const w = world(CAP)
    // Opened under the cap, at the end of an hour: 1 chat session so far.
    w.clock.set(NOW + 50 * MIN)
    await w.from('203.0.113.7', [w.talk('s_forger', 'start', w.clock.now())])
    w.clock.set(NOW + 55 * MIN)
    await w.from('203.0.113.7', [w.talk('s_forger', 'ping', w.clock.now())])
    expect(await w.billed()).toBe(1)
    // The next hour: the cap is spent on new sessions, then the old conversation is pinged in real time for 40 minutes.
    w.clock.set(NOW + 60 * MIN)
    for (let i = 0; i < CAP; i++) await w.from('203.0.113.7', [impression('cmp_summer', `fill_${i}`, nextId(), w.clock.now())])
    const codes = new Set<string>()
    for (let m = 61; m <= 100; m += 3) {
      w.clock.set(NOW + m * MIN)
      const r = await w.from('203.0.113.7', [w.talk('s_forger', 'ping', w.clock.now())])
      for (const x of r.rejected) codes.add(x.code)
    }
    expect(codes).toEqual(new Set(['over_session_cap']))
    // Still the one session it had: nothing over the cap extends a bill.
    expect(await w.billed()).toBe(1)
  })

  it('never opens a conversation that bills', async () => {
    const w = world(CAP)
    for (let i = 0; i < CAP; i++) await w.from('203.0.113.7', [impression('cmp_summer', `fill_${i}`)])
    await w.visit('203.0.113.7', 's_late', NOW, 31)
    expect(await w.billed()).toBe(0)
    expect(w.suspicious()).toBeGreaterThan(0)
  })
})

describe('a stranger who knows a conversation id', () => {
  it('cannot fill it: 1,000 handoffs from another session are refused, and the visitor keeps talking', async () => {
    const w = world()
    w.clock.set(NOW)
    await w.from('198.51.100.1', [w.talk('s_visitor', 'start', NOW)])
    for (let k = 0; k < 2; k++) {
      const flood = Array.from({ length: MAX_EVENTS }, (_, i) => w.talk('s_stranger', 'handoff', NOW + (k * MAX_EVENTS + i) * 100))
      const r = await w.from('203.0.113.66', flood)
      expect(r.accepted).toBe(0)
      expect(new Set(r.rejected.map((x) => x.code))).toEqual(new Set(['conversation_session_mismatch']))
    }
    // The visitor's conversation goes on for 31 minutes and bills its 3 sessions.
    for (let m = 1; m <= 31; m++) {
      w.clock.set(NOW + m * MIN)
      const r = await w.from('198.51.100.1', [w.talk('s_visitor', m === 31 ? 'end' : 'ping', w.clock.now())])
      expect(r).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    }
    expect(await w.billed()).toBe(3)
    expect(w.count("SELECT COUNT(*) AS n FROM chat_events WHERE conversation = 'conv_42'")).toBe(32)
  })

  it('cannot make it suspicious or longer from an address over its cap', async () => {
    const w = world(CAP)
    w.clock.set(NOW)
    await w.from('198.51.100.1', [w.talk('s_visitor', 'start', NOW)])
    for (let i = 0; i < CAP; i++) await w.from('203.0.113.66', [impression('cmp_summer', `fill_${i}`)])
    w.clock.set(NOW + 10 * MIN)
    await w.from('198.51.100.1', [w.talk('s_visitor', 'end', w.clock.now())])
    // The stranger's pings, in real time, would keep the conversation going for 40 minutes more.
    for (let m = 11; m <= 50; m += 5) {
      w.clock.set(NOW + m * MIN)
      const r = await w.from('203.0.113.66', [w.talk('s_stranger', 'resume', w.clock.now())])
      expect(r.rejected.map((x) => x.code)).toEqual(['conversation_session_mismatch'])
    }
    expect(await w.billed()).toBe(1)
    expect(w.suspicious()).toBe(0)
  })

  it('cannot close it with an event dated 70 h back', async () => {
    const w = world()
    w.clock.set(NOW)
    await w.from('198.51.100.1', [w.talk('s_visitor', 'start', NOW)])
    w.clock.set(NOW + MIN)
    const old = NOW - 70 * 3_600_000
    // From another session: not its conversation. From the visitor's own session (a leaked id): before its start.
    expect((await w.from('203.0.113.66', [w.talk('s_stranger', 'handoff', old)])).rejected.map((x) => x.code)).toEqual(['conversation_session_mismatch'])
    expect((await w.from('203.0.113.66', [w.talk('s_visitor', 'handoff', old)])).rejected.map((x) => x.code)).toEqual(['event_before_conversation'])
    expect((await w.from('203.0.113.66', [w.talk('s_visitor', 'handoff', NOW - CHAT_BACKDATE_MS - 1)])).rejected.map((x) => x.code)).toEqual([
      'event_before_conversation',
    ])
    for (let m = 2; m <= 31; m++) {
      w.clock.set(NOW + m * MIN)
      await w.from('198.51.100.1', [w.talk('s_visitor', m === 31 ? 'end' : 'ping', w.clock.now())])
    }
    expect(await w.billed()).toBe(3)
    expect(w.count("SELECT started_at AS n FROM conversations WHERE conversation = 'conv_42'")).toBe(NOW)
  })
})
