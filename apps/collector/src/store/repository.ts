/**
 * The storage interface of the collector. Async and dialect-neutral: routes and billing talk to
 * this, never to a driver, so that PostgreSQL fits behind it like SQLite does.
 *
 * Contract every implementation keeps:
 * - `ingest` is one transaction per request: the event ids, billable units, conversations and
 *   daily rollups are all written, or none is. It resolves only after the commit.
 * - Exactly-once comes from unique keys in the database: (container, event id),
 *   (container, session, campaign), (container, session, advisor).
 * - Any storage failure rejects with {@link StoreUnavailable}.
 */
import type { ChatPhase, UsageCode } from '@tally/protocol'
import type { BillingAccount, CreditResult, Invoice, LedgerEntry, UsageRow } from '@tally/billing'
import type { ConversationStatus } from '../chat.js'

export type SubjectKind = 'campaign' | 'advisor' | 'bot'

/** One browser event that passed validation and the catalog check. */
export type IngestEvent =
  | { id: string; type: 'impression'; session: string; subject: string; time: number }
  | { id: string; type: 'engagement'; session: string; subject: string; time: number }
  | { id: string; type: 'chat'; session: string; subject: string; time: number; conversation: string; phase: ChatPhase }

export interface IngestRequest {
  account: string
  container: string
  receivedAt: number
  /** The account's IANA time zone: rollup days are its calendar days. */
  timeZone: string
  events: IngestEvent[]
}

/** Per event, in request order: counted, or already known (same id or same billable unit). */
export type IngestStatus = 'accepted' | 'duplicate'

export interface RejectionRecord {
  at: number
  container: string
  /** Null when the container is unknown. */
  account: string | null
  reason: string
  /** Normalized origin host, or `''` when there was none. */
  origin: string
}

export interface RejectionRow {
  container: string
  reason: string
  origin: string
  count: number
  firstSeen: number
  lastSeen: number
}

export interface RollupRow {
  day: string
  container: string
  kind: SubjectKind
  subject: string
  units: number
}

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

export interface ConfigChange {
  kind: 'account' | 'container'
  id: string
  body: unknown
}

export interface Store {
  /** Writes one request's events in one transaction; statuses follow `events` order. */
  ingest(req: IngestRequest): Promise<IngestStatus[]>
  /** Counts a refused beacon (403), per minute, container, reason and origin. */
  recordRejection(r: RejectionRecord): Promise<void>
  /** Refused beacons of an account since `since` (ms), by container, reason and origin. */
  rejections(account: string, since: number): Promise<RejectionRow[]>
  /** Daily counts of an account for days in `[fromDay, toDay)` (`YYYY-MM-DD`). */
  rollups(account: string, fromDay: string, toDay: string): Promise<RollupRow[]>
  /** Conversations of an account that started in `[from, to)` (ms). */
  conversations(account: string, from: number, to: number): Promise<ConversationRow[]>
  /** Closes, at their last event, open conversations idle for longer than `idleMs`; returns how many. */
  closeIdleConversations(now: number, idleMs: number): Promise<number>
  /** Persists a run-time configuration change (admin PUT). */
  saveConfigChange(change: ConfigChange, at: number): Promise<void>
  /** Every persisted configuration change, oldest first, latest per (kind, id). */
  configChanges(): Promise<ConfigChange[]>
  // --- Billing (issue 4): usage, credits and invoices, each call one transaction. ---
  /** One `POST /v1/usage` request: events, rollups and credit log entries, decided and written together. */
  recordUsage(req: UsageRequest): Promise<UsageOutcome[]>
  /** A credit purchase or transfer, decided against the stored log and appended in one transaction. */
  creditRequest(req: CreditCall): Promise<CreditResult>
  /** One account's billing run up to `asOf`: grants, expiries and finalized invoices, all or nothing. */
  billingRun(req: BillingRunCall): Promise<BillingRunOutcome>
  /** What billing reads for an account: daily usage rows, the credit log, finalized invoices. */
  billingData(account: string): Promise<StoredBilling>
  /** Resolves when the database answers. */
  ping(): Promise<void>
  close(): Promise<void>
}

// --- Billing (issue 4) ---

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

export interface BillingRunCall { account: string; billing: BillingAccount; asOf: number; at: number }
export interface BillingRunOutcome { ledger: number; invoices: Invoice[] }

export interface StoredBilling {
  usage: UsageRow[]
  ledger: LedgerEntry[]
  /** Finalized invoices in number order. */
  finalized: Invoice[]
}

/** The database could not be reached or refused a write: answered 503, nothing written. */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
