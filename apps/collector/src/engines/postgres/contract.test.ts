import { afterAll, beforeAll, describe } from 'vitest'
import { describeRepository } from '../contract.js'
import { PgEngine, openPgEngine } from './engine.js'
import { freshDatabase, pgSkipReason, type FreshDatabase } from '../../../../../test/pg/database.js'

// One database for the file, migrated once; each test starts from empty tables.
describe.skipIf(pgSkipReason())('PostgreSQL', () => {
  let db: FreshDatabase
  beforeAll(async () => {
    db = await freshDatabase()
    await (await openPgEngine({ url: db.url, poolSize: 2 })).close()
  })
  afterAll(() => db?.drop())

  describeRepository('PostgreSQL', async () => {
    const engine = new PgEngine({ url: db.url, poolSize: 4 })
    await engine.pool.query(`TRUNCATE impressions, engagements, chat_events, conversations, rollups, rejections, config_changes, config_versions, config_audit, config_file,
      usage_events, usage_daily, ledger, credit_books, credit_lots, invoices, email_grants, webhook_endpoints, webhook_events, webhook_deliveries, account_facts`)
    return { engine, dispose: () => engine.close() }
  })
})
