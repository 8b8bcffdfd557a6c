/**
 * SQLite schema (drizzle). Exactly-once lives here, in unique keys, not in memory:
 * `impressions` and `engagements` hold one billable unit per (container, session, subject) — the
 * key that also makes a retried event a duplicate — `chat_events` one row per (container,
 * conversation, event id), and `rollups` keep the daily counts that billing reads, updated in the
 * same transaction as the rows they count.
 * Migrations are generated from this file by drizzle-kit (`npm run db:generate -w @tally/collector`).
 */
import { sqliteTable, text, integer, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core'

/** One impression per (container, session, campaign): the billable unit of seed 000. */
export const impressions = sqliteTable(
  'impressions',
  {
    container: text('container').notNull(),
    session: text('session').notNull(),
    campaign: text('campaign').notNull(),
    eventId: text('event_id').notNull(),
    time: integer('time').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.container, t.session, t.campaign] }),
    // Evidence of an invoice line: a container's units of a period in time order (docs/evidence.md).
    index('impressions_container_time').on(t.container, t.time, t.session, t.campaign),
  ],
)

/** One engagement per (container, session, advisor). */
export const engagements = sqliteTable(
  'engagements',
  {
    container: text('container').notNull(),
    session: text('session').notNull(),
    advisor: text('advisor').notNull(),
    eventId: text('event_id').notNull(),
    time: integer('time').notNull(),
  },
  (t) => [primaryKey({ columns: [t.container, t.session, t.advisor] }), index('engagements_container_time').on(t.container, t.time, t.session, t.advisor)],
)

/** The phase events of each conversation: folded again from these when one arrives out of order. */
export const chatEvents = sqliteTable(
  'chat_events',
  {
    container: text('container').notNull(),
    conversation: text('conversation').notNull(),
    eventId: text('event_id').notNull(),
    phase: text('phase').notNull(),
    time: integer('time').notNull(),
    receivedAt: integer('received_at').notNull(),
    /** The folded state after this event, JSON (@tally/billing ConversationState); null for rows stored before 0011. */
    state: text('state'),
  },
  (t) => [
    primaryKey({ columns: [t.container, t.conversation, t.eventId] }),
    // The last events of a conversation in time order: where an out-of-order event lands (services/ingest.ts).
    index('chat_events_order').on(t.container, t.conversation, t.time),
  ],
)

/** Conversations folded from their phase events; billed in the period where they started. */
export const conversations = sqliteTable(
  'conversations',
  {
    container: text('container').notNull(),
    conversation: text('conversation').notNull(),
    account: text('account').notNull(),
    bot: text('bot').notNull(),
    session: text('session').notNull(),
    startedAt: integer('started_at').notNull(),
    /** Day of `startedAt` in the account's time zone. */
    day: text('day').notNull(),
    lastEventAt: integer('last_event_at').notNull(),
    endedAt: integer('ended_at'),
    /** `open`, `ended` (an end event) or `idle` (ended by a gap, or quiet for the idle limit). */
    status: text('status').notNull(),
    botMs: integer('bot_ms').notNull(),
    sessions: integer('sessions').notNull(),
    // The rest of the folded state (@tally/billing ConversationState), so new events fold onto it.
    latestAt: integer('latest_at').notNull(),
    closed: integer('closed').notNull(),
    active: integer('active').notNull(),
    firstReceivedAt: integer('first_received_at').notNull(),
    lastReceivedAt: integer('last_received_at').notNull(),
    events: integer('events').notNull(),
    /** 1 when opened by a session over the per-address cap (docs/security.md): its sessions are not billed. */
    suspicious: integer('suspicious').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.container, t.conversation] }),
    index('conversations_account_started').on(t.account, t.startedAt),
    index('conversations_status_last').on(t.status, t.lastEventAt),
  ],
)

/**
 * Daily counts per (account, day, container, kind, subject): `kind` is `campaign` (impressions),
 * `advisor` (engagements) or `bot` (chat sessions). `day` is the calendar day in the account's
 * time zone, so that billing periods (local midnights) are whole days.
 */
export const rollups = sqliteTable(
  'rollups',
  {
    account: text('account').notNull(),
    day: text('day').notNull(),
    container: text('container').notNull(),
    kind: text('kind').notNull(),
    subject: text('subject').notNull(),
    units: integer('units').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.day, t.container, t.kind, t.subject] })],
)

/**
 * Refusals (docs/security.md), counted per UTC day, container, reason, origin and subject (the
 * campaign, advisor or bot an event named, else ''), with the first and last minute seen. A day
 * bucket keeps an account's rows read by `GET /v1/rejections` bounded by days x the distinct keys
 * a day may add (the collector collapses past a budget: ../../services/rejections.ts).
 */
export const rejections = sqliteTable(
  'rejections',
  {
    /** Start of the UTC day, ms. */
    day: integer('day').notNull(),
    container: text('container').notNull(),
    account: text('account'),
    reason: text('reason').notNull(),
    origin: text('origin').notNull(),
    subject: text('subject').notNull().default(''),
    count: integer('count').notNull(),
    firstSeen: integer('first_seen').notNull(),
    lastSeen: integer('last_seen').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.container, t.reason, t.origin, t.subject] }), index('rejections_account_day').on(t.account, t.day)],
)

/** Run-time configuration changes (admin PUTs), replayed over the config file in `seq` order at start. */
export const configChanges = sqliteTable(
  'config_changes',
  {
    kind: text('kind').notNull(),
    id: text('id').notNull(),
    seq: integer('seq').notNull(),
    body: text('body').notNull(),
    changedAt: integer('changed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.id] })],
)

/**
 * The configuration's source of truth (docs/configuration.md): every version of every plan and
 * account (its containers inside), whole, in `seq` order across all objects. A version takes
 * effect at `effective_at`; `body` is null when the object was removed. Written only under the
 * configuration lock, so `seq` grows in commit order and a collector reads what is new with
 * `seq > last seen`.
 */
export const configVersions = sqliteTable(
  'config_versions',
  {
    seq: integer('seq').primaryKey(),
    kind: text('kind').notNull(),
    id: text('id').notNull(),
    version: integer('version').notNull(),
    body: text('body'),
    effectiveAt: integer('effective_at').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('config_versions_object').on(t.kind, t.id, t.version)],
)

/** The audit entry of each version, written in its transaction: who, when, what it was before and after. */
export const configAudit = sqliteTable('config_audit', {
  seq: integer('seq').primaryKey(),
  kind: text('kind').notNull(),
  id: text('id').notNull(),
  version: integer('version').notNull(),
  actor: text('actor').notNull(),
  at: integer('at').notNull(),
  before: text('before'),
  after: text('after'),
})

/** The config file's plans and accounts as last applied: the base of the three-way merge at start. */
export const configFile = sqliteTable('config_file', {
  id: integer('id').primaryKey(),
  body: text('body').notNull(),
  appliedAt: integer('applied_at').notNull(),
})

// --- Billing: server-to-server usage, the credit log and invoices. ---

/**
 * Accepted server-to-server usage events (docs/protocol.md §4), keyed by the client id: a retry is a
 * duplicate and gets the original outcome back (`credits` spent). Refused events are not kept,
 * so a retry after the cause is fixed (credits bought, quota renewed) is judged afresh.
 */
export const usageEvents = sqliteTable(
  'usage_events',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    /** Local day of the event time in the account's zone (the rollup day). */
    day: text('day').notNull(),
    time: integer('time').notNull(),
    receivedAt: integer('received_at').notNull(),
    /** Alerts 1, emails and contacts their count, actions their quantity. */
    quantity: integer('quantity').notNull(),
    /** Credits the event spent (actions). */
    credits: integer('credits').notNull(),
    member: text('member'),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.id] }),
    // Evidence: one meter's events of a period, by day (docs/evidence.md).
    index('usage_events_account_type_day').on(t.account, t.type, t.day, t.id),
  ],
)

/** Daily counts of the server-to-server meters; contacts is the day's highest reading (a gauge). */
export const usageDaily = sqliteTable(
  'usage_daily',
  {
    account: text('account').notNull(),
    day: text('day').notNull(),
    alerts: integer('alerts').notNull(),
    emails: integer('emails').notNull(),
    contacts: integer('contacts'),
  },
  (t) => [primaryKey({ columns: [t.account, t.day] })],
)

/**
 * The credit log, append-only: one row per entry of `@tally/billing`'s ledger, never updated.
 * `seq` keeps the written order, which replays depend on.
 */
export const ledger = sqliteTable(
  'ledger',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    account: text('account').notNull(),
    /** The key, as columns (see LedgerKey in ../repository.ts): never a concatenated string. */
    source: text('source').notNull(),
    ref: text('ref').notNull(),
    leg: text('leg').notNull(),
    /** The entry's id in the replayed log. */
    id: text('id').notNull(),
    type: text('type').notNull(),
    wallet: text('wallet').notNull(),
    at: integer('at').notNull(),
    credits: integer('credits').notNull(),
    /** The whole entry as JSON (draws, lots, expiry). */
    entry: text('entry').notNull(),
  },
  (t) => [uniqueIndex('ledger_account_key').on(t.account, t.source, t.ref, t.leg), index('ledger_account_seq').on(t.account, t.seq)],
)

/**
 * The open ledger of each account (docs/architecture.md, "Per-request work"): what a credit
 * request needs of the log, written in the transaction of every append so that a request reads
 * one row and the open lots, however long the log. `head` is the log's head it stands for: when
 * they differ (a log written before this table), the services build it again from the log, once.
 */
export const creditBooks = sqliteTable('credit_books', {
  account: text('account').primaryKey(),
  head: integer('head').notNull(),
  /** The grants and expiries due by this instant are in the log; null before the first grant. */
  dueThrough: integer('due_through'),
  /** Every wallet that ever held a lot, JSON, in the order they first did. */
  wallets: text('wallets').notNull(),
  granted: integer('granted').notNull(),
  purchased: integer('purchased').notNull(),
  spent: integer('spent').notNull(),
  expired: integer('expired').notNull(),
})

/**
 * Every lot of the log with what it holds now; `open` (credits left, no expiry entry yet) is what a
 * request reads, through its index; closed lots stay for a repeated transfer to name their kind.
 */
export const creditLots = sqliteTable(
  'credit_lots',
  {
    account: text('account').notNull(),
    lot: text('lot').notNull(),
    /** The order the log created the lots in (the order a replay lists them). */
    ord: integer('ord').notNull(),
    wallet: text('wallet').notNull(),
    kind: text('kind').notNull(),
    at: integer('at').notNull(),
    expiresAt: integer('expires_at'),
    remaining: integer('remaining').notNull(),
    expired: integer('expired').notNull(),
    open: integer('open').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.lot] }), index('credit_lots_open').on(t.account, t.open, t.ord), index('credit_lots_ord').on(t.account, t.ord)],
)

/**
 * Finalized invoices, written once by the billing run and never updated: (account, key) makes a
 * second run a no-op, (account, number) keeps numbers unique per account.
 */
export const invoices = sqliteTable(
  'invoices',
  {
    account: text('account').notNull(),
    key: text('key').notNull(),
    number: integer('number').notNull(),
    kind: text('kind').notNull(),
    issuedAt: integer('issued_at').notNull(),
    currency: text('currency').notNull(),
    total: integer('total').notNull(),
    /** The whole invoice as JSON (lines, period). */
    invoice: text('invoice').notNull(),
    finalizedAt: integer('finalized_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.key] }), uniqueIndex('invoices_account_number').on(t.account, t.number)],
)

// --- Email grants and webhooks (docs/billing.md, docs/webhooks.md). ---

/**
 * Extra emails for one month of the anchor calendar (`month`, its first local day), on top of the
 * quota: granted by support, or an email pack bought (`pack`, `price`, `currency` set; invoiced).
 * Keyed by the request id, so a retried grant or purchase counts once.
 */
export const emailGrants = sqliteTable(
  'email_grants',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    month: text('month').notNull(),
    emails: integer('emails').notNull(),
    note: text('note'),
    grantedAt: integer('granted_at').notNull(),
    pack: text('pack'),
    price: integer('price'),
    currency: text('currency'),
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('email_grants_account_month').on(t.account, t.month)],
)

/** Where an account's webhooks go; the secret signs every delivery. */
export const webhookEndpoints = sqliteTable(
  'webhook_endpoints',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    url: text('url').notNull(),
    secret: text('secret').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.id] })],
)

/**
 * The webhook outbox: one row per event, written in the transaction of the fact it reports, so a
 * crash loses none. `seq` orders an account's events; `key` (the fact, e.g. the invoice key) makes
 * writing the same fact twice a no-op; `id` (`evt_…`) is what receivers deduplicate by.
 */
export const webhookEvents = sqliteTable(
  'webhook_events',
  {
    account: text('account').notNull(),
    seq: integer('seq').notNull(),
    key: text('key').notNull(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    created: integer('created').notNull(),
    /** The event's `data` as JSON. */
    data: text('data').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.seq] }),
    uniqueIndex('webhook_events_account_key').on(t.account, t.key),
    uniqueIndex('webhook_events_account_id').on(t.account, t.id),
  ],
)

/**
 * One delivery of an event to one endpoint: `pending` until the endpoint answers 2xx
 * (`delivered`) or 72 hours have passed (`failed`). `next_at` is the next attempt, and also the
 * lease of an attempt under way, so two delivery loops never send the same delivery at once.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    account: text('account').notNull(),
    seq: integer('seq').notNull(),
    endpoint: text('endpoint').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull(),
    nextAt: integer('next_at').notNull(),
    lastAt: integer('last_at'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
  },
  (t) => [primaryKey({ columns: [t.account, t.seq, t.endpoint] }), index('webhook_deliveries_pending').on(t.status, t.account, t.endpoint, t.seq)],
)

// --- The billing portal (docs/portal.md). ---

/**
 * Portal sessions: `id` is the SHA-256 of the single-use link's token, `session` the SHA-256 of the
 * cookie that opening it gave (null until then). Rows of an account that expired a day ago are
 * deleted when the account asks for a new one.
 */
export const portalSessions = sqliteTable(
  'portal_sessions',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    session: text('session'),
    member: text('member'),
    returnUrl: text('return_url'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    openedAt: integer('opened_at'),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.id] }),
    uniqueIndex('portal_sessions_account_session').on(t.account, t.session),
    index('portal_sessions_account_expires').on(t.account, t.expiresAt),
  ],
)

/**
 * Facts about an account that are kept with their history, never updated: the versions of its
 * invoice information, the payment status its vendor reports per invoice, and the answers of portal
 * actions (so a repeated action answers what it did). `kind` says which; `body` is the JSON.
 */
export const accountFacts = sqliteTable(
  'account_facts',
  { account: text('account').notNull(), kind: text('kind').notNull(), id: text('id').notNull(), at: integer('at').notNull(), body: text('body').notNull() },
  (t) => [primaryKey({ columns: [t.account, t.kind, t.id] }), index('account_facts_account_kind_at').on(t.account, t.kind, t.at)],
)
