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
import type { ConversationState, ConversationStatus, Invoice, LedgerEntry, PhaseEvent, UsageRow } from '@tally/billing'

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
}

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

export interface ConfigChange {
  kind: 'account' | 'container'
  id: string
  body: unknown
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

export interface Repository {
  // --- Browser events ---
  /** Inserts billable units; per row, true when it was new. */
  insertUnits(account: string, container: string, units: readonly UnitRow[]): Promise<boolean[]>
  /** Inserts chat phase events; per row, true when it was new (same conversation and id = not new). */
  insertChatEvents(account: string, container: string, events: readonly ChatEventRow[]): Promise<boolean[]>
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
  /** Daily totals of the page meters (impressions, engagements, chat sessions), every day. */
  pageDaily(account: string): Promise<UsageRow[]>
  /** The position of the account's newest credit log entry (0 when empty): moves on with every append. */
  ledgerHead(account: string): Promise<number>
  /** The account's credit log, in written order. */
  ledger(account: string): Promise<LedgerEntry[]>
  /** Appends entries in order; an entry whose key is stored already is skipped. Returns the new head. */
  appendLedger(account: string, rows: readonly { key: LedgerKey; entry: LedgerEntry }[]): Promise<number>
  /** Finalized invoices, in number order; only those with the given keys when `keys` is given. */
  invoices(account: string, keys?: readonly string[]): Promise<Invoice[]>
  insertInvoices(account: string, invoices: readonly Invoice[], finalizedAt: number): Promise<void>

  // --- Configuration changes (admin API) ---
  saveConfigChange(change: ConfigChange, at: number): Promise<void>
  /** Every change, oldest first, latest per (kind, id). */
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
