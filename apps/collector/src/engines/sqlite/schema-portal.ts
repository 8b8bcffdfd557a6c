/** SQLite schema, the billing portal (re-exported by ./schema.ts; docs/portal.md): its sessions and account facts. */
import { sqliteTable, text, integer, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core'

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
