/**
 * SQLite schema (drizzle). Exactly-once lives here, in unique keys, not in memory:
 * `events` (container, id) makes a retried event a duplicate, `impressions` and `engagements`
 * hold one billable unit per (container, session, subject), and `rollups` keep the daily counts
 * that billing reads, updated in the same transaction as the rows they count.
 * Migrations are generated from this file by drizzle-kit (`npm run db:generate -w @tally/collector`).
 */
import { sqliteTable, text, integer, primaryKey, index } from 'drizzle-orm/sqlite-core'

/** Every accepted browser event, keyed by its client id (the idempotency key). */
export const events = sqliteTable('events', {
  container: text('container').notNull(),
  id: text('id').notNull(),
  type: text('type').notNull(),
  session: text('session').notNull(),
  /** Campaign, advisor or bot id. */
  subject: text('subject').notNull(),
  /** Clock-skew corrected event time, ms since epoch. */
  time: integer('time').notNull(),
  receivedAt: integer('received_at').notNull(),
}, (t) => [primaryKey({ columns: [t.container, t.id] })])

/** One impression per (container, session, campaign): the billable unit of seed 000. */
export const impressions = sqliteTable('impressions', {
  container: text('container').notNull(),
  session: text('session').notNull(),
  campaign: text('campaign').notNull(),
  eventId: text('event_id').notNull(),
  time: integer('time').notNull(),
}, (t) => [primaryKey({ columns: [t.container, t.session, t.campaign] })])

/** One engagement per (container, session, advisor). */
export const engagements = sqliteTable('engagements', {
  container: text('container').notNull(),
  session: text('session').notNull(),
  advisor: text('advisor').notNull(),
  eventId: text('event_id').notNull(),
  time: integer('time').notNull(),
}, (t) => [primaryKey({ columns: [t.container, t.session, t.advisor] })])

/** The phase events of each conversation: its chat sessions are recomputed from these. */
export const chatEvents = sqliteTable('chat_events', {
  container: text('container').notNull(),
  conversation: text('conversation').notNull(),
  eventId: text('event_id').notNull(),
  phase: text('phase').notNull(),
  time: integer('time').notNull(),
}, (t) => [primaryKey({ columns: [t.container, t.conversation, t.eventId] })])

/** Conversations folded from their phase events; billed in the period where they started. */
export const conversations = sqliteTable('conversations', {
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
  /** `open`, `ended` (an end event) or `idle` (closed by the sweeper at its last event). */
  status: text('status').notNull(),
  botMs: integer('bot_ms').notNull(),
  sessions: integer('sessions').notNull(),
}, (t) => [
  primaryKey({ columns: [t.container, t.conversation] }),
  index('conversations_account_started').on(t.account, t.startedAt),
  index('conversations_status_last').on(t.status, t.lastEventAt),
])

/**
 * Daily counts per (account, day, container, kind, subject): `kind` is `campaign` (impressions),
 * `advisor` (engagements) or `bot` (chat sessions). `day` is the calendar day in the account's
 * time zone, so that billing periods (local midnights) are whole days.
 */
export const rollups = sqliteTable('rollups', {
  account: text('account').notNull(),
  day: text('day').notNull(),
  container: text('container').notNull(),
  kind: text('kind').notNull(),
  subject: text('subject').notNull(),
  units: integer('units').notNull(),
}, (t) => [primaryKey({ columns: [t.account, t.day, t.container, t.kind, t.subject] })])

/** Refused beacons, counted per minute, container, reason and origin (bounded growth under abuse). */
export const rejections = sqliteTable('rejections', {
  minute: integer('minute').notNull(),
  container: text('container').notNull(),
  account: text('account'),
  reason: text('reason').notNull(),
  origin: text('origin').notNull(),
  count: integer('count').notNull(),
}, (t) => [
  primaryKey({ columns: [t.minute, t.container, t.reason, t.origin] }),
  index('rejections_account_minute').on(t.account, t.minute),
])

/** Run-time configuration changes (admin PUTs), replayed over the config file in `seq` order at start. */
export const configChanges = sqliteTable('config_changes', {
  kind: text('kind').notNull(),
  id: text('id').notNull(),
  seq: integer('seq').notNull(),
  body: text('body').notNull(),
  changedAt: integer('changed_at').notNull(),
}, (t) => [primaryKey({ columns: [t.kind, t.id] })])
