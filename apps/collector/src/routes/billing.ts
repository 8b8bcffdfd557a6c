/**
 * Billing reads (docs/protocol.md §5: the period, invoices, credits; read or secret key, own
 * account only), the same reads for any account and the billing run (§6, admin token): HTTP
 * only. docs/billing-api.md documents them.
 */
import { Hono, type Context } from 'hono'
import { creditsDue, periodSummary, type BillingAccount, type Invoice, type LedgerEntry } from '@tally/billing'
import { fail } from '../errors.js'
import { accountReader, adminAccount, adminOnly } from '../middleware/auth.js'
import { readJson } from '../middleware/body.js'
import { parseIsoInstant } from '../domain/dates.js'
import { valid } from './api/define.js'
import { BillingRun } from './api/billing-schemas.js'
import { CREDIT_LOG_QUERY } from './api/ops-reads.js'
import { whoOf, type Who } from './who.js'
import { createBillingRunner } from '../services/billing-runner.js'
import { invoiceCsv } from '../domain/invoice-csv.js'
import { invoicePdf } from '../domain/invoice-pdf.js'
import type { AppDeps, TallyEnv } from '../context.js'

export function billingRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config, adminToken } = deps
  const runner = createBillingRunner(deps)
  const app = new Hono<TallyEnv>()
  const reader = accountReader(config)
  const adminOf = adminAccount(config, adminToken)
  const who = whoOf(config)

  // --- Reads, for the key's own account (§5) or, by the admin, any account (§6) ---

  /** The stored data with the grants and expiries due by now, so balances never lag the runner. */
  const current = async (account: string, billing: BillingAccount, at: number) => {
    const data = await store.billingData(account)
    const due = creditsDue(billing, data.ledger, at)
    const ledger: LedgerEntry[] = due.length ? [...data.ledger, ...due] : data.ledger
    return { ...data, ledger }
  }

  const reads: [string, (c: Context, who: Who) => Promise<Response>][] = [
    [
      '/period',
      async (c, { id, billing }) => {
        const at = clock.now()
        const summary = periodSummary(billing, await current(id, billing, at), at)
        if (!summary) throw fail('not_found', 'the account has no current period (its subscription has not started or has ended)')
        const planName = billing.plans[summary.planId]?.name ?? summary.planId
        return c.json({ account: id, timezone: billing.timezone, asOf: new Date(at).toISOString(), ...summary, planName })
      },
    ],
    [
      '/invoices',
      async (c, { id, billing }) => {
        const { finalized } = await current(id, billing, clock.now())
        return c.json({
          account: id,
          timezone: billing.timezone,
          invoices: finalized.map((i) => ({
            number: i.number,
            key: i.key,
            kind: i.kind,
            status: i.status,
            issuedDate: i.issuedDate,
            period: i.period,
            currency: i.currency,
            total: i.total,
          })),
        })
      },
    ],
    [
      '/invoices/:file',
      async (c, { id, billing }) => {
        const m = /^(\d{1,9})(?:\.(json|csv|pdf))?$/.exec(c.req.param('file') ?? '')
        if (!m) throw fail('not_found', 'no such invoice')
        const { finalized } = await current(id, billing, clock.now())
        const inv = finalized.find((i) => i.number === Number(m[1]))
        if (!inv) throw fail('not_found', `no invoice number ${m[1]}`)
        return sendInvoice(c, inv, m[2], { id, name: config.account(id)?.name ?? '' })
      },
    ],
    [
      '/credits',
      async (c, { id, billing }) => {
        const at = clock.now()
        return c.json({ account: id, timezone: billing.timezone, asOf: new Date(at).toISOString(), wallets: await store.creditBalances(id, billing, at) })
      },
    ],
    [
      '/credits/log',
      async (c, { id, billing }) => {
        const { ledger } = await current(id, billing, clock.now())
        const { wallet } = valid(CREDIT_LOG_QUERY, c.req.query())
        const entries = wallet === undefined ? ledger : ledger.filter((e) => e.wallet === wallet)
        return c.json({ account: id, timezone: billing.timezone, entries: entries.map((e) => ({ ...e, time: new Date(e.at).toISOString() })) })
      },
    ],
  ]
  for (const [path, handler] of reads) {
    app.get(`/v1${path}`, reader, (c) => handler(c, who(c)))
    app.get(`/v1/admin/accounts/:id${path}`, adminOf, (c) => handler(c, who(c)))
  }

  app.post('/v1/admin/billing/run', adminOnly(adminToken), async (c) => {
    const now = clock.now()
    const body = valid(BillingRun, (await readJson(c)) ?? {})
    const asOf = body.asOf === undefined ? now : parseIsoInstant(body.asOf)
    // A period is closed only once it has really ended: billing ahead of time would finalize usage still to come.
    if (asOf > now) throw fail('invalid_request', 'asOf: must not be in the future')
    const only = body.account
    if (only !== undefined && !config.account(only)) throw fail('invalid_request', 'account: no such account')
    const accounts = await runner.run(asOf, only)
    return c.json({ asOf: new Date(asOf).toISOString(), accounts })
  })

  return app
}

/** JSON, CSV or PDF by the extension, else by `Accept`. */
export async function sendInvoice(c: Context, inv: Invoice, ext: string | undefined, account: { id: string; name: string }): Promise<Response> {
  const accept = c.req.header('accept') ?? ''
  const format = ext ?? (accept.includes('application/pdf') ? 'pdf' : accept.includes('text/csv') ? 'csv' : 'json')
  const name = `invoice-${account.id}-${inv.number}`
  if (format === 'csv') {
    return c.body(invoiceCsv(inv), 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${name}.csv"`,
      Vary: 'Accept',
    })
  }
  if (format === 'pdf') {
    const pdf = await invoicePdf(inv, account)
    return c.body(new Uint8Array(pdf), 200, { 'Content-Type': 'application/pdf', 'Content-Disposition': `attachment; filename="${name}.pdf"`, Vary: 'Accept' })
  }
  return c.json({ account: account.id, ...inv }, 200, { Vary: 'Accept' })
}
