import { describe, expect, it } from 'vitest'
import { ADMIN, ORIGIN, batch, impression, setup } from '../testkit.js'
import { TEST_ENGINES } from '../../../../test/pg/engines.js'
import { invoicePdf } from '../domain/invoice-pdf.js'
import { formatMinor, invoiceCsv } from '../domain/invoice-csv.js'
import type { Invoice } from '@tally/billing'
import { SK, RK, OTHER_RK, GROWTH, billingConfig, billing, at, uid } from './billing.fixtures.js'

describe('a cancelled subscription', () => {
  it('refuses the account beacons with 403 after its last period ends', async () => {
    const b = billing({ cancelledAt: '2026-07-20' })
    const send = () => b.post(batch([impression('cmp_summer', 's_1', uid(), b.clock.now())], b.clock.now()), { origin: ORIGIN })
    expect((await send()).status).toBe(200)
    // The paid period runs to Amsterdam midnight of Aug 12 (22:00 UTC on Aug 11).
    b.clock.set(at('2026-08-11T21:59:59Z'))
    expect((await send()).status).toBe(200)
    b.clock.set(at('2026-08-11T22:00:00Z'))
    const refused = await send()
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ error: { code: 'forbidden' } })
    const rej = (await (await b.get('/v1/rejections')).json()) as { rejections: { reason: string }[] }
    expect(rej.rejections.map((r) => r.reason)).toContain('subscription_ended')
  })

  it('tells a renewal by webhook, and not the last invoice after a cancellation', async () => {
    const b = billing({ cancelledAt: '2026-08-20' })
    b.clock.set(at('2026-08-25T12:00:00Z'))
    // 1200 contacts in the last period: its closing invoice bills the excess.
    expect((await b.usage({ id: uid(), type: 'contacts', count: 1200, ts: b.clock.now() }))[0]?.status).toBe('accepted')
    b.clock.set(at('2026-12-01T00:00:00Z'))
    const r = (await (await b.run('2026-12-01T00:00:00Z')).json()) as { accounts: { account: string; invoices: { key: string }[] }[] }
    expect(r.accounts.find((a) => a.account === 'acme')?.invoices.map((i) => i.key)).toEqual(['recurring:0', 'recurring:1', 'recurring:2'])
    const events = b.store.db.prepare("SELECT type, key FROM webhook_events WHERE account = 'acme' ORDER BY seq").all()
    expect(events).toEqual([
      { type: 'invoice.finalized', key: 'invoice.finalized:recurring:0' },
      { type: 'invoice.finalized', key: 'invoice.finalized:recurring:1' },
      { type: 'subscription.renewed', key: 'subscription.renewed:1' },
      { type: 'invoice.finalized', key: 'invoice.finalized:recurring:2' },
    ])
  })

  it('bills usage that arrives after the final invoice on an invoice of its own (docs/billing.md, Invoices)', async () => {
    const b = billing({ cancelledAt: '2026-07-20' }, undefined, { included: { ...GROWTH.included, alerts: 1 } })
    const alert = (ts: number) => ({ id: uid(), type: 'alert', alert: 'stock', ts })
    expect((await b.usage(alert(b.clock.now()), alert(b.clock.now()))).map((r) => r.status)).toEqual(['accepted', 'accepted'])
    // The period ends at Amsterdam midnight of Aug 12 (22:00 UTC on Aug 11): the final invoice bills 1 alert over.
    b.clock.set(at('2026-08-11T22:00:00Z'))
    await b.run('2026-08-11T22:00:00Z')
    // Two alerts dated inside the period arrive an hour later and are accepted.
    b.clock.set(at('2026-08-11T23:00:00Z'))
    expect((await b.usage(alert(at('2026-08-10T12:00:00Z')), alert(at('2026-08-10T12:00:00Z')))).map((r) => r.status)).toEqual(['accepted', 'accepted'])
    expect((await b.get('/v1/period')).status).toBe(404)
    b.clock.set(at('2026-08-12T06:00:00Z'))
    await b.run('2026-08-12T06:00:00Z')
    await b.run('2026-08-12T06:00:00Z')
    const list = ((await (await b.get('/v1/invoices')).json()) as { invoices: { key: string; total: number }[] }).invoices
    expect(list.map((i) => [i.key, i.total])).toEqual([
      ['recurring:0', 9400],
      ['recurring:1', 1],
      ['recurring:1:late:1', 2],
    ])
  })

  it('bills the last usage once after the end and nothing more', async () => {
    const b = billing({ cancelledAt: '2026-07-20' })
    b.clock.set(at('2026-12-01T00:00:00Z'))
    const r = (await (await b.run('2026-12-01T00:00:00Z')).json()) as { accounts: { account: string; invoices: { key: string }[] }[] }
    // The last period had no usage beyond its quotas: no final invoice, since it would have no line.
    expect(r.accounts.find((a) => a.account === 'acme')?.invoices.map((i) => i.key)).toEqual(['recurring:0'])
    expect((await b.get('/v1/period')).status).toBe(404)
  })
})

describe('invoice documents', () => {
  const invoice: Invoice = {
    key: 'recurring:0',
    kind: 'recurring',
    status: 'finalized',
    number: 7,
    currency: 'EUR',
    issuedAt: Date.UTC(2026, 6, 11, 22),
    issuedDate: '2026-07-12',
    period: { index: 0, start: 0, end: 1, startDate: '2026-07-12', endDate: '2026-08-12' },
    lines: [
      {
        kind: 'base',
        description: 'Base price, "growth"',
        quantity: 1,
        unitPrice: 4900,
        months: 1,
        discountPercent: 0,
        proration: null,
        discount: 0,
        amount: 4900,
        from: '2026-07-12',
        to: '2026-08-12',
        period: { index: 0, start: 0, end: 1, startDate: '2026-07-12', endDate: '2026-08-12' },
      },
    ],
    total: 4900,
    amountUnit: 'minor',
  }

  it('formats minor units exactly, by the currency exponent', () => {
    expect([formatMinor(123456, 'EUR'), formatMinor(-5, 'EUR'), formatMinor(0, 'EUR'), formatMinor(500, 'JPY')]).toEqual(['1234.56', '-0.05', '0.00', '500'])
  })

  it('quotes CSV fields with commas and quotes (RFC 4180)', () => {
    const rows = invoiceCsv(invoice).split('\r\n')
    expect(rows[1]).toBe('7,2026-07-12,base,"Base price, ""growth""",2026-07-12,2026-08-12,1,4900,1,1,0,4900,EUR')
  })

  it('writes a one-page PDF with the account, number, dates, lines and total', async () => {
    const pdf = (await invoicePdf(invoice, { id: 'acme', name: 'Acme Inc.' }, { compress: false })).toString('latin1')
    expect(pdf.startsWith('%PDF-')).toBe(true)
    expect(pdf.match(/\/Type \/Page\b/g)).toHaveLength(1)
    // pdfkit writes standard-font text as TJ arrays of hex strings, split by kerning numbers: join them back.
    const text = [...pdf.matchAll(/\[(.*?)\] TJ/g)].map((m) =>
      [...(m[1] ?? '').matchAll(/<([0-9a-f]*)>/g)].map((h) => Buffer.from(h[1] ?? '', 'hex').toString('latin1')).join(''),
    )
    expect(text).toEqual(
      expect.arrayContaining([
        'Invoice 7',
        'Account: Acme Inc. (acme)',
        'Issued: 2026-07-12',
        'Period: 2026-07-12 to 2026-08-12 (end exclusive)',
        'Base price, "growth"',
        '2026-07-12',
        '2026-08-12',
        '1',
        '4900',
        'Total: 4900 (minor units of EUR)',
      ]),
    )
  })
})

// Grants and packs are stored by each engine its own way: the same answers on both.
describe.each(TEST_ENGINES)('POST /v1/admin/accounts/{id}/email-grants on $name', ({ skip, open }) => {
  const grant = (b: ReturnType<typeof billing>, body: unknown, account = 'acme', key: string | null = ADMIN) =>
    b.send(`/v1/admin/accounts/${account}/email-grants`, body, key)
  const emails = async (b: ReturnType<typeof billing>) =>
    ((await (await b.get('/v1/period')).json()) as { emails: { quota: number; granted: number; sent: number; left: number } }).emails

  it.skipIf(skip)('lets a send over the 4x quota through once support granted more for the month, and shows the grant in the period', async () => {
    const b = billing({}, await open())
    expect((await b.usage({ id: uid(), type: 'email', count: 4000, ts: b.clock.now() }))[0]?.status).toBe('accepted')
    expect((await b.usage({ id: 'over', type: 'email', count: 3000, ts: b.clock.now() }))[0]?.code).toBe('quota_exceeded')
    const res = await grant(b, { emails: 5000, id: 'g-1', note: 'launch week' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      account: 'acme',
      id: 'g-1',
      status: 'accepted',
      emails: 5000,
      month: '2026-07-12',
      note: 'launch week',
      grantedAt: '2026-07-20T12:00:00.000Z',
    })
    // The refused event is judged afresh on retry: the grant makes room for it.
    expect((await b.usage({ id: 'over', type: 'email', count: 3000, ts: b.clock.now() }))[0]?.status).toBe('accepted')
    expect(await emails(b)).toEqual({ quota: 4000, granted: 5000, sent: 7000, left: 2000 })
    expect((await b.usage({ id: uid(), type: 'email', count: 2001, ts: b.clock.now() }))[0]?.code).toBe('quota_exceeded')
  })

  it.skipIf(skip)('grants once per id: a repeat answers duplicate with the original grant', async () => {
    const b = billing({}, await open())
    await grant(b, { emails: 5000, id: 'g-1' })
    const again = await (await grant(b, { emails: 9000, id: 'g-1', note: 'retry' })).json()
    expect(again).toMatchObject({ status: 'duplicate', emails: 5000, note: null })
    expect((await emails(b)).granted).toBe(5000)
  })

  it.skipIf(skip)('adds to the month it was granted in, not to the next one', async () => {
    const b = billing({}, await open())
    await grant(b, { emails: 5000, id: 'g-1' })
    b.clock.set(at('2026-08-20T12:00:00Z'))
    expect(await emails(b)).toMatchObject({ granted: 0 })
  })

  it.skipIf(skip)('refuses a grant when the account has no current period, and bad input, writing nothing', async () => {
    const b = billing({ start: '2026-09-01' }, await open())
    expect(await (await grant(b, { emails: 5000, id: 'early' })).json()).toMatchObject({ error: { code: 'invalid_request' } })
    const bad = [
      { emails: 0, id: 'a' },
      { emails: 1.5, id: 'a' },
      { emails: '5', id: 'a' },
      { emails: 5 },
      { emails: 5, id: 'a b' },
      { emails: 10_000_001, id: 'a' },
      { emails: 5, id: 'a', note: 7 },
      null,
      '[]',
    ]
    for (const body of bad) expect((await grant(b, body)).status).toBe(400)
    expect((await grant(b, '{')).status).toBe(400)
    expect(await b.stored('SELECT count(*) AS n FROM email_grants')).toBe(0)
  })

  it.skipIf(skip)('is for the admin only and for an account that exists', async () => {
    const b = billing({}, await open())
    expect((await grant(b, { emails: 5, id: 'a' }, 'acme', SK)).status).toBe(401)
    expect((await grant(b, { emails: 5, id: 'a' }, 'acme', null)).status).toBe(401)
    expect((await grant(b, { emails: 5, id: 'a' }, 'nobody')).status).toBe(404)
    expect(await b.stored('SELECT count(*) AS n FROM email_grants')).toBe(0)
  })
})

describe.each(TEST_ENGINES)('POST /v1/emails/purchase on $name', ({ skip, open }) => {
  const buy = (b: ReturnType<typeof billing>, body: unknown, key: string | null = SK) => b.send('/v1/emails/purchase', body, key)

  it.skipIf(skip)("adds a pack of the plan to this month's quota, once per id, and invoices it like a credit pack", async () => {
    const b = billing({}, await open())
    const first = await buy(b, { pack: 'big', id: 'e-1' })
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ id: 'e-1', status: 'accepted', pack: 'big', emails: 5000, month: '2026-07-12', invoice: 'emails:purchase:e-1' })
    expect(await (await buy(b, { pack: 'big', id: 'e-1' })).json()).toMatchObject({ status: 'duplicate', emails: 5000 })
    const period = (await (await b.get('/v1/period')).json()) as { emails: unknown }
    expect(period.emails).toEqual({ quota: 4000, granted: 5000, sent: 0, left: 9000 })
    expect((await b.usage({ id: uid(), type: 'email', count: 9000, ts: b.clock.now() }))[0]?.status).toBe('accepted')
    // The next run finalizes its invoice at the pack's price.
    b.clock.set(at('2026-07-21T00:00:00Z'))
    const run = (await (await b.run('2026-07-21T00:00:00Z')).json()) as { accounts: { invoices: { key: string; total: number }[] }[] }
    expect(run.accounts[0]?.invoices).toContainEqual(expect.objectContaining({ key: 'emails:purchase:e-1', total: 1500 }))
  })

  it.skipIf(skip)('refuses an unknown pack, a bad id, the read key, and a purchase outside the subscription, writing nothing', async () => {
    const b = billing({}, await open())
    expect((await buy(b, { pack: 'huge', id: 'x1' })).status).toBe(400)
    expect((await buy(b, { pack: 'constructor', id: 'x1' })).status).toBe(400)
    expect((await buy(b, { pack: 'big' })).status).toBe(400)
    expect((await buy(b, { pack: 'big', id: 'x2' }, RK)).status).toBe(403)
    expect((await buy(b, { pack: 'big', id: 'x3' }, null)).status).toBe(401)
    const early = billing({ start: '2026-09-01' }, await open())
    expect((await buy(early, { pack: 'big', id: 'x4' })).status).toBe(400)
    expect((await b.stored('SELECT count(*) AS n FROM email_grants')) + (await early.stored('SELECT count(*) AS n FROM email_grants'))).toBe(0)
  })

  it.skipIf(skip)('keeps a support grant and a purchase with the same id apart', async () => {
    const b = billing({}, await open())
    await b.send('/v1/admin/accounts/acme/email-grants', { emails: 100, id: 'same' }, ADMIN)
    expect(await (await buy(b, { pack: 'big', id: 'same' })).json()).toMatchObject({ status: 'accepted', emails: 5000 })
    expect(((await (await b.get('/v1/period')).json()) as { emails: { granted: number } }).emails.granted).toBe(5100)
  })
})

describe('the plan by its name', () => {
  it('answers the plan name of the configuration in GET /v1/period, and its id when it has none', async () => {
    const b = billing()
    expect(await (await b.get('/v1/period')).json()).toMatchObject({ planId: 'growth', planName: 'growth' })
    const config = billingConfig()
    const named = { ...config, plans: { ...config.plans, growth: { ...config.plans.growth!, name: 'Growth' } } }
    const t = setup({ config: named })
    const res = await t.app.request('/v1/period', { headers: { authorization: `Bearer ${RK}` } })
    expect(await res.json()).toMatchObject({ planId: 'growth', planName: 'Growth' })
  })
})

describe('the time zone of the reads', () => {
  it.each(['/v1/period', '/v1/invoices', '/v1/credits', '/v1/credits/log', '/v1/admin/accounts/acme/credits/log', '/v1/usage'])(
    'names the account zone beside the instants of %s',
    async (path) => {
      const b = billing()
      const res = await b.get(path, path.includes('/admin/') ? ADMIN : RK)
      expect(res.status).toBe(200)
      expect(((await res.json()) as { timezone: string }).timezone).toBe('Europe/Amsterdam')
      const other = await b.get(path.replace('/admin/accounts/acme', '/admin/accounts/other'), path.includes('/admin/') ? ADMIN : OTHER_RK)
      expect(((await other.json()) as { timezone: string }).timezone).toBe('UTC')
    },
  )
})
