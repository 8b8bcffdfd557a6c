/**
 * One out-of-order event per conversation costs a fixed amount of work, whatever the conversation's
 * size (docs/security.md, "Conversations"; docs/architecture.md): with 500 conversations of 500
 * events stored, a request carrying one out-of-order event for each reads at most
 * CHAT_REORDER_EVENTS + 1 stored events per conversation, not the 250,000 events behind them; and
 * through the route a beacon folds at most MAX_BATCH_CONVERSATIONS of them. Rows read are counted
 * with a proxy over the repository.
 */
import { describe, expect, it } from 'vitest'
import { CHAT_REORDER_EVENTS, MAX_BATCH_CONVERSATIONS, MAX_EVENTS } from '@tally/protocol'
import { batch, countingEngine, NOW, ORIGIN, setup } from '../../apps/collector/src/testkit.js'
import { SqliteEngine } from '../../apps/collector/src/engines/sqlite/engine.js'
import { prepare } from '../../apps/collector/src/engines/sqlite/statements.js'
import { createStore } from '../../apps/collector/src/services/store.js'
import type { IngestEvent } from '../../apps/collector/src/services/ingest.js'
import { CONVERSATION_COST } from '../../apps/collector/src/routes/events.js'

const CONVERSATIONS = 500
const EVENTS = 500
const SEC = 1_000

const ev = (conversation: number, k: number, phase: 'start' | 'ping' = 'ping', id = `e${conversation}_${k}`): IngestEvent => ({
  id,
  type: 'chat',
  session: `s${conversation}`,
  subject: 'bot_help',
  time: NOW + k * SEC,
  conversation: `conv_${conversation}`,
  phase,
})

describe('an attacker sending one out-of-order event to each of 500 full conversations', () => {
  it('reads a bounded number of rows per event, not the conversations behind them', { timeout: 120_000 }, async () => {
    const engine = countingEngine(new SqliteEngine({ file: ':memory:' }))
    const store = createStore(engine)
    const ingest = (events: IngestEvent[], at = NOW + EVENTS * SEC) =>
      store.ingest({ account: 'evil', container: 'ctr_evil', receivedAt: at, timeZone: 'UTC', events })
    // 500 conversations of 500 events, one second apart, sent in order.
    for (let c = 0; c < CONVERSATIONS; c++) {
      const statuses = await ingest(Array.from({ length: EVENTS }, (_, k) => ev(c, k * 2, k === 0 ? 'start' : 'ping')))
      expect(statuses.every((s) => s === 'accepted')).toBe(true)
    }
    // One event per conversation, landing among its last events (between the last two).
    engine.rows = 0
    const late = await ingest(Array.from({ length: CONVERSATIONS }, (_, c) => ev(c, (EVENTS - 1) * 2 - 1, 'ping', `late${c}`)))
    expect(late.every((s) => s === 'accepted')).toBe(true)
    const perEvent = engine.rows / CONVERSATIONS
    // The conversation's record, its last CHAT_REORDER_EVENTS + 1 events, and the insert's answer.
    expect(perEvent).toBeLessThanOrEqual(CHAT_REORDER_EVENTS + 3)

    // Landing further back than CHAT_REORDER_EVENTS events is refused, and reads no more.
    engine.rows = 0
    const far = await ingest(Array.from({ length: CONVERSATIONS }, (_, c) => ev(c, 11, 'ping', `far${c}`)))
    expect(new Set(far)).toEqual(new Set(['event_out_of_order']))
    expect(engine.rows / CONVERSATIONS).toBeLessThanOrEqual(CHAT_REORDER_EVENTS + 3)

    // And the result is the fold of all the stored events: the late pings change nothing billed
    // (every event is 2 s from the next), the conversations are whole.
    const rows = await store.conversations('evil', NOW - 1, NOW + 1)
    expect(rows).toHaveLength(CONVERSATIONS)
    for (const r of rows) expect(r).toMatchObject({ botMs: (EVENTS - 1) * 2 * SEC })
    await store.close()
  })

  it(`folds at most ${MAX_BATCH_CONVERSATIONS} conversations per beacon through the route`, async () => {
    const s = setup()
    const events = Array.from({ length: MAX_EVENTS }, (_, c) => ({
      id: `x${c}`,
      type: 'chat',
      session: 's_1',
      conversation: `conv_${c}`,
      bot: 'bot_help',
      phase: 'ping',
      ts: NOW,
    }))
    const res = await s.app.request('/v1/containers/ctr_shop/events', {
      method: 'POST',
      headers: { origin: ORIGIN },
      body: JSON.stringify({ v: 1, sentAt: NOW, sdk: 'x', events }),
    })
    const body = await res.json()
    expect(body.accepted).toBe(MAX_BATCH_CONVERSATIONS)
    expect(body.rejected).toHaveLength(MAX_EVENTS - MAX_BATCH_CONVERSATIONS)
    expect(s.count('SELECT COUNT(*) AS n FROM conversations')).toBe(MAX_BATCH_CONVERSATIONS)
  })

  it("charges each conversation a beacon names against the address's rate, before anything is counted or stored", async () => {
    const s = setup()
    let n = 0
    const beacon = (conversations: number) =>
      s.post(
        batch(
          Array.from({ length: conversations }, (_, c) => ({
            id: `r${n++}`,
            type: 'chat',
            session: 's_1',
            conversation: `conv_${n}_${c}`,
            bot: 'bot_help',
            phase: 'start',
            ts: NOW,
          })),
        ),
      )
    // The default bucket holds 100 requests. A beacon of 16 conversations costs 1 + 15 x
    // CONVERSATION_COST = 31 of them: three take 93.
    expect(1 + (MAX_BATCH_CONVERSATIONS - 1) * CONVERSATION_COST).toBe(31)
    for (let i = 0; i < 3; i++) expect((await beacon(MAX_BATCH_CONVERSATIONS)).status).toBe(200)
    const refused = await beacon(MAX_BATCH_CONVERSATIONS)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(s.count('SELECT COUNT(*) AS n FROM conversations')).toBe(3 * MAX_BATCH_CONVERSATIONS)
    // The refused beacon holds the address until its cost could be had (24 more tokens, 480 ms):
    // whatever it sends meanwhile is refused unread (a body that is not even JSON answers 429, not
    // 400), though tokens for a beacon of one conversation have come back.
    s.clock.advance(100)
    expect((await beacon(1)).status).toBe(429)
    expect((await s.post('not json')).status).toBe(429)
    s.clock.advance(900)
    // 50 requests a second: a beacon of 16 goes through again, and one of one conversation costs one.
    expect((await beacon(MAX_BATCH_CONVERSATIONS)).status).toBe(200)
    expect((await beacon(1)).status).toBe(200)
    // Of the refused beacons only the refusal is counted, not the events they carried.
    const res = await s.app.request('/v1/rejections', { headers: { authorization: 'Bearer rk_acme_read' } })
    const rows = (await res.json()).rejections as { reason: string; count: number }[]
    expect(rows.map((r) => [r.reason, r.count])).toEqual([['rate_limited', 3]])
  })
})

describe('beacons of several conversations from one address', () => {
  it('are stored one at a time: a second one while the first is stored answers 429 and stores nothing', async () => {
    const s = setup()
    const beacon = (tag: string) =>
      s.post(
        batch(
          Array.from({ length: 4 }, (_, c) => ({
            id: `${tag}${c}`,
            type: 'chat',
            session: 's_1',
            conversation: `conv_${tag}${c}`,
            bot: 'bot_help',
            phase: 'start',
            ts: NOW,
          })),
        ),
      )
    const [first, second] = await Promise.all([beacon('a'), beacon('b')])
    expect([first.status, second.status]).toEqual([200, 429])
    expect(second.headers.get('retry-after')).toBe('1')
    expect(s.count('SELECT COUNT(*) AS n FROM conversations')).toBe(4)
    // Once the first is answered, the next goes through.
    expect((await beacon('c')).status).toBe(200)
    // A beacon of one conversation never waits for another.
    const [many, one] = await Promise.all([
      beacon('d'),
      s.post(batch([{ id: 'e1', type: 'chat', session: 's_1', conversation: 'conv_e', bot: 'bot_help', phase: 'start', ts: NOW }])),
    ])
    expect([many.status, one.status]).toEqual([200, 200])
  })
})

describe('the stored tail of a conversation on SQLite', () => {
  it('is read along its time index, not sorted whole', () => {
    const engine = new SqliteEngine({ file: ':memory:' })
    const plan = engine.db.prepare(`EXPLAIN QUERY PLAN ${prepare(engine.db).chatTail.source}`).all('ctr', 'conv', 33) as { detail: string }[]
    expect(plan.map((p) => p.detail)).toEqual([
      'SEARCH chat_events USING INDEX chat_events_order (container=? AND conversation=?)',
      'USE TEMP B-TREE FOR LAST 2 TERMS OF ORDER BY',
    ])
  })
})
