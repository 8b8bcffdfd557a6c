import { describe, expect, it } from 'vitest'
import { parseConfig } from './config.js'

const plan = { currency: 'EUR', basePrice: 4900 }
const account = {
  timezone: 'Europe/Amsterdam',
  subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12' },
  keys: { secret: 'sk_12345678', read: 'rk_12345678' },
  containers: { ctr_shop: { domains: ['shop.acme.test'] } },
}

describe('parseConfig', () => {
  it('fills defaults', () => {
    const r = parseConfig({ plans: { growth: plan }, accounts: { acme: account } })
    if (!r.ok) throw new Error(r.message)
    expect(r.value.plans.growth?.emailsPerContact).toBe(4)
    expect(r.value.accounts.acme?.subscription.seats).toBe(1)
    expect(r.value.accounts.acme?.containers.ctr_shop?.campaigns).toEqual({})
  })
  it.each([
    ['a bad cycle', { subscription: { ...account.subscription, cycle: 'weekly' } }, /^accounts\.acme\.subscription\.cycle: /],
    ['a bad zone', { timezone: 'Mars/Olympus' }, /^accounts\.acme\.timezone: unknown IANA time zone/],
    ['an unknown plan', { subscription: { ...account.subscription, plan: 'pro' } }, /unknown plan "pro"/],
    ['a bad start date', { subscription: { ...account.subscription, start: '2026-02-30' } }, /subscription\.start/],
  ])('names the path of %s', (_, patch, message) => {
    const r = parseConfig({ plans: { growth: plan }, accounts: { acme: { ...account, ...patch } } })
    expect(r.ok ? 'ok' : r.message).toMatch(message)
  })
})
