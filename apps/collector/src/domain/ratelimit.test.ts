import { describe, expect, it } from 'vitest'
import { manualClock } from './clock.js'
import { createFairLimiter, createLimiter } from './ratelimit.js'

describe('the fair container limiter', () => {
  it('lets no address take more than its share, and leaves the rest to the others', () => {
    const fair = createFairLimiter({ rate: 10, burst: 20 }, manualClock(0), 4)
    // A share is 5 at once: the sixth request of one address waits for its share, not the container.
    const one = Array.from({ length: 6 }, () => fair.take('c', 'a'))
    expect(one.slice(0, 5)).toEqual([0, 0, 0, 0, 0])
    expect(one[5]).toBeGreaterThan(0)
    for (const a of ['b', 'c', 'd']) for (let i = 0; i < 5; i++) expect(fair.take('c', a)).toBe(0)
    // Four shares spent the whole burst: a fifth address now meets the container's limit.
    expect(fair.take('c', 'e')).toBeGreaterThan(0)
  })

  it('keeps containers apart', () => {
    const fair = createFairLimiter({ rate: 1, burst: 2 }, manualClock(0), 2)
    expect(fair.take('c1', 'a')).toBe(0)
    expect(fair.take('c1', 'a')).toBeGreaterThan(0)
    expect(fair.take('c2', 'a')).toBe(0)
  })
})

describe('a costlier take', () => {
  it('takes as many tokens as it costs, and a refused one holds the key until the cost could be had', () => {
    const clock = manualClock(0)
    const limiter = createLimiter({ rate: 10, burst: 20 }, clock)
    expect(limiter.take('a', 16)).toBe(0)
    // 4 left: a take of 16 waits for 12 more (1.2 s at 10/s).
    expect(limiter.take('a', 16)).toBe(1200)
    // Meanwhile every take is refused with what is left of that wait, though the 4 are still there.
    expect(limiter.take('a')).toBe(1200)
    clock.advance(1000)
    expect(limiter.take('a')).toBe(200)
    expect(limiter.take('b')).toBe(0)
    // Then the whole cost is there for the client that waited as told: the request's first token and the rest.
    clock.advance(200)
    expect(limiter.take('a')).toBe(0)
    expect(limiter.take('a', 15)).toBe(0)
    expect(limiter.take('a')).toBe(100)
  })

  it('costs at most a full bucket, so a costly request is never refused for good', () => {
    const limiter = createLimiter({ rate: 1, burst: 5 }, manualClock(0))
    expect(limiter.take('a', 16)).toBe(0)
    expect(limiter.take('a')).toBe(1000)
  })

  it('leaves a refused take of one token as it was', () => {
    const clock = manualClock(0)
    const limiter = createLimiter({ rate: 10, burst: 1 }, clock)
    expect(limiter.take('a')).toBe(0)
    clock.advance(50)
    expect(limiter.take('a')).toBe(50)
    clock.advance(50)
    expect(limiter.take('a')).toBe(0)
  })
})
