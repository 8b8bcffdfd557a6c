import { readFileSync } from 'node:fs'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPgEngine } from './engine.js'
import { freshDatabase, pgSkipReason, type FreshDatabase } from '../../../../../test/pg/database.js'
import { accountKeyViolations } from '../../../../../test/pg/schema-keys.js'

describe.skipIf(pgSkipReason())('the PostgreSQL schema', () => {
  let db: FreshDatabase
  let pool: pg.Pool
  beforeAll(async () => {
    db = await freshDatabase()
    // Three collectors starting at once on an empty database: each waits for the migration lock.
    const engines = await Promise.all([1, 2, 3].map(() => openPgEngine({ url: db.url, poolSize: 1 })))
    await Promise.all(engines.map((e) => e.close()))
    pool = new pg.Pool({ connectionString: db.url, max: 1 })
    // The database is dropped WITH (FORCE) at the end: an idle client may hear the termination.
    pool.on('error', () => {})
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })

  it('keys every traffic table by account first, so it can be distributed by account', async () => {
    // config_changes, config_versions, config_audit, config_file: the configuration (a few rows per
    // admin edit, not traffic), read by every collector; on Citus they are reference tables.
    expect(await accountKeyViolations(pool, { globalTables: ['config_changes', 'config_versions', 'config_audit', 'config_file'] })).toEqual([])
  })

  it('holds every table of the SQLite schema', async () => {
    const { rows } = await pool.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
    expect(rows.map((r) => r.name)).toEqual([
      'account_facts',
      'chat_events',
      'config_audit',
      'config_changes',
      'config_file',
      'config_versions',
      'conversations',
      'credit_books',
      'credit_lots',
      'email_grants',
      'engagements',
      'impressions',
      'invoices',
      'ledger',
      'portal_sessions',
      'rejections',
      'rollups',
      'usage_daily',
      'usage_events',
      'webhook_deliveries',
      'webhook_endpoints',
      'webhook_events',
    ])
  })

  it('applies each migration once, however many collectors started', async () => {
    const journal = JSON.parse(readFileSync(new URL('../../../drizzle/postgres/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] }
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')
    expect(rows[0]?.n).toBe(journal.entries.length)
    await (await openPgEngine({ url: db.url, poolSize: 1 })).close()
    expect((await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0]?.n).toBe(journal.entries.length)
  })
})
