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
import { ingest, type IngestEvent, type IngestRequest } from '../../apps/collector/src/services/ingest.js'
import type { Engine } from '../../apps/collector/src/engines/repository.js'

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
    // The default bucket holds 100 requests: six beacons of 16 conversations take 96 of them.
    for (let i = 0; i < 6; i++) expect((await beacon(MAX_BATCH_CONVERSATIONS)).status).toBe(200)
    const refused = await beacon(MAX_BATCH_CONVERSATIONS)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(s.count('SELECT COUNT(*) AS n FROM conversations')).toBe(6 * MAX_BATCH_CONVERSATIONS)
    // The refused beacon holds the address until its cost could be had (12 more tokens, 240 ms):
    // whatever it sends meanwhile is refused unread (a body that is not even JSON answers 429, not
    // 400), though tokens for a beacon of one conversation have come back.
    s.clock.advance(100)
    expect((await beacon(1)).status).toBe(429)
    expect((await s.post('not json')).status).toBe(429)
    s.clock.advance(900)
    // 50 requests a second: a beacon of 16 goes through again, and one conversation costs one.
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

describe('a beacon of several conversations on the storage thread', () => {
  // The account each transaction wrote for, in the order the engine ran them.
  const recording = (inner: Engine) => {
    const ran: string[] = []
    const engine: Engine = {
      transaction: (fn) =>
        inner.transaction((tx) => {
          let first = true
          const seen = new Proxy(tx, {
            get(target, name, receiver) {
              const value = Reflect.get(target, name, receiver) as unknown
              if (typeof value !== 'function') return value
              return (...args: unknown[]) => {
                if (first) ran.push(String(args[0]))
                first = false
                return (value as (...a: unknown[]) => unknown).apply(target, args)
              }
            },
          })
          return fn(seen)
        }),
      read: (fn) => inner.read(fn),
      close: () => inner.close(),
    }
    return { engine, ran }
  }
  const request = (account: string, events: IngestEvent[]): IngestRequest => ({
    account,
    container: `ctr_${account}`,
    receivedAt: NOW + 10 * SEC,
    timeZone: 'UTC',
    events,
  })
  // Every conversation already holds two events; the beacon brings one in order and one out of order each, and an impression.
  const stored = (c: number) => [ev(c, 0, 'start'), ev(c, 4)]
  const beacon = (): IngestEvent[] => [
    { id: 'imp1', type: 'impression', session: 's0', subject: 'cmp', time: NOW },
    ...Array.from({ length: MAX_BATCH_CONVERSATIONS }, (_, c) => [ev(c, 6, 'ping', `in${c}`), ev(c, 2, 'ping', `late${c}`), ev(c, 4)]).flat(),
  ]

  it("lets another account's beacon be stored between its conversations, with the statuses one transaction gives", async () => {
    const { engine, ran } = recording(new SqliteEngine({ file: ':memory:' }))
    const store = createStore(engine)
    for (let c = 0; c < MAX_BATCH_CONVERSATIONS; c++) await store.ingest(request('evil', stored(c)))
    ran.length = 0
    const attack = store.ingest(request('evil', beacon()))
    // The neighbour's beacon arrives while the first conversation is being stored.
    await new Promise((resolve) => setImmediate(resolve))
    const neighbour = store.ingest(request('shop', [{ id: 'n1', type: 'impression', session: 'sn', subject: 'cmp', time: NOW }]))
    const [statuses, other] = await Promise.all([attack, neighbour])
    expect(other).toEqual(['accepted'])
    // One transaction per conversation, and the neighbour's among the first ones, not after the last.
    expect(ran.filter((a) => a === 'evil')).toHaveLength(MAX_BATCH_CONVERSATIONS)
    expect(ran.indexOf('shop')).toBeGreaterThan(0)
    expect(ran.indexOf('shop')).toBeLessThan(3)

    // The same beacon in one transaction on a database holding the same rows: the same answers, the same conversations.
    const whole = new SqliteEngine({ file: ':memory:' })
    for (let c = 0; c < MAX_BATCH_CONVERSATIONS; c++) await whole.transaction((tx) => ingest(tx, request('evil', stored(c))))
    expect(await whole.transaction((tx) => ingest(tx, request('evil', beacon())))).toEqual(statuses)
    expect(statuses.filter((s) => s === 'accepted')).toHaveLength(1 + 2 * MAX_BATCH_CONVERSATIONS)
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(MAX_BATCH_CONVERSATIONS)
    const split = await store.conversations('evil', NOW - 1, NOW + 1)
    const one = await createStore(whole).conversations('evil', NOW - 1, NOW + 1)
    expect(split).toEqual(one)
    expect(split).toHaveLength(MAX_BATCH_CONVERSATIONS)
    await store.close()
    await whole.close()
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
