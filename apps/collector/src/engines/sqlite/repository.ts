/**
 * The repository on SQLite: prepared statements and nothing else. better-sqlite3 is synchronous,
 * so each method does its work at once and returns a settled promise; the engine (./engine.ts)
 * runs a whole service inside one savepoint of its group commit. This file holds the accounts'
 * billing tables (usage, credits, invoices, configuration, emails, the portal, webhooks);
 * ./events.ts what the page's events write and read; ./statements.ts the prepared statements.
 */
import type { Invoice, LedgerEntry, Lot, UsageRow } from '@tally/billing'
import type {
  BillingReads,
  BillingReadWindow,
  ConfigChange,
  ConfigHistoryRow,
  ConfigKind,
  ConfigVersionRow,
  NewConfigVersion,
  CreditBookRow,
  DailyAdd,
  DeliveryRow,
  DeliveryUpdate,
  EmailGrantRow,
  FactKind,
  FactRow,
  LedgerKey,
  PortalSessionRow,
  OutboxEvent,
  Repository,
  StoredLot,
  UsageEventCursor,
  UsageEventRow,
  WebhookEndpointRow,
} from '../repository.js'
import { factOf, lotOf, type StoredVersion, versionRow, type DeliveryDbRow, deliveryRow, FAR_FUTURE_DAY } from './statements.js'
import { SqliteEventsRepository } from './events.js'

export class SqliteRepository extends SqliteEventsRepository implements Repository {
  async lockAccount(): Promise<void> {
    // One writer at a time: the engine's transaction already holds the database.
  }

  async usageEvents(account: string, ids: readonly string[]): Promise<Map<string, UsageEventRow>> {
    const out = new Map<string, UsageEventRow>()
    for (const id of ids) {
      const r = this.st.usageEvent.get(account, id) as UsageEventRow | undefined
      if (r) out.set(id, r)
    }
    return out
  }

  async insertUsageEvent(account: string, r: UsageEventRow): Promise<void> {
    this.st.insertUsage.run(account, r.id, r.type, r.day, r.time, r.receivedAt, r.quantity, r.credits, r.member)
  }

  async addUsageDaily(account: string, day: string, add: DailyAdd): Promise<void> {
    this.st.addDaily.run(account, day, add.alerts, add.emails, add.contacts)
  }

  async usageDaily(account: string, fromDay = '', toDay = FAR_FUTURE_DAY): Promise<UsageRow[]> {
    // Rows as arrays, each object built once here: better-sqlite3's own row objects cost twice as
    // much, and the billing run reads every day of every account.
    const rows = this.st.daily.all(account, fromDay, toDay) as [string, number, number, number | null][]
    const out: UsageRow[] = []
    for (const [day, alerts, emails, contacts] of rows) out.push(contacts === null ? { day, alerts, emails } : { day, alerts, emails, contacts })
    return out
  }

  async lastContacts(account: string, beforeDay: string): Promise<number | null> {
    const row = this.st.lastContacts.get(account, beforeDay) as { contacts: number } | undefined
    return row ? row.contacts : null
  }

  async pageDaily(account: string, fromDay = ''): Promise<UsageRow[]> {
    const rows = this.st.pageDaily.all(account, fromDay) as [string, number, number, number][]
    const out: UsageRow[] = []
    for (const [day, impressions, engagements, chatSessions] of rows) out.push({ day, impressions, engagements, chatSessions })
    return out
  }

  async billingReads(account: string, window?: BillingReadWindow): Promise<BillingReads> {
    // One thread, no round trips: the reads one by one.
    const fromDay = window?.fromDay ?? ''
    const [page, server, grants, details] = await Promise.all([
      this.pageDaily(account, fromDay),
      this.usageDaily(account, fromDay),
      this.emailGrants(account, fromDay, FAR_FUTURE_DAY),
      this.facts(account, 'billing_details'),
    ])
    if (!window) return { page, server, ledger: await this.ledger(account), invoices: await this.invoices(account), grants, details, reading: null }
    const ledger = (this.st.purchasesFrom.all(account, window.from) as { entry: string }[]).map((r) => JSON.parse(r.entry) as LedgerEntry)
    const rows = this.st.invoicesFrom.all(account, account, window.firstKey) as { invoice: string }[]
    const invoices = rows.map((r) => JSON.parse(r.invoice) as Invoice)
    const have = new Set(invoices.map((i) => i.key))
    const earlier = await this.invoices(
      account,
      window.keys.filter((k) => !have.has(k)),
    )
    const reading = (this.st.lastReading.get(account, fromDay) as { day: string; contacts: number } | undefined) ?? null
    return { page, server, ledger, invoices: [...earlier, ...invoices], grants, details, reading }
  }

  async lastRecurringKey(account: string): Promise<string | null> {
    return (this.st.lastRecurring.get(account) as { key: string } | undefined)?.key ?? null
  }

  async lockForBilling(account: string): Promise<string | null> {
    // The engine's transaction already holds the database (`lockAccount`).
    return this.lastRecurringKey(account)
  }

  async ledgerHead(account: string): Promise<number> {
    return (this.st.ledgerHead.get(account) as { seq: number }).seq
  }

  async lastInvoiceNumber(account: string): Promise<number> {
    return (this.st.lastInvoiceNumber.get(account) as { n: number }).n
  }

  async ledger(account: string): Promise<LedgerEntry[]> {
    return (this.st.ledger.all(account) as { entry: string }[]).map((r) => JSON.parse(r.entry) as LedgerEntry)
  }

  async appendLedger(account: string, rows: readonly { key: LedgerKey; entry: LedgerEntry }[]): Promise<number> {
    for (const { key, entry: e } of rows) {
      this.st.append.run(account, key.source, key.ref, key.leg, e.id, e.type, e.wallet, e.at, e.credits, JSON.stringify(e))
    }
    return this.ledgerHead(account)
  }

  async ledgerEntries(account: string, keys: readonly LedgerKey[]): Promise<LedgerEntry[]> {
    return keys.flatMap((k) => this.st.ledgerEntry.all(account, k.source, k.ref, k.leg) as { entry: string }[]).map((r) => JSON.parse(r.entry) as LedgerEntry)
  }

  async creditBook(account: string): Promise<CreditBookRow | null> {
    const r = this.st.creditBook.get(account) as
      | { head: number; dueThrough: number | null; wallets: string; granted: number; purchased: number; spent: number; expired: number }
      | undefined
    if (!r) return null
    return {
      head: r.head,
      dueThrough: r.dueThrough,
      wallets: JSON.parse(r.wallets) as string[],
      totals: { granted: r.granted, purchased: r.purchased, spent: r.spent, expired: r.expired },
    }
  }

  async openLots(account: string): Promise<Lot[]> {
    return (this.st.openLots.all(account) as Parameters<typeof lotOf>[0][]).map(lotOf)
  }

  async creditLots(account: string, lots: readonly string[]): Promise<Lot[]> {
    return lots.flatMap((l) => this.st.creditLot.all(account, l) as Parameters<typeof lotOf>[0][]).map(lotOf)
  }

  async saveCreditBook(account: string, book: CreditBookRow, lots: readonly StoredLot[]): Promise<void> {
    const t = book.totals
    this.st.saveCreditBook.run(account, book.head, book.dueThrough, JSON.stringify(book.wallets), t.granted, t.purchased, t.spent, t.expired)
    for (const l of lots) {
      this.st.saveLot.run(account, l.lot, account, l.wallet, l.kind, l.at, l.expiresAt, l.remaining, l.expired ? 1 : 0, l.open ? 1 : 0)
    }
  }

  async invoices(account: string, keys?: readonly string[]): Promise<Invoice[]> {
    const rows =
      keys === undefined
        ? (this.st.invoices.all(account) as { invoice: string }[])
        : keys.flatMap((k) => this.st.invoice.all(account, k) as { invoice: string }[])
    const out = rows.map((r) => JSON.parse(r.invoice) as Invoice)
    return keys === undefined ? out : out.sort((a, b) => (a.number ?? 0) - (b.number ?? 0))
  }

  async insertInvoices(account: string, invoices: readonly Invoice[], finalizedAt: number): Promise<void> {
    for (const i of invoices) {
      this.st.insertInvoice.run(account, i.key, i.number, i.kind, i.issuedAt, i.currency, i.total, JSON.stringify(i), finalizedAt)
    }
  }

  async lockConfig(): Promise<void> {
    // One writer at a time: the engine's transaction already holds the database.
  }

  async configHead(): Promise<number> {
    return (this.st.configHead.get() as { seq: number }).seq
  }

  async configVersions(afterSeq: number, limit: number): Promise<ConfigVersionRow[]> {
    return (this.st.configVersions.all(afterSeq, limit) as StoredVersion[]).map(versionRow)
  }

  async insertConfigVersion(v: NewConfigVersion): Promise<ConfigVersionRow> {
    const seq = (this.st.configHead.get() as { seq: number }).seq + 1
    const { version } = this.st.nextVersion.get(v.kind, v.id) as { version: number }
    const body = v.body === null || v.body === undefined ? null : JSON.stringify(v.body)
    const before = v.before === null || v.before === undefined ? null : JSON.stringify(v.before)
    this.st.insertVersion.run(seq, v.kind, v.id, version, body, v.effectiveAt, v.createdAt)
    this.st.insertAudit.run(seq, v.kind, v.id, version, v.actor, v.createdAt, before, body)
    return { seq, kind: v.kind, id: v.id, version, body: v.body ?? null, effectiveAt: v.effectiveAt, createdAt: v.createdAt }
  }

  async configHistory(kind: ConfigKind, id: string, limit: number, beforeVersion?: number): Promise<ConfigHistoryRow[]> {
    return (this.st.history.all(kind, id, beforeVersion ?? Number.MAX_SAFE_INTEGER, limit) as (StoredVersion & { actor: string; before: string | null })[]).map(
      (r) => ({ ...versionRow(r), actor: r.actor, before: r.before === null ? null : (JSON.parse(r.before) as unknown) }),
    )
  }

  async configFile(): Promise<unknown> {
    const r = this.st.configFile.get() as { body: string } | undefined
    return r ? (JSON.parse(r.body) as unknown) : null
  }

  async saveConfigFile(body: unknown, at: number): Promise<void> {
    this.st.saveConfigFile.run(JSON.stringify(body), at)
  }

  async configChanges(): Promise<ConfigChange[]> {
    return (this.st.changes.all() as { kind: ConfigChange['kind']; id: string; body: string }[]).map((r) => ({
      kind: r.kind,
      id: r.id,
      body: JSON.parse(r.body) as unknown,
    }))
  }

  async insertEmailGrant(account: string, g: EmailGrantRow): Promise<{ grant: EmailGrantRow; created: boolean }> {
    const created = this.st.insertGrant.run(account, g.id, g.month, g.emails, g.note, g.grantedAt, g.pack, g.price, g.currency).changes === 1
    return { grant: this.st.grant.get(account, g.id) as EmailGrantRow, created }
  }

  async emailGrants(account: string, fromDay: string, toDay: string): Promise<EmailGrantRow[]> {
    return this.st.grants.all(account, fromDay, toDay) as EmailGrantRow[]
  }

  async insertPortalSession(account: string, r: PortalSessionRow): Promise<void> {
    this.st.insertPortal.run(account, r.id, r.session, r.member, r.returnUrl, r.createdAt, r.expiresAt, r.openedAt)
  }

  async openPortalLink(account: string, id: string, session: string, at: number): Promise<PortalSessionRow | null> {
    if (this.st.openPortal.run(session, at, account, id, at).changes !== 1) return null
    return (this.st.portalById.get(account, id) as PortalSessionRow | undefined) ?? null
  }

  async portalSession(account: string, session: string): Promise<PortalSessionRow | null> {
    return (this.st.portalBySession.get(account, session) as PortalSessionRow | undefined) ?? null
  }

  async prunePortalSessions(account: string, before: number): Promise<number> {
    return this.st.prunePortal.run(account, before).changes
  }

  async insertFact(account: string, f: FactRow): Promise<{ fact: FactRow; created: boolean }> {
    const created = this.st.insertFact.run(account, f.kind, f.id, f.at, JSON.stringify(f.body)).changes === 1
    return { fact: factOf(this.st.fact.get(account, f.kind, f.id) as Parameters<typeof factOf>[0]), created }
  }

  async facts(account: string, kind: FactKind): Promise<FactRow[]> {
    return (this.st.facts.all(account, kind) as Parameters<typeof factOf>[0][]).map(factOf)
  }

  async fact(account: string, kind: FactKind, id: string): Promise<FactRow | null> {
    const r = this.st.fact.get(account, kind, id) as Parameters<typeof factOf>[0] | undefined
    return r ? factOf(r) : null
  }

  async insertWebhookEndpoint(account: string, e: WebhookEndpointRow): Promise<void> {
    this.st.insertEndpoint.run(account, e.id, e.url, e.secret, e.createdAt)
  }

  async webhookEndpoints(account: string): Promise<WebhookEndpointRow[]> {
    return this.st.endpoints.all(account) as WebhookEndpointRow[]
  }

  async deleteWebhookEndpoint(account: string, id: string): Promise<boolean> {
    const gone = this.st.deleteEndpoint.run(account, id).changes === 1
    if (gone) this.st.dropPending.run(account, id)
    return gone
  }

  async insertOutboxEvent(account: string, e: OutboxEvent): Promise<boolean> {
    const { seq } = this.st.nextEventSeq.get(account) as { seq: number }
    if (this.st.insertEvent.run(account, seq, e.key, e.id, e.type, e.created, JSON.stringify(e.data)).changes === 0) return false
    this.st.fanOut.run(seq, e.created, account)
    return true
  }

  async dueDeliveries(now: number, limit: number): Promise<DeliveryRow[]> {
    return (this.st.dueDeliveries.all(now, limit) as DeliveryDbRow[]).map(deliveryRow)
  }

  async updateDelivery(account: string, seq: number, endpoint: string, u: DeliveryUpdate): Promise<void> {
    this.st.updateDelivery.run(u.status, u.attempts, u.nextAt, u.lastAt, u.lastStatus, u.lastError, account, seq, endpoint)
  }

  async deliveries(account: string, limit: number, beforeSeq = Number.MAX_SAFE_INTEGER): Promise<DeliveryRow[]> {
    return (this.st.deliveries.all(account, beforeSeq, limit) as DeliveryDbRow[]).map(deliveryRow)
  }

  async redeliver(account: string, eventId: string, now: number): Promise<number | null> {
    const found = this.st.eventSeq.get(account, eventId) as { seq: number } | undefined
    if (!found) return null
    return this.st.fanOut.run(found.seq, now, account).changes
  }

  async usageEventPage(
    account: string,
    type: UsageEventRow['type'],
    fromDay: string,
    toDay: string,
    after: UsageEventCursor | null,
    limit: number,
  ): Promise<UsageEventRow[]> {
    return (
      after === null ? this.st.usageFirst.all(account, type, fromDay, toDay, limit) : this.st.usageNext.all(account, type, after.day, after.id, toDay, limit)
    ) as UsageEventRow[]
  }

  async ping(): Promise<void> {
    this.st.ping.get()
  }
}
