/**
 * Server-to-server usage (`POST /v1/usage`) and credit requests (`/v1/credits/purchase`,
 * `/transfer`): every decision that depends on stored state — can this wallet pay, is the email
 * quota left — is taken here, inside the transaction that writes its outcome and with the
 * account locked, so two requests racing for the last credits are serialized on every engine:
 * one is paid, the other refused, never both. The decisions themselves are `@tally/billing`'s.
 */
import {
  ACCOUNT_WALLET,
  applyEntries,
  balanceOf,
  balances,
  creditsDue,
  emailMonthAt,
  emailWindow,
  emailsAt,
  memberWallet,
  purchase,
  spend,
  transfer,
  checkEmails,
  nextDay,
  termsAt,
  type Balances,
  type BillingAccount,
  type CreditResult,
  type EmailGrant,
  type UsageRow,
} from '@tally/billing'
import type { UsageCode } from '@tally/protocol'
import type { EmailGrantRow, Repository, UsageEventRow } from '../engines/repository.js'
import { ledgerId, purchaseInvoiceKey, requestKey, type LedgerBook } from './ledger-book.js'
import { emit } from './webhooks.js'

/** One server-to-server event that passed validation; `time` is its instant, `day` its local day. */
export type UsageInput =
  | { id: string; type: 'alert'; time: number; day: string }
  | { id: string; type: 'action'; time: number; day: string; action: string; quantity: number; member?: string | undefined }
  | { id: string; type: 'contacts'; time: number; day: string; count: number }
  | { id: string; type: 'email'; time: number; day: string; count: number }

export interface UsageRequest {
  account: string
  /** The account as billing sees it (zone, subscription, plans, members). */
  billing: BillingAccount
  /** Processing time: credits are drawn and logged at this instant. */
  receivedAt: number
  events: UsageInput[]
}

/** Per event, in request order. `credits` for actions: spent by the event, and the wallet's balance now. */
export interface UsageOutcome {
  status: 'accepted' | 'duplicate' | 'rejected'
  code?: UsageCode
  credits?: { spent: number; balance: number }
}

export type CreditCall =
  | { kind: 'purchase'; account: string; billing: BillingAccount; id: string; pack: string; at: number }
  | { kind: 'transfer'; account: string; billing: BillingAccount; id: string; to: string; credits: number; at: number }

const walletOf = (member: string | null | undefined) => (member ? memberWallet(member) : ACCOUNT_WALLET)

export async function recordUsage(tx: Repository, book: LedgerBook, req: UsageRequest): Promise<UsageOutcome[]> {
  const { account, billing, receivedAt } = req
  await tx.lockAccount(account)
  const seen = await tx.usageEvents(
    account,
    req.events.map((e) => e.id),
  )
  const out: UsageOutcome[] = []
  /** The email check's rows, read once per request and kept current as the request adds to them. */
  let window:
    | {
        fromDay: string
        toDay: string
        usage: UsageRow[]
        finalized: Awaited<ReturnType<Repository['invoices']>>
        emailGrants: EmailGrant[]
        contactsBefore: number | null
      }
    | undefined
  const accepted = new Set<string>()
  for (const e of req.events) {
    const stored = seen.get(e.id)
    if (stored || accepted.has(e.id)) {
      if (stored?.type === 'action') {
        // The balance of now: the grants and expiries due are written first, as a new spend would.
        let ledger = await book.state(tx, account)
        ledger = await book.append(tx, account, ledger, creditsDue(billing, ledger, receivedAt), receivedAt)
        out.push({ status: 'duplicate', credits: { spent: stored.credits, balance: balanceOf(ledger, walletOf(stored.member), receivedAt) } })
      } else out.push({ status: 'duplicate' })
      continue
    }
    const row: UsageEventRow = {
      id: e.id,
      type: e.type,
      day: e.day,
      time: e.time,
      receivedAt,
      quantity: e.type === 'alert' ? 1 : e.type === 'action' ? e.quantity : e.count,
      credits: 0,
      member: e.type === 'action' ? (e.member ?? null) : null,
    }
    if (e.type === 'action') {
      const ledger = await book.forRequest(tx, account, await book.state(tx, account), requestKey.action(e.id))
      const r = spend(billing, ledger, { id: ledgerId.action(e.id), action: e.action, quantity: e.quantity, member: e.member, at: receivedAt })
      // Grants and expiries that fell due are written whatever the outcome: they are the log's own.
      await book.append(tx, account, ledger, r.entries, receivedAt, e.id)
      if (!r.ok) {
        out.push({ status: 'rejected', code: r.code === 'invalid_quantity' || r.code === 'unknown_pack' ? 'invalid_event' : r.code })
        continue
      }
      await tx.insertUsageEvent(account, { ...row, credits: r.credits })
      await creditsLow(tx, billing, account, walletOf(e.member), r.balance + r.credits, r.balance, ledgerId.action(e.id), receivedAt)
      accepted.add(e.id)
      out.push({ status: 'accepted', credits: { spent: r.credits, balance: r.balance } })
      continue
    }
    if (e.type === 'email') {
      const need = emailWindow(billing, e.time)
      // Outside the subscription (before it starts, after it ends) there is no quota to send against.
      if (!need) {
        out.push({ status: 'rejected', code: 'quota_exceeded' })
        continue
      }
      if (!window || window.fromDay !== need.fromDay) {
        window = {
          fromDay: need.fromDay,
          toDay: need.toDay,
          usage: await tx.usageDaily(account, need.fromDay, need.toDay),
          finalized: await tx.invoices(account, need.invoiceKeys),
          // Grants of the window's months only: the check stays bounded to the two periods it reads.
          emailGrants: (await tx.emailGrants(account, need.fromDay, need.toDay)).map((g) => ({ month: g.month, emails: g.emails })),
          // The paid contacts carried into the window: the latest reading before it (docs/rules.md §5).
          contactsBefore: await tx.lastContacts(account, need.fromDay),
        }
      }
      const allowance = emailsAt(billing, window, e.time)
      const verdict = checkEmails(allowance?.sent ?? 0, e.count, (allowance?.quota ?? 0) + (allowance?.granted ?? 0))
      if (!verdict.ok) {
        // The first refusal at a quota level tells the vendor once (docs/webhooks.md); later ones find the event written.
        const month = emailMonthAt(billing, e.time)
        if (month !== null && allowance) {
          const { quota, granted, sent } = allowance
          // Once per quota level: a grant or a pack raises it, and reaching the new level tells again.
          await emit(tx, account, 'quota.email_reached', `${month}:${quota + granted}`, { month, quota, granted, sent, refused: e.count }, receivedAt)
        }
        out.push({ status: 'rejected', code: 'quota_exceeded' })
        continue
      }
    }
    const add = { alerts: e.type === 'alert' ? 1 : 0, emails: e.type === 'email' ? e.count : 0, contacts: e.type === 'contacts' ? e.count : null }
    await tx.addUsageDaily(account, e.day, add)
    await tx.insertUsageEvent(account, row)
    accepted.add(e.id)
    if (window && e.day >= window.fromDay && e.day < window.toDay) window.usage = addToDaily(window.usage, e.day, add)
    out.push({ status: 'accepted' })
  }
  return out
}

export async function creditRequest(tx: Repository, book: LedgerBook, req: CreditCall): Promise<CreditResult> {
  await tx.lockAccount(req.account)
  const key = req.kind === 'purchase' ? requestKey.purchase(req.id) : requestKey.transfer(req.id)
  const ledger = await book.forRequest(tx, req.account, await book.state(tx, req.account), key)
  const r =
    req.kind === 'purchase'
      ? purchase(req.billing, ledger, { id: ledgerId.purchase(req.id), pack: req.pack, at: req.at })
      : transfer(req.billing, ledger, { id: ledgerId.transfer(req.id), to: req.to, credits: req.credits, at: req.at })
  await book.append(tx, req.account, ledger, r.entries, req.at, req.id)
  if (r.ok && !r.duplicate) {
    if (req.kind === 'purchase') {
      const data = { id: req.id, pack: req.pack, credits: r.credits, balance: r.balance, invoice: purchaseInvoiceKey(req.id) }
      await emit(tx, req.account, 'credits.purchased', req.id, data, req.at)
    } else {
      const data = { id: req.id, to: req.to, credits: r.credits, balance: r.balance, moved: r.moved ?? { purchased: 0, free: 0 } }
      await emit(tx, req.account, 'credits.transferred', req.id, data, req.at)
      await creditsLow(tx, req.billing, req.account, ACCOUNT_WALLET, r.balance + r.credits, r.balance, ledgerId.transfer(req.id), req.at)
    }
  }
  return r
}

/**
 * Balances by wallet and lot at `at` (`GET /v1/credits`), with the grants and expiries due by then
 * counted (not written: a read writes nothing), from the open ledger: the same reads in month 100
 * as in month 2 (docs/architecture.md, "Per-request work").
 */
export async function creditBalances(db: Repository, book: LedgerBook, account: string, billing: BillingAccount, at: number): Promise<Balances> {
  const ledger = await book.state(db, account, false)
  const due = creditsDue(billing, ledger, at)
  return balances(due.length ? applyEntries(ledger, due) : ledger, at)
}

/**
 * `credits.low` when a spend or transfer takes a wallet from at or above the plan's
 * `creditsLowThreshold` to below it: once per crossing, named by the entry that crossed.
 */
async function creditsLow(
  tx: Repository,
  billing: BillingAccount,
  account: string,
  wallet: string,
  before: number,
  after: number,
  entry: string,
  at: number,
): Promise<void> {
  const threshold = termsAt(billing, at)?.terms.plan.creditsLowThreshold
  if (threshold === undefined || !(before >= threshold && after < threshold)) return
  await emit(tx, account, 'credits.low', `${wallet}:${entry}`, { wallet, balance: after, threshold }, at)
}

/**
 * More emails for the current month of the quota (docs/billing.md, "Email grants"): granted by
 * support (`emails`), or an email pack of the plan in force bought by the vendor (`pack`, invoiced
 * like a credit pack). Idempotent by `id`; the two kinds keep their ids apart (`grant:`, `purchase:`).
 */
export type EmailGrantCall =
  | { kind: 'grant'; account: string; billing: BillingAccount; id: string; emails: number; note: string | null; at: number }
  | { kind: 'purchase'; account: string; billing: BillingAccount; id: string; pack: string; at: number }

export type EmailGrantResult = { ok: true; duplicate: boolean; grant: EmailGrantRow } | { ok: false; code: 'no_current_period' | 'unknown_pack' }

export async function grantEmails(tx: Repository, req: EmailGrantCall): Promise<EmailGrantResult> {
  await tx.lockAccount(req.account)
  const month = emailMonthAt(req.billing, req.at)
  if (month === null) return { ok: false, code: 'no_current_period' }
  const id = `${req.kind}:${req.id}`
  let row: EmailGrantRow
  if (req.kind === 'grant') {
    row = { id, month, emails: req.emails, note: req.note, grantedAt: req.at, pack: null, price: null, currency: null }
  } else {
    // A repeat answers the original, even if the plan dropped the pack since.
    const stored = (await tx.emailGrants(req.account, month, nextDay(month))).find((g) => g.id === id)
    if (stored) return { ok: true, duplicate: true, grant: stored }
    const plan = termsAt(req.billing, req.at)?.terms.plan
    const packs = plan?.emailPacks ?? {}
    const p = Object.hasOwn(packs, req.pack) ? packs[req.pack] : undefined
    if (!plan || !p) return { ok: false, code: 'unknown_pack' }
    row = { id, month, emails: p.emails, note: null, grantedAt: req.at, pack: req.pack, price: p.price, currency: plan.currency }
  }
  const r = await tx.insertEmailGrant(req.account, row)
  if (r.created && req.kind === 'purchase') {
    const data = { id: req.id, pack: req.pack, emails: row.emails, month, invoice: `emails:purchase:${req.id}` }
    await emit(tx, req.account, 'emails.purchased', req.id, data, req.at)
  }
  return { ok: true, duplicate: !r.created, grant: r.grant }
}

/** The request's running view of the daily rows, so a later email in the same request sees the earlier ones. */
function addToDaily(rows: UsageRow[], day: string, add: { alerts: number; emails: number; contacts: number | null }): UsageRow[] {
  const i = rows.findIndex((r) => r.day === day)
  const before: UsageRow = i >= 0 ? (rows[i] ?? { day }) : { day }
  const contacts = add.contacts === null ? before.contacts : Math.max(before.contacts ?? add.contacts, add.contacts)
  const next: UsageRow = {
    day,
    alerts: (before.alerts ?? 0) + add.alerts,
    emails: (before.emails ?? 0) + add.emails,
    ...(contacts === undefined ? {} : { contacts }),
  }
  return i >= 0 ? rows.map((r, k) => (k === i ? next : r)) : [...rows, next]
}
