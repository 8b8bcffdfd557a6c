/**
 * The plans the tests share, in one place (docs/architecture.md, "Tests"): the plan of
 * docs/protocol.md §7 with two products, and a bigger one to upgrade to. A test that needs a
 * variant spreads one of these and overrides or drops (`without`) what differs, so the figures it
 * does not name stay those of the plan every other test prices.
 */
import type { Plan } from '@tally/protocol'

export const growth: Plan = {
  currency: 'EUR',
  basePrice: 4900,
  seatPrice: 1500,
  included: { impressions: 100000, engagements: 5000, chatSessions: 500, alerts: 1000 },
  overage: { impressions: { per: 1000, price: 40 }, engagements: { per: 100, price: 150 }, chatSessions: { per: 1, price: 12 }, alerts: { per: 1, price: 1 } },
  contactRanges: [
    { upTo: 1000, price: 0 },
    { upTo: 5000, price: 2900 },
    { upTo: null, price: 9900 },
  ],
  emailsPerContact: 4,
  freeCredits: 500,
  creditCosts: { sms: 2, ai: 10, form: 1, contact_download: 1 },
  creditPacks: { small: { credits: 1000, price: 1000 } },
  products: { data: { name: 'DataUnlimited', price: 1900 }, push: { price: 500 } },
  cycleDiscountPercent: { quarterly: 5, semiannual: 10, annual: 20 },
}
export const pro: Plan = {
  ...growth,
  basePrice: 9900,
  seatPrice: 2000,
  included: { ...growth.included, impressions: 500000 },
  products: { data: { name: 'DataUnlimited', price: 2900 }, push: { price: 500 } },
}

/** `plan` without the named keys (a plan that sells no products, say). */
export function without<K extends keyof Plan>(plan: Plan, ...keys: K[]): Omit<Plan, K> {
  const out: Partial<Plan> = { ...plan }
  for (const k of keys) delete out[k]
  return out as Omit<Plan, K>
}
