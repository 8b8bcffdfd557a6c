/**
 * Conversations fold incrementally from their stored state and hold at most 1,000 events
 * (docs/architecture.md, "Per-request work is bounded by the request"): an attacker pouring
 * 500-ping batches into one conversation does not make its own next request, nor another
 * account's beacon, read more rows at conversation size 1,000 than at size 10. Rows read are
 * counted with a proxy over the repository.
 */
import { describe, expect, it } from 'vitest'
import { countingEngine as counting } from '../../apps/collector/src/testkit.js'
import { SqliteEngine } from '../../apps/collector/src/engines/sqlite/engine.js'
import { createStore } from '../../apps/collector/src/services/store.js'
import type { IngestEvent } from '../../apps/collector/src/services/ingest.js'

const T0 = Date.UTC(2026, 6, 20, 12, 0, 0)
let seq = 0
const ping = (conversation: string, time: number, phase: 'start' | 'ping' = 'ping'): IngestEvent => ({
  id: `p${++seq}`,
  type: 'chat',
  session: 's_attack',
  subject: 'bot_help',
  time,
  conversation,
  phase,
})

describe('an attacker growing one conversation to its cap', () => {
  it('reads as many rows per request at 1,000 events as at 10, for itself and for another account', async () => {
    const engine = counting(new SqliteEngine({ file: ':memory:' }))
    const store = createStore(engine)
    const attack = (events: IngestEvent[], at: number) => store.ingest({ account: 'evil', container: 'ctr_evil', receivedAt: at, timeZone: 'UTC', events })
    const visitor = async (at: number) => {
      engine.rows = 0
      const s = await store.ingest({
        account: 'acme',
        container: 'ctr_shop',
        receivedAt: at,
        timeZone: 'UTC',
        events: [{ id: `v${++seq}`, type: 'impression', session: `sv${seq}`, subject: 'cmp_summer', time: at }],
      })
      expect(s).toEqual(['accepted'])
      return engine.rows
    }
    const next = async (at: number) => {
      engine.rows = 0
      await attack([ping('conv', at)], at)
      return engine.rows
    }

    let t = T0
    const later = () => {
      t += 1_000
      return t
    }
    await attack([ping('conv', t, 'start'), ...Array.from({ length: 8 }, () => ping('conv', later()))], t)
    const ownAt10 = await next(later())
    const visitorAt10 = await visitor(t)
    // 500-ping batches, as fast as they go, until the cap refuses the rest.
    let refused = 0
    while (refused === 0) {
      const batch = Array.from({ length: 500 }, () => ping('conv', later()))
      refused = (await attack(batch, t)).filter((s) => s === 'conversation_too_long').length
    }
    // Full: one more event is refused without a fold.
    const ownAtCap = await next(later())
    const visitorAtCap = await visitor(t)
    expect(visitorAtCap).toBe(visitorAt10)
    expect(ownAtCap).toBeLessThanOrEqual(ownAt10)
    // And neither grows with the conversation: a handful of rows, not 1,000.
    expect(ownAt10).toBeLessThan(10)
    await store.close()
  })
})
