/**
 * The billing HTTP API: server-to-server usage and credits (PROTOCOL §4, secret key), the
 * period, invoices and credits read API (§5, read or secret key, own account only), the billing
 * run and the same reads for any account (§6, admin token). docs/billing-api.md documents it.
 *
 * The routes validate and shape; every decision that depends on stored state is taken by the
 * store inside the transaction that writes it (see store/billing.ts), so a 2xx means committed.
 */
import { Hono, type Context } from 'hono'
import {
  ID_PATTERN, MAX_AGE_MS, MAX_BODY_BYTES, MAX_EVENTS, MAX_FUTURE_MS, parseUsageEvent,
  type UsageCode, type UsageResult,
} from '@tally/protocol'
import { balances, creditsDue, periodSummary, type BillingAccount, type Invoice, type LedgerEntry } from '@tally/billing'
import { fail } from '../errors.js'
import { requireAccount, requireAdmin } from '../middleware/auth.js'
import { dayIn } from '../domain/days.js'
import { parseIsoInstant } from '../domain/clock.js'
import { billingAccount } from '../domain/billing-account.js'
import { createBillingRunner } from '../services/billing-runner.js'
import { invoiceCsv } from '../domain/invoice-csv.js'
import { invoicePdf } from '../domain/invoice-pdf.js'
import type { AppDeps } from '../app.js'
import type { UsageInput } from '../store/repository.js'

const bearer = (c: Context): string | undefined => {
  const h = c.req.header('authorization')
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined
}

export function billingRoutes(deps: AppDeps): Hono {
  const { store, clock, config, adminToken } = deps
  const runner = createBillingRunner(deps)
  const app = new Hono()

  /** The account of a key: reads take either key (as every read route does); writes refuse the read key with 403. */
  const keyed = (c: Context, scope: 'secret' | 'read'): { id: string; billing: BillingAccount } => {
    let id: string
    if (scope === 'read') id = requireAccount(c, config)
    else {
      const key = bearer(c)
      const found = key ? config.accountByKey(key) : undefined
      if (!found) throw fail('unauthorized', 'an account key is required')
      if (found.scope !== 'secret') throw fail('forbidden', 'this route needs the account secret key')
      id = found.id
    }
    const billing = billingAccount(config, id)
    if (!billing) throw fail('unauthorized', 'an account key is required')
    return { id, billing }
  }

  const admin = (c: Context): { id: string; billing: BillingAccount } => {
    requireAdmin(c, adminToken)
    const id = c.req.param('id') ?? ''
    const billing = billingAccount(config, id)
    if (!billing) throw fail('not_found', `no account "${id}"`)
    return { id, billing }
  }

  const json = async (c: Context): Promise<unknown> => {
    const declared = c.req.header('content-length')
    if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw fail('payload_too_large', `the body exceeds ${MAX_BODY_BYTES} bytes`)
    const text = await c.req.text()
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw fail('payload_too_large', `the body exceeds ${MAX_BODY_BYTES} bytes`)
    try {
      return JSON.parse(text)
    } catch {
      throw fail('invalid_json', 'the body is not JSON')
    }
  }

  // --- PROTOCOL §4: server-to-server usage and credits (secret key) ---

  app.post('/v1/usage', async (c) => {
    const receivedAt = clock.now()
    const { id: account, billing } = keyed(c, 'secret')
    const body = await json(c)
    const raw = (body as { events?: unknown } | null)?.events
    if (!Array.isArray(raw)) throw fail('invalid_batch', 'events: expected an array')
    if (raw.length === 0 || raw.length > MAX_EVENTS) throw fail('invalid_batch', `events: expected 1 to ${MAX_EVENTS} events`)
    const dayOf = dayIn(billing.timezone)
    const results: UsageResult[] = []
    const events: UsageInput[] = []
    const slots: number[] = []
    for (const item of raw) {
      const r = parseUsageEvent(item)
      const given = (item as { id?: unknown } | null)?.id
      const id = r.ok ? r.value.id : typeof given === 'string' ? given.slice(0, 64) : ''
      const reject = (code: UsageCode) => results.push({ id, status: 'rejected', code })
      if (!r.ok) { reject('invalid_event'); continue }
      const e = r.value
      // PROTOCOL §4 events carry no `sentAt`: `ts` is the event's instant on the vendor's server.
      if (e.ts - receivedAt > MAX_FUTURE_MS) { reject('event_in_future'); continue }
      if (receivedAt - e.ts > MAX_AGE_MS) { reject('event_too_old'); continue }
      const at = { id: e.id, time: e.ts, day: dayOf(e.ts) }
      if (e.type === 'action' && e.member !== undefined && !(billing.members ?? []).includes(e.member)) { reject('unknown_member'); continue }
      slots.push(results.length)
      results.push({ id, status: 'accepted' })
      events.push(
        e.type === 'alert' ? { ...at, type: 'alert' }
          : e.type === 'action' ? { ...at, type: 'action', action: e.action, quantity: e.quantity, member: e.member }
          : { ...at, type: e.type, count: e.count },
      )
    }
    if (events.length > 0) {
      const outcomes = await store.recordUsage({ account, billing, receivedAt, events })
      outcomes.forEach((o, k) => {
        const slot = slots[k] as number
        results[slot] = { id: results[slot]?.id ?? '', ...o }
      })
    }
    return c.json({ results })
  })

  const requestId = (v: unknown): string => {
    if (typeof v !== 'string' || !ID_PATTERN.test(v)) throw fail('invalid_request', 'id: expected 1-64 characters of [A-Za-z0-9._:-]')
    return v
  }

  app.post('/v1/credits/purchase', async (c) => {
    const at = clock.now()
    const { id: account, billing } = keyed(c, 'secret')
    const body = (await json(c)) as { pack?: unknown; id?: unknown } | null
    const id = requestId(body?.id)
    const pack = body?.pack
    if (typeof pack !== 'string') throw fail('invalid_request', 'pack: expected the name of a credit pack')
    const r = await store.creditRequest({ kind: 'purchase', account, billing, id, pack, at })
    if (!r.ok) throw fail('invalid_request', `pack: the plan has no credit pack "${pack}"`)
    return c.json({ id, status: r.duplicate ? 'duplicate' : 'accepted', pack, credits: r.credits, balance: r.balance, invoice: `credits:purchase:${id}` })
  })

  app.post('/v1/credits/transfer', async (c) => {
    const at = clock.now()
    const { id: account, billing } = keyed(c, 'secret')
    const body = (await json(c)) as { to?: unknown; credits?: unknown; id?: unknown } | null
    const id = requestId(body?.id)
    const to = body?.to
    const credits = body?.credits
    if (typeof to !== 'string') throw fail('invalid_request', 'to: expected a member of the account')
    if (typeof credits !== 'number' || !Number.isSafeInteger(credits) || credits <= 0) throw fail('invalid_request', 'credits: expected a positive integer')
    const r = await store.creditRequest({ kind: 'transfer', account, billing, id, to, credits, at })
    if (!r.ok && r.code === 'unknown_member') throw fail('invalid_request', `to: "${to}" is not a member of the account`)
    // A refusal for want of credits answers like a refused usage event: 200, status and code.
    if (!r.ok) return c.json({ id, status: 'rejected', code: r.code, to, credits, balance: r.balance })
    return c.json({ id, status: r.duplicate ? 'duplicate' : 'accepted', to, credits: r.credits, balance: r.balance })
  })

  // --- PROTOCOL §5 and §6: reads, for the key's own account or (admin) any account ---

  /** The stored data with the grants and expiries due by now, so balances never lag the runner. */
  const current = async (account: string, billing: BillingAccount, at: number) => {
    const data = await store.billingData(account)
    const due = creditsDue(billing, data.ledger, at)
    const ledger: LedgerEntry[] = due.length ? [...data.ledger, ...due] : data.ledger
    return { ...data, ledger }
  }

  type Who = { id: string; billing: BillingAccount }
  const reads: [string, (c: Context, who: Who) => Promise<Response>][] = [
    ['/period', async (c, { id, billing }) => {
      const at = clock.now()
      const summary = periodSummary(billing, await current(id, billing, at), at)
      if (!summary) throw fail('not_found', 'the account has no current period (its subscription has not started or has ended)')
      return c.json({ account: id, asOf: new Date(at).toISOString(), ...summary })
    }],
    ['/invoices', async (c, { id, billing }) => {
      const { finalized } = await current(id, billing, clock.now())
      return c.json({
        account: id,
        invoices: finalized.map((i) => ({
          number: i.number, key: i.key, kind: i.kind, status: i.status, issuedDate: i.issuedDate, period: i.period,
          currency: i.currency, total: i.total,
        })),
      })
    }],
    ['/invoices/:file', async (c, { id, billing }) => {
      const m = /^(\d{1,9})(?:\.(json|csv|pdf))?$/.exec(c.req.param('file') ?? '')
      if (!m) throw fail('not_found', 'no such invoice')
      const { finalized } = await current(id, billing, clock.now())
      const inv = finalized.find((i) => i.number === Number(m[1]))
      if (!inv) throw fail('not_found', `no invoice number ${m[1]}`)
      return sendInvoice(c, inv, m[2], { id, name: config.account(id)?.name ?? '' })
    }],
    ['/credits', async (c, { id, billing }) => {
      const at = clock.now()
      const { ledger } = await current(id, billing, at)
      return c.json({ account: id, asOf: new Date(at).toISOString(), wallets: balances(ledger, at) })
    }],
    ['/credits/log', async (c, { id, billing }) => {
      const { ledger } = await current(id, billing, clock.now())
      const wallet = c.req.query('wallet')
      const entries = wallet === undefined ? ledger : ledger.filter((e) => e.wallet === wallet)
      return c.json({ account: id, entries: entries.map((e) => ({ ...e, time: new Date(e.at).toISOString() })) })
    }],
  ]
  for (const [path, handler] of reads) {
    app.get(`/v1${path}`, (c) => handler(c, keyed(c, 'read')))
    app.get(`/v1/admin/accounts/:id${path}`, (c) => handler(c, admin(c)))
  }

  app.post('/v1/admin/billing/run', async (c) => {
    requireAdmin(c, adminToken)
    const now = clock.now()
    const body = (await json(c)) as { asOf?: unknown; account?: unknown } | null
    const asOf = body?.asOf === undefined ? now : typeof body.asOf === 'string' ? parseIsoInstant(body.asOf) : Number.NaN
    if (Number.isNaN(asOf)) throw fail('invalid_request', 'asOf: expected an ISO-8601 instant')
    // A period is closed only once it has really ended: billing ahead of time would finalize usage still to come.
    if (asOf > now) throw fail('invalid_request', 'asOf: must not be in the future')
    const only = body?.account
    if (only !== undefined && (typeof only !== 'string' || !config.account(only))) throw fail('invalid_request', 'account: no such account')
    const accounts = await runner.run(asOf, only as string | undefined)
    return c.json({ asOf: new Date(asOf).toISOString(), accounts })
  })

  return app
}

/** JSON, CSV or PDF by the extension, else by `Accept`. */
async function sendInvoice(c: Context, inv: Invoice, ext: string | undefined, account: { id: string; name: string }): Promise<Response> {
  const accept = c.req.header('accept') ?? ''
  const format = ext ?? (accept.includes('application/pdf') ? 'pdf' : accept.includes('text/csv') ? 'csv' : 'json')
  const name = `invoice-${account.id}-${inv.number}`
  if (format === 'csv') {
    return c.body(invoiceCsv(inv), 200, {
      'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}.csv"`, Vary: 'Accept',
    })
  }
  if (format === 'pdf') {
    const pdf = await invoicePdf(inv, account)
    return c.body(new Uint8Array(pdf), 200, {
      'Content-Type': 'application/pdf', 'Content-Disposition': `attachment; filename="${name}.pdf"`, Vary: 'Accept',
    })
  }
  return c.json({ account: account.id, ...inv }, 200, { Vary: 'Accept' })
}
