/**
 * The billing portal (docs/portal.md): the page where an account's own people see and change their
 * plan, credits and invoices, opened by a session the vendor's backend mints with the secret key.
 * HTTP only: every change runs the services the API runs (account changes through
 * ../services/accounts.ts like the admin API, purchases and transfers through `creditRequest` and
 * `grantEmails` like `POST /v1/credits/*`), and the preview is `previewChange`, the computation the
 * billing run finalizes.
 *
 * Here: the page's state and the plan's changes. The credits, emails, invoices and payments are
 * ./portal-credits.ts; what both share (the policy, the runner), ./portal-kit.ts.
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
  type BillingAccount,
  type ChangePreview,
  type Invoice,
  type LedgerEntry,
} from '@tally/billing'
import { fail } from '../errors.js'
import { readJson } from '../middleware/body.js'
import { subscriptionEnded } from '../domain/billing-account.js'
import { notices, portalChange } from '../domain/portal.js'
import { changeAccount } from '../services/accounts.js'
import type { AppDeps } from '../context.js'
import { portalSessions, type PortalEnv } from './portal-session.js'
import { billingDetails, paymentStatus, portalCreditRoutes } from './portal-credits.js'
import { parse, portalKit } from './portal-kit.js'
import { ChangeRequest, KeyOnly, PreviewRequest } from './api/portal-schemas.js'

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
  const { session, manager, routes } = portalSessions(deps)
  const kit = portalKit(deps)
  const { runner, billingOf, policyOf, refuse } = kit
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
    const payments = manage ? await paymentStatus(store, account) : new Map()
    const details = manage ? await billingDetails(store, account) : null
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

  // --- Credits, emails, invoices and payments (./portal-credits.ts) ---
  portalCreditRoutes(app, deps, { session, manager }, kit)

  return app
}
