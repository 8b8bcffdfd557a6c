import { describe, expect, it } from 'vitest'
import { NOW, batch, impression, setup } from '../testkit.js'
import { compileDomains, hostAllowed, normalizeHost } from './origin.js'

// Domains of ctr_origins: example.com, *.wild.example, bücher.example, Upper.Example.,
// пример.рф, ports.example:8080, 127.0.0.1
const cases: Array<[string, { origin?: string; referer?: string }, boolean]> = [
  ['the exact domain', { origin: 'https://example.com' }, true],
  ['the www. subdomain of a plain domain', { origin: 'https://www.example.com' }, true],
  ['an upper-case origin', { origin: 'https://EXAMPLE.COM' }, true],
  ['an origin with a trailing dot', { origin: 'https://example.com.' }, true],
  ['an origin with a port', { origin: 'https://example.com:8443' }, true],
  ['plain http', { origin: 'http://example.com' }, true],
  ['another subdomain of a plain domain', { origin: 'https://shop.example.com' }, false],
  ['www. twice', { origin: 'https://www.www.example.com' }, false],
  ['a suffix trick', { origin: 'https://example.com.evil.net' }, false],
  ['a prefix trick', { origin: 'https://evilexample.com' }, false],
  ['www glued to the domain', { origin: 'https://wwwexample.com' }, false],
  ['userinfo that names the domain', { origin: 'https://example.com@evil.net' }, false],
  ['a subdomain under a wildcard', { origin: 'https://a.wild.example' }, true],
  ['a deep subdomain under a wildcard', { origin: 'https://a.b.wild.example' }, true],
  ['the apex of a wildcard', { origin: 'https://wild.example' }, false],
  ['the apex of a wildcard with a trailing dot', { origin: 'https://wild.example.' }, false],
  ['a host that only ends like a wildcard', { origin: 'https://notwild.example' }, false],
  ['an IDN origin in Unicode', { origin: 'https://bücher.example' }, true],
  ['an IDN origin in punycode', { origin: 'https://xn--bcher-kva.example' }, true],
  ['an IDN origin in upper-case Unicode', { origin: 'https://BÜCHER.example' }, true],
  ['a Cyrillic domain configured in Unicode, sent in punycode as browsers do', { origin: 'https://xn--e1afmkfd.xn--p1ai' }, true],
  ['a domain configured in upper case with a trailing dot', { origin: 'https://upper.example' }, true],
  ['a domain configured with a port, sent with another port', { origin: 'https://ports.example:9999' }, true],
  ['an IP address', { origin: 'http://127.0.0.1:8788' }, true],
  ['Origin: null', { origin: 'null' }, false],
  ['neither Origin nor Referer', {}, false],
  ['a Referer of an allowed page without Origin', { referer: 'https://www.example.com/shoes?x=1' }, true],
  ['a Referer of another site without Origin', { referer: 'https://evil.net/example.com' }, false],
  ['an Origin of another site with an allowed Referer', { origin: 'https://evil.net', referer: 'https://example.com/' }, false],
  ['an allowed Origin with a Referer of another site', { origin: 'https://example.com', referer: 'https://evil.net/' }, true],
  ['Origin: null with an allowed Referer', { origin: 'null', referer: 'https://example.com/' }, false],
  ['an Origin that is not a URL', { origin: 'example.com' }, false],
  ['a non-web scheme', { origin: 'chrome-extension://example.com' }, false],
]

describe('the origin check', () => {
  it.each(cases)('%s -> allowed: %s', async (_name, { origin, referer }, allowed) => {
    const { app } = setup()
    const headers: Record<string, string> = { 'content-type': 'text/plain' }
    if (origin !== undefined) headers.origin = origin
    if (referer !== undefined) headers.referer = referer
    const res = await app.request('/v1/containers/ctr_origins/events', { method: 'POST', headers, body: JSON.stringify(batch([impression('cmp_a')])) })
    expect(res.status).toBe(allowed ? 200 : 403)
    if (allowed) expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] })
    else expect(await res.json()).toEqual({ error: { code: 'forbidden', message: expect.any(String) } })
  })

  it('normalizes configured hosts: case, IDN, trailing dot and port', () => {
    expect(normalizeHost('Bücher.Example.:8080')).toBe('xn--bcher-kva.example')
    expect(hostAllowed('xn--bcher-kva.example', compileDomains(['BÜCHER.example']))).toBe(true)
  })

  it('gives the same 403 body for an unknown container, a wrong origin and an inactive account', async () => {
    const { post } = setup()
    const bodies = await Promise.all(
      [
        post(batch([impression()]), { container: 'ctr_nope' }),
        post(batch([impression()]), { origin: 'https://evil.net' }),
        post(batch([impression('cmp_a')]), { container: 'ctr_dormant', origin: 'https://dormant.test' }),
      ].map(async (r) => [(await r).status, await (await r).text()]),
    )
    expect(bodies.map(([s]) => s)).toEqual([403, 403, 403])
    expect(new Set(bodies.map(([, b]) => b)).size).toBe(1)
  })

  it('records the real reason of each refusal for the account to see', async () => {
    const { app, post } = setup()
    await post(batch([impression()]), { origin: 'https://evil.net' })
    await post(batch([impression()]), { origin: 'https://evil.net' })
    await post(batch([impression()]), { origin: null })
    await post(batch([impression()]), { container: 'ctr_nope' })
    const res = await app.request('/v1/rejections', { headers: { authorization: 'Bearer rk_acme_read' } })
    expect(res.status).toBe(200)
    const { rejections } = (await res.json()) as { rejections: Array<Record<string, unknown>> }
    expect(
      rejections
        .map(({ container, reason, origin, count }) => ({ container, reason, origin, count }))
        .sort((a, b) => String(a.reason).localeCompare(String(b.reason))),
    ).toEqual([
      { container: 'ctr_shop', reason: 'origin_missing', origin: '', count: 1 },
      { container: 'ctr_shop', reason: 'origin_not_allowed', origin: 'evil.net', count: 2 },
    ])
  })

  it('shows an account none of the refusals of another account', async () => {
    const { app, post } = setup()
    await post(batch([impression('cmp_a')]), { container: 'ctr_dormant', origin: 'https://dormant.test' })
    const acme = await (await app.request('/v1/rejections', { headers: { authorization: 'Bearer sk_acme_secret' } })).json()
    const dormant = await (await app.request('/v1/rejections', { headers: { authorization: 'Bearer rk_dormant_read' } })).json()
    expect(acme).toEqual({
      account: 'acme',
      timezone: 'Europe/Amsterdam',
      since: new Date(NOW - 7 * 86_400_000).toISOString(),
      rejections: [],
      nextCursor: null,
    })
    expect((dormant as { rejections: Array<{ reason: string }> }).rejections.map((r) => r.reason)).toEqual(['account_inactive'])
  })
})
