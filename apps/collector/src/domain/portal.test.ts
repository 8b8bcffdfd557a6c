import { describe, expect, it } from 'vitest'
import { parseConfig } from '@tally/protocol'
import { startOfDay } from '@tally/billing'
import { csrfMatches, csrfOf, digest, frameAncestors, newToken, notices, portalChange, tokenAccount } from './portal.js'

function billing(subscription: Record<string, unknown>, portal: Record<string, unknown> = {}) {
  const r = parseConfig({
    plans: {
      growth: { currency: 'EUR', basePrice: 4900, seatPrice: 1500, products: { push: { price: 500 } }, creditsLowThreshold: 100, portal },
      pro: { currency: 'EUR', basePrice: 9900 },
    },
    accounts: {
      acme: {
        timezone: 'UTC',
        subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', ...subscription },
        keys: { secret: 'sk_12345678', read: 'rk_12345678' },
        containers: { ctr: { domains: ['Shop.Acme.test:8080', '*.acme.test', '127.0.0.1', 'bücher.example', 'evil.test; script-src *'] } },
      },
    },
  })
  if (!r.ok) throw new Error(r.message)
  const a = r.value.accounts.acme!
  return { account: a, billing: { timezone: a.timezone, subscription: a.subscription, plans: r.value.plans } }
}
const at = (day: string) => startOfDay(day, 'UTC') + 12 * 3600_000

describe('portal tokens', () => {
  it('names the account in clear and 256 random bits, and reads back only a well-formed token', () => {
    const t = newToken('acme.eu')
    expect(tokenAccount(t)).toBe('acme.eu')
    expect(tokenAccount(`${t}x`)).toBeNull()
    expect(tokenAccount('acme~short')).toBeNull()
    expect(tokenAccount(undefined)).toBeNull()
    expect(digest(t)).not.toContain(t.slice(8))
    expect(csrfMatches(t, csrfOf(t))).toBe(true)
    expect(csrfMatches(t, csrfOf(newToken('acme.eu')))).toBe(false)
    expect(csrfMatches(t, undefined)).toBe(false)
  })
})

describe('frameAncestors', () => {
  it('allows the hosts of the container domains on any port, and never text that could end the directive', () => {
    expect(frameAncestors(billing({}).account)).toBe(
      "'self' *.acme.test:* 127.0.0.1:* shop.acme.test:* www.shop.acme.test:* www.xn--bcher-kva.example:* xn--bcher-kva.example:*",
    )
  })
})

describe('portalChange', () => {
  it("keeps only what differs from the terms in force, and refuses what the plan's policy does not allow", () => {
    const { billing: b } = billing({ seats: 3, products: ['push'] }, { plans: ['pro'], seats: { min: 1, max: 5 } })
    expect(portalChange(b, { seats: 4, plan: 'growth', products: ['push'] }, at('2026-07-20'))).toMatchObject({ change: { at: '2026-07-20', seats: 4 } })
    // Pro offers no push: the change lists the products it keeps.
    expect(portalChange(b, { plan: 'pro' }, at('2026-07-20'))).toMatchObject({ change: { plan: 'pro', products: [] } })
    expect(portalChange(b, { seats: 6 }, at('2026-07-20'))).toBe('seats: choose from 1 to 5')
    expect(portalChange(b, { products: [] }, at('2026-07-20'))).toBe('products: products cannot be changed here')
    expect(portalChange(b, { cycle: 'annual' }, at('2026-07-20'))).toBe('cycle: this subscription cannot switch to annual billing here')
    expect(portalChange(b, { seats: 3 }, at('2026-07-20'))).toBe('nothing to change: that is the subscription in force')
    expect(portalChange(b, { seats: 4 }, at('2026-07-01'))).toBe('the subscription has not started or has ended')
  })
})

describe('notices', () => {
  const base = { payments: new Map(), balance: 500, emails: { quota: 100, left: 10 }, planName: (id: string) => id }
  it('says a long term ends and moves to monthly, within a month of its end', () => {
    const { billing: b } = billing({ cycle: 'annual' })
    expect(notices({ ...base, billing: b, at: at('2027-06-20') }).map((n) => [n.kind, n.date])).toEqual([['term_ending', '2027-07-12']])
    expect(notices({ ...base, billing: b, at: at('2027-05-20') })).toEqual([])
  })

  it('puts a failed payment first, and names a scheduled cancellation, low credits and a used-up email quota', () => {
    const { billing: b } = billing({ cancelledAt: '2026-07-20' })
    const n = notices({
      ...base,
      billing: b,
      at: at('2026-07-20'),
      payments: new Map([
        [2, { status: 'failed' }],
        [1, { status: 'paid' }],
      ]),
      balance: 99,
      emails: { quota: 100, left: 0 },
    })
    expect(n.map((x) => x.kind)).toEqual(['payment_failed', 'cancellation_scheduled', 'credits_low', 'email_quota_reached'])
    expect(n[0]).toMatchObject({ invoice: 2, severity: 'critical' })
    expect(n[1]?.date).toBe('2026-08-12')
  })
})
