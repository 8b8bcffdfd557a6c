// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SDK_MAX_BATCH_BYTES } from '@tally/protocol/contract'
import { createTracker, type TrackerOptions } from './tracker.js'
import { memoryStore } from './store.js'

import { MIN, setup, outbox } from './tracker.fixtures.js'

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  vi.setSystemTime(new Date('2026-07-12T10:00:00Z'))
})
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('createTracker', () => {
  it('throws at creation when the container is missing or malformed', () => {
    expect(() => createTracker({ endpoint: 'https://collector.test' } as TrackerOptions)).toThrow(/container/)
    expect(() => createTracker({ container: 'ctr shop', endpoint: 'https://collector.test' })).toThrow(/container/)
  })

  it('sends an impression within 1 s as a versioned batch to the container route, as text without credentials', async () => {
    const { collector, tracker } = setup()
    const t0 = Date.now()
    tracker.impression('cmp_summer')
    await vi.advanceTimersByTimeAsync(999)
    expect(collector.sent).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(collector.sent).toHaveLength(1)
    const [req] = collector.sent
    expect(req!.url).toBe('https://collector.test/v1/containers/ctr_shop/events')
    expect(req!.init).toMatchObject({ method: 'POST', keepalive: true, credentials: 'omit' })
    expect(typeof req!.init.body).toBe('string')
    expect(req!.batch).toMatchObject({ v: 1, sentAt: Date.now(), sdk: 'tally-js/0.1.0' })
    expect(req!.batch.events).toEqual([
      { id: expect.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), type: 'impression', campaign: 'cmp_summer', session: tracker.sessionId(), ts: t0 },
    ])
    expect(tracker.sessionId()).toMatch(/^s_[a-z0-9]+$/)
  })

  it('strips a trailing slash from the endpoint', async () => {
    const { collector } = setup([], { endpoint: 'https://collector.test/' })
    const t = createTracker({ container: 'ctr_x', endpoint: 'https://collector.test/', store: memoryStore(), fetch: collector.fetch })
    t.engagement('adv_shoes')
    await t.flush()
    expect(collector.sent[0]!.url).toBe('https://collector.test/v1/containers/ctr_x/events')
  })

  it('counts one impression per campaign per session, and one per campaign for five campaigns', async () => {
    const { collector, tracker } = setup()
    for (let i = 0; i < 3; i++) for (const c of ['cmp_a', 'cmp_b', 'cmp_c', 'cmp_d', 'cmp_e']) tracker.impression(c)
    await tracker.flush()
    expect(collector.events().map((e) => e.type === 'impression' && e.campaign)).toEqual(['cmp_a', 'cmp_b', 'cmp_c', 'cmp_d', 'cmp_e'])
  })

  it('counts one engagement per advisor per session; an impression of the same id is a different count', async () => {
    const { collector, tracker } = setup()
    tracker.engagement('adv_shoes')
    tracker.engagement('adv_shoes')
    tracker.engagement('adv_bags')
    tracker.impression('adv_shoes')
    await tracker.flush()
    expect(collector.events().map((e) => [e.type, e.type === 'engagement' ? e.advisor : e.type === 'impression' && e.campaign])).toEqual([
      ['engagement', 'adv_shoes'],
      ['engagement', 'adv_bags'],
      ['impression', 'adv_shoes'],
    ])
  })

  it('starts a new session after 30 idle minutes, which counts the same campaign again', async () => {
    const { collector, tracker } = setup()
    tracker.impression('cmp_summer')
    await tracker.flush()
    const first = tracker.sessionId()
    await vi.advanceTimersByTimeAsync(29 * MIN)
    tracker.impression('cmp_summer')
    await tracker.flush()
    expect(collector.events()).toHaveLength(1)
    // 29 minutes of activity above renewed the session; 30 idle minutes from here end it.
    await vi.advanceTimersByTimeAsync(30 * MIN)
    tracker.impression('cmp_summer')
    await tracker.flush()
    const events = collector.events()
    expect(events).toHaveLength(2)
    expect(events[0]!.session).toBe(first)
    expect(events[1]!.session).not.toBe(first)
    expect(tracker.sessionId()).toBe(events[1]!.session)
  })

  it('takes the session timeout in minutes', async () => {
    const { collector, tracker } = setup([], { sessionTimeout: 5 })
    tracker.impression('cmp_summer')
    await tracker.flush()
    await vi.advanceTimersByTimeAsync(5 * MIN)
    tracker.impression('cmp_summer')
    await tracker.flush()
    expect(collector.events()).toHaveLength(2)
  })

  it('retries a failed send with backoff, then removes the events once acknowledged', async () => {
    const { collector, tracker, store } = setup([new TypeError('Failed to fetch'), { status: 503 }, { status: 200 }])
    // Jitter in the middle of its range: the first retry after 1.5 s, the second 3 s later.
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    tracker.impression('cmp_summer')
    await vi.advanceTimersByTimeAsync(1000)
    expect(collector.sent).toHaveLength(1)
    expect(await outbox(store)).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1499)
    expect(collector.sent).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(collector.sent).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(2999)
    expect(collector.sent).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(collector.sent).toHaveLength(3)
    expect(collector.sent.map((s) => s.batch.events[0]!.id)).toEqual(Array(3).fill(collector.sent[0]!.batch.events[0]!.id))
    expect(await outbox(store)).toEqual([])
  })

  it('retries 408 and 5xx with a doubling, jittered delay from 1 s, never over 5 minutes', async () => {
    const failures = [{ status: 408 }, ...Array.from({ length: 12 }, () => ({ status: 500 }))]
    const { collector, tracker, drops } = setup([...failures, { status: 200 }])
    tracker.impression('cmp_summer')
    await vi.advanceTimersByTimeAsync(60 * MIN)
    expect(collector.sent).toHaveLength(14)
    const gaps = collector.sent.slice(1).map((s, i) => s.at - collector.sent[i]!.at)
    gaps.forEach((gap, attempt) => {
      expect(gap).toBeGreaterThanOrEqual(Math.min(5 * MIN, 1000 * 2 ** attempt))
      expect(gap).toBeLessThanOrEqual(Math.min(5 * MIN, 2000 * 2 ** attempt))
    })
    expect(gaps.at(-1)).toBe(5 * MIN)
    expect(drops).toEqual([])
    await tracker.flush()
    expect(collector.sent).toHaveLength(14)
  })

  it('honours Retry-After on a 429', async () => {
    const { collector, tracker } = setup([{ status: 429, headers: { 'Retry-After': '30' } }, { status: 200 }])
    tracker.impression('cmp_summer')
    await vi.advanceTimersByTimeAsync(1000)
    expect(collector.sent).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(29_999)
    expect(collector.sent).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(collector.sent).toHaveLength(2)
  })

  it('keeps backing off through an outage whose every 503 says Retry-After: 1', async () => {
    const outage = Array.from({ length: 6 }, () => ({ status: 503, headers: { 'Retry-After': '1' } }))
    const { collector, tracker } = setup([...outage, { status: 200 }])
    tracker.impression('cmp_summer')
    await vi.advanceTimersByTimeAsync(10 * MIN)
    expect(collector.sent).toHaveLength(7)
    const gaps = collector.sent.slice(1).map((s, i) => s.at - collector.sent[i]!.at)
    // The backoff doubles from 1-2 s; the server's one second is only a floor.
    gaps.slice(0, 6).forEach((gap, attempt) => {
      expect(gap).toBeGreaterThanOrEqual(1000 * 2 ** attempt)
      expect(gap).toBeLessThanOrEqual(2000 * 2 ** attempt)
    })
  })

  it('drops a batch refused with a 400 and reports the error code as the reason', async () => {
    const { tracker, drops, store, collector } = setup([{ status: 400, body: { error: { code: 'invalid_batch', message: 'no' } } }])
    tracker.impression('cmp_summer')
    tracker.engagement('adv_shoes')
    await tracker.flush()
    expect(drops.map(([e, r]) => [e.type, r])).toEqual([
      ['impression', 'invalid_batch'],
      ['engagement', 'invalid_batch'],
    ])
    expect(await outbox(store)).toEqual([])
    await vi.advanceTimersByTimeAsync(10 * MIN)
    expect(collector.sent).toHaveLength(1)
  })

  it('names the status when a refusal has no error body', async () => {
    const { tracker, drops } = setup([{ status: 403, body: 'nope' }])
    tracker.impression('cmp_summer')
    await tracker.flush()
    expect(drops.map(([, r]) => r)).toEqual(['http_403'])
  })

  it('reports events the collector rejected one by one in a 200 answer, and forgets the whole batch', async () => {
    const { tracker, drops, store } = setup([
      {
        status: 200,
        body: {
          accepted: 1,
          duplicates: 0,
          rejected: [
            { index: 1, code: 'unknown_campaign' },
            { index: 7, code: 'invalid_event' },
          ],
        },
      },
    ])
    tracker.impression('cmp_summer')
    tracker.impression('cmp_nope')
    await tracker.flush()
    expect(drops.map(([e, r]) => [e.type === 'impression' && e.campaign, r])).toEqual([['cmp_nope', 'unknown_campaign']])
    expect(await outbox(store)).toEqual([])
  })

  it('stores every event before sending it', async () => {
    const { tracker, store, collector } = setup([new TypeError('offline')])
    tracker.impression('cmp_summer')
    await vi.advanceTimersByTimeAsync(0)
    expect(collector.sent).toHaveLength(0)
    expect((await outbox(store)).map((e) => e.type)).toEqual(['impression'])
  })

  it('splits a backlog over 60 KB into requests of at most 16 KB, in order', async () => {
    const { tracker, collector } = setup()
    const ids = Array.from({ length: 400 }, (_, i) => `cmp_${String(i).padStart(3, '0')}_${'x'.repeat(48)}`)
    for (const id of ids) tracker.impression(id)
    await tracker.flush()
    const total = collector.sent.reduce((n, s) => n + s.bytes, 0)
    expect(total).toBeGreaterThan(SDK_MAX_BATCH_BYTES)
    expect(collector.sent.length).toBeGreaterThan(4)
    for (const s of collector.sent) expect(s.bytes).toBeLessThanOrEqual(16_000)
    expect(collector.events().map((e) => e.type === 'impression' && e.campaign)).toEqual(ids)
  })

  it('keeps the largest possible batch under 16 KB', async () => {
    const { tracker, collector } = setup()
    const long = (p: string, i: number) => `${p}${i}`.padEnd(64, 'z')
    for (let i = 0; i < 60; i++) {
      tracker.chat(long('conv', i), { bot: long('bot', i) }).handoff()
    }
    await tracker.flush()
    for (const s of collector.sent) expect(s.bytes).toBeLessThanOrEqual(16_000)
    expect(collector.events()).toHaveLength(120)
  })

  it('caps the outbox at 1000 events, dropping the oldest and reporting each', async () => {
    const { tracker, drops, store } = setup([new TypeError('offline')])
    for (let i = 0; i < 1005; i++) tracker.impression(`cmp_${i}`)
    await vi.advanceTimersByTimeAsync(0)
    const kept = await outbox(store)
    expect(kept).toHaveLength(1000)
    expect(kept[0]!.type === 'impression' && kept[0]!.campaign).toBe('cmp_5')
    expect(drops.map(([e, r]) => [e.type === 'impression' && e.campaign, r])).toEqual([0, 1, 2, 3, 4].map((i) => [`cmp_${i}`, 'outbox_full']))
  })

  it('drops ids outside the wire alphabet with invalid_event, and never throws at the caller', async () => {
    const { tracker, drops, collector } = setup([], {
      onDrop: () => {
        throw new Error('a broken callback')
      },
    })
    expect(() => tracker.impression('cmp summer')).not.toThrow()
    expect(() => tracker.engagement(undefined as unknown as string)).not.toThrow()
    expect(() => tracker.chat('conv_1', {} as { bot: string })).not.toThrow()
    expect(() => tracker.impression('x'.repeat(65))).not.toThrow()
    await tracker.flush()
    expect(collector.sent).toHaveLength(0)
    expect(drops).toEqual([])

    const second = setup()
    second.tracker.impression('cmp summer')
    second.tracker.chat('conv_1', {} as { bot: string }).end()
    expect(second.drops.map(([e, r]) => [e.type, r])).toEqual([
      ['impression', 'invalid_event'],
      ['chat', 'invalid_event'],
      ['chat', 'invalid_event'],
    ])
  })

  it('resolves flush at once when nothing is queued', async () => {
    const { tracker, collector } = setup()
    await tracker.flush()
    expect(collector.sent).toHaveLength(0)
  })

  it('resolves every flush called at the same time, even with nothing queued', async () => {
    const { tracker } = setup()
    let resolved = 0
    void tracker.flush().then(() => resolved++)
    void tracker.flush().then(() => resolved++)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(resolved).toBe(2)
  })

  it('sends at once when the browser comes back online', async () => {
    const { tracker, collector } = setup([new TypeError('offline'), { status: 200 }])
    tracker.impression('cmp_summer')
    await vi.advanceTimersByTimeAsync(1000)
    expect(collector.sent).toHaveLength(1)
    window.dispatchEvent(new Event('online'))
    await vi.advanceTimersByTimeAsync(0)
    expect(collector.sent).toHaveLength(2)
  })
})
