/**
 * Chat bills only witnessed bot time (docs/rules.md "Chat sessions"; `packages/billing/src/chat.ts`):
 * a forged beacon (an allowed Origin, forged timestamps) whose conversations claim hours of bot
 * time in one request bills at most one session per conversation, never the hours claimed.
 */
import { describe, expect, it } from 'vitest'
import { CHAT_UNIT_MS, MAX_BATCH_CONVERSATIONS, MAX_EVENTS } from '@tally/protocol'
import { NOW, batch, chat, setup, testConfig } from '../../apps/collector/src/testkit.js'

const HOURS_71 = 71 * 3_600_000
const CONVERSATIONS = MAX_EVENTS / 2

const events = (claimed: number) => {
  const out = []
  for (let i = 0; i < CONVERSATIONS; i++) {
    out.push(chat('start', NOW - claimed, `conv_${i}`), chat('end', NOW, `conv_${i}`))
  }
  return out
}
/**
 * A batch names at most MAX_BATCH_CONVERSATIONS conversations: the forger sends as many batches as
 * it takes, each conversation costing one request of the address's rate, and waits as a 429 says.
 */
const forged = async (s: ReturnType<typeof setup>, claimed: number) => {
  const all = events(claimed)
  const answers = []
  for (let at = 0; at < all.length; at += 2 * MAX_BATCH_CONVERSATIONS) {
    let res = await s.post(batch(all.slice(at, at + 2 * MAX_BATCH_CONVERSATIONS)))
    while (res.status === 429) {
      s.clock.advance(Number(res.headers.get('retry-after')) * 1000)
      res = await s.post(batch(all.slice(at, at + 2 * MAX_BATCH_CONVERSATIONS)))
    }
    answers.push(await res.json())
  }
  return {
    accepted: answers.reduce((n, a) => n + a.accepted, 0),
    duplicates: answers.reduce((n, a) => n + a.duplicates, 0),
    rejected: answers.flatMap((a) => a.rejected),
  }
}
const MIN_29 = 29 * 60_000
const chatSessions = async (s: ReturnType<typeof setup>) => (await s.store.billingData('acme')).usage.reduce((n, u) => n + (u.chatSessions ?? 0), 0)

describe('a forged 71-hour chat in one beacon', () => {
  // The per-address session cap (docs/security.md) set out of the way: these are the chat rules alone.
  const uncapped = () => setup({ config: testConfig({ server: { sessionsPerHour: 1_000_000 } }) })

  it(`bills nothing for ${CONVERSATIONS} conversations that start 71 h ago and end now (not ${CONVERSATIONS * Math.ceil(HOURS_71 / CHAT_UNIT_MS)})`, async () => {
    const s = uncapped()
    expect(await forged(s, HOURS_71)).toEqual({ accepted: MAX_EVENTS, duplicates: 0, rejected: [] })
    // The end comes after an idle gap, so it adds no bot time (docs/rules.md): 0 sessions, exactly.
    expect(await chatSessions(s)).toBe(0)
  })

  it(`bills exactly one session per conversation that claims 29 minutes in one request: ${CONVERSATIONS}, not ${2 * CONVERSATIONS}`, async () => {
    const s = uncapped()
    await forged(s, MIN_29)
    expect(await chatSessions(s)).toBe(CONVERSATIONS)
    // The same conversations again with fresh event ids: stored, and still nothing more billed.
    expect(await forged(s, MIN_29)).toEqual({ accepted: MAX_EVENTS, duplicates: 0, rejected: [] })
    expect(await chatSessions(s)).toBe(CONVERSATIONS)
  })

  it('bills at most the per-address cap of conversations under the default configuration', async () => {
    const s = setup()
    await forged(s, MIN_29)
    // The cap (120) counts the session itself and then each new conversation.
    expect(await chatSessions(s)).toBe(120 - 1)
  })

  it(`folds at most ${MAX_BATCH_CONVERSATIONS} conversations of one beacon, refusing the events of the others with a code`, async () => {
    const s = uncapped()
    const res = await s.post(batch(events(MIN_29)))
    const body = await res.json()
    expect(body.accepted).toBe(2 * MAX_BATCH_CONVERSATIONS)
    expect(body.rejected).toHaveLength(MAX_EVENTS - 2 * MAX_BATCH_CONVERSATIONS)
    expect(new Set(body.rejected.map((r: { code: string }) => r.code))).toEqual(new Set(['too_many_conversations']))
    expect(await chatSessions(s)).toBe(MAX_BATCH_CONVERSATIONS)
  })
})
