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
 * Migrations are generated from this file, with the ./schema-*.ts modules it re-exports:
 * `npm run db:generate:pg -w @tally/collector`.
 */
import { pgTable, text, integer, bigint, boolean, json, primaryKey, index, uniqueIndex } from 'drizzle-orm/pg-core'
import { ms } from './schema-columns.js'

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

// The billing, webhook and portal tables: in modules of their own, part of this schema (drizzle-kit reads this file).
export * from './schema-billing.js'
export * from './schema-webhooks.js'
export * from './schema-portal.js'
