/**
 * The storage contract: what the services (../services) need from a database, and nothing more.
 * An engine (./sqlite, and PostgreSQL beside it) implements `Engine` and `Repository` with SQL
 * only: no counting, credit, quota or chat decision lives in an adapter. docs/architecture.md
 * draws where this sits in the data flow.
 *
 * Contract every engine keeps (the contract suite in ./contract.ts checks it on each engine):
 * - `transaction(fn)` runs `fn` in one transaction: everything it wrote commits when it resolves,
 *   nothing when it throws. It resolves only after the commit (a 2xx is sent after it).
 * - Exactly-once comes from unique keys, never from memory: `insertUnits` and `insertChatEvents`
 *   answer, per row, whether it was new; a row already stored is left as it is.
 * - `lockAccount` serializes the transactions of one account that decide on its stored state
 *   (credits, quotas, invoices) across every collector on the database.
 * - A database that is busy, unreachable or out of space rejects with `StoreUnavailable` (503 and
 *   `Retry-After`); any other failure is a bug and rejects with the error as it is (500).
 * - Every batch method costs in proportion to its input, never to the account's history.
 */
import type { ConversationState, Invoice, LedgerEntry, Lot, PhaseEvent, UsageRow } from '@tally/billing'
import type {
  WebhookEndpointRow,
  OutboxEvent,
  DeliveryRow,
  DeliveryUpdate,
  UnitEvidence,
  UnitCursor,
  ConversationEvidence,
  ConversationCursor,
  UsageEventCursor,
} from './records.js'

import type {
  UnitRow,
  ChatEventRow,
  TailEvent,
  ConversationRecord,
  RollupDelta,
  RollupRow,
  ConversationRow,
  RejectionRecord,
  RejectionRow,
  RejectionPage,
  ConfigChange,
  ConfigKind,
  ConfigVersionRow,
  ConfigHistoryRow,
  NewConfigVersion,
  UsageEventRow,
  DailyAdd,
  LedgerKey,
  StoredLot,
  CreditBookRow,
  EmailGrantRow,
  PortalSessionRow,
  FactKind,
  FactRow,
  BillingReads,
  BillingReadWindow,
} from './rows.js'

export type * from './records.js'
export type * from './rows.js'

export interface Repository {
  // --- Browser events ---
  /** Inserts billable units; per row, true when it was new. */
  insertUnits(account: string, container: string, units: readonly UnitRow[]): Promise<boolean[]>
  /** Inserts chat phase events; per row, true when it was new (same conversation and id = not new). */
  insertChatEvents(account: string, container: string, events: readonly ChatEventRow[]): Promise<boolean[]>
  /**
   * The last `limit` stored events of one conversation in fold order (time, phase rank, id), newest
   * first, each with its folded state: an index read of `limit` rows.
   */
  chatTail(account: string, container: string, conversation: string, limit: number): Promise<TailEvent[]>
  /** Sets the folded state after each of these stored events. */
  saveChatStates(account: string, container: string, conversation: string, states: readonly { eventId: string; state: ConversationState }[]): Promise<void>
  /** Every stored event of one conversation (at most MAX_CONVERSATION_EVENTS). */
  chatEvents(account: string, container: string, conversation: string): Promise<PhaseEvent[]>
  /** The stored conversations among `conversations`. */
  conversationRecords(account: string, container: string, conversations: readonly string[]): Promise<ConversationRecord[]>
  /** Inserts or replaces conversations. */
  saveConversations(account: string, container: string, records: readonly ConversationRecord[]): Promise<void>
  /** Adds to the daily counts (creating rows as needed). */
  addRollups(account: string, deltas: readonly RollupDelta[]): Promise<void>
  /** Marks `open` conversations whose last event is older than `before` as `idle`; returns how many. */
  markIdleConversations(before: number): Promise<number>
  /** Adds `r.count` (1) refusals to its UTC day row (per container, reason, origin and subject). */
  recordRejection(r: RejectionRecord): Promise<void>
  /** Deletes at most `limit` day rows of refusals whose day ended before `before`; returns how many. */
  pruneRejections(before: number, limit: number): Promise<number>

  // --- Server-to-server usage, credits, invoices ---
  /** Holds the account until the transaction ends (see the contract above). */
  lockAccount(account: string): Promise<void>
  /** The stored usage events among `ids`. */
  usageEvents(account: string, ids: readonly string[]): Promise<Map<string, UsageEventRow>>
  insertUsageEvent(account: string, row: UsageEventRow): Promise<void>
  addUsageDaily(account: string, day: string, add: DailyAdd): Promise<void>
  /** Daily rows of the server-to-server meters, for days in `[fromDay, toDay)` (all days when omitted). */
  usageDaily(account: string, fromDay?: string, toDay?: string): Promise<UsageRow[]>
  /**
   * The latest contacts reading on a day before `beforeDay` (that day's highest), or null: what the
   * paid contacts carry into a period without a reading (docs/rules.md §5, the email check).
   */
  lastContacts(account: string, beforeDay: string): Promise<number | null>
  /** Daily totals of the page meters (impressions, engagements, chat sessions), every day from `fromDay` (all when omitted). */
  pageDaily(account: string, fromDay?: string): Promise<UsageRow[]>
  /**
   * What billing reads of an account, all at once: the same as `pageDaily`, `usageDaily`,
   * `ledger`, `invoices`, `emailGrants` of every month and the `billing_details` facts (one round
   * trip where the engine has them: the billing run reads this for every account). With a
   * `window`, only its part (`BillingReadWindow`): the page and server rows from its day, the
   * purchases of the credit log from its instant, the grants of its months, its invoices, every
   * fact, and the latest contacts reading before it; its cost follows the window, not the history.
   */
  billingReads(account: string, window?: BillingReadWindow): Promise<BillingReads>
  /** The key of the highest numbered recurring invoice (`recurring:k`, `recurring:k:late:n`), or null. */
  lastRecurringKey(account: string): Promise<string | null>
  /**
   * `lockAccount`, answering `lastRecurringKey` in the same round trip where the engine can. The
   * key is read no later than the lock is taken: it may miss an invoice another collector
   * finalized while this one waited, never name one that is not stored, so a billing window
   * decided from it starts early (reads more), never late.
   */
  lockForBilling(account: string): Promise<string | null>
  /** The position of the account's newest credit log entry (0 when empty): moves on with every append. */
  ledgerHead(account: string): Promise<number>
  /** The highest invoice number of the account (0 before its first invoice): moves on with every invoice written. */
  lastInvoiceNumber(account: string): Promise<number>
  /** The account's credit log, in written order. */
  ledger(account: string): Promise<LedgerEntry[]>
  /** Appends entries in order; an entry whose key is stored already is skipped. Returns the new head. */
  appendLedger(account: string, rows: readonly { key: LedgerKey; entry: LedgerEntry }[]): Promise<number>
  /** The entries stored under the given keys (those found, in any order): how a repeated request finds its own. */
  ledgerEntries(account: string, keys: readonly LedgerKey[]): Promise<LedgerEntry[]>
  /** The account's open-ledger head, or null when none was written. */
  creditBook(account: string): Promise<CreditBookRow | null>
  /** The account's open lots (credits left, no expiry entry yet), through an index: never its closed ones. */
  openLots(account: string): Promise<Lot[]>
  /** The lots with the given ids, open or closed (those found, in any order). */
  creditLots(account: string, lots: readonly string[]): Promise<Lot[]>
  /** Writes the open-ledger head and inserts or replaces the given lots; a new lot comes after every stored one in `openLots`. */
  saveCreditBook(account: string, book: CreditBookRow, lots: readonly StoredLot[]): Promise<void>
  /** Finalized invoices, in number order; only those with the given keys when `keys` is given. */
  invoices(account: string, keys?: readonly string[]): Promise<Invoice[]>
  insertInvoices(account: string, invoices: readonly Invoice[], finalizedAt: number): Promise<void>

  /** Stores a grant unless its id is stored already; answers the stored grant and whether it was new. */
  insertEmailGrant(account: string, grant: EmailGrantRow): Promise<{ grant: EmailGrantRow; created: boolean }>
  /** Grants whose month is in `[fromDay, toDay)`. */
  emailGrants(account: string, fromDay: string, toDay: string): Promise<EmailGrantRow[]>
  /** Stores a new portal session (its link not opened yet). */
  insertPortalSession(account: string, row: PortalSessionRow): Promise<void>
  /**
   * Opens a link once: sets `session` and `openedAt` when the link exists, was never opened and has
   * not expired at `at`, and answers the row; null otherwise (a second use, an expired link).
   */
  openPortalLink(account: string, id: string, session: string, at: number): Promise<PortalSessionRow | null>
  /** The session whose cookie digest is `session`, or null. */
  portalSession(account: string, session: string): Promise<PortalSessionRow | null>
  /** Deletes the account's sessions that expired before `before`; answers how many. */
  prunePortalSessions(account: string, before: number): Promise<number>
  /** Stores a fact once per (kind, id); answers the stored one and whether this call wrote it. */
  insertFact(account: string, fact: FactRow): Promise<{ fact: FactRow; created: boolean }>
  /** The facts of one kind, oldest first (by `at`, then `id`). */
  facts(account: string, kind: FactKind): Promise<FactRow[]>
  /** One fact by kind and id, or null. */
  fact(account: string, kind: FactKind, id: string): Promise<FactRow | null>

  // --- Webhooks ---
  insertWebhookEndpoint(account: string, endpoint: WebhookEndpointRow): Promise<void>
  webhookEndpoints(account: string): Promise<WebhookEndpointRow[]>
  /** Removes an endpoint and its pending deliveries; false when there was none. */
  deleteWebhookEndpoint(account: string, id: string): Promise<boolean>
  /**
   * Appends an event to the account's outbox, after its newest, with a pending delivery (due at
   * `created`) for each endpoint the account has now. False, and nothing written, when its key is
   * stored already. Call with the account locked.
   */
  insertOutboxEvent(account: string, event: OutboxEvent): Promise<boolean>
  /**
   * Pending deliveries due by `now`, at most `limit`, each the oldest pending one of its
   * (account, endpoint): a later event is never handed out while an earlier one waits.
   */
  dueDeliveries(now: number, limit: number): Promise<DeliveryRow[]>
  updateDelivery(account: string, seq: number, endpoint: string, update: DeliveryUpdate): Promise<void>
  /** The account's deliveries, newest event first, those of events before `beforeSeq` when given. */
  deliveries(account: string, limit: number, beforeSeq?: number): Promise<DeliveryRow[]>
  /**
   * Sends the event again: a pending delivery due at `now` for each endpoint the account has now.
   * Answers how many, or null when the account has no such event.
   */
  redeliver(account: string, eventId: string, now: number): Promise<number | null>

  // --- Configuration (docs/configuration.md): versions of whole objects ---
  /**
   * Holds the configuration until the transaction ends, across every collector: versions are
   * written only under it, so `seq` grows in commit order.
   */
  lockConfig(): Promise<void>
  /** The newest `seq` (0 when none). */
  configHead(): Promise<number>
  /** Up to `limit` versions after `afterSeq`, in `seq` order. */
  configVersions(afterSeq: number, limit: number): Promise<ConfigVersionRow[]>
  /** Writes the object's next version and its audit entry; call under `lockConfig`. */
  insertConfigVersion(v: NewConfigVersion): Promise<ConfigVersionRow>
  /** Up to `limit` versions of one object with their audit entries, newest first, those before `beforeVersion` when given. */
  configHistory(kind: ConfigKind, id: string, limit: number, beforeVersion?: number): Promise<ConfigHistoryRow[]>
  /** The config file's plans and accounts as last applied, or null when none was. */
  configFile(): Promise<unknown>
  saveConfigFile(body: unknown, at: number): Promise<void>
  /** The changes stored before versions (table `config_changes`), oldest first, latest per (kind, id): read to upgrade. */
  configChanges(): Promise<ConfigChange[]>

  // --- Reads ---
  /** Daily counts for days in `[fromDay, toDay)`. */
  rollups(account: string, fromDay: string, toDay: string): Promise<RollupRow[]>
  /** Conversations that started in `[from, to)`. */
  conversations(account: string, from: number, to: number): Promise<ConversationRow[]>
  /**
   * Refusals last seen at or after `since`, summed by container, reason, origin and subject, one
   * page of them. Reads only the account's day rows from `since`'s day on.
   */
  rejections(account: string, since: number, page: RejectionPage): Promise<RejectionRow[]>

  // --- Evidence (keyset pages, see UnitEvidence) ---
  /** Containers with rollups of `kind` on days in `[fromDay, toDay)`: where the account's units of those days are. */
  unitContainers(account: string, kind: 'campaign' | 'advisor', fromDay: string, toDay: string): Promise<string[]>
  /**
   * Up to `limit` units of `kind` in one container of the account with `from <= time < to`,
   * ordered by (time, session, subject), starting after `after`.
   */
  unitPage(
    account: string,
    container: string,
    kind: 'campaign' | 'advisor',
    from: number,
    to: number,
    after: UnitCursor | null,
    limit: number,
  ): Promise<UnitEvidence[]>
  /** Up to `limit` conversations with sessions > 0 that started in `[from, to)`, ordered by (startedAt, container, conversation), after `after`. */
  conversationPage(account: string, from: number, to: number, after: ConversationCursor | null, limit: number): Promise<ConversationEvidence[]>
  /** Up to `limit` usage events of `type` on days in `[fromDay, toDay)`, ordered by (day, id), after `after`. */
  usageEventPage(
    account: string,
    type: UsageEventRow['type'],
    fromDay: string,
    toDay: string,
    after: UsageEventCursor | null,
    limit: number,
  ): Promise<UsageEventRow[]>
  ping(): Promise<void>
}

/**
 * Whether each `Repository` method reads or writes, one word per method: the type refuses a method
 * left out or named twice, so a new operation is classified where it is declared. A read changes
 * nothing: the services facade (../services/store.ts) forwards every read by name through
 * `Engine.read`, so a route reads with no line anywhere else; a write runs only inside a service's
 * transaction.
 */
export const ACCESS = {
  insertUnits: 'write',
  insertChatEvents: 'write',
  chatTail: 'read',
  saveChatStates: 'write',
  chatEvents: 'read',
  conversationRecords: 'read',
  saveConversations: 'write',
  addRollups: 'write',
  markIdleConversations: 'write',
  recordRejection: 'write',
  pruneRejections: 'write',
  lockAccount: 'write',
  usageEvents: 'read',
  insertUsageEvent: 'write',
  addUsageDaily: 'write',
  usageDaily: 'read',
  lastContacts: 'read',
  pageDaily: 'read',
  billingReads: 'read',
  lastRecurringKey: 'read',
  lockForBilling: 'write',
  ledgerHead: 'read',
  lastInvoiceNumber: 'read',
  ledger: 'read',
  appendLedger: 'write',
  ledgerEntries: 'read',
  creditBook: 'read',
  openLots: 'read',
  creditLots: 'read',
  saveCreditBook: 'write',
  invoices: 'read',
  insertInvoices: 'write',
  insertEmailGrant: 'write',
  emailGrants: 'read',
  insertPortalSession: 'write',
  openPortalLink: 'write',
  portalSession: 'read',
  prunePortalSessions: 'write',
  insertFact: 'write',
  facts: 'read',
  fact: 'read',
  insertWebhookEndpoint: 'write',
  webhookEndpoints: 'read',
  deleteWebhookEndpoint: 'write',
  insertOutboxEvent: 'write',
  dueDeliveries: 'read',
  updateDelivery: 'write',
  deliveries: 'read',
  redeliver: 'write',
  lockConfig: 'write',
  configHead: 'read',
  configVersions: 'read',
  insertConfigVersion: 'write',
  configHistory: 'read',
  configFile: 'read',
  saveConfigFile: 'write',
  configChanges: 'read',
  rollups: 'read',
  conversations: 'read',
  rejections: 'read',
  unitContainers: 'read',
  unitPage: 'read',
  conversationPage: 'read',
  usageEventPage: 'read',
  ping: 'read',
} as const satisfies Record<keyof Repository, 'read' | 'write'>

/** The names of the reads of `Repository`. */
export type ReadName = { [K in keyof typeof ACCESS]: (typeof ACCESS)[K] extends 'read' ? K : never }[keyof typeof ACCESS]
/** The reads of `Repository`, as the services facade offers them. */
export type RepositoryReads = Pick<Repository, ReadName>
/** The reads, listed at run time. */
export const READS = (Object.keys(ACCESS) as (keyof typeof ACCESS)[]).filter((k): k is ReadName => ACCESS[k] === 'read')

export interface Engine {
  /** Runs `fn` in one transaction (see the contract above). */
  transaction<T>(fn: (tx: Repository) => Promise<T>): Promise<T>
  /**
   * `transaction`, which the engine may commit together with other grouped transactions arriving
   * meanwhile (a beacon's: ../services/ingest.ts); it settles after that shared commit, and a
   * failure of the group reruns each alone. Absent where `transaction` already groups (SQLite).
   */
  grouped?<T>(fn: (tx: Repository) => Promise<T>): Promise<T>
  /** Runs reads outside a write transaction. */
  read<T>(fn: (db: Repository) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** The database is busy, unreachable or out of space: answered 503 with `Retry-After`, nothing written. */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
