/** The rows the `Repository` (./repository.ts) takes and gives for units, chat, rollups, rejections, configuration, usage, credits, emails and the portal. */
import type { ChatPhase } from '@tally/protocol'
import type { ConversationState, ConversationStatus, Invoice, LedgerEntry, Lot, PhaseEvent, UsageRow } from '@tally/billing'

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
  /** With a window: the latest contacts reading before `fromDay` (that day's highest), else null. */
  reading: { day: string; contacts: number } | null
}

/**
 * The part of an account's history a billing run reads (`billingWindow` of `@tally/billing` decides
 * it; the engine only reads): rows of days from `fromDay`, purchases from `from`, email grants of
 * months from `fromDay`, invoices numbered from `firstKey`'s number (all when it is not stored) and
 * those named in `keys`.
 */
export interface BillingReadWindow {
  fromDay: string
  from: number
  firstKey: string
  keys: readonly string[]
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
