/** PostgreSQL schema, billing (re-exported by ./schema.ts): server-to-server usage, the credit log, invoices and email grants. */
import { pgTable, text, integer, bigint, bigserial, boolean, json, primaryKey, index, uniqueIndex } from 'drizzle-orm/pg-core'
import { ms } from './schema-columns.js'

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
