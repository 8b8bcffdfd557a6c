/** PostgreSQL schema, webhooks (re-exported by ./schema.ts; docs/webhooks.md): endpoints, the outbox and its deliveries. */
import { pgTable, text, integer, bigint, json, primaryKey, index, uniqueIndex } from 'drizzle-orm/pg-core'
import { ms } from './schema-columns.js'

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
