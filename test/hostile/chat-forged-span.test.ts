/**
 * Chat bills only witnessed bot time (docs/rules.md "Chat sessions"; `packages/billing/src/chat.ts`):
 * a forged beacon (an allowed Origin, forged timestamps) whose conversations claim hours of bot
 * time in one request bills at most one session per conversation, never the hours claimed.
 */
import { describe, expect, it } from 'vitest'
import { CHAT_UNIT_MS, MAX_EVENTS } from '@tally/protocol'
import { NOW, batch, chat, setup, testConfig } from '../../apps/collector/src/testkit.js'

const HOURS_71 = 71 * 3_600_000
const CONVERSATIONS = MAX_EVENTS / 2

const forged = (claimed: number) => {
  const events = []
  for (let i = 0; i < CONVERSATIONS; i++) {
    events.push(chat('start', NOW - claimed, `conv_${i}`), chat('end', NOW, `conv_${i}`))
  }
  return batch(events)
}
const MIN_29 = 29 * 60_000
const chatSessions = async (s: ReturnType<typeof setup>) =>
  (await s.store.billingData('acme')).usage.reduce((n, u) => n + (u.chatSessions ?? 0), 0)

describe('a forged 71-hour chat in one beacon', () => {
  // The per-address session cap (docs/security.md) set out of the way: these are the chat rules alone.
  const uncapped = () => setup({ config: testConfig({ server: { sessionsPerHour: 1_000_000 } }) })

  it(`bills nothing for ${CONVERSATIONS} conversations that start 71 h ago and end now (not ${CONVERSATIONS * Math.ceil(HOURS_71 / CHAT_UNIT_MS)})`, async () => {
    const s = uncapped()
    const res = await s.post(forged(HOURS_71))
    expect(await res.json()).toEqual({ accepted: MAX_EVENTS, duplicates: 0, rejected: [] })
    // The end comes after an idle gap, so it adds no bot time (docs/rules.md): 0 sessions, exactly.
    expect(await chatSessions(s)).toBe(0)
  })

  it(`bills exactly one session per conversation that claims 29 minutes in one request: ${CONVERSATIONS}, not ${2 * CONVERSATIONS}`, async () => {
    const s = uncapped()
    await s.post(forged(MIN_29))
    expect(await chatSessions(s)).toBe(CONVERSATIONS)
    // The same conversations again with fresh event ids: stored, and still nothing more billed.
    const again = await s.post(forged(MIN_29))
    expect(await again.json()).toEqual({ accepted: MAX_EVENTS, duplicates: 0, rejected: [] })
    expect(await chatSessions(s)).toBe(CONVERSATIONS)
  })

  it('bills at most the per-address cap of conversations under the default configuration', async () => {
    const s = setup()
    await s.post(forged(MIN_29))
    // The cap (120) counts the session itself and then each new conversation.
    expect(await chatSessions(s)).toBe(120 - 1)
  })
})
