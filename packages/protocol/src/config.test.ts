import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { parseAccount, parseConfig, parseConfigText, parseContainer, portalPolicyOf, RESERVED_IDS } from './config.js'
import { duplicateKey, jsonTooDeep } from './json-keys.js'

const plan = { currency: 'EUR', basePrice: 4900 }
const account = {
  timezone: 'Europe/Amsterdam',
  subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12' },
  keys: { secret: 'sk_12345678', read: 'rk_12345678' },
  containers: { ctr_shop: { domains: ['shop.acme.test'] } },
}
const message = (r: { ok: true } | { ok: false; message: string }) => (r.ok ? 'ok' : r.message)

describe('parseConfig', () => {
  it('fills defaults', () => {
    const r = parseConfig({ plans: { growth: plan }, accounts: { acme: account } })
    if (!r.ok) throw new Error(r.message)
    expect(r.value.plans.growth?.emailsPerContact).toBe(4)
    expect(r.value.plans.growth?.products).toEqual({})
    expect(r.value.accounts.acme?.subscription.seats).toBe(1)
    expect(r.value.accounts.acme?.containers.ctr_shop?.campaigns).toEqual({})
  })
  it('keeps webhooks to public addresses unless server.webhooks.allowPrivateNetworks is true', () => {
    const base = { plans: { growth: plan }, accounts: { acme: account } }
    const off = parseConfig(base)
    if (!off.ok) throw new Error(off.message)
    expect(off.value.server.webhooks).toEqual({ allowPrivateNetworks: false })
    const on = parseConfig({ ...base, server: { webhooks: { allowPrivateNetworks: true } } })
    if (!on.ok) throw new Error(on.message)
    expect(on.value.server.webhooks.allowPrivateNetworks).toBe(true)
    expect(message(parseConfig({ ...base, server: { webhooks: { allowPrivateNetworks: 'yes' } } }))).toMatch(/^server\.webhooks\.allowPrivateNetworks: /)
  })
  it.each([
    ['a bad cycle', { subscription: { ...account.subscription, cycle: 'weekly' } }, /^accounts\.acme\.subscription\.cycle: /],
    ['a bad zone', { timezone: 'Mars/Olympus' }, /^accounts\.acme\.timezone: unknown IANA time zone/],
    ['an unknown plan', { subscription: { ...account.subscription, plan: 'pro' } }, /unknown plan "pro"/],
    ['a bad start date', { subscription: { ...account.subscription, start: '2026-02-30' } }, /subscription\.start/],
  ])('names the path of %s', (_, patch, expected) => {
    const r = parseConfig({ plans: { growth: plan }, accounts: { acme: { ...account, ...patch } } })
    expect(message(r)).toMatch(expected)
  })
})

describe('the billing portal policy of a plan', () => {
  it('allows nothing but the invoice information when a plan says nothing', () => {
    const r = parseConfig({ plans: { growth: plan }, accounts: { acme: account } })
    if (!r.ok) throw new Error(r.message)
    expect(portalPolicyOf(r.value.plans.growth!)).toEqual({
      plans: [],
      cycles: [],
      products: false,
      creditPacks: false,
      emailPacks: false,
      transfers: false,
      cancel: false,
      billingDetails: true,
    })
  })

  it('refuses a plan to switch to that the file does not define, and seat limits upside down', () => {
    const withPortal = (portal: unknown) => parseConfig({ plans: { growth: { ...plan, portal }, pro: plan }, accounts: { acme: account } })
    expect(message(withPortal({ plans: ['pro'], seats: { min: 1, max: 20 }, cancel: true }))).toBe('ok')
    expect(message(withPortal({ plans: ['pro', 'pri'] }))).toBe('plans.growth.portal.plans.1: unknown plan "pri"')
    expect(message(withPortal({ seats: { min: 5, max: 2 } }))).toMatch(/^plans\.growth\.portal\.seats: min: must not be above max/)
    expect(message(withPortal({ cancell: true }))).toBe('plans.growth.portal.cancell: unknown key; did you mean "cancel"?')
  })
})

describe('ids named like built-in object properties', () => {
  const at = (path: string[], value: unknown): Record<string, unknown> => {
    const cfg = structuredClone({ plans: { growth: plan }, accounts: { acme: account } }) as Record<string, unknown>
    let node = cfg
    for (const k of path.slice(0, -1)) {
      node[k] ??= {}
      node = node[k] as Record<string, unknown>
    }
    node[path[path.length - 1] as string] = value
    return cfg
  }
  it.each([
    ['a plan', 'plans.constructor', plan],
    ['an account', 'accounts.toString', account],
    ['a container', 'accounts.acme.containers.hasOwnProperty', { domains: ['a.test'] }],
    ['a campaign', 'accounts.acme.containers.ctr_shop.campaigns.valueOf', {}],
    ['an advisor', 'accounts.acme.containers.ctr_shop.advisors.isPrototypeOf', {}],
    ['a bot', 'accounts.acme.containers.ctr_shop.bots.__lookupGetter__', {}],
    ['a credit pack', 'plans.growth.creditPacks.propertyIsEnumerable', { credits: 1, price: 1 }],
    ['an action', 'plans.growth.creditCosts.toLocaleString', 2],
    ['a product', 'plans.growth.products.constructor', { price: 1 }],
  ])('refuses %s and names its path', (_, path, value) => {
    const id = path.split('.').at(-1)
    expect(message(parseConfig(at(path.split('.'), value)))).toBe(`${path}: "${id}" is the name of a built-in object property; choose another id`)
  })

  it('refuses a __proto__ key, which zod would drop without a word', () => {
    const text = JSON.stringify({ plans: { growth: plan }, accounts: { acme: account } }).replace(
      '"growth":',
      '"__proto__":{"currency":"EUR","basePrice":1},"growth":',
    )
    expect(message(parseConfig(JSON.parse(text)))).toBe('plans.__proto__: "__proto__" is the name of a built-in object property; choose another id')
    expect(message(parseConfigText(text))).toMatch(/^plans\.__proto__: /)
    const container = JSON.parse('{"domains":["a.test"],"campaigns":{"__proto__":{"active":true}}}')
    expect(message(parseContainer(container))).toMatch(/^campaigns\.__proto__: /)
  })

  it('refuses a subscription naming a plan called like an object property that the file does not define', () => {
    for (const name of ['constructor', 'toString', 'valueOf']) {
      const r = parseConfig({ plans: { growth: plan }, accounts: { acme: { ...account, subscription: { ...account.subscription, plan: name } } } })
      expect(message(r)).toBe(`accounts.acme.subscription.plan: unknown plan "${name}"`)
    }
  })

  it('lists every reserved id as a property every plain object has', () => {
    for (const id of RESERVED_IDS) expect(id in {}).toBe(true)
  })
})

describe('plans and products a subscription names', () => {
  const plans = {
    growth: { ...plan, products: { data: { name: 'DataUnlimited', price: 1900 }, push: { price: 500 } } },
    pro: { ...plan, basePrice: 9900, products: { data: { price: 2900 } } },
  }
  const cfg = (subscription: Record<string, unknown>) => ({
    plans,
    accounts: { acme: { ...account, subscription: { ...account.subscription, ...subscription } } },
  })

  it('accepts products the plan offers, chosen at purchase and changed later', () => {
    const r = parseConfig(
      cfg({
        products: ['data'],
        changes: [
          { at: '2026-08-01', products: ['data', 'push'] },
          { at: '2026-09-01', plan: 'pro', products: ['data'] },
        ],
      }),
    )
    expect(message(r)).toBe('ok')
    if (r.ok) expect(r.value.accounts.acme?.subscription.changes?.[0]?.products).toEqual(['data', 'push'])
  })

  it.each([
    [
      'a mistyped upgrade',
      {
        changes: [
          { at: '2026-08-01', seats: 2 },
          { at: '2026-09-01', plan: 'pri' },
        ],
      },
      'changes.1.plan: unknown plan "pri"',
    ],
    ['an upgrade to a built-in property name', { changes: [{ at: '2026-08-01', plan: 'constructor' }] }, 'changes.0.plan: unknown plan "constructor"'],
    ['an unknown product', { products: ['data', 'sms'] }, 'products.1: plan "growth" offers no product "sms"'],
    ['a product chosen twice', { products: ['data', 'data'] }, 'products.1: product "data" is chosen twice'],
    ['an unknown product in a change', { changes: [{ at: '2026-08-01', products: ['nope'] }] }, 'changes.0.products.0: plan "growth" offers no product "nope"'],
    [
      'a product the new plan does not offer',
      { changes: [{ at: '2026-08-01', plan: 'pro', products: ['push'] }] },
      'changes.0.products.0: plan "pro" offers no product "push"',
    ],
    [
      'a plan change that drops a chosen product silently',
      { products: ['push'], changes: [{ at: '2026-08-01', plan: 'pro' }] },
      'changes.0.plan: plan "pro" offers no product "push" chosen before; list the products with this change',
    ],
  ])('refuses %s, naming the path', (_, subscription, expected) => {
    expect(message(parseConfig(cfg(subscription)))).toBe(`accounts.acme.subscription.${expected}`)
  })

  it('takes changes in date order, whatever their order in the file', () => {
    // The plan change to pro (dated first) comes before the products that pro does not offer.
    const r = parseConfig(
      cfg({
        changes: [
          { at: '2026-09-01', products: ['push'] },
          { at: '2026-08-01', plan: 'pro' },
        ],
      }),
    )
    expect(message(r)).toBe('accounts.acme.subscription.changes.0.products.0: plan "pro" offers no product "push"')
  })

  it('checks the plans of an account body when given the plans', () => {
    const body = { ...account, subscription: { ...account.subscription, changes: [{ at: '2026-08-01', plan: 'pri' }] } }
    expect(message(parseAccount(body))).toBe('ok')
    expect(message(parseAccount(body, plans))).toBe('subscription.changes.0.plan: unknown plan "pri"')
  })
})

describe('parseConfigText', () => {
  const text = JSON.stringify({ plans: { growth: plan }, accounts: { acme: account } }, null, 2)

  it('parses a file as parseConfig parses its JSON', () => {
    expect(parseConfigText(text)).toEqual(parseConfig(JSON.parse(text)))
    expect(parseConfigText(`\uFEFF${text}`)).toEqual(parseConfig(JSON.parse(text)))
  })

  it('refuses text that is not JSON', () => {
    expect(message(parseConfigText('{'))).toMatch(/^not valid JSON \(/)
  })

  it.each([
    ['at the top', '{"plans":{},"plans":{}}', 'plans'],
    ['in an account', text.replace('"name"', '"x"').replace('"timezone":', '"timezone": "UTC", "timezone":'), 'accounts.acme.timezone'],
    ['in an array element', '{"plans":{"g":{"contactRanges":[{"upTo":1,"price":0},{"upTo":null,"price":1,"price":2}]}}}', 'plans.g.contactRanges.1.price'],
    ['spelled with an escape', '{"plans":{"growth":{},"gr\\u006fwth":{}}}', 'plans.growth'],
  ])('refuses a duplicate key %s, naming its path', (_, json, path) => {
    expect(message(parseConfigText(json))).toMatch(new RegExp(`^${path.replaceAll('.', '\\.')}: duplicate key "`))
  })

  it('does not take a key of one object for a key of its sibling, nor strings for structure', () => {
    const json = '{"a":{"k":1},"b":{"k":"{\\"k\\":[1,2]}, \\"k\\":"},"c":[{"k":1},{"k":2}],"d":"\\\\"}'
    expect(duplicateKey(json)).toBeNull()
  })

  it('finds no duplicate in any JSON.stringify output', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 0, 2, '\t'), (v, indent) => {
        expect(duplicateKey(JSON.stringify(v, null, indent))).toBeNull()
      }),
      { numRuns: 300 },
    )
  })

  it('finds a key given twice at any depth and names its path', () => {
    const k = fc.string({ maxLength: 6 })
    fc.assert(
      fc.property(
        fc.array(
          k.filter((o) => o !== 'pad'),
          { maxLength: 4 },
        ),
        fc.dictionary(k, fc.jsonValue({ maxDepth: 2 })),
        k,
        (outer, base, dup) => {
          let json = JSON.stringify({ ...base, [dup]: 1 })
          json = `{${JSON.stringify(dup)}:2,${json.slice(1)}`
          for (const o of [...outer].reverse()) json = `{"pad":[1,{"x":0}],${JSON.stringify(o)}:${json}}`
          const found = duplicateKey(json)
          expect(found).toEqual({ path: [...outer, dup].join('.'), key: dup })
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('keys no schema knows', () => {
  /** The config with `value` set at `path` (created on the way). */
  const withKey = (path: string, value: unknown) => {
    const cfg: Record<string, unknown> = structuredClone({ plans: { growth: plan }, accounts: { acme: account } })
    const steps = path.split('.')
    let at = cfg
    for (const step of steps.slice(0, -1)) {
      at[step] ??= {}
      at = at[step] as Record<string, unknown>
    }
    at[steps.at(-1)!] = value
    return cfg
  }

  it.each([
    ['acounts', {}, 'acounts: unknown key; did you mean "accounts"?'],
    ['servr', {}, 'servr: unknown key; did you mean "server"?'],
    ['server.sesionsPerHour', 10, 'server.sesionsPerHour: unknown key; did you mean "sessionsPerHour"?'],
    ['server.SessionsPerHour', 10, 'server.SessionsPerHour: unknown key; did you mean "sessionsPerHour"?'],
    ['server.allowPrivateNetwork', true, 'server.allowPrivateNetwork: unknown key; did you mean "webhooks.allowPrivateNetworks"?'],
    ['server.webhooks.allowPrivateNetwork', true, 'server.webhooks.allowPrivateNetwork: unknown key; did you mean "allowPrivateNetworks"?'],
    ['server.trustedProxy', ['10.0.0.1'], 'server.trustedProxy: unknown key; did you mean "trustedProxies"?'],
    ['server.rateLimits.perIP', { rate: 1, burst: 1 }, 'server.rateLimits.perIP: unknown key; did you mean "perIp"?'],
    ['server.rateLimits.perIp.bust', 10, 'server.rateLimits.perIp.bust: unknown key; did you mean "burst"?'],
    ['plans.growth.curency', 'EUR', 'plans.growth.curency: unknown key; did you mean "currency"?'],
    ['plans.growth.seatsPrice', 100, 'plans.growth.seatsPrice: unknown key; did you mean "seatPrice"?'],
    ['plans.growth.included.impresions', 1000, 'plans.growth.included.impresions: unknown key; did you mean "impressions"?'],
    ['plans.growth.overage.alerts', { per: 1, price: 5, prcie: 6 }, 'plans.growth.overage.alerts.prcie: unknown key; did you mean "price"?'],
    ['plans.growth.creditPacks.small', { credits: 10, price: 100, credit: 5 }, 'plans.growth.creditPacks.small.credit: unknown key; did you mean "credits"?'],
    ['plans.growth.cycleDiscountPercent.yearly', 20, 'plans.growth.cycleDiscountPercent.yearly: unknown key (known keys: quarterly, semiannual, annual)'],
    ['accounts.acme.timeZone', 'UTC', 'accounts.acme.timeZone: unknown key; did you mean "timezone"?'],
    ['accounts.acme.subscription.seat', 3, 'accounts.acme.subscription.seat: unknown key; did you mean "seats"?'],
    ['accounts.acme.subscription.changes', [{ at: '2026-08-01', seat: 3 }], 'accounts.acme.subscription.changes.0.seat: unknown key; did you mean "seats"?'],
    ['accounts.acme.keys.write', 'wk_12345678', 'accounts.acme.keys.write: unknown key (known keys: secret, read)'],
    ['accounts.acme.containers.ctr_shop.domain', ['x.test'], 'accounts.acme.containers.ctr_shop.domain: unknown key; did you mean "domains"?'],
    [
      'accounts.acme.containers.ctr_shop.campaigns',
      { cmp_a: { actve: false } },
      'accounts.acme.containers.ctr_shop.campaigns.cmp_a.actve: unknown key; did you mean "active"?',
    ],
  ])('refuses %s, naming its path and the closest known key', (path, value, expected) => {
    expect(message(parseConfig(withKey(path, value)))).toBe(expected)
  })

  it('names the typo rather than the required key it leaves missing', () => {
    const { currency: _, ...rest } = plan
    expect(message(parseConfig({ plans: { growth: { ...rest, curency: 'EUR' } }, accounts: { acme: account } }))).toBe(
      'plans.growth.curency: unknown key; did you mean "currency"?',
    )
  })

  it('names the other unknown keys of the same object', () => {
    expect(message(parseConfig({ plans: { growth: plan }, servr: {}, acount: {} }))).toBe(
      'servr: unknown key; did you mean "server"?; also unknown here: "acount"',
    )
  })

  it('refuses a "$schema" key: the configuration documents none', () => {
    expect(message(parseConfig(withKey('$schema', 'https://example.test/tally.json')))).toMatch(/^\$schema: unknown key/)
  })

  it('refuses unknown keys in an account or a container body, and drops them when asked to (a replay)', () => {
    expect(message(parseAccount({ ...account, activ: false }))).toBe('activ: unknown key; did you mean "active"?')
    expect(message(parseContainer({ domains: ['x.test'], campaign: {} }))).toBe('campaign: unknown key; did you mean "campaigns"?')
    const dropped = parseContainer({ domains: ['x.test'], campaign: {}, bots: { b: { activ: false } } }, { unknownKeys: 'drop' })
    expect(dropped).toEqual({ ok: true, value: { name: '', domains: ['x.test'], campaigns: {}, advisors: {}, bots: { b: { active: true } } } })
    // Dropping unknown keys does not let a bad value through.
    expect(message(parseContainer({ domain: ['x.test'] }, { unknownKeys: 'drop' }))).toMatch(/^domains: /)
  })

  it('refuses an unknown key in the text of a file too', () => {
    expect(message(parseConfigText(JSON.stringify(withKey('server.sesionsPerHour', 10))))).toBe(
      'server.sesionsPerHour: unknown key; did you mean "sessionsPerHour"?',
    )
  })
})

describe('jsonTooDeep', () => {
  it('counts the nesting of objects and arrays in one pass, strings skipped', () => {
    expect(jsonTooDeep('[[[]]]', 3)).toBe(false)
    expect(jsonTooDeep('[[[]]]', 2)).toBe(true)
    expect(jsonTooDeep('{"a":"[[[[[[\\"[[[["}', 1)).toBe(false)
    expect(jsonTooDeep(`${'['.repeat(20_000)}${']'.repeat(20_000)}`, 32)).toBe(true)
  })

  it('refuses a config file nested deeper than 32 levels, and a date outside 1970-9998 naming the field', () => {
    expect(parseConfigText(`{"plans":{},"accounts":{},"server":${'['.repeat(40)}${']'.repeat(40)}}`)).toEqual({
      ok: false,
      message: 'nested deeper than 32 levels',
    })
    const r = parseConfig({
      plans: { p: { currency: 'EUR', basePrice: 0 } },
      accounts: { a: { subscription: { plan: 'p', cycle: 'monthly', start: '0999-01-01' }, keys: { secret: 'sk_aaaaaaaa', read: 'rk_aaaaaaaa' } } },
    })
    expect(r).toEqual({ ok: false, message: 'accounts.a.subscription.start: expected a year from 1970 to 9998' })
  })
})
