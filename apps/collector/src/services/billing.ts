/**
 * The billing run of one account and what billing reads (docs/rules.md, "Invoices"): the
 * account's usage, credit log and finalized invoices go to `@tally/billing`, which decides the
 * grants, expiries and invoices due; this writes them in the same transaction, with the account
 * locked, so a run started on every collector at once, or twice, issues each invoice once
 * (invoice keys are unique too).
 */
import {
  billingWindow,
  lastRecurring,
  runBilling,
  type BillTo,
  type BillingAccount,
  type BillingWindow,
  type EmailGrant,
  type Invoice,
  type LedgerEntry,
  type UsageRow,
} from '@tally/billing'
import type { FactRow, Repository } from '../engines/repository.js'
import type { LedgerBook } from './ledger-book.js'
import { emit } from './webhooks.js'

/** `pricedBy`: the configuration versions the billing view came from, stamped on each invoice (docs/configuration.md). */
export interface BillingRunCall {
  account: string
  billing: BillingAccount
  asOf: number
  at: number
  pricedBy?: Invoice['pricedBy'] | null
}
/**
 * What a run answers: how many credit log entries it wrote, and of each invoice it finalized what
 * the runner reports (the invoice itself is stored: `Repository.invoices`). Small on purpose: on
 * SQLite it crosses from the storage thread to the request thread for every account of the month.
 */
export interface BillingRunOutcome {
  ledger: number
  invoices: InvoiceBrief[]
}
export type InvoiceBrief = Pick<Invoice, 'number' | 'key' | 'kind' | 'total' | 'currency'>

export interface StoredBilling {
  usage: UsageRow[]
  ledger: LedgerEntry[]
  /** Finalized invoices in number order. */
  finalized: Invoice[]
  /** Emails granted by support, every month. */
  emailGrants: EmailGrant[]
  /** The invoice information in force over time (docs/portal.md), oldest first. */
  details: FactRow[]
  /** With a window: the latest contacts reading before it (what its first period carries in). */
  readingBefore: { day: string; contacts: number } | null
}

/**
 * Page meters and server meters of each day, merged into one row per day: every day, or with a
 * `window` (`billingWindow`) only what billing needs from the first unsettled period on.
 */
export async function billingData(db: Repository, account: string, window?: BillingWindow): Promise<StoredBilling> {
  const { page, server, ledger, invoices: finalized, grants, details, reading } = await db.billingReads(account, window)
  const usage = mergeDays(page, server)
  const emailGrants: EmailGrant[] = grants.map((g) => ({
    month: g.month,
    emails: g.emails,
    id: g.id,
    at: g.grantedAt,
    pack: g.pack === null || g.price === null || g.currency === null ? undefined : { name: g.pack, price: g.price, currency: g.currency },
  }))
  return { usage, ledger, finalized, emailGrants, details, readingBefore: reading }
}

/**
 * The billing window of an account whose highest numbered recurring invoice is `lastKey`
 * (`Repository.lastRecurringKey`; docs/rules.md §5, "Settled periods"): the one decision every
 * billing run reads by, whoever starts it. A window from an older key starts earlier and gives
 * the same invoices (`computeInvoices` decides from what it reads).
 */
export function windowAfter(billing: BillingAccount, lastKey: string | null): BillingWindow {
  return billingWindow(billing, lastRecurring(lastKey === null ? [] : [lastKey]))
}

/**
 * Both lists in day order (the repository's), merged into one row per day: a day's page meters,
 * then its server meters. One pass, no sort, each row built whole with the fields its sources
 * have (a spread of each row was a tenth of the billing run): this runs for every account.
 */
function mergeDays(page: readonly UsageRow[], server: readonly UsageRow[]): UsageRow[] {
  const out: UsageRow[] = new Array(0)
  let i = 0
  let j = 0
  while (i < page.length || j < server.length) {
    const p = page[i]
    const s = server[j]
    const both = p !== undefined && s !== undefined && p.day === s.day
    let row: UsageRow
    if (p !== undefined && (s === undefined || both || p.day < s.day)) {
      row = { day: p.day, impressions: p.impressions, engagements: p.engagements, chatSessions: p.chatSessions }
      i++
      if (both) {
        row.alerts = s.alerts
        row.emails = s.emails
        if (s.contacts !== undefined) row.contacts = s.contacts
        j++
      }
    } else {
      const t = s as UsageRow
      row = { day: t.day, alerts: t.alerts, emails: t.emails }
      if (t.contacts !== undefined) row.contacts = t.contacts
      j++
    }
    out.push(row)
  }
  return out
}

/** What one account's run writes: the credit log entries due and the invoices, numbered and stamped. */
interface Decision {
  ledger: LedgerEntry[]
  invoices: Invoice[]
}

/**
 * A run decided from a reading of the store (a snapshot where the engine has one), with what it
 * was decided from: the credit log's head and the highest invoice number. Both move with every
 * write a run depends on (every invoice gets the next number, a new recurring one included), so
 * `billingRun` writes the plan only if both are still so, and decides again otherwise: a plan may
 * be made outside the run's transaction, on another connection, while beacons are written
 * (docs/performance.md, "A month's billing run").
 */
export interface BillingPlan extends Decision {
  head: number
  lastNumber: number
}

export async function planBilling(db: Repository, book: LedgerBook, req: BillingRunCall): Promise<BillingPlan> {
  const head = await db.ledgerHead(req.account)
  const lastNumber = await db.lastInvoiceNumber(req.account)
  return { head, lastNumber, ...(await decide(db, book, req, await db.lastRecurringKey(req.account), false)) }
}

/** The run's decision (`runBilling`) from what `db` holds, its invoices stamped; `persist`: `db` is the run's transaction. */
async function decide(db: Repository, book: LedgerBook, req: BillingRunCall, lastKey: string | null, persist: boolean): Promise<Decision> {
  // Only what the month needs: the rows from the first unsettled period on, the grants and expiries
  // due decided from the open ledger (docs/performance.md, "A month's billing run").
  const data = await billingData(db, req.account, windowAfter(req.billing, lastKey))
  const credits = await book.state(db, req.account, persist)
  const run = runBilling(req.billing, data, req.asOf, credits)
  for (const i of run.invoices) {
    if (req.pricedBy) i.pricedBy = req.pricedBy
    // Each invoice prints the invoice information in force when it was issued (docs/portal.md).
    const inForce = data.details.filter((d) => d.at <= i.issuedAt).at(-1)
    if (inForce) i.billTo = inForce.body as BillTo
  }
  return { ledger: run.ledger, invoices: run.invoices }
}

/**
 * One account's run, in the caller's transaction with the account locked: writes `plan` when it
 * was decided from what is stored now, else decides again here.
 */
export async function billingRun(tx: Repository, book: LedgerBook, req: BillingRunCall, plan?: BillingPlan): Promise<BillingRunOutcome> {
  const lastKey = await tx.lockForBilling(req.account)
  // With the account locked, what the plan was decided from is read again as it is now.
  const fresh = plan !== undefined && plan.head === (await tx.ledgerHead(req.account)) && plan.lastNumber === (await tx.lastInvoiceNumber(req.account))
  const run = fresh ? plan : await decide(tx, book, req, lastKey, true)
  const credits = await book.state(tx, req.account)
  await book.append(tx, req.account, credits, run.ledger, req.asOf)
  if (run.invoices.length > 0) await tx.insertInvoices(req.account, run.invoices, req.at)
  // The webhooks of each invoice, in the invoice's transaction (docs/webhooks.md): none is lost, none is sent twice.
  for (const i of run.invoices) {
    const summary = { number: i.number, key: i.key, kind: i.kind, issuedDate: i.issuedDate, period: i.period, currency: i.currency, total: i.total }
    await emit(tx, req.account, 'invoice.finalized', i.key, summary, req.at)
    // A renewal is the recurring invoice that opens a period after the first; the last invoice
    // after a cancellation (`recurring:k` for the period k-1 it closes) renews nothing.
    if (i.kind === 'recurring' && i.period && i.period.index > 0 && i.key === `recurring:${i.period.index}`) {
      await emit(
        tx,
        req.account,
        'subscription.renewed',
        String(i.period.index),
        { period: i.period, invoice: { number: i.number, key: i.key, total: i.total, currency: i.currency } },
        req.at,
      )
    }
  }
  return {
    ledger: run.ledger.length,
    invoices: run.invoices.map((i) => ({ number: i.number, key: i.key, kind: i.kind, total: i.total, currency: i.currency })),
  }
}
