import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { newWebhookSecret, signWebhook, verifyWebhook } from './webhook-signature.js'

const NOW = Date.UTC(2026, 6, 20, 12, 0, 0)
const SECRET = 'whsec_test'
const BODY = '{"id":"evt_1","type":"credits.purchased"}'

describe('webhook signatures', () => {
  it('signs HMAC-SHA256 over "t.body" with the secret, as a receiver recomputes it by hand', () => {
    const t = NOW / 1000
    const expected = createHmac('sha256', SECRET).update(`${t}.${BODY}`).digest('hex')
    expect(signWebhook(BODY, SECRET, NOW)).toBe(`t=${t},v1=${expected}`)
  })

  it('accepts a fresh, untouched delivery', () => {
    expect(verifyWebhook(BODY, signWebhook(BODY, SECRET, NOW), SECRET, NOW + 10_000)).toEqual({ ok: true, timestamp: NOW / 1000 })
  })

  it.each([
    ['a tampered body', BODY.replace('purchased', 'low'), signWebhook(BODY, SECRET, NOW), SECRET, NOW, 'mismatch'],
    ['another secret', BODY, signWebhook(BODY, 'whsec_other', NOW), SECRET, NOW, 'mismatch'],
    ['a replay six minutes later', BODY, signWebhook(BODY, SECRET, NOW), SECRET, NOW + 6 * 60_000, 'stale'],
    ['a timestamp from the future', BODY, signWebhook(BODY, SECRET, NOW + 6 * 60_000), SECRET, NOW, 'stale'],
    [
      'a timestamp swapped for a fresh one',
      BODY,
      signWebhook(BODY, SECRET, NOW).replace(`t=${NOW / 1000}`, `t=${NOW / 1000 + 400}`),
      SECRET,
      NOW + 400_000,
      'mismatch',
    ],
    ['no header', BODY, undefined, SECRET, NOW, 'malformed'],
    ['a header without v1', BODY, `t=${NOW / 1000}`, SECRET, NOW, 'malformed'],
    ['garbage', BODY, 'v1=zz,t=x', SECRET, NOW, 'malformed'],
  ])('refuses %s', (_name, body, header, secret, now, reason) => {
    expect(verifyWebhook(body, header, secret, now)).toEqual({ ok: false, reason })
  })

  it('accepts any body it signed and refuses it with any one character changed', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.nat(), (body, k) => {
        const header = signWebhook(body, SECRET, NOW)
        expect(verifyWebhook(body, header, SECRET, NOW).ok).toBe(true)
        const i = k % body.length
        const changed = body.slice(0, i) + String.fromCharCode((body.charCodeAt(i) + 1) % 0xd800) + body.slice(i + 1)
        expect(verifyWebhook(changed, header, SECRET, NOW).ok).toBe(false)
      }),
      { numRuns: 200 },
    )
  })

  it('makes secrets that differ and name themselves', () => {
    const a = newWebhookSecret()
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/)
    expect(newWebhookSecret()).not.toBe(a)
  })
})

describe('the verification snippet of docs/webhooks.md', () => {
  const docs = readFileSync(new URL('../../../../docs/webhooks.md', import.meta.url), 'utf8')
  const code = /```js\n([\s\S]*?)```/.exec(docs.slice(docs.indexOf('## Verifying a webhook')))?.[1] ?? ''
  const fn = /function verifyWebhook[\s\S]*?\n}\n/.exec(code)?.[0]
  if (!fn) throw new Error('docs/webhooks.md has no verifyWebhook function')
  // The snippet's function, run as written, with the imports it names.
  const snippet = new Function('createHmac', 'timingSafeEqual', `const TOLERANCE_S = 300\n${fn}\nreturn verifyWebhook`)(createHmac, timingSafeEqual) as (
    body: string,
    header: string | undefined,
    secret: string,
    nowMs?: number,
  ) => boolean

  it("accepts what the collector signs and refuses what the collector's verifier refuses", () => {
    const header = signWebhook(BODY, SECRET, NOW)
    expect(snippet(BODY, header, SECRET, NOW + 1000)).toBe(true)
    expect(snippet(BODY.replace('1', '2'), header, SECRET, NOW)).toBe(false)
    expect(snippet(BODY, header, 'whsec_other', NOW)).toBe(false)
    expect(snippet(BODY, header, SECRET, NOW + 301_000)).toBe(false)
    expect(snippet(BODY, undefined, SECRET, NOW)).toBe(false)
    expect(snippet(BODY, 't=1,v1=zz', SECRET, NOW)).toBe(false)
  })
})
