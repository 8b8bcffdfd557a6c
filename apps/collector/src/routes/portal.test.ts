/**
 * The billing portal's routes against the in-process app (docs/portal.md): sessions, the tenancy of
 * every route, idempotent writes, previews that bill what they said, invoice information on later
 * invoices only, payment status and notices.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { parseConfig, type TallyConfig } from '@tally/protocol'
import type { Invoice } from '@tally/billing'
import { ADMIN, NOW, setup } from '../testkit.js'

const SK = 'sk_acme_secret'
const GROWTH = {
  name: 'Growth', currency: 'EUR', basePrice: 4900, seatPrice: 1500,
  freeCredits: 500, creditsLowThreshold: 100,
  creditPacks: { small: { credits: 1000, price: 1000 } }, emailPacks: { big: { emails: 5000, price: 1500 } },
  products: { data: { name: 'DataUnlimited', price: 1900 }, push: { price: 500 } },
  cycleDiscountPercent: { quarterly: 5, annual: 20 },
  portal: {
    plans: ['pro', 'lite'], cycles: ['quarterly', 'annual'], seats: { min: 1, max: 20 },
    products: true, creditPacks: true, emailPacks: true, transfers: true, cancel: true,
  },
}

function config(): TallyConfig {
  const account = (secret: string, read: string, ctr: string) => ({
    name: 'Acme Inc.', timezone: 'Europe/Amsterdam',
    subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 3, contacts: 1000, products: ['data'] },
    keys: { secret, read }, members: ['alice', 'bob'],
    containers: { [ctr]: { domains: ['shop.acme.test', '*.acme.test'], campaigns: { cmp_summer: {} } } },
  })
  const r = parseConfig({
    plans: {
      growth: GROWTH,
      pro: { ...GROWTH, name: 'Pro', basePrice: 9900, portal: { ...GROWTH.portal, plans: ['growth'] } },
      lite: { name: 'Lite', currency: 'EUR', basePrice: 1900, products: { push: { price: 300 } }, portal: { plans: ['growth'] } },
    },
    accounts: { acme: account(SK, 'rk_acme_read', 'ctr_shop'), other: account('sk_other_secret', 'rk_other_read', 'ctr_other') },
  })
  if (!r.ok) throw new Error(r.message)
  return r.value
}

const ORIGIN = 'http://localhost'

function portal() {
  const t = setup({ config: config() })
  /** A signed-in portal for `account`: its cookie and CSRF token, as the browser would hold them. */
  const open = async (opts: { account?: string; member?: string } = {}) => {
    const secret = opts.account === 'other' ? 'sk_other_secret' : SK
    const res = await t.app.request('/v1/portal/sessions', {
      method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify(opts.member ? { member: opts.member, returnUrl: 'https://app.acme.test/settings' } : {}),
    })
    expect(res.status).toBe(200)
    const { url } = (await res.json()) as { url: string; expiresAt: string }
    const link = new URL(url)
    const opened = await t.app.request(`${link.pathname}${link.search}`)
    expect(opened.status).toBe(200)
    const cookie = /tally_portal=([^;]+)/.exec(opened.headers.get('set-cookie') ?? '')?.[1] ?? ''
    const page = await (await t.app.request('/portal', { headers: { cookie: `tally_portal=${cookie}` } })).text()
    const csrf = /name="tally-csrf" content="([^"]+)"/.exec(page)?.[1] ?? ''
    return { cookie, csrf, link: `${link.pathname}${link.search}` }
  }
  type S = { cookie: string; csrf: string } | null
  // Each call comes from its own address: the failed-key throttle (docs/security.md) counts per
  // address, and these calls test the session rules, not the throttle.
  let peers = 0
  const call = (s: S, method: string, path: string, body?: unknown, extra: Record<string, string> = {}) =>
    t.app.request(path, {
      method,
      headers: {
        ...(s ? { cookie: `tally_portal=${s.cookie}`, 'x-tally-csrf': s.csrf } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json', origin: ORIGIN }),
        ...extra,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }, { incoming: { socket: { remoteAddress: `198.51.${Math.floor(++peers / 250) % 250}.${peers % 250}` } } })
  const json = async (s: S, method: string, path: string, body?: unknown) => {
    const res = await call(s, method, path, body)
    // biome-ignore lint/suspicious/noExplicitAny: one reader for the answers of many routes; each assertion states the shape it expects
    return { status: res.status, body: (await res.json()) as any }
  }
  const admin = (path: string, body?: unknown) => t.app.request(path, {
    method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const invoices = async (account = 'acme'): Promise<Invoice[]> => {
    const list = (await (await admin(`/v1/admin/accounts/${account}/invoices`)).json()) as { invoices: { number: number }[] }
    return Promise.all(list.invoices.map(async (i) => (await (await admin(`/v1/admin/accounts/${account}/invoices/${i.number}.json`)).json()) as Invoice))
  }
  const webhookTypes = () => (t.store.db.prepare("SELECT type FROM webhook_events WHERE account = 'acme' ORDER BY seq").all() as { type: string }[]).map((r) => r.type)
  return { ...t, open, call, json, admin, invoices, webhookTypes }
}

let n = 0
const key = () => `k${(++n).toString().padStart(8, '0')}`

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

  it('sets the cookie HttpOnly and SameSite, and frames only on the account\'s container domains', async () => {
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

  it('over HTTPS the cookie is Secure, SameSite=None and Partitioned, so it works in the vendor\'s iframe', async () => {
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
    const mint = (auth: string, body: unknown) => p.app.request('/v1/portal/sessions', { method: 'POST', headers: { authorization: `Bearer ${auth}` }, body: JSON.stringify(body) })
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
  it('refuses no session and an expired one with 401, a member\'s with 403 for what is the manager\'s, and never touches another account', async () => {
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

  it('refuses a write without the CSRF token, with another\'s token, or from another site', async () => {
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

describe('portal actions', () => {
  it('buys one pack for a double click, issues its invoice at once and sends one webhook', async () => {
    const p = portal()
    const s = await p.open()
    const body = { pack: 'small', key: key() }
    const [a, b] = await Promise.all([p.json(s, 'POST', '/v1/portal/credits/purchase', body), p.json(s, 'POST', '/v1/portal/credits/purchase', body)])
    expect([a.body.status, b.body.status].sort()).toEqual(['accepted', 'duplicate'])
    const credits = (await (await p.admin('/v1/admin/accounts/acme/credits')).json()) as { wallets: Record<string, { balance: number }> }
    expect(credits.wallets.account?.balance).toBe(1500)
    expect((await p.invoices()).filter((i) => i.kind === 'credits')).toHaveLength(1)
    expect(p.webhookTypes().filter((t) => t === 'credits.purchased')).toHaveLength(1)
  })

  it('sends credits to a member once, and says so through the API and a webhook', async () => {
    const p = portal()
    const s = await p.open()
    const body = { to: 'alice', credits: 120, key: key() }
    expect((await p.json(s, 'POST', '/v1/portal/credits/transfer', body)).body).toMatchObject({ status: 'accepted', credits: 120, balance: 380 })
    expect((await p.json(s, 'POST', '/v1/portal/credits/transfer', body)).body.status).toBe('duplicate')
    const credits = (await (await p.admin('/v1/admin/accounts/acme/credits')).json()) as { wallets: Record<string, { balance: number }> }
    expect(credits.wallets['member:alice']?.balance).toBe(120)
    expect(p.webhookTypes()).toContain('credits.transferred')
    const log = await p.json(s, 'GET', '/v1/portal/credits/log?type=transfer_out')
    expect(log.body.entries).toHaveLength(1)
  })

  it('cancels at the period\'s end and undoes it, each once, with notices and webhooks', async () => {
    const p = portal()
    const s = await p.open()
    const k = key()
    expect((await p.json(s, 'POST', '/v1/portal/subscription/cancel', { key: k })).body).toEqual({ status: 'cancelled', cancelledAt: '2026-07-20', endsOn: '2026-08-12' })
    expect((await p.json(s, 'POST', '/v1/portal/subscription/cancel', { key: k })).status).toBe(200)
    expect((await p.json(s, 'POST', '/v1/portal/subscription/cancel', { key: key() })).status).toBe(409)
    const account = (await (await p.admin('/v1/admin/accounts/acme')).json()) as { account: { subscription: { cancelledAt?: string } } }
    expect(account.account.subscription.cancelledAt).toBe('2026-07-20')
    const state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.notices.map((x: { kind: string }) => x.kind)).toContain('cancellation_scheduled')
    expect((await p.json(s, 'POST', '/v1/portal/subscription/resume', { key: key() })).body.status).toBe('resumed')
    const after = (await (await p.admin('/v1/admin/accounts/acme')).json()) as { account: { subscription: { cancelledAt?: string } } }
    expect(after.account.subscription.cancelledAt).toBeUndefined()
    expect(p.webhookTypes().filter((t) => t.startsWith('subscription.cancellation'))).toEqual(['subscription.cancellation_scheduled', 'subscription.cancellation_undone'])
  })

  it('refuses what the plan\'s policy does not allow', async () => {
    const p = portal()
    const s = await p.open()
    expect((await p.json(s, 'POST', '/v1/portal/subscription/preview', { seats: 21 })).status).toBe(403)
    expect((await p.json(s, 'POST', '/v1/portal/subscription/preview', { cycle: 'semiannual' })).status).toBe(403)
    expect((await p.json(s, 'POST', '/v1/portal/subscription/preview', { plan: 'nope' })).status).toBe(403)
    expect((await p.json(s, 'POST', '/v1/portal/subscription/preview', { seats: 3 })).status).toBe(400)
    // On lite, whose policy allows only a switch back to growth: no packs, no cancel.
    await p.json(s, 'POST', '/v1/portal/subscription/changes', { plan: 'lite', products: [], key: key() })
    p.clock.advance(24 * 86_400_000)
    const again = await p.open()
    expect((await p.json(again, 'POST', '/v1/portal/credits/purchase', { pack: 'small', key: key() })).status).toBe(403)
    expect((await p.json(again, 'POST', '/v1/portal/subscription/cancel', { key: key() })).status).toBe(403)
  })

  it('bills what it previewed, for random changes', async () => {
    const change = fc.record({
      plan: fc.constantFrom(undefined, 'pro', 'lite'), seats: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
      push: fc.boolean(), cycle: fc.constantFrom(undefined, 'quarterly' as const, 'annual' as const), days: fc.integer({ min: 0, max: 40 }),
    })
    await fc.assert(fc.asyncProperty(change, async (c) => {
      const p = portal()
      p.clock.advance(c.days * 86_400_000)
      await p.admin('/v1/admin/billing/run', {})
      const s = await p.open()
      const products = c.plan === 'lite' ? (c.push ? ['push'] : []) : c.push ? ['data', 'push'] : ['data']
      const ask = { plan: c.plan, seats: c.plan === 'lite' ? undefined : c.seats, products, cycle: c.plan === 'lite' ? undefined : c.cycle }
      const preview = await p.json(s, 'POST', '/v1/portal/subscription/preview', ask)
      if (preview.status !== 200) return // nothing to change
      const before = (await p.invoices()).length
      const done = await p.json(s, 'POST', '/v1/portal/subscription/changes', { ...ask, key: key() })
      expect(done.status).toBe(200)
      expect(done.body.preview).toEqual(preview.body)
      const issued = (await p.invoices()).slice(before)
      // Billed at once: exactly the upgrade invoice previewed, or nothing.
      expect(issued.map((i) => i.total)).toEqual(preview.body.chargeNow ? [preview.body.chargeNow.total] : [])
      if (preview.body.chargeNow) expect(issued[0]?.number).toBe(done.body.invoice)
      // From the period's end: the recurring fees previewed.
      const end = Date.parse(`${preview.body.periodEnd}T12:00:00Z`)
      p.clock.set(end)
      await p.admin('/v1/admin/billing/run', {})
      const next = (await p.invoices()).find((i) => i.kind === 'recurring' && i.period?.startDate === preview.body.periodEnd)
      const advance = next?.lines.filter((l) => l.period.startDate === preview.body.periodEnd).reduce((x, l) => x + l.amount, 0)
      expect(advance).toBe(preview.body.next.total)
    }), { numRuns: 12 })
  }, 120_000)

  it('prints the invoice information on invoices issued after the change only, in JSON, CSV and PDF', async () => {
    const p = portal()
    await p.admin('/v1/admin/billing/run', {})
    const s = await p.open()
    const details = { company: 'Acme BV', address: 'Dam 1\n1012 JS Amsterdam', taxId: 'NL001234567B01', email: 'billing@acme.test' }
    const put = await p.json(s, 'PUT', '/v1/portal/billing-details', { ...details, key: key() })
    expect(put.body.details).toEqual(details)
    expect(p.webhookTypes()).toContain('billing_details.updated')
    await p.json(s, 'POST', '/v1/portal/credits/purchase', { pack: 'small', key: key() })
    const [first, pack] = await p.invoices()
    expect(first?.billTo).toBeUndefined()
    expect(pack?.billTo).toEqual(details)
    const csv = await (await p.admin(`/v1/admin/accounts/acme/invoices/${pack?.number}.csv`)).text()
    expect(csv).toContain('bill_to,company: Acme BV')
    expect(csv).toContain('tax_id: NL001234567B01')
    expect(await (await p.admin(`/v1/admin/accounts/acme/invoices/${first?.number}.csv`)).text()).not.toContain('bill_to')
    // A later change prints on later invoices; this one keeps what it was issued with.
    await p.json(s, 'PUT', '/v1/portal/billing-details', { ...details, company: 'Acme Holding BV', key: key() })
    expect((await p.invoices())[1]?.billTo?.company).toBe('Acme BV')
    const state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.billingDetails.details.company).toBe('Acme Holding BV')
    expect(p.count("SELECT count(*) AS n FROM account_facts WHERE kind = 'billing_details'")).toBe(2)
  })

  it('shows the payment status the vendor reports, and a failed payment as a notice until it is paid', async () => {
    const p = portal()
    await p.admin('/v1/admin/billing/run', {})
    const report = (body: unknown, secret = SK) => p.app.request('/v1/invoices/1/payments', {
      method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    })
    expect((await report({ id: 'r1', status: 'failed', reference: 'ch_1', date: '2026-07-12' })).status).toBe(200)
    expect((await report({ id: 'r1', status: 'paid', reference: 'ch_1' })).status).toBe(200)
    expect((await report({ id: 'r1', status: 'failed', reference: 'ch_1' }, 'rk_acme_read')).status).toBe(403)
    // Another account's key reports on its own invoice 1, never on acme's.
    expect((await report({ id: 'r9', status: 'paid', reference: 'ch_9' }, 'sk_other_secret')).status).toBe(200)
    expect((await p.app.request('/v1/invoices/99/payments', {
      method: 'POST', headers: { authorization: `Bearer ${SK}` }, body: JSON.stringify({ id: 'r1', status: 'paid', reference: 'x' }),
    })).status).toBe(404)
    expect((await report({ id: 'r2', status: 'bounced', reference: 'x' })).status).toBe(400)
    const s = await p.open()
    let state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.invoices[0].payment).toMatchObject({ status: 'failed', reference: 'ch_1', date: '2026-07-12' })
    expect(state.body.notices[0]).toMatchObject({ kind: 'payment_failed', invoice: 1 })
    const dash = (await (await p.app.request('/v1/notices', { headers: { authorization: 'Bearer rk_acme_read' } })).json()) as { notices: { kind: string }[] }
    expect(dash.notices.map((x) => x.kind)).toContain('payment_failed')
    p.clock.advance(1000)
    await report({ id: 'r3', status: 'paid', reference: 'ch_2' })
    state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.invoices[0].payment.status).toBe('paid')
    expect(state.body.notices.map((x: { kind: string }) => x.kind)).not.toContain('payment_failed')
  })

  it('takes the admin\'s report of docs/protocol.md §6 at /v1/admin/accounts/{id}/invoices/{n}/payments, once per report, into the same status', async () => {
    const p = portal()
    await p.admin('/v1/admin/billing/run', {})
    const report = (body: unknown, auth = `Bearer ${ADMIN}`, path = '/v1/admin/accounts/acme/invoices/1/payments') =>
      p.app.request(path, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const failed = await report({ status: 'failed', at: '2026-07-12T10:00:00Z', reference: 'ch_1' })
    expect(failed.status).toBe(200)
    expect(await failed.json()).toMatchObject({ invoice: 1, status: 'accepted', payment: { status: 'failed', reference: 'ch_1', date: '2026-07-12' } })
    // The same report again records nothing more.
    expect(await (await report({ status: 'failed', at: '2026-07-12T10:00:00Z', reference: 'ch_1' })).json()).toMatchObject({ status: 'duplicate' })
    expect((await report({ status: 'paid', at: 'yesterday', reference: 'ch_1' })).status).toBe(400)
    expect((await report({ status: 'paid', reference: 'ch_1' }, `Bearer ${SK}`)).status).toBe(401)
    expect((await report({ status: 'paid', reference: 'ch_1' }, `Bearer ${ADMIN}`, '/v1/admin/accounts/acme/invoices/99/payments')).status).toBe(404)
    const s = await p.open()
    let state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.notices[0]).toMatchObject({ kind: 'payment_failed', invoice: 1 })
    p.clock.advance(1000)
    expect((await report({ status: 'paid', at: '2026-07-13', reference: 'ch_2' })).status).toBe(200)
    state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.invoices[0].payment).toMatchObject({ status: 'paid', reference: 'ch_2', date: '2026-07-13' })
    expect(state.body.notices.map((x: { kind: string }) => x.kind)).not.toContain('payment_failed')
  })
})

describe('portal changes are admin changes', () => {
  it('writes a plan change as the account\'s next version, by the portal session, in the history the admin reads', async () => {
    const p = portal()
    const s = await p.open()
    const history = async () => (await (await p.admin('/v1/admin/accounts/acme/history')).json()) as { versions: { version: number; actor: string; account: { subscription: { changes?: unknown[] } } }[] }
    const byPortal = (vs: { actor: string }[]) => vs.filter((v) => v.actor.startsWith('portal:')).length
    expect(byPortal((await history()).versions)).toBe(0)
    const done = await p.json(s, 'POST', '/v1/portal/subscription/changes', { seats: 4, key: key() })
    expect(done.status).toBe(200)
    const after = (await history()).versions
    // The first write of a database the file seeded writes the file's version first; the portal's follows.
    expect(byPortal(after)).toBe(1)
    const newest = after[0]!
    expect(newest.actor).toMatch(/^portal:[A-Za-z0-9_-]{16}$/)
    expect(newest.account.subscription.changes?.at(-1)).toMatchObject({ seats: 4 })
    // The admin reads the account the portal wrote, with its version.
    const read = (await (await p.admin('/v1/admin/accounts/acme')).json()) as { version: number; account: { subscription: { changes?: unknown[] } } }
    expect(read.version).toBe(newest.version)
    // Cancelling is a version too; a repeated key writes none.
    const k = key()
    expect((await p.json(s, 'POST', '/v1/portal/subscription/cancel', { key: k })).status).toBe(200)
    expect((await p.json(s, 'POST', '/v1/portal/subscription/cancel', { key: k })).status).toBe(200)
    const last = (await history()).versions
    expect(last.length).toBe(after.length + 1)
    expect(byPortal(last)).toBe(2)
    expect(last[0]!.actor).toBe(newest.actor)
  })
})

void NOW
