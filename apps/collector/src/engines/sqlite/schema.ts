/**
 * SQLite schema (drizzle). Exactly-once lives here, in unique keys, not in memory:
 * `impressions` and `engagements` hold one billable unit per (container, session, subject) — the
 * key that also makes a retried event a duplicate — `chat_events` one row per (container,
 * conversation, event id), and `rollups` keep the daily counts that billing reads, updated in the
 * same transaction as the rows they count.
 * Migrations are generated from this file, with the ./schema-*.ts modules it re-exports, by drizzle-kit
 * (`npm run db:generate -w @tally/collector`).
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

// The billing, webhook and portal tables: in modules of their own, part of this schema (drizzle-kit reads this file).
export * from './schema-billing.js'
export * from './schema-webhooks.js'
export * from './schema-portal.js'
