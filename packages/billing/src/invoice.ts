/**
 * Invoices. At each period boundary one recurring invoice: the new period's fees in advance and the
 * closed period's usage in arrears (docs/rules.md §5). Between boundaries: an upgrade invoice (prorated by
 * days over the whole period), a rebalance invoice when contacts grow past the paid range within a
 * long term (seed 004: "If the number of contacts grows beyond the one you declared in your
 * payment, you will get the rebalance invoice for additional contacts"), and one invoice per credit
 * pack bought.
 *
 * Minimum price (seed 004: "your first payment in the system is considered as your 'minimum price'
 * ... it cannot be lower than the price on your first invoice"): a recurring invoice whose own lines
 * total less than the first recurring invoice (per month of the period billed in advance) gets a
 * true-up line; adjustment lines for earlier periods are not its own and are left out (Lago F08).
 *
 * Everything is derived from the inputs, so a preview is the same computation as the invoice the
 * run finalizes (Lago F84/F99). A finalized invoice is taken as given and never recomputed; usage
 * that arrives after a period was billed becomes an adjustment line on the next recurring invoice.
 *
 * An invoice with no line at all is not issued (a cancelled account's last boundary with no usage
 * to bill); one whose lines sum to 0 is, since its lines record what changed. Invoice keys never
 * depend on position: an upgrade invoice is keyed by its period and the content of the change that
 * made it, so a change back-dated before it cannot shift its key.
 */
import { lineAmount, sum } from './money.js'
import { daysBetween, localDate, nextDay, startOfDay, type Period, type SubscriptionChange } from './period.js'
import { contactRangeLine, discountFor, periodRef, priced, recurringLines, termsBetween, type BillingAccount, type InvoiceLine } from './rating.js'
import type { PurchaseEntry } from './ledger.js'
import { statesOver, termsOn, contactsOn } from './period-states.js'
import { adjustments, arrears } from './adjustments.js'
export { arrears } from './adjustments.js'
import { billingWindow, contactsInto, lastRecurring, lastStarted, readingBefore } from './window.js'
export { contactsOn, periodStateAt, periodStates } from './period-states.js'
export {
  emailAllowance,
  emailMonthAt,
  emailWindow,
  emailsAt,
  finalize,
  invoicesDue,
  nextNumber,
  periodSummary,
  preview,
  quotaContacts,
  runBilling,
} from './billing-run.js'
export type { BillingRun, PeriodSummary } from './billing-run.js'

export type { InvoiceKind, Invoice, BillTo, BillingData, EmailGrant, EmailAllowance, PeriodState, Rebalance } from './invoice-types.js'
import type { InvoiceKind, Invoice, BillingData, PeriodState } from './invoice-types.js'

const KIND_ORDER: Record<InvoiceKind, number> = { rebalance: 0, upgrade: 1, recurring: 2, credits: 3, emails: 4 }

/**
 * The key of the upgrade invoice a change makes in period `index`: the period, the change's day and
 * what the change itself sets, never its position among the changes, so that a change back-dated
 * before it leaves the key of an already finalized upgrade invoice alone. Ids cannot hold `=`, so
 * the parts cannot run into each other.
 * @example upgradeKey(5, { at: '2026-12-22', plan: 'pro' }) // 'upgrade:5:2026-12-22:plan=pro'
 * @example upgradeKey(2, { at: '2026-09-01', seats: 4, products: ['push', 'data'] }) // 'upgrade:2:2026-09-01:seats=4:products=data+push'
 */
export function upgradeKey(index: number, change: SubscriptionChange): string {
  const parts = [`upgrade:${index}:${change.at}`]
  if (change.plan !== undefined) parts.push(`plan=${change.plan}`)
  if (change.seats !== undefined) parts.push(`seats=${change.seats}`)
  if (change.products !== undefined) parts.push(`products=${[...new Set(change.products)].sort().join('+')}`)
  return parts.join(':')
}

/** Upgrade invoices finalized under the positional keys of earlier versions (`upgrade:3:0`). */
const LEGACY_UPGRADE_KEY = /^upgrade:\d+:\d+$/

export function invoice(
  account: BillingAccount,
  key: string,
  kind: InvoiceKind,
  currency: string,
  issuedAt: number,
  period: Period | null,
  lines: InvoiceLine[],
): Invoice {
  return {
    key,
    kind,
    status: 'draft',
    number: null,
    currency,
    issuedAt,
    issuedDate: localDate(issuedAt, account.timezone),
    period: period ? periodRef(period) : null,
    lines,
    total: sum(lines.map((l) => l.amount)),
    amountUnit: 'minor',
  }
}

const ARREARS_KINDS = new Set(['usage', 'contacts_excess', 'adjustment'])
const RECURRING_KINDS = new Set(['base', 'seats', 'product', 'contacts'])

/**
 * The recurring fees of a first invoice per month, before the cycle discount: the sum of its
 * recurring lines' `quantity x unitPrice` (unit prices are per month). What the minimum price
 * compares a later period's fees with, month for month and less the same discount.
 * @example monthlyFees(first) // 9400 for base 4900 + 3 seats x 1500 + contacts 0, on any cycle
 */
function monthlyFees(first: Invoice): number {
  return sum(first.lines.filter((l) => RECURRING_KINDS.has(l.kind) && l.proration === null && l.period.index === 0).map((l) => l.quantity * l.unitPrice))
}

/**
 * Every invoice issued by `until`, in issue order: the finalized ones as given, the others as drafts.
 * This one computation serves the billing run, the preview and the read API. It computes from the
 * first unsettled period on (`billingWindow`, docs/rules.md §5 "Settled periods"): nothing is
 * issued for a settled period, and nothing re-prices one, so a whole history and the window's
 * rows give the same invoices.
 */
export function computeInvoices(account: BillingAccount, data: BillingData, until: number): Invoice[] {
  const finalized = new Map((data.finalized ?? []).map((i) => [i.key, i]))
  const window = billingWindow(account, lastRecurring(finalized.keys()))
  // Upgrade invoices finalized under a positional key are matched by their period and day.
  const legacy = new Map<string, Invoice[]>()
  for (const inv of data.finalized ?? []) {
    if (inv.kind !== 'upgrade' || !LEGACY_UPGRADE_KEY.test(inv.key)) continue
    const at = `${inv.period?.index}:${inv.issuedDate}`
    legacy.set(at, [...(legacy.get(at) ?? []), inv])
  }
  const given = (draft: Invoice): Invoice | undefined => {
    const known = finalized.get(draft.key)
    if (known || draft.kind !== 'upgrade') return known
    return legacy.get(`${draft.period?.index}:${draft.issuedDate}`)?.shift()
  }
  const last = lastStarted(account, until)
  const reading = readingBefore(data.usage, window.fromDay, data.readingBefore)
  const carried = { ...data, contactsBefore: contactsInto(account, window, data.finalized, reading) }
  const states = last && last.index >= window.index ? statesOver(account, carried, termsBetween(account, window.index, last)) : []
  /** The state of period `index`, when it is in the window. */
  const stateOf = (index: number) => states[index - window.index]
  const out: Invoice[] = []
  const keep = (draft: Invoice) => {
    if (draft.issuedAt > until) return
    const inv = given(draft) ?? draft
    // Every invoice issued before the window was issued by the run that settled its period.
    if (inv.status !== 'finalized' && inv.issuedAt < window.from) return
    // Nothing to bill, nothing issued (a finalized invoice is kept as given).
    if (inv.status === 'finalized' || inv.lines.length > 0) out.push(inv)
  }
  // Billed arrears by period index and meter, from the recurring invoices before the current one.
  const billed = new Map<number, Map<string, { quantity: number; amount: number }>>()
  const record = (inv: Invoice) => {
    for (const l of inv.lines) {
      if (!ARREARS_KINDS.has(l.kind)) continue
      const byMeter = billed.get(l.period.index) ?? new Map<string, { quantity: number; amount: number }>()
      const b = byMeter.get(l.meter ?? '') ?? { quantity: 0, amount: 0 }
      b.quantity += l.quantity
      b.amount += l.amount
      byMeter.set(l.meter ?? '', b)
      billed.set(l.period.index, byMeter)
    }
  }
  /** The first invoice's recurring fees per month, before any discount. */
  const first = window.index > 0 ? finalized.get('recurring:0') : undefined
  let minimum: number | null = first ? monthlyFees(first) : null

  const recurring = (k: number, advance: PeriodState | undefined, closed: PeriodState | undefined, issuedAt: number) => {
    const key = `recurring:${k}`
    const given = finalized.get(key)
    let inv: Invoice
    if (given) inv = given
    else {
      const lines: InvoiceLine[] = []
      if (advance) lines.push(...recurringLines(advance.start, advance.contactsStart, advance.period))
      if (closed) lines.push(...arrears(closed))
      lines.push(...adjustments(stateOf, window.index, k, billed))
      // Minimum price (docs/rules.md §5): the period's own recurring fees against the first invoice's,
      // like with like: N months of its monthly fees, less this period's cycle discount. Usage of an
      // earlier period is not a fee of this one.
      const own = sum(lines.filter((l) => RECURRING_KINDS.has(l.kind) && l.period.index === advance?.period.index).map((l) => l.amount))
      if (advance && minimum !== null && k > 0) {
        const floor = lineAmount({
          quantity: 1,
          unitPrice: minimum,
          months: advance.period.months,
          discountPercent: discountFor(advance.start.plan, advance.period.cycle),
        })
        if (own < floor) {
          lines.push(
            priced({
              kind: 'minimum',
              description: 'Minimum price: the total of the first invoice',
              quantity: 1,
              unitPrice: floor - own,
              months: 1,
              discountPercent: 0,
              period: periodRef(advance.period),
            }),
          )
        }
      }
      const terms = advance?.start ?? closed?.end
      inv = invoice(account, key, 'recurring', terms?.plan.currency ?? '', issuedAt, (advance ?? closed)?.period ?? null, lines)
    }
    if (k === 0 && advance) minimum = monthlyFees(inv)
    if (inv.status !== 'finalized' && inv.lines.length === 0) return
    if (inv.issuedAt <= until) {
      record(inv)
      out.push(inv)
    }
  }

  for (const ps of states) {
    const p = ps.period
    const i = p.index
    recurring(i, ps, stateOf(i - 1), p.start)
    const within: Invoice[] = []
    const keys = new Set<string>()
    for (const u of ps.upgrades) {
      const contacts = contactsOn(ps, u.at)
      const proration = { days: daysBetween(u.at, p.endDate), of: p.days }
      const lines = [...recurringLines(u.before, contacts, p, proration, -1), ...recurringLines(u.after, contacts, p, proration, 1)]
      const change = account.subscription.changes?.[u.change] ?? { at: u.at }
      let key = upgradeKey(i, change)
      // Two changes alike in every field on one day: the second is told apart by its rank among them.
      for (let n = 2; keys.has(key); n++) key = `${upgradeKey(i, change)}#${n}`
      keys.add(key)
      within.push(invoice(account, key, 'upgrade', u.after.plan.currency, startOfDay(u.at, account.timezone), p, lines))
    }
    // A change edited after its upgrade invoice was finalized: the new invoice of the period charges
    // the difference, crediting the lines of the one it replaces (docs/rules.md §5).
    const replaced = (data.finalized ?? []).filter((f) => f.kind === 'upgrade' && f.period?.index === i && !keys.has(f.key) && !LEGACY_UPGRADE_KEY.test(f.key))
    const draft = within.find((inv) => !finalized.has(inv.key))
    if (draft && replaced.length > 0) {
      for (const f of replaced) {
        for (const l of f.lines) {
          draft.lines.push(
            priced({
              kind: l.kind,
              meter: l.meter,
              product: l.product,
              contacts: l.contacts,
              description: `Replaced (${f.key}): ${l.description}`,
              quantity: -l.quantity,
              unitPrice: l.unitPrice,
              months: l.months,
              discountPercent: l.discountPercent,
              proration: l.proration,
              period: l.period,
              from: l.from,
              to: l.to,
            }),
          )
        }
      }
      draft.total = sum(draft.lines.map((l) => l.amount))
    }
    for (const r of ps.rebalances) {
      const plan = termsOn(ps, r.day).plan
      const lines: InvoiceLine[] = []
      for (const g of r.segments) {
        const proration = { days: daysBetween(g.from, g.to), of: p.days }
        for (const l of [contactRangeLine(plan, g.paid, p, proration, -1), contactRangeLine(plan, r.after, p, proration, 1)]) {
          if (l) lines.push({ ...l, from: g.from, to: g.to })
        }
      }
      within.push(invoice(account, r.key, 'rebalance', plan.currency, startOfDay(nextDay(r.day), account.timezone), p, lines))
    }
    for (const inv of within) keep(inv)
    // Seed 002: after a cancelled subscription ends "You'll not be billed again" - but for the last usage.
    if (p.last && p.end <= until) {
      recurring(i + 1, undefined, ps, p.end)
      // Usage of the last period accepted after its final invoice: there is no next recurring invoice
      // to carry it, so it gets one of its own, issued by the run that finds it (docs/rules.md §5).
      if (finalized.has(`recurring:${i + 1}`)) {
        for (let n = 1; ; n++) {
          const key = `recurring:${i + 1}:late:${n}`
          const done = finalized.get(key)
          if (done) {
            record(done)
            out.push(done)
            continue
          }
          const lines = adjustments(stateOf, window.index, i + 2, billed)
          if (lines.length > 0) out.push(invoice(account, key, 'recurring', ps.end.plan.currency, until, p, lines))
          break
        }
      }
    }
  }

  for (const e of data.ledger) {
    if (e.type !== 'purchase') continue
    keep(creditPackInvoice(account, e, states))
  }
  for (const g of data.emailGrants ?? []) {
    if (g.pack && g.id !== undefined && g.at !== undefined)
      keep(packInvoice(account, states, 'emails', g.id, g.at, g.pack.currency, `Email pack ${g.pack.name}: ${g.emails} emails`, g.pack.price))
  }
  // The finalized invoices of settled periods, as given.
  const listed = new Set(out.map((i) => i.key))
  for (const f of data.finalized ?? []) {
    const settled = f.issuedAt < window.from || (f.period !== null && f.period.index < window.index)
    if (settled && f.issuedAt <= until && !listed.has(f.key)) out.push(f)
  }
  return out.sort(issueOrder)
}

function issueOrder(a: Invoice, b: Invoice): number {
  return a.issuedAt - b.issuedAt || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
}

function creditPackInvoice(account: BillingAccount, e: PurchaseEntry, states: readonly PeriodState[]): Invoice {
  return packInvoice(account, states, 'credits', e.id, e.at, e.currency, `Credit pack ${e.pack}: ${e.credits} credits`, e.price)
}

/** A pack bought (credits or emails): one line at its price, dated by the day of purchase, issued at once. */
function packInvoice(
  account: BillingAccount,
  states: readonly PeriodState[],
  kind: 'credits' | 'emails',
  id: string,
  at: number,
  currency: string,
  description: string,
  price: number,
): Invoice {
  const ps = states.find((s) => s.period.start <= at && at < s.period.end) ?? states[states.length - 1]
  const ref = ps
    ? periodRef(ps.period)
    : { index: -1, start: at, end: at, startDate: localDate(at, account.timezone), endDate: localDate(at, account.timezone) }
  const day = localDate(at, account.timezone)
  const line: InvoiceLine = priced({ kind, description, quantity: 1, unitPrice: price, months: 1, discountPercent: 0, period: ref, from: day, to: day })
  return {
    key: `${kind}:${id}`,
    kind,
    status: 'draft',
    number: null,
    currency,
    issuedAt: at,
    issuedDate: localDate(at, account.timezone),
    period: ref,
    lines: [line],
    total: line.amount,
    amountUnit: 'minor',
  }
}
