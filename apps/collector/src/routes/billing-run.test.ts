/**
 * The billing run and the billing reads (invoices, the period) over HTTP, against the in-process app and
 * an in-memory store, with an injected clock; plan and accounts as in billing.test.ts (./billing.fixtures.ts).
 */
import { describe, expect, it } from 'vitest'
import { ADMIN } from '../testkit.js'
import type { Invoice } from '@tally/billing'

import { SK, RK, OTHER_RK, billing, at, uid } from './billing.fixtures.js'

describe('billing run, invoices and reads', () => {
  it('closes the ended periods once: a second run changes nothing', async () => {
    const b = billing()
    b.clock.set(at('2026-08-12T00:00:00Z'))
    const first = (await (await b.run('2026-08-12T00:00:00Z')).json()) as {
      accounts: { account: string; invoices: { number: number; key: string; total: number }[] }[]
    }
    const acme = first.accounts.find((a) => a.account === 'acme')
    // Recurring fees in advance, 3 seats and 1000 contacts: 4900 + 3 x 1500 + 0 = 9400, at Jul 12 and at Aug 12.
    expect(acme?.invoices).toEqual([
      { number: 1, key: 'recurring:0', total: 9400, currency: 'EUR' },
      { number: 2, key: 'recurring:1', total: 9400, currency: 'EUR' },
    ])
    const invoices = b.count('SELECT count(*) AS n FROM invoices')
    const entries = b.count('SELECT count(*) AS n FROM ledger')
    const second = (await (await b.run('2026-08-12T00:00:00Z')).json()) as { accounts: { invoices: unknown[]; ledger: number }[] }
    expect(second.accounts.every((a) => a.invoices.length === 0 && a.ledger === 0)).toBe(true)
    expect([b.count('SELECT count(*) AS n FROM invoices'), b.count('SELECT count(*) AS n FROM ledger')]).toEqual([invoices, entries])
  })

  it('expires the unspent free credits at the period end and keeps purchased ones', async () => {
    const b = billing()
    await b.send('/v1/credits/purchase', { pack: 'small', id: 'keep' })
    await b.usage({ id: 'one', type: 'action', action: 'sms', quantity: 1, ts: b.clock.now() })
    // Amsterdam midnight of Aug 12 is 22:00 UTC on Aug 11.
    b.clock.set(at('2026-08-11T22:00:00Z'))
    await b.run('2026-08-11T22:00:00Z')
    const log = (await (await b.get('/v1/credits/log')).json()) as { entries: { id: string; type: string; credits: number }[] }
    expect(log.entries.find((e) => e.id === 'expiry:grant:0')?.credits).toBe(498)
    // The new month's 500 free credits and the 1000 bought.
    expect((await b.wallets()).account?.balance).toBe(1500)
  })

  it('refuses a run in the future, a bad instant and a missing admin token', async () => {
    const b = billing()
    expect((await b.run('2027-01-01T00:00:00Z')).status).toBe(400)
    expect((await b.run('yesterday')).status).toBe(400)
    // Date.parse would read '1' as 2001-01-01 and '12' as 2001-12-01: not ISO-8601, so refused.
    for (const garbage of ['1', '12', 'March 7, 2026', 'Tue Jul 14 2026', '2026-07-14 garbage', '2026-02-30T00:00:00Z']) {
      const res = await b.run(garbage)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_request' } })
    }
    for (const asOf of [12, null, {}, []]) expect((await b.send('/v1/admin/billing/run', { asOf }, ADMIN)).status).toBe(400)
    expect((await b.run('2026-07-14')).status).toBe(200)
    expect((await b.run('2026-07-14T10:00:00+02:00')).status).toBe(200)
    expect((await b.send('/v1/admin/billing/run', { asOf: '2026-07-20T00:00:00Z' }, SK)).status).toBe(401)
  })

  it('serves an invoice as JSON, CSV and PDF, by extension and by Accept', async () => {
    const b = billing()
    await b.send('/v1/credits/purchase', { pack: 'small', id: 'pdf-pack' })
    await b.run(new Date(b.clock.now()).toISOString())
    const list = (await (await b.get('/v1/invoices')).json()) as { invoices: { number: number; key: string; total: number }[] }
    expect(list.invoices.map((i) => [i.number, i.key, i.total])).toEqual([
      [1, 'recurring:0', 9400],
      [2, 'credits:purchase:pdf-pack', 1000],
    ])

    const json = (await (await b.get('/v1/invoices/1.json')).json()) as Invoice
    expect(json).toMatchObject({ number: 1, status: 'finalized', currency: 'EUR', total: 9400 })
    expect(json.lines.map((l) => [l.kind, l.amount])).toEqual([
      ['base', 4900],
      ['seats', 4500],
      ['contacts', 0],
    ])

    const csv = await b.get('/v1/invoices/1.csv')
    expect(csv.headers.get('content-type')).toContain('text/csv')
    const lines = (await csv.text()).split('\r\n')
    // Amounts in integer minor units, as in the JSON: the header names say so.
    expect(lines[0]).toBe('invoice,issued,kind,description,from,to,quantity,unit_price_minor,months,proration,discount_minor,amount_minor,currency')
    expect(lines.slice(1, 5).map((l) => l.split(',').slice(-2).join(' '))).toEqual(['4900 EUR', '4500 EUR', '0 EUR', '9400 EUR'])
    expect(lines[5]).toBe('')

    const pdf = await b.get('/v1/invoices/1.pdf')
    expect(pdf.headers.get('content-type')).toBe('application/pdf')
    const bytes = Buffer.from(await pdf.arrayBuffer())
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-')
    // The document's info dictionary is never compressed: its title names the invoice.
    expect(bytes.toString('latin1')).toContain('(Invoice 1)')

    expect((await b.get('/v1/invoices/1', RK, { accept: 'text/csv' })).headers.get('content-type')).toContain('text/csv')
    expect((await b.get('/v1/invoices/1', RK, { accept: 'application/pdf' })).headers.get('content-type')).toBe('application/pdf')
    expect((await b.get('/v1/invoices/1')).headers.get('content-type')).toContain('application/json')
    expect((await b.get('/v1/invoices/9.json')).status).toBe(404)
    expect((await b.get('/v1/invoices/1.exe')).status).toBe(404)
  })

  it('lets a key read only its own account, and the admin read any', async () => {
    const b = billing()
    await b.run(new Date(b.clock.now()).toISOString())
    expect(((await (await b.get('/v1/invoices', OTHER_RK)).json()) as { account: string }).account).toBe('other')
    expect(((await (await b.get('/v1/invoices', SK)).json()) as { account: string }).account).toBe('acme')
    expect((await b.get('/v1/invoices', null)).status).toBe(401)
    expect((await b.get('/v1/credits', 'rk_nobody')).status).toBe(401)
    const admin = await b.get('/v1/admin/accounts/acme/invoices', ADMIN)
    expect(((await admin.json()) as { invoices: unknown[] }).invoices).toHaveLength(1)
    for (const path of ['period', 'invoices', 'invoices/1.csv', 'credits', 'credits/log']) {
      expect((await b.get(`/v1/admin/accounts/acme/${path}`, ADMIN)).status).toBe(200)
      expect((await b.get(`/v1/admin/accounts/acme/${path}`, RK)).status).toBe(401)
    }
    expect((await b.get('/v1/admin/accounts/nobody/period', ADMIN)).status).toBe(404)
  })

  it('shows the period: usage against included quotas, balances, email quota and the preview', async () => {
    const b = billing()
    await b.usage({ id: uid(), type: 'alert', alert: 'a', ts: b.clock.now() })
    const p = (await (await b.get('/v1/period')).json()) as {
      period: unknown
      included: unknown
      credits: { account: { balance: number } }
      emails: unknown
      preview: unknown
    }
    expect(p.period).toMatchObject({ startDate: '2026-07-12', endDate: '2026-08-12' })
    expect(p.included).toEqual({ impressions: 100000, engagements: 5000, chatSessions: 500, alerts: 1000 })
    expect(p.credits.account.balance).toBe(500)
    expect(p.emails).toEqual({ quota: 4000, granted: 0, sent: 0, left: 4000 })
    expect(p.preview).toMatchObject({ key: 'recurring:1', total: 9400 })
  })
})
