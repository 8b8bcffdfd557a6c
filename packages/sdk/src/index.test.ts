import { describe, expect, it } from 'vitest'
import { ID_PATTERN } from '@tally/protocol/contract'
import { createTracker, memoryStore } from './index.js'
import { fakeCollector } from './testing/collector.js'

describe('chat from the ESM entry', () => {
  const make = () => {
    const collector = fakeCollector()
    const t = createTracker({
      container: 'ctr_shop',
      endpoint: 'https://collector.test',
      store: memoryStore(),
      fetch: collector.fetch,
      sendBeacon: collector.sendBeacon,
    })
    return { collector, t }
  }

  it('gives a conversation without an id a random one that cannot be guessed, and sends it', async () => {
    const { collector, t } = make()
    const a = t.chat({ bot: 'bot_help' })
    const b = t.chat(undefined, { bot: 'bot_help' })
    a.end()
    b.end()
    await t.flush()
    expect(a.id).toMatch(ID_PATTERN)
    // The time it began in base 36, then 128 random bits (4 decimal words of up to 10 digits), so
    // that the collector's keys of the conversations open now sit together.
    const began = Number.parseInt(a.id.slice(0, 8), 36)
    expect(Math.abs(Date.now() - began)).toBeLessThan(60_000)
    expect(a.id.length).toBeGreaterThanOrEqual(8 + 4)
    expect(a.id.length).toBeLessThanOrEqual(8 + 40)
    expect(a.id).not.toBe(b.id)
    const sent = collector
      .events()
      .filter((e) => e.type === 'chat')
      .map((e) => (e as { conversation: string }).conversation)
    expect(new Set(sent)).toEqual(new Set([a.id, b.id]))
  })

  it('keeps the id a vendor gives', async () => {
    const { collector, t } = make()
    const c = t.chat('conv_8f3a1c9e2b7d4f60a5e1', { bot: 'bot_help' })
    c.end()
    await t.flush()
    expect(c.id).toBe('conv_8f3a1c9e2b7d4f60a5e1')
    expect(collector.events().map((e) => (e as { conversation?: string }).conversation)).toEqual(['conv_8f3a1c9e2b7d4f60a5e1', 'conv_8f3a1c9e2b7d4f60a5e1'])
  })
})
