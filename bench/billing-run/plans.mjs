// The three plans both billing benches bill (index.mjs: one month's run; steady.mjs: a month after
// years of monthly runs): base and seat prices, included usage and overage, contact ranges,
// credits, products and cycle discounts, as a real price list has them. Not a bench itself.
const plan = (basePrice, seatPrice, impressions) => ({
  currency: 'EUR',
  basePrice,
  seatPrice,
  included: { impressions, engagements: impressions / 20, chatSessions: impressions / 200, alerts: 1000 },
  overage: { impressions: { per: 1000, price: 40 }, engagements: { per: 100, price: 150 }, chatSessions: { per: 1, price: 12 }, alerts: { per: 1, price: 1 } },
  contactRanges: [
    { upTo: 1000, price: 0 },
    { upTo: 5000, price: 2900 },
    { upTo: null, price: 9900 },
  ],
  emailsPerContact: 4,
  freeCredits: 500,
  creditCosts: { sms: 2 },
  creditPacks: {},
  products: { data_unlimited: { price: 1900 }, priority: { price: 900 } },
  cycleDiscountPercent: { quarterly: 5, semiannual: 10, annual: 20 },
})
export const PLANS = { starter: plan(900, 500, 20_000), growth: plan(4900, 1500, 100_000), scale: plan(19900, 1200, 1_000_000) }
