/**
 * The billing HTTP API against the in-process app and an in-memory store, with an injected clock.
 * Plan: the `growth` plan of docs/protocol.md §7 (free 500 credits a month, sms 2, ai 10, pack small =
 * 1000 credits for 1000, 4 emails per paid contact); account acme pays for 1000 contacts, 3 seats.
 */
import { describe, expect, it } from 'vitest'

import { RK, GROWTH, billing, at, uid } from './billing.fixtures.js'

describe('POST /v1/usage', () => {
  it('refuses a request without a key (401) and one with the read key (403)', async () => {
    const b = billing()
    expect((await b.send('/v1/usage', { events: [] }, null)).status).toBe(401)
    const res = await b.send('/v1/usage', { events: [{ id: 'a', type: 'alert', alert: 'x', ts: b.clock.now() }] }, RK)
    expect(res.status).toBe(403)
    expect(b.count('SELECT count(*) AS n FROM usage_events')).toBe(0)
  })

  it('counts an alert once however often its id is sent', async () => {
    const b = billing()
    const event = { id: 'alert-1', type: 'alert', alert: 'daily-sales', user: 'u_1', ts: b.clock.now() }
    expect(await b.usage(event)).toEqual([{ id: 'alert-1', status: 'accepted' }])
    expect(await b.usage(event, { ...event })).toEqual([
      { id: 'alert-1', status: 'duplicate' },
      { id: 'alert-1', status: 'duplicate' },
    ])
    const period = (await (await b.get('/v1/period')).json()) as { meters: { alerts: number } }
    expect(period.meters.alerts).toBe(1)
  })

  it('debits an action with its event and answers the credits spent and the balance left', async () => {
    const b = billing()
    const sms = { id: 'sms-1', type: 'action', action: 'sms', quantity: 1, ts: b.clock.now() }
    expect(await b.usage(sms)).toEqual([{ id: 'sms-1', status: 'accepted', credits: { spent: 2, balance: 498 } }])
    // The retry gets the original outcome back and nothing is debited twice.
    expect(await b.usage(sms)).toEqual([{ id: 'sms-1', status: 'duplicate', credits: { spent: 2, balance: 498 } }])
    expect((await b.wallets()).account?.balance).toBe(498)
  })

  it('answers a retried action after a month boundary with the balance of now, new grant included', async () => {
    const b = billing()
    const sms = { id: 'sms-late', type: 'action', action: 'sms', quantity: 1, ts: b.clock.now() }
    expect(await b.usage(sms)).toEqual([{ id: 'sms-late', status: 'accepted', credits: { spent: 2, balance: 498 } }])
    // Aug 12 (Amsterdam): July's 498 free credits expired and August's 500 are granted; no run has written them yet.
    b.clock.set(at('2026-08-12T08:00:00Z'))
    expect(await b.usage({ ...sms, ts: b.clock.now() })).toEqual([{ id: 'sms-late', status: 'duplicate', credits: { spent: 2, balance: 500 } }])
    expect((await b.wallets()).account?.balance).toBe(500)
  })

  it('treats an action missing from the price list as free', async () => {
    const b = billing()
    expect(await b.usage({ id: uid(), type: 'action', action: 'export', quantity: 3, ts: b.clock.now() })).toEqual([
      expect.objectContaining({ status: 'accepted', credits: { spent: 0, balance: 500 } }),
    ])
  })

  it('accepts an action named like a built-in object property as a free action, and refuses such a pack with 400', async () => {
    const b = billing()
    const now = b.clock.now()
    // "constructor" and "toString" are not in the price list (sms, ai, form, contact_download): free, 500 credits left.
    expect(
      await b.usage(
        { id: 'c1', type: 'action', action: 'constructor', quantity: 1, ts: now },
        { id: 'c2', type: 'action', action: 'toString', quantity: 2, member: 'alice', ts: now },
        { id: 'c3', type: 'alert', alert: 'a', ts: now },
      ),
    ).toEqual([
      { id: 'c1', status: 'accepted', credits: { spent: 0, balance: 500 } },
      { id: 'c2', status: 'accepted', credits: { spent: 0, balance: 0 } },
      { id: 'c3', status: 'accepted' },
    ])
    for (const pack of ['constructor', 'toString', '__proto__']) {
      const res = await b.send('/v1/credits/purchase', { pack, id: `p-${pack.replaceAll('_', '')}` })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_request' } })
    }
    expect((await b.wallets()).account?.balance).toBe(500)
    expect(b.count("SELECT count(*) AS n FROM ledger WHERE type IN ('purchase', 'spend')")).toBe(0)
  })

  it('refuses an action the wallet cannot pay in full and debits nothing', async () => {
    const b = billing()
    // 51 AI uses cost 510 credits; the wallet holds the month's 500 free ones.
    const [r] = await b.usage({ id: 'ai-big', type: 'action', action: 'ai', quantity: 51, ts: b.clock.now() })
    expect(r).toEqual({ id: 'ai-big', status: 'rejected', code: 'insufficient_credits' })
    expect((await b.wallets()).account?.balance).toBe(500)
    expect(b.count("SELECT count(*) AS n FROM ledger WHERE type = 'spend'")).toBe(0)
    expect(b.count('SELECT count(*) AS n FROM usage_events')).toBe(0)
    // 50 uses fit exactly.
    const [ok] = await b.usage({ id: 'ai-fits', type: 'action', action: 'ai', quantity: 50, ts: b.clock.now() })
    expect(ok).toEqual({ id: 'ai-fits', status: 'accepted', credits: { spent: 500, balance: 0 } })
  })

  it('judges a refused action afresh when it is retried after credits were bought', async () => {
    const b = billing()
    const big = { id: 'ai-later', type: 'action', action: 'ai', quantity: 60, ts: b.clock.now() }
    expect((await b.usage(big))[0]?.code).toBe('insufficient_credits')
    expect((await b.send('/v1/credits/purchase', { pack: 'small', id: 'p-1' })).status).toBe(200)
    expect(await b.usage(big)).toEqual([{ id: 'ai-later', status: 'accepted', credits: { spent: 600, balance: 900 } }])
  })

  it('pays a member action from the member wallet only', async () => {
    const b = billing()
    const t = await b.send('/v1/credits/transfer', { to: 'alice', credits: 100, id: 't-1' })
    // The answer says what moved since transfers send purchased credits first (docs/billing.md, "Credits").
    expect(await t.json()).toEqual({ id: 't-1', status: 'accepted', to: 'alice', credits: 100, balance: 400, moved: { purchased: 0, free: 100 } })
    expect(await b.usage({ id: 'sms-a', type: 'action', action: 'sms', quantity: 1, member: 'alice', ts: b.clock.now() })).toEqual([
      { id: 'sms-a', status: 'accepted', credits: { spent: 2, balance: 98 } },
    ])
    const w = await b.wallets()
    expect(w.account?.balance).toBe(400)
    expect(w['member:alice']?.balance).toBe(98)
    // Bob received nothing, so the account's 400 credits do not pay for him.
    expect(await b.usage({ id: 'sms-b', type: 'action', action: 'sms', quantity: 1, member: 'bob', ts: b.clock.now() })).toEqual([
      { id: 'sms-b', status: 'rejected', code: 'insufficient_credits' },
    ])
    expect(await b.usage({ id: 'sms-x', type: 'action', action: 'sms', quantity: 1, member: 'mallory', ts: b.clock.now() })).toEqual([
      { id: 'sms-x', status: 'rejected', code: 'unknown_member' },
    ])
  })

  it('refuses the email send that would pass 4 x paid contacts, whole', async () => {
    const b = billing()
    const email = (count: number) => ({ id: uid(), type: 'email', count, ts: b.clock.now() })
    // 1000 paid contacts x 4 = 4000 emails this month.
    const results = await b.usage(email(3990), email(20), email(10), email(1))
    expect(results.map((r) => r.code ?? r.status)).toEqual(['accepted', 'quota_exceeded', 'accepted', 'quota_exceeded'])
    const period = (await (await b.get('/v1/period')).json()) as { emails: { quota: number; sent: number; left: number } }
    // `granted` is the support grants of the month (none here), shown since email grants exist.
    expect(period.emails).toEqual({ quota: 4000, granted: 0, sent: 4000, left: 0 })
  })

  it('holds the email quota to the contacts the period was billed for, in the refusal and in GET /v1/period alike', async () => {
    const b = billing()
    // Amsterdam midnight of Aug 12 is 22:00 UTC on Aug 11: the run bills period 1 in advance for 1000 contacts.
    b.clock.set(at('2026-08-12T10:00:00Z'))
    await b.run('2026-08-12T10:00:00Z')
    // A late reading of 1200 dated in period 0 (Aug 11, 12:00 UTC) arrives after that invoice was finalized.
    expect((await b.usage({ id: uid(), type: 'contacts', count: 1200, ts: at('2026-08-11T12:00:00Z') }))[0]?.status).toBe('accepted')
    // Period 1 was paid for 1000 contacts: 4 x 1000 = 4000 emails, so a send of 4500 is refused whole.
    const p = (await (await b.get('/v1/period')).json()) as { paidContacts: number; emails: { quota: number } }
    expect([p.paidContacts, p.emails.quota]).toEqual([1000, 4000])
    expect((await b.usage({ id: uid(), type: 'email', count: 4500, ts: b.clock.now() }))[0]?.code).toBe('quota_exceeded')
    expect((await b.usage({ id: uid(), type: 'email', count: 4000, ts: b.clock.now() }))[0]?.status).toBe('accepted')
  })

  it.each([
    // No contact ranges: the contacts the period bills, the reading of 5000 at the boundary: 20000.
    ['a plan without contact ranges', { contactRanges: [] }, 20000],
    // Ranges: the upper bound of the range billed, 5000 falls in "up to 5000": 20000.
    ['a plan with contact ranges', {}, 20000],
  ])('lets the email check and GET /v1/period agree on %s (docs/billing.md, Rating)', async (_, plan, quota) => {
    const b = billing({}, undefined, plan)
    // 1000 declared, a reading of 5000 in period 0; none since. Periods 1 and 2 both pay for 5000,
    // and period 2's check reads periods 1 and 2 only: the reading before them carries in.
    expect((await b.usage({ id: uid(), type: 'contacts', count: 5000, ts: b.clock.now() }))[0]?.status).toBe('accepted')
    for (const day of ['2026-08-20', '2026-09-20']) {
      b.clock.set(at(`${day}T10:00:00Z`))
      const p = (await (await b.get('/v1/period')).json()) as { emails: { quota: number; left: number } }
      expect([day, p.emails.quota, p.emails.left]).toEqual([day, quota, quota])
      expect((await b.usage({ id: uid(), type: 'email', count: 5000, ts: b.clock.now() }))[0]?.status).toBe('accepted')
      expect((await b.usage({ id: uid(), type: 'email', count: quota - 5000 + 1, ts: b.clock.now() }))[0]?.code).toBe('quota_exceeded')
      expect((await b.usage({ id: uid(), type: 'email', count: quota - 5000, ts: b.clock.now() }))[0]?.status).toBe('accepted')
    }
  })

  it.each([
    [0, 4000],
    [3000, 20000],
  ])('gives %i declared contacts the quota of the upper bound of their range: %i emails', async (contacts, quota) => {
    const b = billing({ contacts })
    const p = (await (await b.get('/v1/period')).json()) as { emails: { quota: number } }
    expect(p.emails.quota).toBe(quota)
    expect((await b.usage({ id: uid(), type: 'email', count: quota + 1, ts: b.clock.now() }))[0]?.code).toBe('quota_exceeded')
    expect((await b.usage({ id: uid(), type: 'email', count: quota, ts: b.clock.now() }))[0]?.status).toBe('accepted')
  })

  it('keeps the highest contacts reading of a period', async () => {
    const b = billing()
    await b.usage({ id: uid(), type: 'contacts', count: 1200, ts: b.clock.now() }, { id: uid(), type: 'contacts', count: 900, ts: b.clock.now() })
    const period = (await (await b.get('/v1/period')).json()) as { meters: { contacts: number } }
    expect(period.meters.contacts).toBe(1200)
  })

  it('rejects bad events one by one and bad requests whole, never with a 500', async () => {
    const b = billing()
    const now = b.clock.now()
    const results = await b.usage(
      { id: 'ok', type: 'alert', alert: 'a', ts: now },
      { id: 'bad', type: 'alert', ts: now },
      { type: 'nonsense' },
      { id: 'old', type: 'alert', alert: 'a', ts: now - 73 * 3_600_000 },
      { id: 'future', type: 'alert', alert: 'a', ts: now + 10 * 60_000 },
      { id: 'zero', type: 'action', action: 'sms', quantity: 0, ts: now },
    )
    expect(results.map((r) => [r.id, r.code ?? r.status])).toEqual([
      ['ok', 'accepted'],
      ['bad', 'invalid_event'],
      ['', 'invalid_event'],
      ['old', 'event_too_old'],
      ['future', 'event_in_future'],
      ['zero', 'invalid_event'],
    ])
    expect((await b.send('/v1/usage', '{not json')).status).toBe(400)
    expect(await (await b.send('/v1/usage', { events: 'x' })).json()).toMatchObject({ error: { code: 'invalid_batch' } })
    expect((await b.send('/v1/usage', { events: [] })).status).toBe(400)
    expect((await b.send('/v1/usage', 'null')).status).toBe(400)
  })

  it('answers 503 and writes nothing when the store is failing', async () => {
    const b = billing()
    await b.store.close()
    const res = await b.send('/v1/usage', { events: [{ id: 'x', type: 'alert', alert: 'a', ts: b.clock.now() }] })
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ error: { code: 'unavailable' } })
  })
})

describe('POST /v1/credits/purchase and /transfer', () => {
  it('buys a pack once per id', async () => {
    const b = billing()
    const first = await (await b.send('/v1/credits/purchase', { pack: 'small', id: 'buy-1' })).json()
    expect(first).toMatchObject({ id: 'buy-1', status: 'accepted', credits: 1000, balance: 1500 })
    const again = await (await b.send('/v1/credits/purchase', { pack: 'small', id: 'buy-1' })).json()
    expect(again).toMatchObject({ id: 'buy-1', status: 'duplicate', credits: 1000, balance: 1500 })
    expect(b.count("SELECT count(*) AS n FROM ledger WHERE type = 'purchase'")).toBe(1)
  })

  it('names the invoice that exists for a purchase id holding ":", in the answer and the credits.purchased webhook (docs/billing.md, Credits)', async () => {
    const b = billing()
    const r = await (await b.send('/v1/credits/purchase', { pack: 'small', id: 'buy:1' })).json()
    b.clock.set(b.clock.now() + 1000)
    await b.run(new Date(b.clock.now()).toISOString())
    const keys = ((await (await b.get('/v1/invoices')).json()) as { invoices: { key: string }[] }).invoices.map((i) => i.key)
    expect(keys).toContain('credits:purchase:buy%3A1')
    expect(r.invoice).toBe('credits:purchase:buy%3A1')
    const hooks = b.store.db.prepare("SELECT data FROM webhook_events WHERE type = 'credits.purchased'").all() as { data: string }[]
    expect(hooks.map((h) => JSON.parse(h.data).invoice)).toEqual(['credits:purchase:buy%3A1'])
  })

  it('answers a repeated purchase or transfer with what was stored, not what the repeat says (docs/billing.md, Credits)', async () => {
    const b = billing({}, undefined, { creditPacks: { ...GROWTH.creditPacks, big: { credits: 5000, price: 4000 } } })
    await b.send('/v1/credits/transfer', { to: 'alice', credits: 100, id: 'gift-8' })
    const again = await (await b.send('/v1/credits/transfer', { to: 'bob', credits: 300, id: 'gift-8' })).json()
    expect(again).toMatchObject({ id: 'gift-8', status: 'duplicate', to: 'alice', credits: 100, balance: 400 })
    await b.send('/v1/credits/purchase', { pack: 'small', id: 'buy-8' })
    const bought = await (await b.send('/v1/credits/purchase', { pack: 'big', id: 'buy-8' })).json()
    expect(bought).toMatchObject({ id: 'buy-8', status: 'duplicate', pack: 'small', credits: 1000 })
    const w = await b.wallets()
    expect([w.account?.balance, w['member:alice']?.balance, w['member:bob']?.balance ?? 0]).toEqual([1400, 100, 0])
  })

  it('refuses an unknown pack, a missing id and a read key', async () => {
    const b = billing()
    expect((await b.send('/v1/credits/purchase', { pack: 'huge', id: 'x1' })).status).toBe(400)
    expect((await b.send('/v1/credits/purchase', { pack: 'small' })).status).toBe(400)
    expect((await b.send('/v1/credits/purchase', { pack: 'small', id: 'x2' }, RK)).status).toBe(403)
    expect((await b.send('/v1/credits/purchase', { pack: 'small', id: 'x3' }, null)).status).toBe(401)
    expect(b.count('SELECT count(*) AS n FROM ledger WHERE type = ?', 'purchase')).toBe(0)
  })

  it('sends credits to a member once per id and offers no way back', async () => {
    const b = billing()
    await b.send('/v1/credits/transfer', { to: 'alice', credits: 100, id: 'gift' })
    const again = await (await b.send('/v1/credits/transfer', { to: 'alice', credits: 100, id: 'gift' })).json()
    expect(again).toMatchObject({ status: 'duplicate', balance: 400 })
    // The account is not a member: no transfer can name it, so nothing flows back.
    expect((await b.send('/v1/credits/transfer', { to: 'account', credits: 10, id: 'back' })).status).toBe(400)
    const w = await b.wallets()
    expect([w.account?.balance, w['member:alice']?.balance]).toEqual([400, 100])
  })

  it.each([
    ['a:in', 'a'],
    ['a', 'a:in'],
  ])('keeps transfer %s and transfer %s apart: both move 50 credits, nothing vanishes', async (first, second) => {
    const b = billing()
    const r1 = await (await b.send('/v1/credits/transfer', { to: 'alice', credits: 50, id: first })).json()
    const r2 = await (await b.send('/v1/credits/transfer', { to: 'bob', credits: 50, id: second })).json()
    expect([r1.status, r2.status]).toEqual(['accepted', 'accepted'])
    const w = await b.wallets()
    expect([w.account?.balance, w['member:alice']?.balance, w['member:bob']?.balance]).toEqual([400, 50, 50])
    // And each is still idempotent on its own id.
    expect((await (await b.send('/v1/credits/transfer', { to: 'alice', credits: 50, id: first })).json()).status).toBe('duplicate')
    expect(b.count("SELECT count(*) AS n FROM ledger WHERE source = 'transfer'")).toBe(4)
  })

  it('says how many purchased and free credits a transfer moved, purchased first, also on a repeat', async () => {
    const b = billing()
    await b.send('/v1/credits/purchase', { pack: 'small', id: 'buy-m' })
    const r = await (await b.send('/v1/credits/transfer', { to: 'alice', credits: 1200, id: 'mv' })).json()
    expect(r).toEqual({ id: 'mv', status: 'accepted', to: 'alice', credits: 1200, balance: 300, moved: { purchased: 1000, free: 200 } })
    const again = await (await b.send('/v1/credits/transfer', { to: 'alice', credits: 1200, id: 'mv' })).json()
    expect(again).toMatchObject({ status: 'duplicate', moved: { purchased: 1000, free: 200 } })
  })

  it('refuses a transfer larger than the account balance, moving nothing', async () => {
    const b = billing()
    const r = await (await b.send('/v1/credits/transfer', { to: 'bob', credits: 501, id: 'too-much' })).json()
    expect(r).toEqual({ id: 'too-much', status: 'rejected', code: 'insufficient_credits', to: 'bob', credits: 501, balance: 500 })
    expect((await b.send('/v1/credits/transfer', { to: 'bob', credits: 1.5, id: 'frac' })).status).toBe(400)
    expect(b.count("SELECT count(*) AS n FROM ledger WHERE type LIKE 'transfer%'")).toBe(0)
  })

  it('lists the credit log with each spend naming its lots', async () => {
    const b = billing()
    await b.usage({ id: 'f1', type: 'action', action: 'form', quantity: 3, ts: b.clock.now() })
    const log = (await (await b.get('/v1/credits/log')).json()) as { entries: { id: string; type: string; draws?: unknown }[] }
    expect(log.entries.map((e) => e.type)).toEqual(['grant', 'spend'])
    expect(log.entries[1]).toMatchObject({ id: 'action:f1', draws: [{ lot: 'grant:0', credits: 3 }] })
  })
})
