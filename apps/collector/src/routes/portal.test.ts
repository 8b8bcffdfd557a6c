/**
 * The billing portal's routes against the in-process app (docs/portal.md): sessions, the tenancy of
 * every route, idempotent writes, previews that bill what they said, invoice information on later
 * invoices only, payment status and notices.
 */
import { describe, expect, it } from 'vitest'
import { SK, key, portal } from './portal.fixtures.js'

describe('portal sessions', () => {
  it('opens a link once, for about an hour, with an HttpOnly cookie', async () => {
    const p = portal()
    const s = await p.open()
    expect((await p.call(s, 'GET', '/v1/portal/state')).status).toBe(200)
    // The link works once.
    expect((await p.app.request(s.link)).status).toBe(401)
    p.clock.advance(59 * 60_000)
    expect((await p.call(s, 'GET', '/v1/portal/state')).status).toBe(200)
    p.clock.advance(60_001)
    expect((await p.call(s, 'GET', '/v1/portal/state')).status).toBe(401)
    expect((await p.app.request('/portal', { headers: { cookie: `tally_portal=${s.cookie}` } })).status).toBe(401)
  })

  it("sets the cookie HttpOnly and SameSite, and frames only on the account's container domains", async () => {
    const p = portal()
    const res = await p.app.request('/v1/portal/sessions', { method: 'POST', headers: { authorization: `Bearer ${SK}` }, body: '{}' })
    const link = new URL(((await res.json()) as { url: string }).url)
    const opened = await p.app.request(`${link.pathname}${link.search}`)
    expect(opened.headers.get('set-cookie')).toMatch(/HttpOnly/)
    expect(opened.headers.get('set-cookie')).toMatch(/SameSite=Lax/)
    const cookie = /tally_portal=([^;]+)/.exec(opened.headers.get('set-cookie') ?? '')?.[1]
    const page = await p.app.request('/portal', { headers: { cookie: `tally_portal=${cookie}` } })
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'self' *.acme.test:* shop.acme.test:* www.shop.acme.test:*")
  })

  it("over HTTPS the cookie is Secure, SameSite=None and Partitioned, so it works in the vendor's iframe", async () => {
    const p = portal()
    const res = await p.app.request('https://billing.example/v1/portal/sessions', { method: 'POST', headers: { authorization: `Bearer ${SK}` }, body: '{}' })
    const { url } = (await res.json()) as { url: string }
    expect(url.startsWith('https://billing.example/portal/open?token=')).toBe(true)
    const opened = await p.app.request(url)
    expect(opened.headers.get('set-cookie')).toMatch(/Secure/)
    expect(opened.headers.get('set-cookie')).toMatch(/SameSite=None/)
    expect(opened.headers.get('set-cookie')).toMatch(/Partitioned/)
  })

  it('refuses the read key, an unknown member and a bad return URL', async () => {
    const p = portal()
    const mint = (auth: string, body: unknown) =>
      p.app.request('/v1/portal/sessions', { method: 'POST', headers: { authorization: `Bearer ${auth}` }, body: JSON.stringify(body) })
    expect((await mint('rk_acme_read', {})).status).toBe(403)
    expect((await mint(SK, { member: 'mallory' })).status).toBe(400)
    expect((await mint(SK, { returnUrl: 'javascript:alert(1)' })).status).toBe(400)
    expect((await mint(SK, { nope: 1 })).status).toBe(400)
  })
})

/** Every portal route with a body that would succeed for the manager of acme. */
const ROUTES: [string, string, (() => unknown) | undefined][] = [
  ['GET', '/v1/portal/state', undefined],
  ['GET', '/v1/portal/credits/log?wallet=account', undefined],
  ['GET', '/v1/portal/invoices/1.pdf', undefined],
  ['POST', '/v1/portal/subscription/preview', () => ({ seats: 4 })],
  ['POST', '/v1/portal/subscription/changes', () => ({ seats: 4, key: key() })],
  ['POST', '/v1/portal/subscription/cancel', () => ({ key: key() })],
  ['POST', '/v1/portal/subscription/resume', () => ({ key: key() })],
  ['POST', '/v1/portal/credits/purchase', () => ({ pack: 'small', key: key() })],
  ['POST', '/v1/portal/emails/purchase', () => ({ pack: 'big', key: key() })],
  ['POST', '/v1/portal/credits/transfer', () => ({ to: 'alice', credits: 5, key: key() })],
  ['PUT', '/v1/portal/billing-details', () => ({ company: 'Acme BV', address: 'Dam 1\nAmsterdam', taxId: 'NL123', email: 'billing@acme.test', key: key() })],
  ['POST', '/v1/portal/sign-out', () => ({})],
]
const READS_FOR_MEMBERS = new Set(['/v1/portal/state', '/v1/portal/credits/log?wallet=account', '/v1/portal/sign-out'])

describe('tenancy: every portal route', () => {
  it("refuses no session and an expired one with 401, a member's with 403 for what is the manager's, and never touches another account", async () => {
    const p = portal()
    // An invoice to download: the first run of acme.
    await p.admin('/v1/admin/billing/run', {})
    const mine = await p.open()
    const member = await p.open({ member: 'alice' })
    const stranger = await p.open({ account: 'other' })
    const expired = await p.open()
    // Account changes are versions with their audit entries (docs/configuration.md), by the portal session that made them.
    const before = p.count("SELECT count(*) AS n FROM config_audit WHERE actor LIKE 'portal:%'")
    for (const [method, path, body] of ROUTES) {
      const b = body?.()
      expect((await p.call(null, method, path, b)).status, `${method} ${path} without a session`).toBe(401)
      if (!READS_FOR_MEMBERS.has(path)) expect((await p.call(member, method, path, b)).status, `${method} ${path} by a member`).toBe(403)
      // Another account's session acts on its own account only: acme's state is untouched, whatever it asks.
      const theirs = await p.call(stranger, method, path, b)
      expect(theirs.status, `${method} ${path} by another account`).toBeLessThan(500)
    }
    expect(p.count("SELECT count(*) AS n FROM config_audit WHERE id = 'acme' AND actor LIKE 'portal:%'")).toBe(0)
    expect(p.count("SELECT count(*) AS n FROM account_facts WHERE account = 'acme'")).toBe(0)
    expect(p.count("SELECT count(*) AS n FROM ledger WHERE account = 'acme' AND json_extract(entry, '$.type') IN ('purchase', 'transfer_out')")).toBe(0)
    expect(p.count("SELECT count(*) AS n FROM config_audit WHERE id = 'other' AND actor LIKE 'portal:%'")).toBeGreaterThan(before)
    // Their state shows their account, never acme.
    const state = await p.json(stranger, 'GET', '/v1/portal/state')
    expect(state.body.account.id).toBe('other')
    // A member sees its own wallet only.
    const ms = await p.json(member, 'GET', '/v1/portal/state')
    expect(ms.body.wallets.map((w: { wallet: string }) => w.wallet)).toEqual(['member:alice'])
    expect(ms.body.invoices).toEqual([])
    expect((await p.call(member, 'GET', '/v1/portal/credits/log?wallet=account')).status).toBe(403)
    // Expired: 401 everywhere.
    p.clock.advance(3_600_001)
    for (const [method, path, body] of ROUTES) expect((await p.call(expired, method, path, body?.())).status, `${method} ${path} expired`).toBe(401)
    // The manager's session, while valid, works on every route (fresh clock: mint again).
    const fresh = await p.open()
    for (const [method, path, body] of ROUTES) {
      const res = await p.call(fresh, method, path, body?.())
      expect(res.status, `${method} ${path} by the manager: ${res.status === 200 ? '' : await res.clone().text()}`).toBeLessThan(300)
    }
    void mine
  })

  it("refuses a write without the CSRF token, with another's token, or from another site", async () => {
    const p = portal()
    const s = await p.open()
    const other = await p.open()
    const body = { pack: 'small', key: key() }
    expect((await p.call({ cookie: s.cookie, csrf: '' }, 'POST', '/v1/portal/credits/purchase', body)).status).toBe(403)
    expect((await p.call({ cookie: s.cookie, csrf: other.csrf }, 'POST', '/v1/portal/credits/purchase', body)).status).toBe(403)
    expect((await p.call(s, 'POST', '/v1/portal/credits/purchase', body, { origin: 'https://evil.test' })).status).toBe(403)
    expect((await p.call(s, 'POST', '/v1/portal/credits/purchase', body, { 'sec-fetch-site': 'cross-site' })).status).toBe(403)
    expect(p.count("SELECT count(*) AS n FROM ledger WHERE json_extract(entry, '$.type') = 'purchase'")).toBe(0)
    expect((await p.call(s, 'POST', '/v1/portal/credits/purchase', body)).status).toBe(200)
  })
})
