// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MIN, setup, outbox } from './tracker.fixtures.js'

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  vi.setSystemTime(new Date('2026-07-12T10:00:00Z'))
})
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('page lifecycle', () => {
  it('beacons what is queued on pagehide, and keeps it in the outbox for a later load', async () => {
    const { tracker, collector, store, make } = setup()
    tracker.impression('cmp_summer')
    tracker.engagement('adv_shoes')
    // Stored, not yet sent: the page closes before the first flush.
    await vi.advanceTimersByTimeAsync(0)
    expect(collector.sent).toHaveLength(0)
    window.dispatchEvent(new Event('pagehide'))
    expect(collector.beacons).toHaveLength(1)
    const [b] = collector.beacons
    expect(b!.url).toBe('https://collector.test/v1/containers/ctr_shop/events')
    expect(b!.batch.events.map((e) => e.type)).toEqual(['impression', 'engagement'])
    expect(await outbox(store)).toHaveLength(2)

    // The next page load (same store) sends them again; the collector dedups by id.
    const next = make()
    await next.flush()
    const resent = collector.sent.at(-1)!.batch.events
    expect(resent.map((e) => e.id)).toEqual(b!.batch.events.map((e) => e.id))
    expect(await outbox(store)).toEqual([])
  })

  it('beacons an event called for just before the page closes, before it is even stored', async () => {
    const { tracker, collector } = setup()
    await vi.advanceTimersByTimeAsync(0)
    tracker.engagement('adv_shoes')
    window.dispatchEvent(new Event('pagehide'))
    expect(collector.beacons.flatMap((b) => b.batch.events)).toMatchObject([{ type: 'engagement', advisor: 'adv_shoes', session: tracker.sessionId() }])
  })

  it('beacons when the page becomes hidden, once for both lifecycle events', async () => {
    const { tracker, collector } = setup([new TypeError('offline')])
    tracker.impression('cmp_summer')
    await vi.advanceTimersByTimeAsync(0)
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
    document.dispatchEvent(new Event('visibilitychange'))
    window.dispatchEvent(new Event('pagehide'))
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true })
    expect(collector.beacons).toHaveLength(1)
    expect(collector.beacons[0]!.batch.events.map((e) => e.type)).toEqual(['impression'])
  })

  it('falls back to fetch keepalive when sendBeacon refuses', async () => {
    const { tracker, collector } = setup()
    collector.beaconAnswers(false)
    tracker.impression('cmp_summer')
    await vi.advanceTimersByTimeAsync(0)
    window.dispatchEvent(new Event('pagehide'))
    expect(collector.beacons).toHaveLength(1)
    expect(collector.sent).toHaveLength(1)
    expect(collector.sent[0]!.init.keepalive).toBe(true)
    expect(collector.sent[0]!.batch.events.map((e) => e.type)).toEqual(['impression'])
  })

  it('sends a chat that is still open when the page closes', async () => {
    const { tracker, collector } = setup([new TypeError('offline')])
    tracker.chat('conv_42', { bot: 'bot_help' })
    await vi.advanceTimersByTimeAsync(0)
    window.dispatchEvent(new Event('pagehide'))
    expect(collector.beacons[0]!.batch.events).toMatchObject([{ type: 'chat', conversation: 'conv_42', bot: 'bot_help', phase: 'start' }])
  })
})

describe('chat', () => {
  it('emits start, a ping every 60 s while open, handoff, resume and end, then stops', async () => {
    const { tracker, collector } = setup()
    const c = tracker.chat('conv_42', { bot: 'bot_help' })
    await vi.advanceTimersByTimeAsync(2 * MIN + 1)
    c.handoff()
    await vi.advanceTimersByTimeAsync(MIN)
    c.resume()
    c.end()
    c.handoff()
    await vi.advanceTimersByTimeAsync(10 * MIN)
    await tracker.flush()
    const events = collector.events()
    expect(events.map((e) => e.type === 'chat' && e.phase)).toEqual(['start', 'ping', 'ping', 'handoff', 'ping', 'resume', 'end'])
    for (const e of events) expect(e).toMatchObject({ type: 'chat', conversation: 'conv_42', bot: 'bot_help', session: tracker.sessionId() })
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length)
  })
})

describe('several trackers', () => {
  it('share no state: each container has its own session, dedup and outbox', async () => {
    const a = setup([], { container: 'ctr_a', store: undefined })
    const b = setup([], { container: 'ctr_b', store: undefined })
    a.tracker.impression('cmp_summer')
    b.tracker.impression('cmp_summer')
    await Promise.all([a.tracker.flush(), b.tracker.flush()])
    expect(a.collector.events()).toHaveLength(1)
    expect(b.collector.events()).toHaveLength(1)
    expect(a.collector.sent[0]!.url).toContain('/ctr_a/')
    expect(b.collector.sent[0]!.url).toContain('/ctr_b/')
    expect(a.tracker.sessionId()).not.toBe(b.tracker.sessionId())
  })
})
