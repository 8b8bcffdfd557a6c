/**
 * The billing portal (docs/portal.md): the page where an account's own people see and change their
 * plan, credits and invoices, opened by a session the vendor's backend mints with the secret key.
 * HTTP only: every change runs the services the API runs (account changes through
 * ../services/accounts.ts like the admin API, purchases and transfers through `creditRequest` and
 * `grantEmails` like `POST /v1/credits/*`), and the preview is `previewChange`, the computation the
 * billing run finalizes.
 *
 * Safety: sessions, their cookie and the CSRF check are ./portal-session.ts; every write is
 * idempotent by the key the page makes once per form; a member's session sees its own wallet and
 * changes nothing.
 */
import { Hono, type Context } from 'hono'
import type { z } from 'zod'
import {
  ACCOUNT_WALLET,
  creditsDue,
  localDate,
  memberWallet,
  periodAt,
  periodSummary,
  previewChange,
  subscriptionEnd,
  termsAt,
  type BillingAccount,
  type ChangePreview,
  type Invoice,
  type LedgerEntry,
} from '@tally/billing'
import { portalPolicyOf } from '@tally/protocol'
import { fail } from '../errors.js'
import { accountReader, accountWriter, adminAccount } from '../middleware/auth.js'
import { readJson } from '../middleware/body.js'
import { billingAccount, subscriptionEnded } from '../domain/billing-account.js'
import { parseIsoInstant } from '../domain/dates.js'
import { digest, notices, portalChange } from '../domain/portal.js'
import { changeAccount } from '../services/accounts.js'
import { createBillingRunner } from '../services/billing-runner.js'
import type { FactRow } from '../engines/repository.js'
import type { AppDeps } from '../context.js'
import { sendInvoice } from './billing.js'
import { portalSessions, type PortalEnv } from './portal-session.js'
import { valid } from './api/define.js'
import {
  AdminPaymentRequest,
  type BillingDetails,
  BillingDetailsRequest,
  InvoiceNumberPath,
  ChangeRequest,
  KeyOnly,
  LogQuery,
  PackRequest,
  type PaymentAnswer,
  PaymentRequest,
  PreviewRequest,
  TransferRequest,
  type PaymentReport,
} from './api/portal-schemas.js'

/** A body or query, validated by the schema its operation declares (./api/ops-portal.ts). */
const parse = <S extends z.ZodType>(schema: S, input: unknown): z.output<S> => valid(schema, input ?? {})

/** The fees a period's finalized recurring invoice bills for that period in advance, or null before it is issued. */
function ownFees(finalized: readonly Invoice[], index: number, cycle: string) {
  const inv = finalized.find((i) => i.key === `recurring:${index}`)
  if (!inv) return null
  const lines = inv.lines.filter((l) => l.period.index === index)
  return { total: lines.reduce((x, l) => x + l.amount, 0), cycle, lines }
}

export function portalRoutes(deps: AppDeps): Hono<PortalEnv> {
  const { store, clock, config, logger } = deps
  const app = new Hono<PortalEnv>()
  const runner = createBillingRunner(deps)
  const { session, manager, routes } = portalSessions(deps)
  const billingOf = (account: string): BillingAccount => {
    const b = billingAccount(config, account)
    if (!b) throw fail('not_found', `no account "${account}"`)
    return b
  }
  const policyOf = (billing: BillingAccount, at: number) => {
    const t = termsAt(billing, at)
    if (!t) throw fail('invalid_request', 'the subscription has not started or has ended')
    return { terms: t.terms, policy: portalPolicyOf(t.terms.plan) }
  }
  const refuse = (allowed: boolean, what: string) => {
    if (!allowed) throw fail('forbidden', `the portal does not allow ${what} on this plan`)
  }
  /** Who a portal change is by, as the account's history shows it: the session (a prefix of its link's digest, never a token). */
  const actorOf = (c: Context<PortalEnv>) => `portal:${c.var.portal.row.id.slice(0, 16)}`
  /** A stored answer to this key, when the same action was done already. */
  const receipt = async (account: string, key: string) => (await store.fact(account, 'portal_action', key))?.body

  // --- Sessions (./portal-session.ts) ---
  routes(app)

  // --- What the page shows ---

  app.get('/v1/portal/state', session, async (c) => {
    const { account, member } = c.var.portal
    const at = clock.now()
    const billing = billingOf(account)
    const a = config.account(account)!
    const data = await store.billingData(account)
    const due = creditsDue(billing, data.ledger, at)
    const ledger: LedgerEntry[] = due.length ? [...data.ledger, ...due] : data.ledger
    const summary = periodSummary(billing, { ...data, ledger }, at)
    if (!summary) throw fail('not_found', 'the subscription has not started or has ended')
    const { terms, policy } = policyOf(billing, at)
    const plans = config.current().plans
    const planView = (id: string) => {
      const p = plans[id]!
      return {
        id,
        name: p.name ?? id,
        currency: p.currency,
        basePrice: p.basePrice,
        seatPrice: p.seatPrice,
        products: Object.entries(p.products).map(([pid, pr]) => ({ id: pid, name: pr.name ?? pid, price: pr.price })),
        cycleDiscountPercent: p.cycleDiscountPercent,
      }
    }
    const period = periodAt(billing.subscription, billing.timezone, at)!
    const end = a.subscription.cancelledAt !== undefined ? subscriptionEnd(billing.subscription, billing.timezone) : null
    const current = previewChange(billing, { ...data, ledger }, { at: localDate(at, billing.timezone) }, at)
    // Per container and subject: this period's counts, from the daily rollups.
    const rows = await store.rollups(account, summary.period.startDate, summary.period.endDate)
    const containers = new Map<string, Record<string, number>>()
    for (const r of rows) {
      if (r.kind === 'suspicious') continue
      const m = containers.get(r.container) ?? { impressions: 0, engagements: 0, chatSessions: 0 }
      const meter = r.kind === 'campaign' ? 'impressions' : r.kind === 'advisor' ? 'engagements' : 'chatSessions'
      m[meter] = (m[meter] ?? 0) + r.units
      containers.set(r.container, m)
    }
    // The wallets the session sees, those never credited too: the account's and every member's, or the member's own.
    const walletIds = member === null ? [ACCOUNT_WALLET, ...a.members.map(memberWallet)] : [memberWallet(member)]
    const wallets = walletIds.map((w) => ({ wallet: w, balance: summary.credits[w]?.balance ?? 0 }))
    const seen = member === null ? ACCOUNT_WALLET : memberWallet(member)
    const manage = member === null
    const payments = manage ? await paymentStatus(account) : new Map()
    const details = manage ? await billingDetails(account) : null
    const planName = (id: string) => plans[id]?.name ?? id
    return c.json({
      account: { id: account, name: a.name || account, timezone: billing.timezone },
      role: manage ? 'manager' : 'member',
      member,
      expiresAt: new Date(c.var.portal.row.expiresAt).toISOString(),
      returnUrl: c.var.portal.row.returnUrl,
      policy: manage ? policy : null,
      subscription: {
        plan: planView(terms.planId),
        cycle: period.cycle,
        seats: terms.seats,
        products: terms.products,
        status: a.subscription.cancelledAt !== undefined ? 'cancelling' : subscriptionEnded(a, at) ? 'ended' : 'active',
        period: summary.period,
        renewsOn: a.subscription.cancelledAt !== undefined ? null : period.endDate,
        cancelledAt: a.subscription.cancelledAt ?? null,
        endsOn: end === null ? null : localDate(end, billing.timezone),
        // What the period in force costs: its own recurring invoice's fees in advance, else the next one's.
        recurring:
          ownFees(data.finalized, period.index, period.cycle) ??
          (current ? { total: current.current.total, cycle: current.current.cycle, lines: current.current.lines } : null),
        next: current ? current.fromPeriodEnd : null,
      },
      usage: {
        meters: (['impressions', 'engagements', 'chatSessions', 'alerts'] as const).map((m) => ({
          meter: m,
          used: summary.meters[m],
          included: summary.included[m],
        })),
        contacts: { paid: summary.paidContacts, highest: summary.meters.contacts },
        emails: summary.emails,
        creditsByAction: Object.entries(summary.meters.credits)
          .map(([action, credits]) => ({ action, credits }))
          .sort((x, y) => y.credits - x.credits),
        containers: [...containers].map(([id, m]) => ({ id, name: a.containers[id]?.name || id, ...m })),
      },
      wallets,
      members: manage ? a.members : [],
      plans: manage ? [...new Set([terms.planId, ...policy.plans])].filter((p) => Object.hasOwn(plans, p)).map(planView) : [],
      packs: {
        credits: Object.entries(terms.plan.creditPacks).map(([id, p]) => ({ id, credits: p.credits, price: p.price })),
        emails: Object.entries(terms.plan.emailPacks ?? {}).map(([id, p]) => ({ id, emails: p.emails, price: p.price })),
      },
      invoices: manage
        ? data.finalized
            .map((i) => ({
              number: i.number,
              kind: i.kind,
              issuedDate: i.issuedDate,
              total: i.total,
              currency: i.currency,
              period: i.period,
              payment: payments.get(i.number ?? 0) ?? null,
            }))
            .reverse()
        : [],
      billingDetails: details,
      notices: notices({ billing, at, payments, balance: summary.credits[seen]?.balance ?? 0, emails: manage ? summary.emails : null, planName }),
    })
  })

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

  // --- Changes ---

  const previewOf = async (account: string, billing: BillingAccount, body: z.output<typeof PreviewRequest>, at: number) => {
    const asked = portalChange(billing, body, at)
    if (typeof asked === 'string')
      throw fail(asked.startsWith('nothing') || asked.includes('offers no') || asked.startsWith('the subscription') ? 'invalid_request' : 'forbidden', asked)
    const data = await store.billingData(account)
    const p = previewChange(billing, data, asked.change, at)
    if (!p) throw fail('invalid_request', 'the subscription has not started or has ended')
    return { change: asked.change, preview: p }
  }
  const previewView = (change: object, p: ChangePreview) => ({
    change,
    effective: p.effective,
    chargeNow: p.now ? { total: p.now.total, lines: p.now.lines } : null,
    periodEnd: p.periodEnd,
    next: p.next,
    current: { total: p.current.total, cycle: p.current.cycle },
    today: p.today,
    fromPeriodEnd: p.fromPeriodEnd,
    currency: p.currency,
  })

  app.post('/v1/portal/subscription/preview', session, manager, async (c) => {
    const account = c.var.account
    const body = parse(PreviewRequest, await readJson(c))
    const { change, preview } = await previewOf(account, billingOf(account), body, clock.now())
    return c.json(previewView(change, preview))
  })

  app.post('/v1/portal/subscription/changes', session, manager, async (c) => {
    const account = c.var.account
    const body = parse(ChangeRequest, await readJson(c))
    const key = `change:${body.key}`
    const stored = await receipt(account, key)
    if (stored) return c.json(stored)
    const at = clock.now()
    const billing = billingOf(account)
    const { change, preview } = await previewOf(account, billing, body, at)
    const view = previewView(change, preview)
    /** The account in force with the change added: decided again if another write came in meanwhile. */
    const decide = () => {
      const a = config.account(account)!
      return {
        id: account,
        next: config.withAccount(account, { ...a, subscription: { ...a.subscription, changes: [...(a.subscription.changes ?? []), change] } }),
      }
    }
    const answer = { status: preview.effective === 'now' ? 'applied' : 'scheduled', preview: view, invoice: null as number | null }
    const webhook = {
      type: preview.effective === 'now' ? ('subscription.changed' as const) : ('subscription.change_scheduled' as const),
      fact: body.key,
      data: {
        change,
        effective: preview.effective,
        periodEnd: preview.periodEnd,
        chargeNow: preview.now?.total ?? null,
        nextTotal: preview.next.total,
        currency: preview.currency,
      },
    }
    const r = await changeAccount({ store, config, clock }, { decide, effectiveAt: null, actor: actorOf(c), webhook, receipt: { key, body: answer } })
    if (r.replayed) return c.json(r.receipt as object)
    logger.info({ account, change, version: r.version }, 'portal: subscription changed')
    // Upgrades bill at once: the run issues the upgrade invoice the preview showed.
    if (preview.now) {
      // Run up to the version's own time: the upgrade is billed by the version that holds it.
      const runs = await runner.run(Math.max(clock.now(), r.effectiveAt), account)
      answer.invoice = runs[0]?.invoices.find((i) => i.key === preview.now?.key)?.number ?? null
    }
    return c.json(answer)
  })

  const cancellation = (cancel: boolean) => async (c: Context<PortalEnv>) => {
    const account = c.var.account
    const body = parse(KeyOnly, await readJson(c))
    const key = `${cancel ? 'cancel' : 'resume'}:${body.key}`
    const stored = await receipt(account, key)
    if (stored) return c.json(stored)
    const at = clock.now()
    const billing = billingOf(account)
    refuse(policyOf(billing, at).policy.cancel, 'cancelling')
    const a = config.account(account)!
    if (cancel && a.subscription.cancelledAt !== undefined) throw fail('conflict', 'the subscription is already cancelled')
    if (!cancel && a.subscription.cancelledAt === undefined) throw fail('conflict', 'the subscription is not cancelled')
    const today = localDate(at, billing.timezone)
    const { cancelledAt: _, ...kept } = a.subscription
    const sub = cancel ? { ...a.subscription, cancelledAt: today } : kept
    const end = cancel ? subscriptionEnd(sub, billing.timezone) : null
    const endsOn = end === null ? null : localDate(end, billing.timezone)
    const renewsOn = periodAt(billing.subscription, billing.timezone, at)?.endDate ?? null
    const answer = { status: cancel ? 'cancelled' : 'resumed', cancelledAt: cancel ? today : null, endsOn }
    const webhook = cancel
      ? { type: 'subscription.cancellation_scheduled' as const, fact: body.key, data: { cancelledAt: today, endsOn } }
      : { type: 'subscription.cancellation_undone' as const, fact: body.key, data: { renewsOn } }
    const decide = () => ({ id: account, next: config.withAccount(account, { ...config.account(account)!, subscription: sub }) })
    const r = await changeAccount({ store, config, clock }, { decide, effectiveAt: null, actor: actorOf(c), webhook, receipt: { key, body: answer } })
    if (r.replayed) return c.json(r.receipt as object)
    logger.info({ account, cancel }, 'portal: cancellation changed')
    return c.json(answer)
  }
  app.post('/v1/portal/subscription/cancel', session, manager, cancellation(true))
  app.post('/v1/portal/subscription/resume', session, manager, cancellation(false))

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

  async function billingDetails(account: string): Promise<{ details: z.output<typeof BillingDetails>; since: string } | null> {
    const all = await store.facts(account, 'billing_details')
    const last = all[all.length - 1]
    return last ? { details: last.body as z.output<typeof BillingDetails>, since: new Date(last.at).toISOString() } : null
  }

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

  async function paymentStatus(account: string): Promise<Map<number, PaymentReport & { reportedAt: string }>> {
    const out = new Map<number, PaymentReport & { reportedAt: string }>()
    for (const f of await store.facts(account, 'payment')) {
      const p = f.body as PaymentReport & { number: number }
      out.set(p.number, { id: p.id, status: p.status, reference: p.reference, date: p.date, reportedAt: new Date(f.at).toISOString() })
    }
    return out
  }

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
        payments: await paymentStatus(account),
        balance: summary?.credits[ACCOUNT_WALLET]?.balance ?? null,
        emails: summary?.emails ?? null,
        planName: (id) => plans[id]?.name ?? id,
      }),
    })
  })

  return app
}
