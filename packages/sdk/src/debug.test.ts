// @vitest-environment happy-dom
// The debug switch: `createTracker({ debug: true })` says on the console why each event was
// dropped, refused or skipped; without it, the console stays silent.
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest'
import type { BrowserEvent } from '@tally/protocol/contract'
import { createTracker, type Tracker, type TrackerOptions } from './tracker.js'
import { memoryStore } from './store.js'
import { fakeCollector, type Reply } from './testing/collector.js'

let warn: MockInstance<typeof console.warn>

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  vi.setSystemTime(new Date('2026-07-12T10:00:00Z'))
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
})
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

function setup(script: (Reply | Error)[], options: Partial<TrackerOptions> = {}) {
  const collector = fakeCollector(script)
  const drops: [BrowserEvent, string][] = []
  const tracker = createTracker({
    container: 'ctr_shop',
    endpoint: 'https://collector.test',
    store: memoryStore(),
    fetch: collector.fetch,
    sendBeacon: collector.sendBeacon,
    onDrop: (e, reason) => drops.push([e, reason]),
    ...options,
  })
  return { tracker, drops, collector }
}

/** Every console line the tracker wrote, as text. */
const lines = () => warn.mock.calls.map((args) => String(args[0]))

interface Case {
  reason: string
  replies: (Reply | Error)[]
  act: (t: Tracker) => void | Promise<void>
  /** What the one line about it must say. */
  says: RegExp[]
}

const CASES: Case[] = [
  {
    reason: 'an event the collector refused, with its per-event code',
    replies: [{ body: { accepted: 1, duplicates: 0, rejected: [{ index: 1, code: 'unknown_campaign' }] } }],
    act: (t) => {
      t.impression('cmp_summer')
      t.impression('cmp_nope')
    },
    says: [/^\[tally\] the collector refused 1 event \(cmp_nope\): unknown_campaign \(the container has no such campaign\)$/],
  },
  {
    reason: 'a batch dropped on a final 4xx, with the status, code and message',
    replies: [{ status: 400, body: { error: { code: 'invalid_batch', message: 'events.0.ts: expected number' } } }],
    act: (t) => {
      t.impression('cmp_a')
      t.engagement('adv_b')
    },
    says: [/^\[tally\] the collector answered 400 "events\.0\.ts: expected number" to a batch; dropped 2 events \(cmp_a, adv_b\): invalid_batch \(/],
  },
  {
    reason: 'the 403 refusal, naming what to check',
    replies: [{ status: 403, body: { error: { code: 'forbidden', message: 'forbidden' } } }],
    act: (t) => t.impression('cmp_a'),
    says: [
      /answered 403 .*dropped 1 event \(cmp_a\): forbidden \(unknown container, this page's origin not among the container's domains, or the account inactive: GET \/v1\/rejections says which\)/,
    ],
  },
  {
    reason: 'a bot drop signalled by X-Tally-Dropped',
    replies: [{ headers: { 'X-Tally-Dropped': 'bot' } }],
    act: (t) => {
      t.impression('cmp_a')
      t.chat('conv_1', { bot: 'bot_help' })
    },
    says: [/^\[tally\] the collector dropped 2 events \(cmp_a, conv_1 start\): bot \(the collector took this browser's user agent for a bot/],
  },
  {
    reason: 'outbox overflow',
    replies: [new TypeError('offline')],
    act: (t) => {
      for (let i = 0; i < 1001; i++) t.impression(`cmp_${i}`)
    },
    says: [/^\[tally\] dropped 1 event \(cmp_0\): outbox_full \(the outbox holds 1000 unsent events/],
  },
  {
    reason: 'an id outside the wire alphabet',
    replies: [],
    act: (t) => t.engagement('adv shoes'),
    says: [/^\[tally\] dropped 1 event \(adv shoes\): invalid_event \(an id outside \[A-Za-z0-9._:-\]\{1,64\}\)$/],
  },
  {
    reason: 'a dedup skip',
    replies: [],
    act: async (t) => {
      t.impression('cmp_a')
      await t.flush()
      t.impression('cmp_a')
    },
    says: [/^\[tally\] skipped impression cmp_a: already counted in session s_\w+$/],
  },
]

describe('createTracker({ debug: true })', () => {
  it.each(CASES)('logs $reason', async ({ replies, act, says }) => {
    const { tracker } = setup(replies, { debug: true })
    await act(tracker)
    await vi.advanceTimersByTimeAsync(1000)
    expect(lines()).toHaveLength(says.length)
    for (const [i, pattern] of says.entries()) expect(lines()[i]).toMatch(pattern)
  })

  it('passes the events concerned along with the line, for the console to expand', async () => {
    const { tracker } = setup([{ status: 403, body: { error: { code: 'forbidden', message: 'forbidden' } } }], { debug: true })
    tracker.impression('cmp_a')
    await vi.advanceTimersByTimeAsync(1000)
    const events = warn.mock.calls[0]![1] as BrowserEvent[]
    expect(events).toEqual([expect.objectContaining({ type: 'impression', campaign: 'cmp_a' })])
  })

  it('logs one line per reason for a batch refused for several reasons', async () => {
    const rejected = [
      { index: 0, code: 'unknown_campaign' },
      { index: 1, code: 'inactive_advisor' },
      { index: 2, code: 'unknown_campaign' },
    ]
    const { tracker } = setup([{ body: { accepted: 0, duplicates: 0, rejected } }], { debug: true })
    tracker.impression('cmp_x')
    tracker.engagement('adv_old')
    tracker.impression('cmp_y')
    await vi.advanceTimersByTimeAsync(1000)
    expect(lines()).toEqual([
      '[tally] the collector refused 2 events (cmp_x, cmp_y): unknown_campaign (the container has no such campaign)',
      '[tally] the collector refused 1 event (adv_old): inactive_advisor (the advisor is inactive)',
    ])
  })

  it('names an unknown code bare, and a refusal without an error body by its status', async () => {
    const { tracker } = setup([{ status: 404, body: 'not json' }], { debug: true })
    tracker.impression('cmp_a')
    await vi.advanceTimersByTimeAsync(1000)
    expect(lines()).toEqual(['[tally] the collector answered 404 to a batch; dropped 1 event (cmp_a): http_404'])
  })

  it('logs nothing for what will still be sent: a retried 503 or a network error', async () => {
    const { tracker } = setup([{ status: 503 }, new TypeError('offline'), {}], { debug: true })
    tracker.impression('cmp_a')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(lines()).toEqual([])
  })
})

describe('createTracker without debug', () => {
  it.each(CASES)('logs nothing for $reason', async ({ replies, act }) => {
    const { tracker } = setup(replies)
    await act(tracker)
    await vi.advanceTimersByTimeAsync(1000)
    expect(warn).not.toHaveBeenCalled()
  })

  it('still reports a bot drop to onDrop, as it reports every event that will never be counted', async () => {
    const { tracker, drops } = setup([{ headers: { 'X-Tally-Dropped': 'bot' } }])
    tracker.impression('cmp_a')
    await vi.advanceTimersByTimeAsync(1000)
    expect(drops.map(([e, r]) => [e.type, r])).toEqual([['impression', 'bot']])
  })
})
