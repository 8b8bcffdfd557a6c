/**
 * The billing half of the SQLite store: server-to-server usage, the credit log and invoices.
 *
 * Every decision that depends on stored state (can this wallet pay? is the email quota left? which
 * number is next?) is taken inside the same transaction that writes its outcome, on the store's
 * single writer. Two requests racing for the last credits are therefore serialized: one is paid,
 * the other refused, never both (LESSONS: dedup is the write). The decisions themselves are
 * `@tally/billing`'s pure functions; this file only loads, decides and appends.
 *
 * The replayed credit log of each account is cached between calls and checked against the
 * highest stored `seq` before each use, so a rolled-back write or another writer (the billing
 * run) simply causes a reload.
 */
import type Database from 'better-sqlite3'
import {
  applyEntries, balanceOf, creditsDue, memberWallet, periodSummary, purchase, replay, runBilling, spend, transfer, checkEmails,
  ACCOUNT_WALLET, type BillingAccount, type CreditResult, type Invoice, type LedgerEntry, type LedgerState, type UsageRow,
} from '@tally/billing'
import type {
  BillingRunCall, BillingRunOutcome, CreditCall, StoredBilling, UsageInput, UsageOutcome, UsageRequest,
} from '../repository.js'

/**
 * Ledger entry ids are the request ids, prefixed by the kind of request: an action, a purchase
 * and a transfer may share a client id without clashing, and none can take a system id
 * (`grant:3`, `expiry:…`).
 */
export const ledgerId = {
  action: (id: string) => `action:${id}`,
  purchase: (id: string) => `purchase:${id}`,
  transfer: (id: string) => `transfer:${id}`,
}

interface DailyRow { day: string; alerts: number; emails: number; contacts: number | null }

export class SqliteBilling {
  private readonly st
  private readonly cache = new Map<string, { seq: number; state: LedgerState }>()

  constructor(private readonly db: Database.Database) {
    this.st = {
      usageEvent: db.prepare('SELECT credits, member, type FROM usage_events WHERE account = ? AND id = ?'),
      insertUsage: db.prepare(`INSERT INTO usage_events (account, id, type, day, time, received_at, quantity, credits, member)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      daily: db.prepare('SELECT day, alerts, emails, contacts FROM usage_daily WHERE account = ? ORDER BY day'),
      addDaily: db.prepare(`INSERT INTO usage_daily (account, day, alerts, emails, contacts) VALUES (?, ?, ?, ?, ?)
          ON CONFLICT (account, day) DO UPDATE SET alerts = alerts + excluded.alerts, emails = emails + excluded.emails,
            contacts = CASE WHEN excluded.contacts IS NULL THEN contacts
                            WHEN contacts IS NULL OR excluded.contacts > contacts THEN excluded.contacts ELSE contacts END`),
      browserDaily: db.prepare(`SELECT day,
            SUM(CASE WHEN kind = 'campaign' THEN units ELSE 0 END) AS impressions,
            SUM(CASE WHEN kind = 'advisor' THEN units ELSE 0 END) AS engagements,
            SUM(CASE WHEN kind = 'bot' THEN units ELSE 0 END) AS chatSessions
          FROM rollups WHERE account = ? GROUP BY day ORDER BY day`),
      maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM ledger WHERE account = ?'),
      ledger: db.prepare('SELECT seq, entry FROM ledger WHERE account = ? ORDER BY seq'),
      append: db.prepare(`INSERT INTO ledger (account, id, type, wallet, at, credits, entry) VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (account, id) DO NOTHING`),
      invoices: db.prepare('SELECT invoice FROM invoices WHERE account = ? ORDER BY number'),
      insertInvoice: db.prepare(`INSERT INTO invoices (account, key, number, kind, issued_at, currency, total, invoice, finalized_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    }
  }

  /** The account's replayed credit log, reloaded when the stored log moved on without the cache. */
  private state(account: string): LedgerState {
    const { seq } = this.st.maxSeq.get(account) as { seq: number }
    const hit = this.cache.get(account)
    if (hit && hit.seq === seq) return hit.state
    const rows = this.st.ledger.all(account) as { seq: number; entry: string }[]
    const state = replay(rows.map((r) => JSON.parse(r.entry) as LedgerEntry))
    this.cache.set(account, { seq, state })
    return state
  }

  /** Appends entries (idempotent by id) and moves the cached state along with them. */
  private append(account: string, state: LedgerState, entries: readonly LedgerEntry[]): LedgerState {
    if (entries.length === 0) return state
    for (const e of entries) this.st.append.run(account, e.id, e.type, e.wallet, e.at, e.credits, JSON.stringify(e))
    const next = applyEntries(state, entries)
    const { seq } = this.st.maxSeq.get(account) as { seq: number }
    this.cache.set(account, { seq, state: next })
    return next
  }

  private dailyRows(account: string): UsageRow[] {
    return (this.st.daily.all(account) as DailyRow[]).map((r) => ({
      day: r.day, alerts: r.alerts, emails: r.emails, ...(r.contacts === null ? {} : { contacts: r.contacts }),
    }))
  }

  /** Runs inside the store's transaction (one savepoint per request). */
  recordUsage(req: UsageRequest): UsageOutcome[] {
    const { account, billing, receivedAt } = req
    let ledger: LedgerState | undefined
    let daily: UsageRow[] | undefined
    let finalized: Invoice[] | undefined
    const out: UsageOutcome[] = []
    const walletOf = (member: string | null | undefined) => (member ? memberWallet(member) : ACCOUNT_WALLET)
    for (const e of req.events) {
      const seen = this.st.usageEvent.get(account, e.id) as { credits: number; member: string | null; type: string } | undefined
      if (seen) {
        if (seen.type === 'action') {
          ledger ??= this.state(account)
          // The balance of now: the grants and expiries due are written first, as a new spend would.
          ledger = this.append(account, ledger, creditsDue(billing, ledger, receivedAt))
          out.push({ status: 'duplicate', credits: { spent: seen.credits, balance: balanceOf(ledger, walletOf(seen.member), receivedAt) } })
        } else out.push({ status: 'duplicate' })
        continue
      }
      const write = (quantity: number, credits: number, member?: string) =>
        this.st.insertUsage.run(account, e.id, e.type, e.day, e.time, receivedAt, quantity, credits, member ?? null)
      if (e.type === 'action') {
        ledger ??= this.state(account)
        const r = spend(billing, ledger, { id: ledgerId.action(e.id), action: e.action, quantity: e.quantity, member: e.member, at: receivedAt })
        // Grants and expiries that fell due are written whatever the outcome: they are the log's own.
        ledger = this.append(account, ledger, r.entries)
        if (!r.ok) {
          out.push({ status: 'rejected', code: r.code === 'invalid_quantity' || r.code === 'unknown_pack' ? 'invalid_event' : r.code })
          continue
        }
        write(e.quantity, r.credits, e.member)
        out.push({ status: 'accepted', credits: { spent: r.credits, balance: r.balance } })
        continue
      }
      daily ??= this.dailyRows(account)
      if (e.type === 'email') {
        // The finalized invoices say which contacts a period was paid for, as GET /v1/period sees it.
        finalized ??= this.finalized(account)
        const summary = periodSummary(billing, { usage: daily, ledger: [], finalized }, e.time)
        // Outside the subscription (before it starts, after it ends) there is no quota to send against.
        const verdict = checkEmails(summary?.emails.sent ?? 0, e.count, summary?.emails.quota ?? 0)
        if (!verdict.ok) {
          out.push({ status: 'rejected', code: 'quota_exceeded' })
          continue
        }
      }
      const row = {
        alerts: e.type === 'alert' ? 1 : 0,
        emails: e.type === 'email' ? e.count : 0,
        contacts: e.type === 'contacts' ? e.count : null,
      }
      this.st.addDaily.run(account, e.day, row.alerts, row.emails, row.contacts)
      write(e.type === 'alert' ? 1 : e.count, 0)
      daily = addToDaily(daily, e, row)
      out.push({ status: 'accepted' })
    }
    return out
  }

  creditRequest(req: CreditCall): CreditResult {
    const ledger = this.state(req.account)
    const r = req.kind === 'purchase'
      ? purchase(req.billing, ledger, { id: ledgerId.purchase(req.id), pack: req.pack, at: req.at })
      : transfer(req.billing, ledger, { id: ledgerId.transfer(req.id), to: req.to, credits: req.credits, at: req.at })
    this.append(req.account, ledger, r.entries)
    return r
  }

  billingRun(req: BillingRunCall): BillingRunOutcome {
    const data = this.data(req.account)
    const run = runBilling(req.billing, data, req.asOf)
    this.append(req.account, this.state(req.account), run.ledger)
    for (const inv of run.invoices) {
      this.st.insertInvoice.run(
        req.account, inv.key, inv.number, inv.kind, inv.issuedAt, inv.currency, inv.total, JSON.stringify(inv), req.at,
      )
    }
    return { ledger: run.ledger.length, invoices: run.invoices }
  }

  data(account: string): StoredBilling {
    const byDay = new Map<string, UsageRow>()
    const rows = this.st.browserDaily.all(account) as { day: string; impressions: number; engagements: number; chatSessions: number }[]
    for (const r of rows) byDay.set(r.day, { ...r })
    for (const r of this.dailyRows(account)) byDay.set(r.day, { ...byDay.get(r.day), ...r })
    const usage = [...byDay.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
    const ledger = (this.st.ledger.all(account) as { entry: string }[]).map((r) => JSON.parse(r.entry) as LedgerEntry)
    return { usage, ledger, finalized: this.finalized(account) }
  }

  private finalized(account: string): Invoice[] {
    return (this.st.invoices.all(account) as { invoice: string }[]).map((r) => JSON.parse(r.invoice) as Invoice)
  }
}

/** The request's running view of the daily rows, so a later email in the same request sees the earlier ones. */
function addToDaily(
  rows: UsageRow[], e: UsageInput, add: { alerts: number; emails: number; contacts: number | null },
): UsageRow[] {
  const i = rows.findIndex((r) => r.day === e.day)
  const before: UsageRow = i >= 0 ? rows[i] ?? { day: e.day } : { day: e.day }
  const contacts = add.contacts === null ? before.contacts : Math.max(before.contacts ?? add.contacts, add.contacts)
  const next: UsageRow = {
    day: e.day, alerts: (before.alerts ?? 0) + add.alerts, emails: (before.emails ?? 0) + add.emails,
    ...(contacts === undefined ? {} : { contacts }),
  }
  return i >= 0 ? rows.map((r, k) => (k === i ? next : r)) : [...rows, next]
}
