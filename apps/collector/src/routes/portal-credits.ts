/**
 * The billing portal's credits, emails, invoices and payments (docs/portal.md): the credit log,
 * invoice files, pack purchases and transfers through the services of `POST /v1/credits/*` and
 * `/v1/emails/purchase`, the invoice information kept with its history, the payment status the
 * vendor reports, and the notices the dashboard shows. The plan and the page's state are ./portal.ts.
 */
import type { Context, Hono } from 'hono'
import type { z } from 'zod'
import { ACCOUNT_WALLET, creditsDue, localDate, memberWallet, periodSummary, type Invoice, type LedgerEntry } from '@tally/billing'
import { fail } from '../errors.js'
import { accountReader, accountWriter, adminAccount } from '../middleware/auth.js'
import { readJson } from '../middleware/body.js'
import { parseIsoInstant } from '../domain/dates.js'
import { digest, notices } from '../domain/portal.js'
import type { FactRow } from '../engines/repository.js'
import type { Store } from '../services/store.js'
import type { AppDeps } from '../context.js'
import { sendInvoice } from './billing.js'
import type { PortalEnv, portalSessions } from './portal-session.js'
import { parse, type PortalKit } from './portal-kit.js'
import { valid } from './api/define.js'
import {
  AdminPaymentRequest,
  type BillingDetails,
  BillingDetailsRequest,
  InvoiceNumberPath,
  LogQuery,
  PackRequest,
  type PaymentAnswer,
  PaymentRequest,
  TransferRequest,
  type PaymentReport,
} from './api/portal-schemas.js'

/** The account's invoice information in force and since when, or null before it is first saved. */
export async function billingDetails(store: Store, account: string): Promise<{ details: z.output<typeof BillingDetails>; since: string } | null> {
  const all = await store.facts(account, 'billing_details')
  const last = all[all.length - 1]
  return last ? { details: last.body as z.output<typeof BillingDetails>, since: new Date(last.at).toISOString() } : null
}

/** Per invoice number, the payment status the vendor reported last. */
export async function paymentStatus(store: Store, account: string): Promise<Map<number, PaymentReport & { reportedAt: string }>> {
  const out = new Map<number, PaymentReport & { reportedAt: string }>()
  for (const f of await store.facts(account, 'payment')) {
    const p = f.body as PaymentReport & { number: number }
    out.set(p.number, { id: p.id, status: p.status, reference: p.reference, date: p.date, reportedAt: new Date(f.at).toISOString() })
  }
  return out
}

/** Adds the credit, email, invoice and payment routes to the portal's `app`. */
export function portalCreditRoutes(
  app: Hono<PortalEnv>,
  deps: AppDeps,
  { session, manager }: Pick<ReturnType<typeof portalSessions>, 'session' | 'manager'>,
  { runner, billingOf, policyOf, refuse }: PortalKit,
): void {
  const { store, clock, config } = deps

  app.get('/v1/portal/credits/log', session, async (c) => {
    const { account, member } = c.var.portal
    const q = parse(LogQuery, c.req.query())
    const billing = billingOf(account)
    const wallet = member !== null ? memberWallet(member) : q.wallet
    if (member !== null && q.wallet !== undefined && q.wallet !== wallet) throw fail('forbidden', "a member's session sees its own wallet only")
    const at = clock.now()
    const data = await store.billingData(account)
    const due = creditsDue(billing, data.ledger, at)
    const day = (e: LedgerEntry) => localDate(e.at, billing.timezone)
    const entries = [...data.ledger, ...due]
      .filter(
        (e) =>
          (wallet === undefined || e.wallet === wallet) &&
          (q.type === undefined || e.type === q.type) &&
          (q.from === undefined || day(e) >= q.from) &&
          (q.to === undefined || day(e) <= q.to),
      )
      .reverse()
      .slice(0, q.limit ?? 200)
    return c.json({ account, timezone: billing.timezone, entries: entries.map((e) => ({ ...e, time: new Date(e.at).toISOString(), day: day(e) })) })
  })

  app.get('/v1/portal/invoices/:file', session, manager, async (c) => {
    const m = /^(\d{1,9})\.(json|csv|pdf)$/.exec(c.req.param('file'))
    if (!m) throw fail('not_found', 'no such invoice')
    const { account } = c.var.portal
    const inv = (await store.billingData(account)).finalized.find((i) => i.number === Number(m[1]))
    if (!inv) throw fail('not_found', `no invoice number ${m[1]}`)
    return sendInvoice(c, inv, m[2], { id: account, name: config.account(account)?.name ?? '' })
  })

  // --- Credits and emails: the services of POST /v1/credits/* and /v1/emails/purchase ---

  /** The request id of a portal action: the page's key, apart from the vendor's own ids. */
  const requestId = (key: string) => `portal.${key}`

  app.post('/v1/portal/credits/purchase', session, manager, async (c) => {
    const account = c.var.account
    const body = parse(PackRequest, await readJson(c))
    const at = clock.now()
    const billing = billingOf(account)
    refuse(policyOf(billing, at).policy.creditPacks, 'buying credit packs')
    const id = requestId(body.key)
    const r = await store.creditRequest({ kind: 'purchase', account, billing, id, pack: body.pack, at })
    if (!r.ok) throw fail('invalid_request', `pack: the plan has no credit pack "${body.pack}"`)
    if (!r.duplicate) await runner.run(at, account)
    return c.json({ status: r.duplicate ? 'duplicate' : 'accepted', pack: body.pack, credits: r.credits, invoice: `credits:purchase:${id}` })
  })

  app.post('/v1/portal/emails/purchase', session, manager, async (c) => {
    const account = c.var.account
    const body = parse(PackRequest, await readJson(c))
    const at = clock.now()
    const billing = billingOf(account)
    refuse(policyOf(billing, at).policy.emailPacks, 'buying email packs')
    const id = requestId(body.key)
    const r = await store.grantEmails({ kind: 'purchase', account, billing, id, pack: body.pack, at })
    if (!r.ok)
      throw fail(
        'invalid_request',
        r.code === 'unknown_pack' ? `pack: the plan has no email pack "${body.pack}"` : 'the subscription has not started or has ended',
      )
    if (!r.duplicate) await runner.run(at, account)
    return c.json({ status: r.duplicate ? 'duplicate' : 'accepted', pack: body.pack, emails: r.grant.emails, invoice: `emails:purchase:${id}` })
  })

  app.post('/v1/portal/credits/transfer', session, manager, async (c) => {
    const account = c.var.account
    const body = parse(TransferRequest, await readJson(c))
    const at = clock.now()
    const billing = billingOf(account)
    refuse(policyOf(billing, at).policy.transfers, 'sending credits')
    const r = await store.creditRequest({ kind: 'transfer', account, billing, id: requestId(body.key), to: body.to, credits: body.credits, at })
    if (!r.ok && r.code === 'unknown_member') throw fail('invalid_request', `to: "${body.to}" is not a member of the account`)
    if (!r.ok) return c.json({ status: 'rejected', code: r.code, to: body.to, credits: body.credits, balance: r.balance })
    return c.json({ status: r.duplicate ? 'duplicate' : 'accepted', to: body.to, credits: r.credits, balance: r.balance })
  })

  // --- Invoice information, kept with its history ---

  app.put('/v1/portal/billing-details', session, manager, async (c) => {
    const account = c.var.account
    const { key, ...details } = parse(BillingDetailsRequest, await readJson(c))
    const at = clock.now()
    refuse(policyOf(billingOf(account), at).policy.billingDetails, 'editing the invoice information')
    const fact: FactRow = { kind: 'billing_details', id: key, at, body: details }
    const r = await store.recordFact({ account, fact, webhook: { type: 'billing_details.updated', data: details } })
    return c.json({ details: r.fact.body, since: new Date(r.fact.at).toISOString() })
  })

  // --- Payment status, reported by the vendor ---

  /**
   * One payment report, from either door (the vendor's secret key, or the admin token as
   * docs/protocol.md §6 names it): kept once per (invoice, id) as an account fact; the latest is
   * the invoice's payment status.
   */
  const reportPayment = async (
    c: Context<PortalEnv>,
    account: string,
    report: { id: string; status: PaymentReport['status']; reference: string; date: string | undefined },
  ) => {
    const n = Number(valid(InvoiceNumberPath, c.req.param()).number)
    const at = clock.now()
    const billing = billingOf(account)
    const inv: Invoice | undefined = (await store.billingData(account)).finalized.find((i) => i.number === n)
    if (!inv) throw fail('not_found', `no invoice number ${n}`)
    const date = report.date ?? localDate(at, billing.timezone)
    const fact: FactRow = {
      kind: 'payment',
      id: `${n}:${report.id}`,
      at,
      body: { number: n, id: report.id, status: report.status, reference: report.reference, date },
    }
    const r = await store.recordFact({ account, fact })
    const p = r.fact.body as PaymentReport & { date: string }
    return c.json({
      invoice: n,
      id: report.id,
      status: r.created ? 'accepted' : 'duplicate',
      payment: { status: p.status, reference: p.reference, date: p.date, reportedAt: new Date(r.fact.at).toISOString() },
    } satisfies z.input<typeof PaymentAnswer>)
  }

  app.post('/v1/invoices/:number/payments', accountWriter(config), async (c) => {
    const body = parse(PaymentRequest, await readJson(c))
    return reportPayment(c, c.var.account, { id: body.id, status: body.status, reference: body.reference, date: body.date })
  })

  app.post('/v1/admin/accounts/:id/invoices/:number/payments', adminAccount(config, deps.adminToken), async (c) => {
    const account = c.var.account
    const body = parse(AdminPaymentRequest, await readJson(c))
    const timezone = billingOf(account).timezone
    // `at` is when it happened: a local day as given, an instant as the account's local day.
    const date = body.at === undefined ? undefined : /^\d{4}-\d{2}-\d{2}$/.test(body.at) ? body.at : localDate(parseIsoInstant(body.at), timezone)
    // Without an id, the report itself is its identity: the same report sent again records nothing more.
    const id = body.id ?? `r_${digest(JSON.stringify([body.status, body.at ?? null, body.reference])).slice(0, 32)}`
    return reportPayment(c, account, { id, status: body.status, reference: body.reference, date })
  })

  /** Notices for the dashboard (read key): the same rules the portal shows. */
  app.get('/v1/notices', accountReader(config), async (c) => {
    const account = c.var.account
    const at = clock.now()
    const billing = billingOf(account)
    const data = await store.billingData(account)
    const summary = periodSummary(billing, data, at)
    const plans = config.current().plans
    return c.json({
      account,
      notices: notices({
        billing,
        at,
        payments: await paymentStatus(store, account),
        balance: summary?.credits[ACCOUNT_WALLET]?.balance ?? null,
        emails: summary?.emails ?? null,
        planName: (id) => plans[id]?.name ?? id,
      }),
    })
  })
}
