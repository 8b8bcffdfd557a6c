/** SQLite schema, webhooks (re-exported by ./schema.ts; docs/webhooks.md): endpoints, the outbox and its deliveries. */
import { sqliteTable, text, integer, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core'

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
