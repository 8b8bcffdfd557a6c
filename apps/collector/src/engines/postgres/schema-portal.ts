/** PostgreSQL schema, the billing portal (re-exported by ./schema.ts; docs/portal.md): see the SQLite schema for what each column holds. */
import { pgTable, text, json, primaryKey, index, uniqueIndex } from 'drizzle-orm/pg-core'
import { ms } from './schema-columns.js'

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
