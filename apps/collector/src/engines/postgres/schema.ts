/**
 * PostgreSQL schema (drizzle pg-core): the tables of ../sqlite/schema.ts, with one rule more.
 * Every table that grows with traffic carries `account` NOT NULL, and every primary and unique
 * key starts with it, so exactly-once (unique keys + `ON CONFLICT DO NOTHING`) holds per account
 * and the schema can be distributed by account (Citus `create_distributed_table(…, 'account')`)
 * unchanged: every key is then local to one shard. `config_changes` is the one global table
 * (admin changes, a handful of rows, replayed by every collector at start); drizzle's migration
 * journal lives in its own `drizzle` schema. `test/pg/schema-keys.ts` checks the rule on the
 * migrated database. docs/scaling.md says how far each layout goes.
 *
 * `json` (not `jsonb`) for entries, invoices and config bodies: stored as written, read back with
 * the same key order, as SQLite gives them; nothing queries inside them.
 * Times are ms since the epoch in `bigint` columns read as JS numbers (safe far beyond year 2200).
 * Migrations are generated from this file: `npm run db:generate:pg -w @tally/collector`.
 */
import { pgTable, text, bigint, integer, bigserial, boolean, json, primaryKey, index, uniqueIndex } from 'drizzle-orm/pg-core'

const ms = (name: string) => bigint(name, { mode: 'number' })

/** One impression per (account, container, session, campaign): the billable unit. */
export const impressions = pgTable(
  'impressions',
  {
    account: text('account').notNull(),
    container: text('container').notNull(),
    session: text('session').notNull(),
    campaign: text('campaign').notNull(),
    eventId: text('event_id').notNull(),
    time: ms('time').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.container, t.session, t.campaign] }),
    // Evidence of an invoice line: a container's units of a period in time order, as keyset seeks (docs/evidence.md).
    index('impressions_account_container_time').on(t.account, t.container, t.time, t.session, t.campaign),
  ],
)

/** One engagement per (account, container, session, advisor). */
export const engagements = pgTable(
  'engagements',
  {
    account: text('account').notNull(),
    container: text('container').notNull(),
    session: text('session').notNull(),
    advisor: text('advisor').notNull(),
    eventId: text('event_id').notNull(),
    time: ms('time').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.container, t.session, t.advisor] }),
    index('engagements_account_container_time').on(t.account, t.container, t.time, t.session, t.advisor),
  ],
)

/** The phase events of each conversation. */
export const chatEvents = pgTable(
  'chat_events',
  {
    account: text('account').notNull(),
    container: text('container').notNull(),
    conversation: text('conversation').notNull(),
    eventId: text('event_id').notNull(),
    phase: text('phase').notNull(),
    time: ms('time').notNull(),
    receivedAt: ms('received_at').notNull(),
    /** The folded state after this event, JSON (@tally/billing ConversationState); null for rows stored before 0005. */
    state: text('state'),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.container, t.conversation, t.eventId] }),
    // The last events of a conversation in time order: where an out-of-order event lands (services/ingest.ts).
    index('chat_events_order').on(t.account, t.container, t.conversation, t.time),
  ],
)

/** Conversations with their folded state (@tally/billing ConversationState). */
export const conversations = pgTable(
  'conversations',
  {
    account: text('account').notNull(),
    container: text('container').notNull(),
    conversation: text('conversation').notNull(),
    bot: text('bot').notNull(),
    session: text('session').notNull(),
    startedAt: ms('started_at').notNull(),
    day: text('day').notNull(),
    lastEventAt: ms('last_event_at').notNull(),
    endedAt: ms('ended_at'),
    status: text('status').notNull(),
    botMs: ms('bot_ms').notNull(),
    sessions: integer('sessions').notNull(),
    latestAt: ms('latest_at').notNull(),
    closed: boolean('closed').notNull(),
    active: boolean('active').notNull(),
    firstReceivedAt: ms('first_received_at').notNull(),
    lastReceivedAt: ms('last_received_at').notNull(),
    events: integer('events').notNull(),
    /** Opened by a session over the per-address cap: its sessions count as `suspicious` (docs/security.md). */
    suspicious: boolean('suspicious').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.container, t.conversation] }),
    // The reads by start time, and the evidence pages in their keyset order (started_at, container, conversation).
    index('conversations_account_started').on(t.account, t.startedAt, t.container, t.conversation),
    // The idle sweeper scans open conversations of every account.
    index('conversations_status_last').on(t.status, t.lastEventAt),
  ],
)

/** Daily counts per (account, day, container, kind, subject). */
export const rollups = pgTable(
  'rollups',
  {
    account: text('account').notNull(),
    day: text('day').notNull(),
    container: text('container').notNull(),
    kind: text('kind').notNull(),
    subject: text('subject').notNull(),
    units: bigint('units', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.day, t.container, t.kind, t.subject] })],
)

/**
 * Refused beacons per UTC day, container, reason, origin and subject, with the first and last
 * minute seen: rows per account stay bounded whatever the traffic (docs/security.md). A beacon for
 * an unknown container has no account: it is kept under `''`, which no account id can be
 * (docs/rules.md), so the key still starts with the account and such rows stay on one shard.
 */
export const rejections = pgTable(
  'rejections',
  {
    account: text('account').notNull(),
    day: ms('day').notNull(),
    container: text('container').notNull(),
    reason: text('reason').notNull(),
    origin: text('origin').notNull(),
    subject: text('subject').notNull().default(''),
    count: bigint('count', { mode: 'number' }).notNull(),
    firstSeen: ms('first_seen').notNull(),
    lastSeen: ms('last_seen').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.day, t.container, t.reason, t.origin, t.subject] }),
    // Retention deletes whole old days across accounts.
    index('rejections_day').on(t.day),
  ],
)

/** Run-time configuration changes (admin PUTs): global, small, replayed in `seq` order at start. */
export const configChanges = pgTable(
  'config_changes',
  {
    kind: text('kind').notNull(),
    id: text('id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    body: json('body').notNull(),
    changedAt: ms('changed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.id] })],
)

/**
 * The configuration's source of truth (docs/configuration.md), global like `config_changes`: every
 * version of every plan and account (its containers inside), whole, in `seq` order. Written only
 * under the configuration lock, so `seq` grows in commit order; a write notifies `tally_config`.
 */
export const configVersions = pgTable(
  'config_versions',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    id: text('id').notNull(),
    version: integer('version').notNull(),
    body: json('body'),
    effectiveAt: ms('effective_at').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [uniqueIndex('config_versions_object').on(t.kind, t.id, t.version)],
)

/** The audit entry of each version, written in its transaction: who, when, before and after. */
export const configAudit = pgTable('config_audit', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  kind: text('kind').notNull(),
  id: text('id').notNull(),
  version: integer('version').notNull(),
  actor: text('actor').notNull(),
  at: ms('at').notNull(),
  before: json('before'),
  after: json('after'),
})

/** The config file's plans and accounts as last applied: the base of the three-way merge at start. */
export const configFile = pgTable('config_file', { id: integer('id').primaryKey(), body: json('body').notNull(), appliedAt: ms('applied_at').notNull() })

/** Accepted server-to-server usage events, keyed by the client id (docs/protocol.md §4). */
export const usageEvents = pgTable(
  'usage_events',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    day: text('day').notNull(),
    time: ms('time').notNull(),
    receivedAt: ms('received_at').notNull(),
    quantity: bigint('quantity', { mode: 'number' }).notNull(),
    credits: bigint('credits', { mode: 'number' }).notNull(),
    member: text('member'),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.id] }),
    // Evidence: one meter's events of a period, by day (docs/evidence.md).
    index('usage_events_account_type_day').on(t.account, t.type, t.day, t.id),
  ],
)

/** Daily counts of the server-to-server meters; contacts is the day's highest reading. */
export const usageDaily = pgTable(
  'usage_daily',
  {
    account: text('account').notNull(),
    day: text('day').notNull(),
    alerts: bigint('alerts', { mode: 'number' }).notNull(),
    emails: bigint('emails', { mode: 'number' }).notNull(),
    contacts: bigint('contacts', { mode: 'number' }),
  },
  (t) => [primaryKey({ columns: [t.account, t.day] })],
)

/**
 * The credit log, append-only. `seq` (a sequence shared by every account) keeps the written order
 * and moves the account's head with every append; the key is (account, seq) so it starts with the
 * account, and (account, source, ref, leg) makes a retried request's entry a no-op.
 */
export const ledger = pgTable(
  'ledger',
  {
    account: text('account').notNull(),
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    source: text('source').notNull(),
    ref: text('ref').notNull(),
    leg: text('leg').notNull(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    wallet: text('wallet').notNull(),
    at: ms('at').notNull(),
    credits: bigint('credits', { mode: 'number' }).notNull(),
    entry: json('entry').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.seq] }), uniqueIndex('ledger_account_key').on(t.account, t.source, t.ref, t.leg)],
)

/**
 * The open ledger of each account (docs/architecture.md, "Per-request work"): what a credit
 * request needs of the log, written in the transaction of every append. `head` is the log's head
 * it stands for; when they differ (a log written before this table) the services build it again.
 */
export const creditBooks = pgTable('credit_books', {
  account: text('account').primaryKey(),
  head: bigint('head', { mode: 'number' }).notNull(),
  dueThrough: ms('due_through'),
  wallets: json('wallets').notNull(),
  granted: bigint('granted', { mode: 'number' }).notNull(),
  purchased: bigint('purchased', { mode: 'number' }).notNull(),
  spent: bigint('spent', { mode: 'number' }).notNull(),
  expired: bigint('expired', { mode: 'number' }).notNull(),
})

/** Every lot of the log with what it holds now; requests read the open ones through their index. */
export const creditLots = pgTable(
  'credit_lots',
  {
    account: text('account').notNull(),
    lot: text('lot').notNull(),
    /** The order the log created the lots in (the order a replay lists them). */
    ord: integer('ord').notNull(),
    wallet: text('wallet').notNull(),
    kind: text('kind').notNull(),
    at: ms('at').notNull(),
    expiresAt: ms('expires_at'),
    remaining: bigint('remaining', { mode: 'number' }).notNull(),
    expired: boolean('expired').notNull(),
    open: boolean('open').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.lot] }), index('credit_lots_open').on(t.account, t.open, t.ord), index('credit_lots_ord').on(t.account, t.ord)],
)

/** Finalized invoices: (account, key) makes a second run a no-op, (account, number) keeps numbers unique. */
export const invoices = pgTable(
  'invoices',
  {
    account: text('account').notNull(),
    key: text('key').notNull(),
    number: integer('number').notNull(),
    kind: text('kind').notNull(),
    issuedAt: ms('issued_at').notNull(),
    currency: text('currency').notNull(),
    total: bigint('total', { mode: 'number' }).notNull(),
    invoice: json('invoice').notNull(),
    finalizedAt: ms('finalized_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.key] }), uniqueIndex('invoices_account_number').on(t.account, t.number)],
)

// --- Email grants and packs, webhooks, evidence (docs/billing.md, docs/webhooks.md, docs/evidence.md). ---

/**
 * Extra emails for one month of the anchor calendar (`month`, its first local day): granted by
 * support, or an email pack bought (`pack`, `price`, `currency` set). Keyed by the request id, so a
 * retried grant or purchase counts once.
 */
export const emailGrants = pgTable(
  'email_grants',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    month: text('month').notNull(),
    emails: bigint('emails', { mode: 'number' }).notNull(),
    note: text('note'),
    grantedAt: ms('granted_at').notNull(),
    pack: text('pack'),
    price: bigint('price', { mode: 'number' }),
    currency: text('currency'),
  },
  (t) => [primaryKey({ columns: [t.account, t.id] }), index('email_grants_account_month').on(t.account, t.month)],
)

/** Where an account's webhooks go; the secret signs every delivery. */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    url: text('url').notNull(),
    secret: text('secret').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.id] })],
)

/**
 * The webhook outbox, written in the transaction of the fact it reports. `seq` orders an account's
 * events (the next one is max + 1 under `lockAccount`, so collectors never pick the same number);
 * (account, key) makes the same fact a no-op; `id` (`evt_…`) is what receivers deduplicate by.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    account: text('account').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    key: text('key').notNull(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    created: ms('created').notNull(),
    data: json('data').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.seq] }),
    uniqueIndex('webhook_events_account_key').on(t.account, t.key),
    uniqueIndex('webhook_events_account_id').on(t.account, t.id),
  ],
)

/**
 * One delivery of an event to one endpoint: `pending` until delivered or given up (`failed`).
 * `next_at` is the next attempt and the lease of an attempt under way.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    account: text('account').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    endpoint: text('endpoint').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull(),
    nextAt: ms('next_at').notNull(),
    lastAt: ms('last_at'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.seq, t.endpoint] }),
    // The head of each pending (account, endpoint) queue, from this index alone.
    index('webhook_deliveries_pending').on(t.status, t.account, t.endpoint, t.seq),
  ],
)

// --- The billing portal (docs/portal.md): see the SQLite schema for what each column holds. ---

export const portalSessions = pgTable(
  'portal_sessions',
  {
    account: text('account').notNull(),
    id: text('id').notNull(),
    session: text('session'),
    member: text('member'),
    returnUrl: text('return_url'),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
    openedAt: ms('opened_at'),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.id] }),
    uniqueIndex('portal_sessions_account_session').on(t.account, t.session),
    index('portal_sessions_account_expires').on(t.account, t.expiresAt),
  ],
)

export const accountFacts = pgTable(
  'account_facts',
  { account: text('account').notNull(), kind: text('kind').notNull(), id: text('id').notNull(), at: ms('at').notNull(), body: json('body').notNull() },
  (t) => [primaryKey({ columns: [t.account, t.kind, t.id] }), index('account_facts_account_kind_at').on(t.account, t.kind, t.at)],
)
