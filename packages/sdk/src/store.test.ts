// @vitest-environment happy-dom
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { BrowserEvent } from '@tally/protocol/contract'
import { createTracker } from './tracker.js'
import { idbStore, memoryStore, OPEN_TIMEOUT_MS } from './store.js'
import { fakeCollector, settle } from './testing/collector.js'

const g = globalThis as { indexedDB?: unknown }
const real = g.indexedDB

beforeEach(() => {
  // A fresh browser profile for each test.
  g.indexedDB = new IDBFactory()
})
afterEach(() => {
  g.indexedDB = real
  vi.useRealTimers()
})

const page = (collector = fakeCollector(), container = 'ctr_shop') =>
  createTracker({ container, endpoint: 'https://collector.test', fetch: collector.fetch, sendBeacon: collector.sendBeacon })

describe('IndexedDB store', () => {
  it('reads back what it stored, from another handle on the same database', async () => {
    await idbStore('tally-a')<number>('k', () => 1)
    await idbStore('tally-a')<number>('k', (v) => (v ?? 0) + 1)
    expect(await idbStore('tally-a')('k')).toBe(2)
    expect(await idbStore('tally-b')('k')).toBeUndefined()
  })

  it('applies concurrent updates from two tabs one after the other', async () => {
    const tabA = idbStore('tally-a')
    const tabB = idbStore('tally-a')
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? tabA : tabB)<number[]>('list', (l = []) => [...l, i])))
    expect(((await tabA<number[]>('list')) ?? []).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('falls back to memory when IndexedDB is missing', async () => {
    g.indexedDB = undefined
    const s = idbStore('tally-a')
    await s('k', () => 'kept')
    expect(await s('k')).toBe('kept')
  })

  it('falls back to memory when opening the database throws (private mode)', async () => {
    g.indexedDB = {
      open: () => {
        throw new DOMException('denied', 'InvalidStateError')
      },
    }
    const s = idbStore('tally-a')
    await s('k', () => 'kept')
    expect(await s('k')).toBe('kept')
  })

  it('falls back to memory when opening the database never answers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    g.indexedDB = { open: () => ({}) }
    const s = idbStore('tally-a')
    const done = s('k', () => 'kept')
    let settled = false
    void done.then(() => (settled = true))
    await vi.advanceTimersByTimeAsync(OPEN_TIMEOUT_MS - 1)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(settled).toBe(true)
    expect(await s('k')).toBe('kept')
  })

  it('keeps a memory store to itself', async () => {
    const a = memoryStore()
    await a('k', () => 1)
    expect(await memoryStore()('k')).toBeUndefined()
    expect(await a('k')).toBe(1)
  })
})

describe('a tracker on IndexedDB', () => {
  it('sends no second impression after a reload within the session', async () => {
    const collector = fakeCollector()
    const first = page(collector)
    first.impression('cmp_summer')
    first.engagement('adv_shoes')
    await first.flush()
    const reloaded = page(collector)
    reloaded.impression('cmp_summer')
    reloaded.engagement('adv_shoes')
    reloaded.impression('cmp_winter')
    await reloaded.flush()
    expect(reloaded.sessionId()).toBe(first.sessionId())
    expect(collector.events().map((e) => [e.type, e.session])).toEqual([
      ['impression', first.sessionId()],
      ['engagement', first.sessionId()],
      ['impression', first.sessionId()],
    ])
  })

  it('shares the session and its dedup between two open tabs', async () => {
    const collector = fakeCollector()
    const tabA = page(collector)
    const tabB = page(collector)
    tabA.impression('cmp_summer')
    tabB.impression('cmp_summer')
    tabB.engagement('adv_shoes')
    tabA.engagement('adv_shoes')
    await Promise.all([tabA.flush(), tabB.flush()])
    const events = collector.events()
    // Both tabs may post a shared outbox event (the collector dedups by id): count distinct ids.
    const distinct = [...new Map(events.map((e) => [e.id, e])).values()]
    expect(distinct.map((e) => e.type).sort()).toEqual(['engagement', 'impression'])
    expect(new Set(distinct.map((e) => e.session)).size).toBe(1)
    expect(tabA.sessionId()).toBe(tabB.sessionId())
  })

  it('keeps working in memory when IndexedDB is unavailable', async () => {
    g.indexedDB = undefined
    const collector = fakeCollector()
    const t = page(collector)
    t.impression('cmp_summer')
    t.impression('cmp_summer')
    await t.flush()
    expect(collector.events().map((e) => e.type)).toEqual(['impression'])
  })

  it('re-sends on the next load what an earlier page beaconed, then forgets it once acknowledged', async () => {
    const collector = fakeCollector()
    const first = page(collector)
    first.impression('cmp_summer')
    await settle()
    window.dispatchEvent(new Event('pagehide'))
    const beaconed = collector.beacons.flatMap((b) => b.batch.events)
    expect(beaconed.map((e) => e.type)).toEqual(['impression'])
    const next = page(collector)
    await next.flush()
    expect(collector.events().map((e) => e.id)).toContain(beaconed[0]!.id)
    const left = await idbStore('tally-ctr_shop')<BrowserEvent[]>('o')
    expect(left).toEqual([])
  })
})
