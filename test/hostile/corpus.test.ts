/**
 * Hostile inputs (docs/lessons.md, "Collector"): each gets a 4xx with a code, never a 500, and
 * nothing is stored. Then a fast-check fuzzer over the batch and usage schemas: thousands of
 * cases, never a 5xx, rows stored only for accepted events.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { gzipSync } from 'node:zlib'
import { parseConfigText } from '@tally/protocol'
import { NOW, ORIGIN, STORED_ROWS, batch, impression, setup, testConfig } from '../../apps/collector/src/testkit.js'

const SK = 'Bearer sk_acme_secret'
const STORED_ALL = `SELECT (${STORED_ROWS.replace(/ AS n$/, '').replace(/^SELECT /, '')}) + (SELECT COUNT(*) FROM usage_events) AS n`
const good = JSON.stringify(batch([impression()]))
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)
const open = { rateLimits: { perIp: { rate: 1e9, burst: 1e9 }, perContainer: { rate: 1e9, burst: 1e9 } }, sessionsPerHour: 1e6 }

type Case = [name: string, init: RequestInit & { path?: string }, status: number, code: string]
const beacon = (body: BodyInit, headers: Record<string, string> = {}, path = '/v1/containers/ctr_shop/events'): RequestInit & { path: string } => ({
  path,
  method: 'POST',
  body,
  headers: { origin: ORIGIN, 'content-type': 'text/plain', ...headers },
})
const usage = (body: BodyInit, headers: Record<string, string> = {}): RequestInit & { path: string } => ({
  path: '/v1/usage',
  method: 'POST',
  body,
  headers: { authorization: SK, 'content-type': 'application/json', ...headers },
})

const corpus: Case[] = [
  ['a gzip body (no Content-Encoding is read)', beacon(gzipSync(good)), 400, 'invalid_json'],
  ['a gzip body declared as gzip', beacon(gzipSync(good), { 'content-encoding': 'gzip' }), 400, 'invalid_json'],
  ['invalid UTF-8', beacon(new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])), 400, 'invalid_json'],
  ['a UTF-16 body', beacon(Buffer.from(good, 'utf16le')), 400, 'invalid_json'],
  ['deep nesting', beacon(deep(30_000)), 400, 'invalid_batch'],
  ['deep nesting inside a batch', beacon(`{"v":1,"sentAt":${NOW},"events":[${deep(20_000)}]}`), 200, ''],
  ['a huge sentAt', beacon(`{"v":1,"sentAt":1e400,"events":[${JSON.stringify(impression())}]}`), 400, 'invalid_batch'],
  ['a negative zero version', beacon(`{"v":-0,"sentAt":${NOW},"events":[]}`), 400, 'invalid_batch'],
  ['a __proto__ key in the batch', beacon(`{"__proto__":{"v":1},"sentAt":${NOW},"events":[${JSON.stringify(impression())}]}`), 400, 'invalid_batch'],
  ['a constructor key', beacon(`{"constructor":{"prototype":{"v":1}},"sentAt":${NOW},"events":[]}`), 400, 'invalid_batch'],
  ['a NUL in a session id', beacon(JSON.stringify(batch([{ ...impression(), session: 's\u0000x' }]))), 200, ''],
  ['a lone surrogate in an id', beacon(JSON.stringify(batch([{ ...impression(), id: '\ud800' }]))), 200, ''],
  ['a container id of 10,000 characters', beacon(good, {}, `/v1/containers/${'c'.repeat(10_000)}/events`), 403, 'forbidden'],
  ['a container named __proto__', beacon(good, {}, '/v1/containers/__proto__/events'), 403, 'forbidden'],
  ['a container named constructor', beacon(good, {}, '/v1/containers/constructor/events'), 403, 'forbidden'],
  ['Origin: null', beacon(good, { origin: 'null' }), 403, 'forbidden'],
  ['an Origin with credentials', beacon(good, { origin: 'https://user:pw@evil.test' }), 403, 'forbidden'],
  ['an Origin that ends in the allowed host', beacon(good, { origin: 'https://shop.acme.test.evil.net' }), 403, 'forbidden'],
  ['an Origin of 8 KB', beacon(good, { origin: `https://${'a'.repeat(8_000)}.test` }), 403, 'forbidden'],
  ['a javascript: Origin', beacon(good, { origin: 'javascript:alert(1)' }), 403, 'forbidden'],
  ['a file: Referer and no Origin', beacon(good, { origin: '', referer: 'file:///etc/passwd' }), 403, 'forbidden'],
  ['a declared length over the limit', beacon(good, { 'content-length': '99999999999999999999' }), 413, 'payload_too_large'],
  ['usage: gzip', usage(gzipSync('{"events":[]}')), 400, 'invalid_json'],
  ['usage: a __proto__ body', usage('{"__proto__":{"events":[1]}}'), 400, 'invalid_batch'],
  ['usage: events as an object', usage('{"events":{"0":{},"length":1}}'), 400, 'invalid_batch'],
  ['usage: deep nesting', usage(deep(30_000)), 400, 'invalid_batch'],
  ['usage: invalid UTF-8', usage(new Uint8Array([0x7b, 0xff, 0x7d])), 400, 'invalid_json'],
  ['usage: a key in the query string only', { path: '/v1/usage?key=sk_acme_secret', method: 'POST', body: '{"events":[]}' }, 401, 'unauthorized'],
  ['usage: a Basic authorization', usage('{"events":[]}', { authorization: 'Basic c2tfYWNtZV9zZWNyZXQ6' }), 401, 'unauthorized'],
  ['usage: a key with a trailing NUL', usage('{"events":[]}', { authorization: 'Bearer sk_acme_secret%00' }), 401, 'unauthorized'],
  ['a PATCH to the beacon route', { ...beacon(good), method: 'PATCH' }, 404, 'not_found'],
  ['a DELETE of usage', { ...usage('{}'), method: 'DELETE' }, 404, 'not_found'],
  ['an admin route without a token', { path: '/v1/admin/billing/run', method: 'POST', body: '{}' }, 401, 'unauthorized'],
  [
    'a dashboard sign-in of 5 KB',
    { path: '/dashboard/sign-in', method: 'POST', body: `key=${'k'.repeat(5_000)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    413,
    'payload_too_large',
  ],
]

describe('the hostile corpus', () => {
  it.each(corpus)('%s: a 4xx with a code (or every event refused), nothing stored', async (_name, { path, ...init }, status, code) => {
    const s = setup({ config: testConfig({ server: open }) })
    const res = await s.app.request(path as string, { ...init, duplex: 'half' } as RequestInit)
    expect(res.status).toBe(status)
    if (status === 200) {
      // Refused per event: the request stands, no event counts.
      const body = (await res.json()) as { accepted: number; rejected: { code: string }[] }
      expect(body.accepted).toBe(0)
      expect(body.rejected.every((r) => r.code === 'invalid_event')).toBe(true)
    } else {
      expect(await res.json()).toEqual({ error: { code, message: expect.any(String) } })
    }
    expect(s.count(STORED_ALL)).toBe(0)
  })

  it.each([
    ['a duplicate key', '{"plans":{},"plans":{}}'],
    ['an account id __proto__', '{"plans":{"p":{"currency":"EUR","basePrice":0}},"accounts":{"__proto__":{}}}'],
    [
      'a container id constructor',
      JSON.stringify({
        plans: { p: { currency: 'EUR', basePrice: 0 } },
        accounts: {
          a: {
            subscription: { plan: 'p', cycle: 'monthly', start: '2026-01-01' },
            keys: { secret: 'sk_x_1234567890', read: 'rk_x_1234567890' },
            containers: { constructor: { domains: ['a.test'] } },
          },
        },
      }),
    ],
  ])('a config file with %s is refused at load', (_name, text) => {
    expect(parseConfigText(text).ok).toBe(false)
  })
})

describe('fuzzing the batch and usage schemas', () => {
  const scalar = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom('__proto__', 'constructor', '\u0000', '\ud800'),
  )
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      scalar,
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('__proto__', 'id', 'type', 'ts', 'x'), tie('v'), { maxKeys: 3 }),
    ),
  })).v
  const ids = fc.constantFrom('cmp_summer', 'cmp_old', 'cmp_nope', 'adv_shoes', 'bot_help', '__proto__', '')
  const event = fc.record(
    {
      id: fc.oneof(fc.stringMatching(/^[a-z0-9]{1,8}$/), value),
      type: fc.oneof(fc.constantFrom('impression', 'engagement', 'chat', 'alert', 'action', 'email', 'contacts'), value),
      session: fc.oneof(fc.stringMatching(/^s[0-9]{1,3}$/), value),
      campaign: ids,
      advisor: ids,
      bot: ids,
      conversation: fc.stringMatching(/^c[0-9]{1,2}$/),
      phase: fc.constantFrom('start', 'ping', 'end', 'pause'),
      ts: fc.oneof(fc.integer({ min: NOW - 80 * 3_600_000, max: NOW + 3_600_000 }), value),
      action: fc.constantFrom('sms', 'ai', 'nope'),
      quantity: fc.oneof(fc.integer({ min: -2, max: 5 }), value),
      count: fc.oneof(fc.integer(), value),
    },
    { requiredKeys: [] },
  )
  const body = fc.record(
    { v: fc.oneof(fc.constant(1), value), sentAt: fc.oneof(fc.constant(NOW), value), events: fc.oneof(fc.array(event, { maxLength: 8 }), value) },
    { requiredKeys: [] },
  )

  it('never answers 5xx, and stores only what it accepted', async () => {
    const s = setup({ config: testConfig({ server: open }) })
    let cases = 0
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (b, asUsage) => {
        cases++
        const before = s.count(STORED_ALL)
        const res = asUsage
          ? await s.app.request('/v1/usage', { method: 'POST', headers: { authorization: SK }, body: JSON.stringify(b) })
          : await s.app.request('/v1/containers/ctr_shop/events', { method: 'POST', headers: { origin: ORIGIN }, body: JSON.stringify(b) })
        expect(res.status).toBeLessThan(500)
        const stored = s.count(STORED_ALL) - before
        if (res.status !== 200) {
          expect(stored).toBe(0)
          return
        }
        const out = (await res.json()) as { accepted?: number; results?: { status: string }[] }
        const accepted = asUsage ? (out.results ?? []).filter((r) => r.status === 'accepted').length : (out.accepted ?? 0)
        expect(stored).toBeLessThanOrEqual(accepted)
        if (stored < accepted) {
          // Accepted but not stored: only an impression or engagement naming a unit stored already.
          expect(asUsage).toBe(false)
        }
      }),
      { numRuns: 2_000 },
    )
    expect(cases).toBe(2_000)
  }, 60_000)
})
