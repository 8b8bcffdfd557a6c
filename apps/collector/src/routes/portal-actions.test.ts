/**
 * The billing portal's actions against the in-process app (docs/portal.md): idempotent writes, previews
 * that bill what they said, invoice information on later invoices only, payment status and notices, and
 * portal changes as admin changes.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'

import { ADMIN, NOW } from '../testkit.js'
import { SK, key, portal } from './portal.fixtures.js'

describe('portal actions', () => {
  it('buys one pack for a double click, issues its invoice at once and sends one webhook', async () => {
    const p = portal()
    const s = await p.open()
    const body = { pack: 'small', key: key() }
    const [a, b] = await Promise.all([p.json(s, 'POST', '/v1/portal/credits/purchase', body), p.json(s, 'POST', '/v1/portal/credits/purchase', body)])
    expect([a.body.status, b.body.status].sort()).toEqual(['accepted', 'duplicate'])
    const credits = (await (await p.admin('/v1/admin/accounts/acme/credits')).json()) as { wallets: Record<string, { balance: number }> }
    expect(credits.wallets.account?.balance).toBe(1500)
    expect((await p.invoices()).filter((i) => i.kind === 'credits')).toHaveLength(1)
    expect(p.webhookTypes().filter((t) => t === 'credits.purchased')).toHaveLength(1)
  })

  it('sends credits to a member once, and says so through the API and a webhook', async () => {
    const p = portal()
    const s = await p.open()
    const body = { to: 'alice', credits: 120, key: key() }
    expect((await p.json(s, 'POST', '/v1/portal/credits/transfer', body)).body).toMatchObject({ status: 'accepted', credits: 120, balance: 380 })
    expect((await p.json(s, 'POST', '/v1/portal/credits/transfer', body)).body.status).toBe('duplicate')
    const credits = (await (await p.admin('/v1/admin/accounts/acme/credits')).json()) as { wallets: Record<string, { balance: number }> }
    expect(credits.wallets['member:alice']?.balance).toBe(120)
    expect(p.webhookTypes()).toContain('credits.transferred')
    const log = await p.json(s, 'GET', '/v1/portal/credits/log?type=transfer_out')
    expect(log.body.entries).toHaveLength(1)
  })

  it("cancels at the period's end and undoes it, each once, with notices and webhooks", async () => {
    const p = portal()
    const s = await p.open()
    const k = key()
    expect((await p.json(s, 'POST', '/v1/portal/subscription/cancel', { key: k })).body).toEqual({
      status: 'cancelled',
      cancelledAt: '2026-07-20',
      endsOn: '2026-08-12',
    })
    expect((await p.json(s, 'POST', '/v1/portal/subscription/cancel', { key: k })).status).toBe(200)
    expect((await p.json(s, 'POST', '/v1/portal/subscription/cancel', { key: key() })).status).toBe(409)
    const account = (await (await p.admin('/v1/admin/accounts/acme')).json()) as { account: { subscription: { cancelledAt?: string } } }
    expect(account.account.subscription.cancelledAt).toBe('2026-07-20')
    const state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.notices.map((x: { kind: string }) => x.kind)).toContain('cancellation_scheduled')
    expect((await p.json(s, 'POST', '/v1/portal/subscription/resume', { key: key() })).body.status).toBe('resumed')
    const after = (await (await p.admin('/v1/admin/accounts/acme')).json()) as { account: { subscription: { cancelledAt?: string } } }
    expect(after.account.subscription.cancelledAt).toBeUndefined()
    expect(p.webhookTypes().filter((t) => t.startsWith('subscription.cancellation'))).toEqual([
      'subscription.cancellation_scheduled',
      'subscription.cancellation_undone',
    ])
  })

  it("refuses what the plan's policy does not allow", async () => {
    const p = portal()
    const s = await p.open()
    expect((await p.json(s, 'POST', '/v1/portal/subscription/preview', { seats: 21 })).status).toBe(403)
    expect((await p.json(s, 'POST', '/v1/portal/subscription/preview', { cycle: 'semiannual' })).status).toBe(403)
    expect((await p.json(s, 'POST', '/v1/portal/subscription/preview', { plan: 'nope' })).status).toBe(403)
    expect((await p.json(s, 'POST', '/v1/portal/subscription/preview', { seats: 3 })).status).toBe(400)
    // On lite, whose policy allows only a switch back to growth: no packs, no cancel.
    await p.json(s, 'POST', '/v1/portal/subscription/changes', { plan: 'lite', products: [], key: key() })
    p.clock.advance(24 * 86_400_000)
    const again = await p.open()
    expect((await p.json(again, 'POST', '/v1/portal/credits/purchase', { pack: 'small', key: key() })).status).toBe(403)
    expect((await p.json(again, 'POST', '/v1/portal/subscription/cancel', { key: key() })).status).toBe(403)
  })

  it('bills what it previewed, for random changes', async () => {
    const change = fc.record({
      plan: fc.constantFrom(undefined, 'pro', 'lite'),
      seats: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
      push: fc.boolean(),
      cycle: fc.constantFrom(undefined, 'quarterly' as const, 'annual' as const),
      days: fc.integer({ min: 0, max: 40 }),
    })
    await fc.assert(
      fc.asyncProperty(change, async (c) => {
        const p = portal()
        p.clock.advance(c.days * 86_400_000)
        await p.admin('/v1/admin/billing/run', {})
        const s = await p.open()
        const products = c.plan === 'lite' ? (c.push ? ['push'] : []) : c.push ? ['data', 'push'] : ['data']
        const ask = { plan: c.plan, seats: c.plan === 'lite' ? undefined : c.seats, products, cycle: c.plan === 'lite' ? undefined : c.cycle }
        const preview = await p.json(s, 'POST', '/v1/portal/subscription/preview', ask)
        if (preview.status !== 200) return // nothing to change
        const before = (await p.invoices()).length
        const done = await p.json(s, 'POST', '/v1/portal/subscription/changes', { ...ask, key: key() })
        expect(done.status).toBe(200)
        expect(done.body.preview).toEqual(preview.body)
        const issued = (await p.invoices()).slice(before)
        // Billed at once: exactly the upgrade invoice previewed, or nothing.
        expect(issued.map((i) => i.total)).toEqual(preview.body.chargeNow ? [preview.body.chargeNow.total] : [])
        if (preview.body.chargeNow) expect(issued[0]?.number).toBe(done.body.invoice)
        // From the period's end: the recurring fees previewed.
        const end = Date.parse(`${preview.body.periodEnd}T12:00:00Z`)
        p.clock.set(end)
        await p.admin('/v1/admin/billing/run', {})
        const next = (await p.invoices()).find((i) => i.kind === 'recurring' && i.period?.startDate === preview.body.periodEnd)
        const advance = next?.lines.filter((l) => l.period.startDate === preview.body.periodEnd).reduce((x, l) => x + l.amount, 0)
        expect(advance).toBe(preview.body.next.total)
      }),
      { numRuns: 12 },
    )
  }, 120_000)

  it('prints the invoice information on invoices issued after the change only, in JSON, CSV and PDF', async () => {
    const p = portal()
    await p.admin('/v1/admin/billing/run', {})
    const s = await p.open()
    const details = { company: 'Acme BV', address: 'Dam 1\n1012 JS Amsterdam', taxId: 'NL001234567B01', email: 'billing@acme.test' }
    const put = await p.json(s, 'PUT', '/v1/portal/billing-details', { ...details, key: key() })
    expect(put.body.details).toEqual(details)
    expect(p.webhookTypes()).toContain('billing_details.updated')
    await p.json(s, 'POST', '/v1/portal/credits/purchase', { pack: 'small', key: key() })
    const [first, pack] = await p.invoices()
    expect(first?.billTo).toBeUndefined()
    expect(pack?.billTo).toEqual(details)
    const csv = await (await p.admin(`/v1/admin/accounts/acme/invoices/${pack?.number}.csv`)).text()
    expect(csv).toContain('bill_to,company: Acme BV')
    expect(csv).toContain('tax_id: NL001234567B01')
    expect(await (await p.admin(`/v1/admin/accounts/acme/invoices/${first?.number}.csv`)).text()).not.toContain('bill_to')
    // A later change prints on later invoices; this one keeps what it was issued with.
    await p.json(s, 'PUT', '/v1/portal/billing-details', { ...details, company: 'Acme Holding BV', key: key() })
    expect((await p.invoices())[1]?.billTo?.company).toBe('Acme BV')
    const state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.billingDetails.details.company).toBe('Acme Holding BV')
    expect(p.count("SELECT count(*) AS n FROM account_facts WHERE kind = 'billing_details'")).toBe(2)
  })

  it('shows the payment status the vendor reports, and a failed payment as a notice until it is paid', async () => {
    const p = portal()
    await p.admin('/v1/admin/billing/run', {})
    const report = (body: unknown, secret = SK) =>
      p.app.request('/v1/invoices/1/payments', {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect((await report({ id: 'r1', status: 'failed', reference: 'ch_1', date: '2026-07-12' })).status).toBe(200)
    expect((await report({ id: 'r1', status: 'paid', reference: 'ch_1' })).status).toBe(200)
    expect((await report({ id: 'r1', status: 'failed', reference: 'ch_1' }, 'rk_acme_read')).status).toBe(403)
    // Another account's key reports on its own invoice 1, never on acme's.
    expect((await report({ id: 'r9', status: 'paid', reference: 'ch_9' }, 'sk_other_secret')).status).toBe(200)
    expect(
      (
        await p.app.request('/v1/invoices/99/payments', {
          method: 'POST',
          headers: { authorization: `Bearer ${SK}` },
          body: JSON.stringify({ id: 'r1', status: 'paid', reference: 'x' }),
        })
      ).status,
    ).toBe(404)
    expect((await report({ id: 'r2', status: 'bounced', reference: 'x' })).status).toBe(400)
    const s = await p.open()
    let state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.invoices[0].payment).toMatchObject({ status: 'failed', reference: 'ch_1', date: '2026-07-12' })
    expect(state.body.notices[0]).toMatchObject({ kind: 'payment_failed', invoice: 1 })
    const dash = (await (await p.app.request('/v1/notices', { headers: { authorization: 'Bearer rk_acme_read' } })).json()) as { notices: { kind: string }[] }
    expect(dash.notices.map((x) => x.kind)).toContain('payment_failed')
    p.clock.advance(1000)
    await report({ id: 'r3', status: 'paid', reference: 'ch_2' })
    state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.invoices[0].payment.status).toBe('paid')
    expect(state.body.notices.map((x: { kind: string }) => x.kind)).not.toContain('payment_failed')
  })

  it("takes the admin's report of docs/protocol.md §6 at /v1/admin/accounts/{id}/invoices/{n}/payments, once per report, into the same status", async () => {
    const p = portal()
    await p.admin('/v1/admin/billing/run', {})
    const report = (body: unknown, auth = `Bearer ${ADMIN}`, path = '/v1/admin/accounts/acme/invoices/1/payments') =>
      p.app.request(path, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const failed = await report({ status: 'failed', at: '2026-07-12T10:00:00Z', reference: 'ch_1' })
    expect(failed.status).toBe(200)
    expect(await failed.json()).toMatchObject({ invoice: 1, status: 'accepted', payment: { status: 'failed', reference: 'ch_1', date: '2026-07-12' } })
    // The same report again records nothing more.
    expect(await (await report({ status: 'failed', at: '2026-07-12T10:00:00Z', reference: 'ch_1' })).json()).toMatchObject({ status: 'duplicate' })
    expect((await report({ status: 'paid', at: 'yesterday', reference: 'ch_1' })).status).toBe(400)
    expect((await report({ status: 'paid', reference: 'ch_1' }, `Bearer ${SK}`)).status).toBe(401)
    expect((await report({ status: 'paid', reference: 'ch_1' }, `Bearer ${ADMIN}`, '/v1/admin/accounts/acme/invoices/99/payments')).status).toBe(404)
    const s = await p.open()
    let state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.notices[0]).toMatchObject({ kind: 'payment_failed', invoice: 1 })
    p.clock.advance(1000)
    expect((await report({ status: 'paid', at: '2026-07-13', reference: 'ch_2' })).status).toBe(200)
    state = await p.json(s, 'GET', '/v1/portal/state')
    expect(state.body.invoices[0].payment).toMatchObject({ status: 'paid', reference: 'ch_2', date: '2026-07-13' })
    expect(state.body.notices.map((x: { kind: string }) => x.kind)).not.toContain('payment_failed')
  })
})

describe('portal changes are admin changes', () => {
  it("writes a plan change as the account's next version, by the portal session, in the history the admin reads", async () => {
    const p = portal()
    const s = await p.open()
    const history = async () =>
      (await (await p.admin('/v1/admin/accounts/acme/history')).json()) as {
        versions: { version: number; actor: string; account: { subscription: { changes?: unknown[] } } }[]
      }
    const byPortal = (vs: { actor: string }[]) => vs.filter((v) => v.actor.startsWith('portal:')).length
    expect(byPortal((await history()).versions)).toBe(0)
    const done = await p.json(s, 'POST', '/v1/portal/subscription/changes', { seats: 4, key: key() })
    expect(done.status).toBe(200)
    const after = (await history()).versions
    // The first write of a database the file seeded writes the file's version first; the portal's follows.
    expect(byPortal(after)).toBe(1)
    const newest = after[0]!
    expect(newest.actor).toMatch(/^portal:[A-Za-z0-9_-]{16}$/)
    expect(newest.account.subscription.changes?.at(-1)).toMatchObject({ seats: 4 })
    // The admin reads the account the portal wrote, with its version.
    const read = (await (await p.admin('/v1/admin/accounts/acme')).json()) as { version: number; account: { subscription: { changes?: unknown[] } } }
    expect(read.version).toBe(newest.version)
    // Cancelling is a version too; a repeated key writes none.
    const k = key()
    expect((await p.json(s, 'POST', '/v1/portal/subscription/cancel', { key: k })).status).toBe(200)
    expect((await p.json(s, 'POST', '/v1/portal/subscription/cancel', { key: k })).status).toBe(200)
    const last = (await history()).versions
    expect(last.length).toBe(after.length + 1)
    expect(byPortal(last)).toBe(2)
    expect(last[0]!.actor).toBe(newest.actor)
  })
})

void NOW
