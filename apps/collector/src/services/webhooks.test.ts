import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { DEFAULT_DELIVERY, afterAttempt, retryDelay } from './webhooks.js'
import type { DeliveryRow } from '../engines/repository.js'

const T = Date.UTC(2026, 6, 20, 12, 0, 0)
const HOUR = 3_600_000
const delivery = (attempts: number, created = T): DeliveryRow => ({
  account: 'acme',
  seq: 1,
  endpoint: 'we_1',
  status: 'pending',
  attempts,
  nextAt: T,
  lastAt: null,
  lastStatus: null,
  lastError: null,
  event: { id: 'evt_1', type: 'credits.purchased', created, data: {} },
})

describe('webhook retries', () => {
  it.each([
    [1, 10_000],
    [2, 20_000],
    [3, 40_000],
    [10, 3_600_000],
    [60, 3_600_000],
  ])('waits up to the doubled, capped delay before retry %i (%i ms)', (attempts, full) => {
    expect(retryDelay(attempts, DEFAULT_DELIVERY, () => 1)).toBe(full)
    expect(retryDelay(attempts, DEFAULT_DELIVERY, () => 0)).toBe(full / 2)
  })

  it('jitters every wait between half and all of its delay', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, r) => {
        const full = Math.min(DEFAULT_DELIVERY.retryMaxMs, DEFAULT_DELIVERY.retryBaseMs * 2 ** (attempts - 1))
        const d = retryDelay(attempts, DEFAULT_DELIVERY, () => r)
        expect(d).toBeGreaterThanOrEqual(Math.floor(full / 2))
        expect(d).toBeLessThanOrEqual(full)
      }),
    )
  })

  it('marks a 2xx delivered, a failure pending with its next attempt, and gives up 72 hours after the event', () => {
    expect(afterAttempt(delivery(0), { ok: true, status: 204, error: null }, T + 5, DEFAULT_DELIVERY)).toEqual({
      status: 'delivered',
      attempts: 1,
      nextAt: T + 5,
      lastAt: T + 5,
      lastStatus: 204,
      lastError: null,
    })
    expect(afterAttempt(delivery(2), { ok: false, status: 503, error: 'HTTP 503' }, T, DEFAULT_DELIVERY, () => 1)).toEqual({
      status: 'pending',
      attempts: 3,
      nextAt: T + 40_000,
      lastAt: T,
      lastStatus: 503,
      lastError: 'HTTP 503',
    })
    // An hour's wait would end past the 72 hours: this failure is the last.
    const late = afterAttempt(delivery(30), { ok: false, status: null, error: 'timed out' }, T + 71.5 * HOUR, DEFAULT_DELIVERY, () => 1)
    expect(late).toMatchObject({ status: 'failed', attempts: 31, lastStatus: null, lastError: 'timed out' })
  })

  it('marks a refusal that no retry can change failed at once, and retries one that may change', () => {
    const literal = { ok: false, status: null, error: 'refused: 127.0.0.1 is not a public address', refused: true, permanent: true }
    expect(afterAttempt(delivery(0), literal, T, DEFAULT_DELIVERY, () => 1)).toEqual({
      status: 'failed',
      attempts: 1,
      nextAt: T,
      lastAt: T,
      lastStatus: null,
      lastError: 'refused: 127.0.0.1 is not a public address',
    })
    const resolved = { ok: false, status: null, error: 'refused: hooks.acme.test resolves only to addresses that are not public (10.0.0.1)', refused: true }
    expect(afterAttempt(delivery(0), resolved, T, DEFAULT_DELIVERY, () => 1)).toMatchObject({ status: 'pending', attempts: 1, nextAt: T + 10_000 })
  })

  it('retries for 72 hours and no longer, whatever the jitter', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 200, maxLength: 200 }), (rs) => {
        let d = delivery(0)
        let now = T
        for (const r of rs) {
          const u = afterAttempt(d, { ok: false, status: 500, error: 'HTTP 500' }, now, DEFAULT_DELIVERY, () => r)
          if (u.status === 'failed') {
            expect(now).toBeLessThan(T + 72 * HOUR)
            expect(now).toBeGreaterThan(T + 71 * HOUR)
            return
          }
          d = { ...d, ...u }
          now = u.nextAt
        }
        throw new Error('never gave up')
      }),
      { numRuns: 50 },
    )
  })
})
