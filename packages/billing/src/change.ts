/**
 * A subscription change before it is made: what it bills at once and what the next period costs
 * (docs/portal.md, "Changing the plan"). The preview is not a second pricing: it adds the change
 * to the subscription's history and runs `computeInvoices`, the computation the billing run
 * finalizes, so the upgrade invoice previewed is the one issued (Lago F84/F99: previews that
 * disagreed with invoices).
 */
import { computeInvoices, upgradeKey, type BillingData, type Invoice } from './invoice.js'
import { localDate, periodAt, type BillingSubscription, type SubscriptionChange } from './period.js'
import { termsAt, type BillingAccount, type InvoiceLine, type Terms } from './rating.js'

/** The account with `change` added to its subscription's history. */
export function withChange(account: BillingAccount, change: SubscriptionChange): BillingAccount {
  const sub = account.subscription
  return { ...account, subscription: { ...sub, changes: [...(sub.changes ?? []), change] as BillingSubscription['changes'] } }
}

/** Terms as people read them: the plan, seats and products. */
export interface TermsView {
  plan: string
  seats: number
  products: readonly string[]
}

/** What a change does, previewed. */
export interface ChangePreview {
  /** The upgrade invoice the change issues at once (prorated), or null when nothing is billed now. */
  now: Invoice | null
  /** `now`: part or all of the change takes effect today; `period_end`: all of it waits for the period's end. */
  effective: 'now' | 'period_end'
  /** The local date the current period ends on (exclusive): when a downgrade or a new cycle starts. */
  periodEnd: string
  /** The recurring fees billed in advance for the next period, with and without the change. */
  next: { lines: InvoiceLine[]; total: number; cycle: string }
  current: { lines: InvoiceLine[]; total: number; cycle: string }
  /** The terms in force today after the change, and from the next period on. */
  today: TermsView
  fromPeriodEnd: TermsView
  currency: string
}

const view = (t: Terms): TermsView => ({ plan: t.planId, seats: t.seats, products: t.products })

/** The lines of the next recurring invoice that bill its own period in advance (fees, contacts, minimum). */
function advance(account: BillingAccount, data: BillingData, index: number, end: number): { lines: InvoiceLine[]; total: number; cycle: string } {
  const inv = computeInvoices(account, data, end).find((i) => i.key === `recurring:${index + 1}`)
  const lines = (inv?.lines ?? []).filter((l) => l.period.index === index + 1)
  const cycle = periodAt(account.subscription, account.timezone, end)?.cycle ?? ''
  return { lines, total: lines.reduce((s, l) => s + l.amount, 0), cycle }
}

/**
 * The change dated `change.at` (the local day holding `at`), previewed at `at`; null outside the
 * subscription. The upgrade invoice is the draft `computeInvoices` issues for the change; the next
 * period's fees are the advance lines of its next recurring invoice.
 * @example previewChange(account, data, { at: '2027-03-10', seats: 5 }, at)?.now?.total // 1017
 */
export function previewChange(account: BillingAccount, data: BillingData, change: SubscriptionChange, at: number): ChangePreview | null {
  const period = periodAt(account.subscription, account.timezone, at)
  if (!period) return null
  const changed = withChange(account, change)
  const key = upgradeKey(period.index, change)
  const now = computeInvoices(changed, data, at).find((i) => i.key === key && i.kind === 'upgrade') ?? null
  const before = termsAt(account, at)
  const after = termsAt(changed, at)
  // A change dated on the period's first day applies to the whole period (a new cycle from then):
  // its end is the changed subscription's.
  const own = periodAt(changed.subscription, changed.timezone, at) ?? period
  const later = termsAt(changed, own.end)
  if (!before || !after) return null
  const moved = JSON.stringify(view(before.terms)) !== JSON.stringify(view(after.terms))
  return {
    now,
    effective: now !== null || moved ? 'now' : 'period_end',
    periodEnd: localDate(own.end, account.timezone),
    next: advance(changed, data, own.index, own.end),
    current: advance(account, data, period.index, period.end),
    today: view(after.terms),
    fromPeriodEnd: view((later ?? after).terms),
    currency: after.terms.plan.currency,
  }
}
