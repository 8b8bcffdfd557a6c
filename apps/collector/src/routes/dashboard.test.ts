import { describe, expect, it } from 'vitest'
import { Hono } from 'hono'
import { batch, impression, setup, testConfig } from '../testkit.js'
import { createConfigState } from '../domain/config.js'
import { requireAccount } from '../middleware/auth.js'
import { REJECTION_REASONS } from '@tally/protocol'
import { REASONS } from '../web/dashboard/reasons.js'

const signIn = (app: ReturnType<typeof setup>['app'], key: string) =>
  app.request('/dashboard/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key }).toString(),
  })

const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0] as string

describe('dashboard sign-in', () => {
  it('shows the sign-in form to a visitor without a cookie', async () => {
    const { app } = setup()
    const res = await app.request('/dashboard')
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('action="/dashboard/sign-in"')
    expect(html).not.toContain('app.js')
  })

  it('signs in with the read key: an HttpOnly, SameSite=Strict cookie, then the dashboard', async () => {
    const { app } = setup()
    const res = await signIn(app, 'rk_acme_read')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/dashboard')
    const set = res.headers.get('set-cookie') ?? ''
    expect(set).toMatch(/^tally_session=rk_acme_read;/)
    expect(set).toContain('HttpOnly')
    expect(set).toContain('SameSite=Strict')
    expect(set).toContain('Path=/')
    const page = await app.request('/dashboard', { headers: { cookie: cookieOf(res) } })
    const html = await page.text()
    expect(html).toContain('<title>Acme — Tally</title>')
    expect(html).toContain('/dashboard/assets/app.js')
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'")
  })

  it('sets the Secure flag when served over https', async () => {
    const { app } = setup()
    const res = await app.request('https://tally.example/dashboard/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'key=rk_acme_read',
    })
    expect(res.headers.get('set-cookie')).toContain('Secure')
  })

  it('sets the Secure flag behind a trusted proxy that forwards https, and only then', async () => {
    const { app } = setup({ config: testConfig({ server: { trustedProxies: ['10.0.0.1'] } }) })
    const from = (remoteAddress: string) =>
      app.request(
        '/dashboard/sign-in',
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' }, body: 'key=rk_acme_read' },
        { incoming: { socket: { remoteAddress } } },
      )
    expect((await from('10.0.0.1')).headers.get('set-cookie')).toContain('Secure')
    expect((await from('::ffff:10.0.0.1')).headers.get('set-cookie')).toContain('Secure')
    expect((await from('203.0.113.9')).headers.get('set-cookie')).not.toContain('Secure')
  })

  const refused: Array<[string, string, string]> = [
    ['an unknown key', 'rk_wrong', 'does not open any account'],
    ['an empty key', '', 'does not open any account'],
    ['the secret key', 'sk_acme_secret', 'Sign in with the read key'],
  ]
  it.each(refused)('refuses %s with 401, a clear message and no cookie', async (_n, key, message) => {
    const { app } = setup()
    const res = await signIn(app, key)
    expect(res.status).toBe(401)
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(await res.text()).toContain(message)
  })

  it('reads at most 4 KB of a sign-in body: a larger one is refused with 413, declared or streamed', async () => {
    const { app } = setup()
    const big = `key=${'x'.repeat(5000)}`
    const declared = await app.request('/dashboard/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(100 * 1024 * 1024) },
      body: big,
    })
    expect(declared.status).toBe(413)
    const stream = new ReadableStream({
      start(ctl) {
        for (let i = 0; i < 100; i++) ctl.enqueue(new TextEncoder().encode('x'.repeat(1024)))
        ctl.close()
      },
    })
    const streamed = await app.request('/dashboard/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(streamed.status).toBe(413)
    expect(await streamed.json()).toEqual({ error: { code: 'payload_too_large', message: 'the body exceeds 4096 bytes' } })
  })

  it('refuses a body that is not a form as a sign-in without a key', async () => {
    const { app } = setup()
    const res = await app.request('/dashboard/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })
    expect(res.status).toBe(401)
  })

  it('signs out by clearing the cookie', async () => {
    const { app } = setup()
    const res = await app.request('/dashboard/sign-out', { method: 'POST', headers: { cookie: 'tally_session=rk_acme_read' } })
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).toMatch(/^tally_session=;.*Max-Age=0/)
  })

  it('escapes the account name in the page', async () => {
    const { app } = setup()
    const put = await app.request('/v1/admin/accounts/acme', {
      method: 'PUT',
      headers: { authorization: 'Bearer admin-token-for-tests', 'content-type': 'application/json' },
      body: JSON.stringify({
        name: '<script>alert(1)</script>',
        timezone: 'Europe/Amsterdam',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12' },
        keys: { secret: 'sk_acme_secret', read: 'rk_acme_read' },
      }),
    })
    expect(put.status).toBe(200)
    const html = await (await app.request('/dashboard', { headers: { cookie: 'tally_session=rk_acme_read' } })).text()
    expect(html).not.toContain('<script>alert(1)</script>')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })
})

describe('the sign-in cookie on the read API', () => {
  it('authenticates GET /v1/usage and GET /v1/rejections for the signed-in account', async () => {
    const { app, post } = setup()
    expect((await post(batch([impression()]))).status).toBe(200)
    const cookie = { cookie: 'tally_session=rk_acme_read' }
    const usage = await app.request('/v1/usage', { headers: cookie })
    expect(usage.status).toBe(200)
    expect((await usage.json()).rows[0].impressions).toBe(1)
    expect((await app.request('/v1/rejections', { headers: cookie })).status).toBe(200)
  })

  it('is not accepted with a secret key inside, nor with a key of no account', async () => {
    const { app } = setup()
    for (const cookie of ['tally_session=sk_acme_secret', 'tally_session=rk_nobody']) {
      expect((await app.request('/v1/usage', { headers: { cookie } })).status).toBe(401)
    }
  })

  it('never reads another account: the cookie names its own account only', async () => {
    const { app } = setup()
    const body = await (await app.request('/v1/usage', { headers: { cookie: 'tally_session=rk_dormant_read' } })).json()
    expect(body.account).toBe('dormant')
  })

  it('does not authenticate writes: a POST needs the key in the Authorization header', async () => {
    const config = createConfigState(testConfig())
    const app = new Hono()
    app.post('/write', (c) => c.json({ account: requireAccount(c, config) }))
    app.onError((err, c) => c.json({ code: (err as { code?: string }).code }, 401))
    const cookie = { cookie: 'tally_session=rk_acme_read' }
    expect((await app.request('/write', { method: 'POST', headers: cookie })).status).toBe(401)
    const bearer = await app.request('/write', { method: 'POST', headers: { authorization: 'Bearer rk_acme_read' } })
    expect(await bearer.json()).toEqual({ account: 'acme' })
  })
})

describe('dashboard assets', () => {
  it.each([
    ['app.js', 'text/javascript'],
    ['app.css', 'text/css'],
    ['uPlot.iife.min.js', 'text/javascript'],
    ['uPlot.min.css', 'text/css'],
  ])('serves %s locally as %s', async (file, type) => {
    const { app } = setup()
    const res = await app.request(`/dashboard/assets/${file}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain(type)
    expect((await res.text()).length).toBeGreaterThan(100)
  })

  it('answers 404 for any other file, path tricks included', async () => {
    const { app } = setup()
    for (const path of ['/dashboard/assets/index.html', '/dashboard/assets/..%2F..%2Fpackage.json', '/dashboard/assets/constructor']) {
      expect((await app.request(path)).status).toBe(404)
    }
  })

  it('references no other origin from the page or its script', async () => {
    const { app } = setup()
    const html = await (await app.request('/dashboard', { headers: { cookie: 'tally_session=rk_acme_read' } })).text()
    const js = await (await app.request('/dashboard/assets/app.js')).text()
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//)
    expect(js).not.toMatch(/https?:\/\//)
  })
})

describe('dashboard forms posted from another site', () => {
  const post = (app: ReturnType<typeof setup>['app'], path: string, headers: Record<string, string>, cookie?: string) =>
    app.request(`http://tally.example:8787${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...headers },
      body: 'key=rk_acme_read',
    })

  it.each([
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site', origin: 'http://shop.example:8787' }],
    ['an Origin of another host', { origin: 'https://evil.example' }],
    ['an Origin of another port', { origin: 'http://tally.example:9999' }],
    ['Origin: null', { origin: 'null' }],
  ])('refuses a sign-in and a sign-out with %s: 403, a page that says so, no cookie set or cleared', async (_, headers) => {
    const { app } = setup()
    for (const path of ['/dashboard/sign-in', '/dashboard/sign-out']) {
      const res = await post(app, path, headers, 'tally_session=rk_acme_read')
      expect(res.status).toBe(403)
      expect(res.headers.get('set-cookie')).toBeNull()
      expect(res.headers.get('content-type')).toContain('text/html')
      expect(await res.text()).toContain('sent from another site')
    }
  })

  it.each([
    ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin', origin: 'http://tally.example:8787' }],
    ['Sec-Fetch-Site: none (typed by the user)', { 'sec-fetch-site': 'none' }],
    ['its own Origin, without Sec-Fetch-Site', { origin: 'http://tally.example:8787' }],
    ['neither header (not a browser page)', {}],
  ])('accepts a sign-in and a sign-out with %s', async (_, headers) => {
    const { app } = setup()
    const signIn = await post(app, '/dashboard/sign-in', headers)
    expect(signIn.status).toBe(303)
    expect(signIn.headers.get('set-cookie')).toMatch(/^tally_session=rk_acme_read;/)
    const signOut = await post(app, '/dashboard/sign-out', headers, 'tally_session=rk_acme_read')
    expect(signOut.status).toBe(303)
    expect(signOut.headers.get('set-cookie')).toMatch(/^tally_session=;/)
  })
})

describe('the dashboard page', () => {
  it('sends no referrer to other sites, so that its own forms carry their Origin', async () => {
    const { app } = setup()
    expect((await app.request('/dashboard')).headers.get('referrer-policy')).toBe('same-origin')
  })

  it('puts an account name with $ patterns in the page as written, escaped', async () => {
    const config = testConfig()
    const acme = config.accounts.acme!
    const named = { ...config, accounts: { ...config.accounts, acme: { ...acme, name: "Cost$ $& $' $` $$ <b>" } } }
    const { app } = setup({ config: named })
    const res = await app.request('/dashboard', { headers: { cookie: 'tally_session=rk_acme_read' } })
    const html = await res.text()
    expect(html).toContain('<title>Cost$ $&amp; $&#39; $` $$ &lt;b&gt; — Tally</title>')
    expect(html).not.toContain('%ACCOUNT_NAME%')
  })

  it('serves a favicon that every page links', async () => {
    const { app } = setup()
    const icon = await app.request('/dashboard/assets/favicon.svg')
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml'])
    expect(await icon.text()).toContain('<svg')
    expect(await (await app.request('/dashboard')).text()).toContain('href="/dashboard/assets/favicon.svg"')
    expect(await (await app.request('/dashboard', { headers: { cookie: 'tally_session=rk_acme_read' } })).text()).toContain(
      'href="/dashboard/assets/favicon.svg"',
    )
  })
})

describe("the refused beacons' reasons on the dashboard", () => {
  /**
   * The `REASONS` table of the page's source, each text checked to be in the served (bundled,
   * minified) script as the page reads it.
   */
  async function reasonTexts(): Promise<Record<string, string>> {
    const { app } = setup()
    const js = await (await app.request('/dashboard/assets/app.js')).text()
    for (const [reason, text] of Object.entries(REASONS)) expect(js, `the served text of ${reason}`).toContain(text)
    return REASONS
  }

  it('explains every reason the collector records a refusal under', async () => {
    const texts = await reasonTexts()
    for (const reason of REJECTION_REASONS) {
      expect(Object.hasOwn(texts, reason), `no text for ${reason}`).toBe(true)
      expect(texts[reason]!.length, `the text of ${reason}`).toBeGreaterThan(20)
    }
    // And no text for a reason that is never recorded.
    expect(Object.keys(texts).filter((r) => !(REJECTION_REASONS as readonly string[]).includes(r))).toEqual([])
  })

  it.each([
    ['rate_limited', /server\.rateLimits/],
    ['payload_too_large', /64 KB/],
    ['invalid_json', /not JSON/],
    ['invalid_batch', /batch/],
    ['invalid_request', /connection closed/],
    ['conversation_too_long', /1,000 events/],
  ])('says what %s means and what to do', async (reason, meaning) => {
    const text = (await reasonTexts())[reason]
    expect(text).toMatch(meaning)
  })
})
