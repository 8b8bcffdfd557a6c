/**
 * Keys cannot be guessed at full speed (docs/security.md, "Keys and sign-ins"): failed bearer key
 * checks and dashboard sign-ins are limited per client address (`429` with `Retry-After` once an
 * address has failed 10 times, then one more try every 6 s), logged as counts (one line a minute
 * per address, never one per guess), and the right key's holder on another address is never
 * affected.
 */
import { describe, expect, it } from 'vitest'
import pino from 'pino'
import { Writable } from 'node:stream'
import { setup } from '../../apps/collector/src/testkit.js'

const GUESSES = 2_000

function world() {
  const lines: { msg: string; failed?: number; throttled?: number; address?: string }[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)))
      done()
    },
  })
  const s = setup({ logger: pino({ level: 'info' }, sink) })
  const from = (remote: string, path: string, init: RequestInit = {}) => s.app.request(path, init, { incoming: { socket: { remoteAddress: remote } } })
  return { ...s, lines, from }
}

describe('a guesser of keys from one address', () => {
  it(`gets 429 with Retry-After for bearer guesses past the first 10, of ${GUESSES}; the right key works from elsewhere`, async () => {
    const w = world()
    const statuses = new Map<number, number>()
    let retryAfter = ''
    for (let i = 0; i < GUESSES; i++) {
      const res = await w.from('203.0.113.9', '/v1/usage?from=2026-07-20&to=2026-07-20', { headers: { authorization: `Bearer rk_guess_${i}` } })
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      if (res.status === 429) retryAfter = res.headers.get('retry-after') ?? ''
    }
    expect(statuses.get(401)).toBe(10)
    expect(statuses.get(429)).toBe(GUESSES - 10)
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
    // Even the right key gets no answer from the throttled address: a guess that hit would not tell.
    expect((await w.from('203.0.113.9', '/v1/usage?from=2026-07-20&to=2026-07-20', { headers: { authorization: 'Bearer rk_acme_read' } })).status).toBe(429)
    // The key's holder, elsewhere, is not affected.
    expect((await w.from('198.51.100.4', '/v1/usage?from=2026-07-20&to=2026-07-20', { headers: { authorization: 'Bearer rk_acme_read' } })).status).toBe(200)
    // After the wait, one more try.
    w.clock.advance(6_000)
    expect((await w.from('203.0.113.9', '/v1/usage?from=2026-07-20&to=2026-07-20', { headers: { authorization: 'Bearer rk_acme_read' } })).status).toBe(200)
    // Logged as counts: one line for the first failure of the minute, not one per guess.
    const logged = w.lines.filter((l) => l.msg === 'key checks failed')
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatchObject({ address: '203.0.113.9', failed: 1, throttled: 0 })
    // A minute later, the next failure carries the counts since.
    w.clock.advance(60_000)
    await w.from('203.0.113.9', '/v1/usage', { headers: { authorization: 'Bearer rk_wrong' } })
    const again = w.lines.filter((l) => l.msg === 'key checks failed')
    expect(again).toHaveLength(2)
    expect(again[1]).toMatchObject({ failed: 10, throttled: GUESSES - 10 + 1 })
  })

  it(`gets 429 for dashboard sign-in guesses past the first 10, of ${GUESSES}`, async () => {
    const w = world()
    const sign = (remote: string, key: string) =>
      w.from(remote, '/dashboard/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', 'sec-fetch-site': 'same-origin' },
        body: `key=${key}`,
      })
    const statuses = new Map<number, number>()
    for (let i = 0; i < GUESSES; i++) {
      const res = await sign('203.0.113.9', `rk_guess_${i}`)
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    }
    expect(statuses.get(401)).toBe(10)
    expect(statuses.get(429)).toBe(GUESSES - 10)
    expect((await sign('198.51.100.4', 'rk_acme_read')).status).toBe(303)
    expect(w.lines.filter((l) => /sign-in|key checks/.test(l.msg))).toHaveLength(1)
  })
})
