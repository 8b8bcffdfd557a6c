/** SQLite schema, billing (re-exported by ./schema.ts): server-to-server usage, the credit log, invoices and email grants. */
import { sqliteTable, text, integer, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core'

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
