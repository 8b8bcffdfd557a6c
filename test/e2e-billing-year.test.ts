/**
 * A year of one account through the HTTP API only: beacons, `POST /v1/usage`, credit purchases
 * and transfers, admin config changes (an upgrade, a cancellation) and a monthly
 * `POST /v1/admin/billing/run`, with an injected clock. Every invoice total is checked to the cent
 * against figures worked out by hand below, not by the code under test.
 *
 * Plan `e2e` (EUR, per month): base 4900, seat 1500; included impressions 10 (then 40 per started
 * 5), engagements 2 (then 150 each), chat sessions 3 (then 12 each), alerts 5 (then 1 each);
 * contact ranges up to 1000: 0, up to 5000: 2900, above: 9900; 500 free credits a month; pack
 * `small` = 1000 credits for 1000. Small quotas let a test send the overage.
 *
 * Account `year`: monthly from 2026-01-31 (month ends clamp: Feb 28, Mar 31, Apr 30, ...), zone
 * Europe/Amsterdam, 2 seats, 1200 contacts paid at purchase. Base and seats: 4900 + 2 x 1500 = 7900.
 */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '@tally/protocol'
import { ADMIN, setup } from '../apps/collector/src/testkit.js'
import { TEST_ENGINES } from './pg/engines.js'

const ORIGIN = 'https://shop.year.test'
const SK = 'sk_year_secret'
const RK = 'rk_year_read'

const account = (subscription: Record<string, unknown> = {}) => ({
  name: 'Year Ltd.',
  timezone: 'Europe/Amsterdam',
  subscription: { plan: 'e2e', cycle: 'monthly', start: '2026-01-31', seats: 2, contacts: 1200, ...subscription },
  keys: { secret: SK, read: RK },
  members: ['alice'],
  containers: { ctr_year: { domains: ['shop.year.test'], campaigns: { cmp_a: {} }, advisors: { adv_a: {} }, bots: { bot_a: {} } } },
})

function config() {
  const r = parseConfig({
    plans: {
      e2e: {
        currency: 'EUR',
        basePrice: 4900,
        seatPrice: 1500,
        included: { impressions: 10, engagements: 2, chatSessions: 3, alerts: 5 },
        overage: { impressions: { per: 5, price: 40 }, engagements: { per: 1, price: 150 }, chatSessions: { per: 1, price: 12 }, alerts: { per: 1, price: 1 } },
        contactRanges: [
          { upTo: 1000, price: 0 },
          { upTo: 5000, price: 2900 },
          { upTo: null, price: 9900 },
        ],
        emailsPerContact: 4,
        freeCredits: 500,
        creditCosts: { sms: 2, ai: 10 },
        creditPacks: { small: { credits: 1000, price: 1000 } },
      },
    },
    accounts: { year: account() },
  })
  if (!r.ok) throw new Error(r.message)
  return r.value
}

/** The same year on each engine: the figures below hold on both (docs/architecture.md: rules live above the engine). */
describe.each(TEST_ENGINES)('a year of one account through the HTTP API on $name', ({ skip, open }) => {
  it.skipIf(skip)('bills every invoice of the year to the cent', async () => {
    const t = setup({ config: config(), store: await open() })
    const { app, clock } = t
    const noon = (day: string) => Date.parse(`${day}T12:00:00Z`)
    let seq = 0
    const id = (p: string) => `${p}-${++seq}`
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const res = await app.request(path, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      expect(res.status, `${method} ${path}`).toBe(200)
      // biome-ignore lint/suspicious/noExplicitAny: one reader for the answers of many routes; each assertion states the shape it expects
      return res.json() as Promise<any>
    }
    const usage = async (events: Record<string, unknown>[]) => {
      const { results } = await call('POST', '/v1/usage', SK, { events: events.map((e) => ({ id: id(String(e.type)), ts: clock.now(), ...e })) })
      expect(results.every((r: { status: string }) => r.status === 'accepted')).toBe(true)
      return results
    }
    const alerts = (n: number, ts = clock.now()) => usage(Array.from({ length: n }, () => ({ type: 'alert', alert: 'stock', ts })))
    const beacons = async (events: Record<string, unknown>[]) => {
      const res = await t.post(
        { v: 1, sentAt: clock.now(), events: events.map((e) => ({ id: id('b'), ts: clock.now(), ...e })) },
        { container: 'ctr_year', origin: ORIGIN },
      )
      expect(res.status).toBe(200)
      expect((await res.json()).accepted).toBe(events.length)
    }
    const bill = async (day: string) => {
      clock.set(noon(day))
      return call('POST', '/v1/admin/billing/run', ADMIN, { asOf: new Date(clock.now()).toISOString() })
    }
    const putAccount = (subscription: Record<string, unknown>) => call('PUT', '/v1/admin/accounts/year', ADMIN, account(subscription))

    // Period 0, Jan 31 - Feb 28. Invoice #1 recurring:0 at Jan 31: 7900 + contacts 1200 in the
    // 2900 range = 10800. This first invoice is the minimum price from now on.
    await bill('2026-01-31')
    clock.set(noon('2026-02-05'))
    // 12 sessions see cmp_a: 12 impressions, 2 over 10, one started block of 5: 40.
    await beacons(Array.from({ length: 12 }, (_, i) => ({ type: 'impression', session: `s${i}`, campaign: 'cmp_a' })))
    await alerts(7) // 2 over 5: 2
    // Invoice #2 credits:purchase:pack-1 on Feb 5: 1000.
    await call('POST', '/v1/credits/purchase', SK, { pack: 'small', id: 'pack-1' })
    const [sms] = await usage([{ type: 'action', action: 'sms', quantity: 3 }])
    // 3 sms x 2 credits from the month's 500 free ones first.
    expect(sms.credits).toEqual({ spent: 6, balance: 1494 })

    // Period 1, Feb 28 - Mar 31. Invoice #3 recurring:1: 10800 in advance (no contacts reading
    // yet, so 1200 stay paid) + arrears 40 + 2 = 10842.
    await bill('2026-02-28')
    clock.set(noon('2026-03-01'))
    // The 494 free credits left expired at Feb 28; the new month's 500 and the 1000 bought remain.
    expect((await call('GET', '/v1/credits', RK)).wallets.account.balance).toBe(1500)
    clock.set(noon('2026-03-10'))
    await usage([{ type: 'contacts', count: 6000 }])
    // 4 sessions click adv_a: 2 over 2, 150 each: 300.
    await beacons(Array.from({ length: 4 }, (_, i) => ({ type: 'engagement', session: `e${i}`, advisor: 'adv_a' })))

    // Period 2, Mar 31 - Apr 30. Invoice #4 recurring:2: in advance 4900 + 3000 + 9900 (6000
    // contacts, the top range) = 17800; arrears: engagements 300 and contacts above the paid range
    // 9900 - 2900 = 7000. Total 25100.
    await bill('2026-03-31')
    clock.set(noon('2026-04-10'))
    await usage([{ type: 'contacts', count: 800 }])
    // Two conversations: 31 bot minutes = 3 chat sessions, 16 minutes = 2. 5 over 3 at 12: 24.
    // Each event is sent as it happens: only bot time the collector witnessed is billed.
    const start = clock.now()
    const min = 60_000
    const at = async (minute: number, events: Record<string, unknown>[]) => {
      clock.set(start + minute * min)
      await beacons(events)
    }
    await at(0, [{ type: 'chat', session: 'c1', conversation: 'conv1', bot: 'bot_a', phase: 'start' }])
    await at(10, [{ type: 'chat', session: 'c2', conversation: 'conv2', bot: 'bot_a', phase: 'start' }])
    await at(15, [{ type: 'chat', session: 'c1', conversation: 'conv1', bot: 'bot_a', phase: 'ping' }])
    await at(26, [{ type: 'chat', session: 'c2', conversation: 'conv2', bot: 'bot_a', phase: 'end' }])
    await at(31, [{ type: 'chat', session: 'c1', conversation: 'conv1', bot: 'bot_a', phase: 'end' }])

    // Period 3, Apr 30 - May 31. Invoice #5 recurring:3: in advance 7900 + 0 (800 contacts) = 7900,
    // below the minimum 10800: true-up 2900 (the minimum counts the period's recurring fees only,
    // never the usage of the period before, docs/rules.md §5); arrears chat 24. Total 10824.
    await bill('2026-04-30')
    clock.set(noon('2026-05-20'))
    await alerts(5) // within the 5 included

    // Period 4, May 31 - Jun 30. Invoice #6 recurring:4: 7900, true-up 2900 = 10800.
    await bill('2026-05-31')
    // Late usage for period 3, already billed: 3 more alerts stamped May 30 (within 72 hours).
    clock.set(noon('2026-06-01'))
    await alerts(3, noon('2026-05-30'))

    // Period 5, Jun 30 - Jul 31 (31 days). Invoice #7 recurring:5: 7900 + true-up 2900 = 10800,
    // plus an adjustment for period 3's late alerts: 8 - 5 = 3 over, 3. Total 10803.
    await bill('2026-06-30')
    // On Jul 10 the account goes from 2 seats to 4: an upgrade from that day, 21 of 31 days left.
    clock.set(noon('2026-07-05'))
    await putAccount({ changes: [{ at: '2026-07-10', seats: 4 }] })

    // Invoice #8 upgrade:5:2026-07-10:seats=4 (keyed by the change) at Jul 10: base -4900 x 21/31
    // = -3319.35 -> -3319, seats -3000 x 21/31 = -2032.26 -> -2032, base +3319, seats +6000 x 21/31
    // = 4064.52 -> 4065, contacts 0 both ways.
    // Total 2033. Invoice #9 recurring:6 at Jul 31: 4900 + 4 x 1500 + 0 = 10900, above the minimum.
    await bill('2026-07-31')
    clock.set(noon('2026-08-10'))
    const sent = await call('POST', '/v1/credits/transfer', SK, { to: 'alice', credits: 200, id: 'gift-1' })
    expect(sent).toMatchObject({ status: 'accepted', balance: 1300 })
    const [ai] = await usage([{ type: 'action', action: 'ai', quantity: 3, member: 'alice' }])
    expect(ai.credits).toEqual({ spent: 30, balance: 170 })

    // Periods 6 to 10: invoices #10 recurring:7 (Aug 31) 10900; #11 credits:purchase:pack-2 (Sep 5)
    // 1000; #12 recurring:8 (Sep 30), #13 recurring:9 (Oct 31), #14 recurring:10 (Nov 30),
    // #15 recurring:11 (Dec 31): 10900 each.
    await bill('2026-08-31')
    clock.set(noon('2026-09-05'))
    await call('POST', '/v1/credits/purchase', SK, { pack: 'small', id: 'pack-2' })
    await bill('2026-09-30')
    await bill('2026-10-31')
    await bill('2026-11-30')
    await bill('2026-12-31')

    // Period 11, Dec 31 - Jan 31 2027: 6 alerts, then the account cancels on Jan 10.
    clock.set(noon('2027-01-05'))
    await alerts(6)
    await putAccount({ changes: [{ at: '2026-07-10', seats: 4 }], cancelledAt: '2027-01-10' })
    await beacons([{ type: 'impression', session: 'late', campaign: 'cmp_a' }])

    // Invoice #16 recurring:12 at Jan 31 2027: no new period, only period 11's arrears: 6 alerts,
    // 1 over 5: 1. No minimum applies to an invoice without fees in advance.
    await bill('2027-01-31')
    const refused = await t.post(
      { v: 1, sentAt: clock.now(), events: [{ id: id('b'), type: 'impression', session: 'z', campaign: 'cmp_a', ts: clock.now() }] },
      { container: 'ctr_year', origin: ORIGIN },
    )
    expect(refused.status).toBe(403)
    // Nothing is billed after the end.
    const after = await bill('2027-03-01')
    expect(after.accounts[0].invoices).toEqual([])

    const { invoices } = await call('GET', '/v1/invoices', RK)
    expect(invoices.map((i: { number: number; key: string; total: number }) => [i.number, i.key, i.total])).toEqual([
      [1, 'recurring:0', 10800],
      [2, 'credits:purchase:pack-1', 1000],
      [3, 'recurring:1', 10842],
      [4, 'recurring:2', 25100],
      [5, 'recurring:3', 10824],
      [6, 'recurring:4', 10800],
      [7, 'recurring:5', 10803],
      [8, 'upgrade:5:2026-07-10:seats=4', 2033],
      [9, 'recurring:6', 10900],
      [10, 'recurring:7', 10900],
      [11, 'credits:purchase:pack-2', 1000],
      [12, 'recurring:8', 10900],
      [13, 'recurring:9', 10900],
      [14, 'recurring:10', 10900],
      [15, 'recurring:11', 10900],
      [16, 'recurring:12', 1],
    ])
    const lines = async (n: number) =>
      ((await call('GET', `/v1/invoices/${n}.json`, RK)).lines as { kind: string; amount: number }[]).map((l) => [l.kind, l.amount])
    expect(await lines(4)).toEqual([
      ['base', 4900],
      ['seats', 3000],
      ['contacts', 9900],
      ['usage', 300],
      ['contacts_excess', 7000],
    ])
    expect(await lines(5)).toEqual([
      ['base', 4900],
      ['seats', 3000],
      ['contacts', 0],
      ['usage', 24],
      ['minimum', 2900],
    ])
    expect(await lines(7)).toEqual([
      ['base', 4900],
      ['seats', 3000],
      ['contacts', 0],
      ['adjustment', 3],
      ['minimum', 2900],
    ])
    expect((await lines(8)).map(([, a]) => a).filter((a) => a !== 0)).toEqual([-3319, -2032, 3319, 4065])
  })
})
