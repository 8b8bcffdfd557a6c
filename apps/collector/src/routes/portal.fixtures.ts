/** The accounts, the signed-in portal and the idempotency keys the portal route tests share (portal*.test.ts). */
import { expect } from 'vitest'
import { parseConfig, type TallyConfig } from '@tally/protocol'
import type { Invoice } from '@tally/billing'
import { ADMIN, setup } from '../testkit.js'

export const SK = 'sk_acme_secret'
export const GROWTH = {
  name: 'Growth',
  currency: 'EUR',
  basePrice: 4900,
  seatPrice: 1500,
  freeCredits: 500,
  creditsLowThreshold: 100,
  creditPacks: { small: { credits: 1000, price: 1000 } },
  emailPacks: { big: { emails: 5000, price: 1500 } },
  products: { data: { name: 'DataUnlimited', price: 1900 }, push: { price: 500 } },
  cycleDiscountPercent: { quarterly: 5, annual: 20 },
  portal: {
    plans: ['pro', 'lite'],
    cycles: ['quarterly', 'annual'],
    seats: { min: 1, max: 20 },
    products: true,
    creditPacks: true,
    emailPacks: true,
    transfers: true,
    cancel: true,
  },
}

export function config(): TallyConfig {
  const account = (secret: string, read: string, ctr: string) => ({
    name: 'Acme Inc.',
    timezone: 'Europe/Amsterdam',
    subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 3, contacts: 1000, products: ['data'] },
    keys: { secret, read },
    members: ['alice', 'bob'],
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

export const ORIGIN = 'http://localhost'

export function portal() {
  const t = setup({ config: config() })
  /** A signed-in portal for `account`: its cookie and CSRF token, as the browser would hold them. */
  const open = async (opts: { account?: string; member?: string } = {}) => {
    const secret = opts.account === 'other' ? 'sk_other_secret' : SK
    const res = await t.app.request('/v1/portal/sessions', {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
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
    t.app.request(
      path,
      {
        method,
        headers: {
          ...(s ? { cookie: `tally_portal=${s.cookie}`, 'x-tally-csrf': s.csrf } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json', origin: ORIGIN }),
          ...extra,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      { incoming: { socket: { remoteAddress: `198.51.${Math.floor(++peers / 250) % 250}.${peers % 250}` } } },
    )
  const json = async (s: S, method: string, path: string, body?: unknown) => {
    const res = await call(s, method, path, body)
    // biome-ignore lint/suspicious/noExplicitAny: one reader for the answers of many routes; each assertion states the shape it expects
    return { status: res.status, body: (await res.json()) as any }
  }
  const admin = (path: string, body?: unknown) =>
    t.app.request(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const invoices = async (account = 'acme'): Promise<Invoice[]> => {
    const list = (await (await admin(`/v1/admin/accounts/${account}/invoices`)).json()) as { invoices: { number: number }[] }
    return Promise.all(list.invoices.map(async (i) => (await (await admin(`/v1/admin/accounts/${account}/invoices/${i.number}.json`)).json()) as Invoice))
  }
  const webhookTypes = () =>
    (t.store.db.prepare("SELECT type FROM webhook_events WHERE account = 'acme' ORDER BY seq").all() as { type: string }[]).map((r) => r.type)
  return { ...t, open, call, json, admin, invoices, webhookTypes }
}

let n = 0
export const key = () => `k${(++n).toString().padStart(8, '0')}`
