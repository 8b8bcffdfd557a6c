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
import type { ChatPhase } from '@tally/protocol'
import type { ConversationState, ConversationStatus, Invoice, LedgerEntry, Lot, PhaseEvent, UsageRow } from '@tally/billing'
import type { WebhookEndpointRow, OutboxEvent, DeliveryStatus, DeliveryRow, DeliveryUpdate, UnitEvidence, UnitCursor, ConversationEvidence, ConversationCursor, UsageEventCursor } from './records.js'

export type * from './records.js'

/**
 * The kind of a daily count: `campaign` (impressions), `advisor` (engagements), `bot` (chat
 * sessions), or `suspicious`, whose subject is `kind:subject` of the unit it would have been
 * (units of sessions over the per-address cap, docs/security.md: shown, never billed).
 */
export type SubjectKind = 'campaign' | 'advisor' | 'bot' | 'suspicious'

/** A billable unit of the page: one impression per (session, campaign), one engagement per (session, advisor). */
export interface UnitRow {
  kind: 'campaign' | 'advisor'
  session: string
  subject: string
  /** The event that counted it (the first one, when several name the same unit). */
  eventId: string
  time: number
}

/** A phase event of a chat conversation. */
export interface ChatEventRow {
  conversation: string
  eventId: string
  phase: ChatPhase
  time: number
  receivedAt: number
  /**
   * The conversation's folded state after this event (in fold order), so that an event arriving
   * out of order folds from its predecessor; null until it is known (set by `saveChatStates`).
   * Its `events` may lag behind events stored before it later: the conversation's row has the count.
   */
  state?: ConversationState | null
}

/** A stored chat event with the folded state after it (null for events stored before states were kept). */
export type TailEvent = PhaseEvent & { state: ConversationState | null }

/** A conversation as the collector keeps it: who, where it is billed, and its folded state. */
export interface ConversationRecord {
  conversation: string
  bot: string
  session: string
  /** Local day of `state.startedAt` in the account's zone: the rollup day of its sessions. */
  day: string
  /** Chat usage sessions billed so far (in the rollups). */
  sessions: number
  status: ConversationStatus
  state: ConversationState
  /** Opened by a session over the per-address cap: its sessions count as `suspicious`, not `bot`. */
  suspicious?: boolean
}

/** A change to a daily count. */
export interface RollupDelta {
  day: string
  container: string
  kind: SubjectKind
  subject: string
  units: number
}

export interface RollupRow {
  day: string
  container: string
  kind: SubjectKind
  subject: string
  units: number
}

/** A conversation as the read API shows it. */
export interface ConversationRow {
  container: string
  conversation: string
  bot: string
  session: string
  startedAt: number
  day: string
  lastEventAt: number
  endedAt: number | null
  status: ConversationStatus
  botMs: number
  sessions: number
}

export interface RejectionRecord {
  at: number
  container: string
  /** Null when the container is unknown. */
  account: string | null
  reason: string
  /** Normalized origin host, or `''` when there was none. */
  origin: string
  /** The campaign, advisor or bot a refused event named; `''` for a whole request. */
  subject?: string
  /** How many refusals this record stands for (already summed by the caller); 1 when left out. */
  count?: number
}

export interface RejectionRow {
  container: string
  reason: string
  origin: string
  subject: string
  count: number
  firstSeen: number
  lastSeen: number
}

/** One page of `rejections`: the top `limit` rows after `offset`, by count or by last seen (both descending). */
export interface RejectionPage {
  limit: number
  offset: number
  sort: 'count' | 'lastSeen'
}

/** A run-time change as the collector stored it before versions (table `config_changes`): read once, to upgrade. */
export interface ConfigChange {
  kind: 'account' | 'container'
  id: string
  body: unknown
}

/** What the database keeps versions of (docs/configuration.md): plans, and accounts with their containers inside. */
export type ConfigKind = 'plan' | 'account'

/** One version of a configuration object, whole. */
export interface ConfigVersionRow {
  /** Position among every object's versions, in commit order. */
  seq: number
  kind: ConfigKind
  id: string
  /** 1, 2, … per object. */
  version: number
  /** The whole object; null when this version removed it. */
  body: unknown
  /** When it takes effect (ms); the version before stays in force until then. */
  effectiveAt: number
  createdAt: number
}

/** A version with its audit entry (who wrote it, and the object before and after). */
export interface ConfigHistoryRow extends ConfigVersionRow {
  actor: string
  before: unknown
}

/** A version to write: `seq` and `version` are the next ones, given by the engine. */
export interface NewConfigVersion {
  kind: ConfigKind
  id: string
  body: unknown
  /** The object as it was (its newest version's body), for the audit entry. */
  before: unknown
  effectiveAt: number
  createdAt: number
  /** Who: `admin`, `config file`, `upgrade`. */
  actor: string
}

/** An accepted server-to-server usage event: a retry finds it and gets the original outcome. */
export interface UsageEventRow {
  id: string
  type: 'alert' | 'action' | 'contacts' | 'email'
  day: string
  time: number
  receivedAt: number
  quantity: number
  credits: number
  member: string | null
}

/** What a daily row of the server-to-server meters gains. Contacts is a gauge: the day keeps its highest reading. */
export interface DailyAdd {
  alerts: number
  emails: number
  contacts: number | null
}

/**
 * The key of a credit log entry, as columns: where it comes from (`action`, `purchase`,
 * `transfer` with the client's request id; `grant`, `expiry` with the system's own reference)
 * and which leg (`out`, `in`, or `''`). Unique per account, so no two requests can ever share
 * an entry, whatever characters their ids hold.
 */
export interface LedgerKey {
  source: 'action' | 'purchase' | 'transfer' | 'grant' | 'expiry'
  ref: string
  leg: '' | 'out' | 'in'
}

/**
 * The stored head of an account's open ledger (`openLedger` of `@tally/billing`): what a credit
 * request needs of the log besides the open lots (docs/architecture.md, "Per-request work").
 */
/** A lot to store, and whether `openLots` lists it (`isOpen` of `@tally/billing`). */
export type StoredLot = Lot & { open: boolean }

export interface CreditBookRow {
  /** The log's head this stands for (`ledgerHead` when it was written). */
  head: number
  /** The grants and expiries due by this instant are in the log; null when none is known to be. */
  dueThrough: number | null
  /** Every wallet that ever held a lot, in the order they first did. */
  wallets: string[]
  totals: { granted: number; purchased: number; spent: number; expired: number }
}

/** An account's billing rows (`Repository.billingReads`). */
export interface BillingReads {
  page: UsageRow[]
  server: UsageRow[]
  ledger: LedgerEntry[]
  /** Finalized invoices in number order. */
  invoices: Invoice[]
  /** Every email grant, by `grantedAt` then id. */
  grants: EmailGrantRow[]
  /** The invoice information facts (`facts(account, 'billing_details')`), oldest first. */
  details: FactRow[]
}

/** Extra emails granted by support for one month of the anchor calendar (docs/billing.md). */
export interface EmailGrantRow {
  id: string
  /** First local day of the month of the anchor calendar the grant adds to. */
  month: string
  emails: number
  note: string | null
  grantedAt: number
  /** An email pack bought (invoiced at `price` in `currency`); null for a grant by support. */
  pack: string | null
  price: number | null
  currency: string | null
}

/** A billing portal session (docs/portal.md); ids are SHA-256 digests of the tokens, never the tokens. */
export interface PortalSessionRow {
  /** Digest of the single-use link's token. */
  id: string
  /** Digest of the session cookie, set when the link was opened. */
  session: string | null
  /** The member whose wallet the session sees; null for the account's manager. */
  member: string | null
  returnUrl: string | null
  createdAt: number
  expiresAt: number
  openedAt: number | null
}

/** The kinds of kept account facts (`account_facts`). */
export type FactKind = 'billing_details' | 'payment' | 'portal_action'

/** A fact about an account, kept with its history: `body` is its JSON value. */
export interface FactRow {
  kind: FactKind
  id: string
  at: number
  body: unknown
}

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
  /** Daily totals of the page meters (impressions, engagements, chat sessions), every day. */
  pageDaily(account: string): Promise<UsageRow[]>
  /**
   * What billing reads of an account, all at once: the same as `pageDaily`, `usageDaily`,
   * `ledger`, `invoices`, `emailGrants` of every month and the `billing_details` facts (one round
   * trip where the engine has them: the billing run reads this for every account).
   */
  billingReads(account: string): Promise<BillingReads>
  /** The position of the account's newest credit log entry (0 when empty): moves on with every append. */
  ledgerHead(account: string): Promise<number>
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
    account: string, container: string, kind: 'campaign' | 'advisor', from: number, to: number,
    after: UnitCursor | null, limit: number,
  ): Promise<UnitEvidence[]>
  /** Up to `limit` conversations with sessions > 0 that started in `[from, to)`, ordered by (startedAt, container, conversation), after `after`. */
  conversationPage(account: string, from: number, to: number, after: ConversationCursor | null, limit: number): Promise<ConversationEvidence[]>
  /** Up to `limit` usage events of `type` on days in `[fromDay, toDay)`, ordered by (day, id), after `after`. */
  usageEventPage(
    account: string, type: UsageEventRow['type'], fromDay: string, toDay: string, after: UsageEventCursor | null, limit: number,
  ): Promise<UsageEventRow[]>
  ping(): Promise<void>
}

export interface Engine {
  /** Runs `fn` in one transaction (see the contract above). */
  transaction<T>(fn: (tx: Repository) => Promise<T>): Promise<T>
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
