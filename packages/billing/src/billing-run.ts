/** The billing run, the preview, the period summary and the email allowance over `computeInvoices` (./invoice.ts), moved whole from it. */
import type { Plan } from '@tally/protocol'
import { localDate, monthSliceAt, nextDay, periodAt, periodByIndex, startOfDay, type Period } from './period.js'
import { emailQuota, type Meters, type UsageRow } from './meters.js'
import { contactRange, periodRef, type BillingAccount, type PeriodRef } from './rating.js'
import { replay, balances, creditsDue, type Balances, type LedgerEntry, type LedgerState } from './ledger.js'

import { type Invoice, type BillingData, type EmailGrant, type EmailAllowance, periodStates, periodStateAt, contactsOn, computeInvoices } from './invoice.js'
/**
 * The invoices due by `asOf` that are not finalized yet, in issue order (drafts, unnumbered).
 * @example invoicesDue(account, { usage: [], ledger: [] }, Date.UTC(2026, 6, 12)).map((i) => i.key) // ['recurring:0']
 */
export function invoicesDue(account: BillingAccount, data: BillingData, asOf: number): Invoice[] {
  const done = new Set((data.finalized ?? []).map((i) => i.key))
  return computeInvoices(account, data, asOf).filter((i) => !done.has(i.key))
}

/**
 * The next invoice number: one more than the highest given (numbers are never reused).
 * @example nextNumber([1, 2, 3]) // 4
 * @example nextNumber([]) // 1
 */
export function nextNumber(existing: Iterable<number>): number {
  let max = 0
  for (const n of existing) if (n > max) max = n
  return max + 1
}

/**
 * A draft made final under a number; a finalized invoice is returned unchanged.
 * @example finalize(draft, 7).number // 7
 */
export function finalize(draft: Invoice, number: number): Invoice {
  if (draft.status === 'finalized') return draft
  return { ...draft, status: 'finalized', number }
}

/**
 * The recurring invoice that will close the period holding `at`, from the usage so far: the same
 * computation as the one the run finalizes.
 * @example preview(account, data, Date.UTC(2026, 7, 1))?.key // 'recurring:1'
 */
export function preview(account: BillingAccount, data: BillingData, at: number): Invoice | null {
  const ps = periodStates(account, data, at).find((s) => s.period.start <= at && at < s.period.end)
  if (!ps) return null
  const key = `recurring:${ps.period.index + 1}`
  return computeInvoices(account, data, ps.period.end).find((i) => i.key === key) ?? null
}

/** What a billing run appends: credit log entries and numbered invoices. */
export interface BillingRun {
  ledger: LedgerEntry[]
  invoices: Invoice[]
}

/**
 * One billing run up to `asOf`: grants and expiries due, and every invoice due, numbered gap-free
 * after the finalized ones. Idempotent: with its output stored, running again returns nothing.
 * `credits`: the account's open ledger (`openLedger`), when `data` holds the billing window's rows
 * only (`billingWindow`): the grants and expiries due are decided from it, and `data.ledger` needs
 * only the window's purchases. `data.finalized` must hold the highest numbered invoice.
 * @example runBilling(account, { usage: [], ledger: [], finalized: [] }, asOf).invoices[0]?.number // 1
 */
export function runBilling(account: BillingAccount, data: BillingData, asOf: number, credits?: LedgerState): BillingRun {
  const ledger = creditsDue(account, credits ?? data.ledger, asOf)
  const withLedger = ledger.length ? { ...data, ledger: [...data.ledger, ...ledger] } : data
  let n = nextNumber((data.finalized ?? []).map((i) => i.number ?? 0))
  const invoices = invoicesDue(account, withLedger, asOf).map((d) => finalize(d, n++))
  return { ledger, invoices }
}

/** The account's current period as `GET /v1/period` shows it. */
export interface PeriodSummary {
  period: PeriodRef
  cycle: Period['cycle']
  planId: string
  seats: number
  /** Products chosen and in force now. */
  products: readonly string[]
  paidContacts: number
  meters: Meters
  included: Record<'impressions' | 'engagements' | 'chatSessions' | 'alerts', number>
  /** Emails of the current month of the anchor calendar against its quota and the grants of that month. */
  emails: EmailAllowance
  credits: Balances
  preview: Invoice | null
}

/**
 * The period holding `at`: usage against the included quotas, balances, email quota left and the
 * invoice preview; null outside the subscription.
 */
export function periodSummary(account: BillingAccount, data: BillingData, at: number): PeriodSummary | null {
  const now = periodNow(account, data, at)
  if (!now) return null
  const { ps, terms, plan, paidContacts, emails } = now
  const months = ps.period.months
  return {
    period: periodRef(ps.period),
    cycle: ps.period.cycle,
    planId: terms.planId,
    seats: terms.seats,
    products: terms.products,
    paidContacts,
    meters: ps.meters,
    included: {
      impressions: (plan.included.impressions ?? 0) * months,
      engagements: (plan.included.engagements ?? 0) * months,
      chatSessions: (plan.included.chatSessions ?? 0) * months,
      alerts: (plan.included.alerts ?? 0) * months,
    },
    emails,
    credits: balances(replay(data.ledger), at),
    preview: preview(account, data, at),
  }
}

/** The period holding `at`, the terms and paid contacts in force, and the email quota of the month. */
export function periodNow(
  account: BillingAccount,
  data: Pick<BillingData, 'usage' | 'finalized' | 'emailGrants' | 'contactsBefore'> & { ledger?: readonly LedgerEntry[] },
  at: number,
) {
  const ps = periodStateAt(account, { ...data, ledger: data.ledger ?? [] }, at)
  if (!ps) return null
  const day = localDate(at, account.timezone)
  let terms = ps.start
  for (const u of ps.upgrades) if (startOfDay(u.at, account.timezone) <= at) terms = u.after
  const plan: Plan = terms.plan
  const paidContacts = contactsOn(ps, nextDay(day))
  return { ps, terms, plan, paidContacts, emails: emailAllowance(account, data.usage, at, quotaContacts(plan, paidContacts), plan, data.emailGrants) }
}

/**
 * What an email send at `at` is checked against: the data it needs and nothing older, so the check
 * costs the same in an account's first month and its hundredth. The quota depends on the contacts
 * the period was billed for, which the period's finalized recurring invoice states; until that
 * invoice exists the previous period's readings decide, so its rows are read too.
 */
export function emailWindow(account: BillingAccount, at: number): { fromDay: string; toDay: string; invoiceKeys: string[] } | null {
  const p = periodAt(account.subscription, account.timezone, at)
  if (!p) return null
  const prev = p.index > 0 ? periodByIndex(account.subscription, account.timezone, p.index - 1) : null
  return { fromDay: (prev ?? p).startDate, toDay: p.endDate, invoiceKeys: [...(prev ? [`recurring:${prev.index}`] : []), `recurring:${p.index}`] }
}

/**
 * The email quota of the month holding `at`, the emails sent in it and what is left: the same
 * answer as `periodSummary(...).emails`, from the rows and invoices `emailWindow` names (or more).
 */
export function emailsAt(
  account: BillingAccount,
  data: Pick<BillingData, 'usage' | 'finalized' | 'emailGrants' | 'contactsBefore'>,
  at: number,
): EmailAllowance | null {
  return periodNow(account, data, at)?.emails ?? null
}

/**
 * The contacts an email quota is for (docs/rules.md §3, seed 004: "4 times more emails than the
 * number of contacts you paid for"): the upper bound of the range the period is billed at, or the
 * paid count itself on a plan without ranges or in an open last range.
 * @example quotaContacts(growth, 0) // 1000
 * @example quotaContacts(growth, 3000) // 5000
 */
export function quotaContacts(plan: Plan, paid: number): number {
  if (plan.contactRanges.length === 0) return paid
  return contactRange(plan, paid).upTo ?? paid
}

/**
 * The email quota of the month (of the anchor calendar) holding `at`, the emails sent in it and what
 * is left. Seed 004: "Your email quota is updated each month along with your subscription status."
 */
export function emailAllowance(
  account: BillingAccount,
  usage: readonly UsageRow[],
  at: number,
  paidContacts: number,
  plan: Plan,
  grants: readonly EmailGrant[] = [],
): EmailAllowance {
  const slice = monthSliceAt(account.subscription, account.timezone, at)
  const quota = emailQuota(plan.emailsPerContact, paidContacts)
  if (!slice) return { quota, granted: 0, sent: 0, left: 0 }
  const endDate = localDate(slice.end, account.timezone)
  let sent = 0
  for (const r of usage) if (r.day >= slice.startDate && r.day < endDate) sent += r.emails ?? 0
  let granted = 0
  for (const g of grants) if (g.month === slice.startDate) granted += g.emails
  return { quota, granted, sent, left: Math.max(0, quota + granted - sent) }
}

/**
 * The month of the anchor calendar holding `at` (its first local day), the one an email grant made
 * at `at` adds to; null outside the subscription. A grant is for the quota that is running out now:
 * in a monthly cycle that month is the period, in a long term the quota renews monthly too.
 */
export function emailMonthAt(account: BillingAccount, at: number): string | null {
  return monthSliceAt(account.subscription, account.timezone, at)?.startDate ?? null
}
