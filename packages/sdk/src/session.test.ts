import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createSession } from './session.js'
import { memoryStore } from './store.js'

const MIN = 60_000

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(new Date('2026-07-12T10:00:00Z'))
})
afterEach(() => vi.useRealTimers())

describe('session', () => {
  it('has an id before the stored session is read, and keeps it for a first session', async () => {
    const s = createSession(memoryStore(), 30 * MIN)
    const early = s.id()
    expect(early).toMatch(/^s_[A-Za-z0-9]+$/)
    expect(await s.touch()).toBe(early)
  })

  it('begins each id with the time the session began, so that later sessions sort after earlier ones', async () => {
    const store = memoryStore()
    const first = createSession(store, 30 * MIN)
    const id1 = (await first.touch()) as string
    const at = (iso: string) => `s_${Date.parse(iso).toString(36)}`
    expect(at('2026-07-12T10:00:00Z')).toHaveLength(10)
    expect(id1).toMatch(new RegExp(`^${at('2026-07-12T10:00:00Z')}\\d{4,40}$`))
    vi.advanceTimersByTime(31 * MIN)
    const id2 = (await first.touch()) as string
    expect(id2.startsWith(at('2026-07-12T10:31:00Z'))).toBe(true)
    expect(id1 < id2).toBe(true)
    // Within the wire alphabet's 64 characters (ID_PATTERN), however long the random part.
    expect(id2.length).toBeLessThanOrEqual(2 + 8 + 40)
  })

  it('adopts the session another tab already stored', async () => {
    const store = memoryStore()
    const tabA = createSession(store, 30 * MIN)
    await tabA.touch()
    const tabB = createSession(store, 30 * MIN)
    expect(await tabB.touch()).toBe(tabA.id())
    expect(tabB.id()).toBe(tabA.id())
  })

  it('stays alive while a sibling tab is active, though this tab was idle for longer than the timeout', async () => {
    const store = memoryStore()
    const idle = createSession(store, 30 * MIN)
    const busy = createSession(store, 30 * MIN)
    const id = await idle.touch()
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(20 * MIN)
      await busy.touch()
    }
    expect(await idle.touch('i:cmp_summer')).toBe(id)
  })

  it('renews after the timeout with a new id and an empty dedup memory', async () => {
    const s = createSession(memoryStore(), 30 * MIN)
    const first = await s.touch('i:cmp_summer')
    expect(await s.touch('i:cmp_summer')).toBeUndefined()
    vi.advanceTimersByTime(30 * MIN)
    const second = await s.touch('i:cmp_summer')
    expect(second).toMatch(/^s_/)
    expect(second).not.toBe(first)
  })

  it('claims each dedup key once per session', async () => {
    const s = createSession(memoryStore(), 30 * MIN)
    const id = await s.touch()
    expect(await s.touch('i:cmp_a')).toBe(id)
    expect(await s.touch('i:cmp_b')).toBe(id)
    expect(await s.touch('e:cmp_a')).toBe(id)
    expect(await s.touch('i:cmp_a')).toBeUndefined()
  })
})
