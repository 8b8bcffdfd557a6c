/**
 * The engines an in-process test of the collector runs on, for `describe.each`: SQLite in memory
 * (what `setup()` opens when given no store) and PostgreSQL on a database of the test's own,
 * dropped when the test ends. Call `open()` inside the test. docs/architecture.md: the rules live
 * above the engine, so the same test holds on both.
 */
import { onTestFinished } from 'vitest'
import { openPgStore, type PgStore } from '../../apps/collector/src/storage.js'
import { freshDatabase, pgSkipReason } from './database.js'

export interface TestEngine {
  name: 'SQLite' | 'PostgreSQL'
  /** Why the test skips on this engine, or false. */
  skip: string | false
  /** The store to give `setup()`: undefined for SQLite (its default). */
  open(): Promise<PgStore | undefined>
}

export const TEST_ENGINES: TestEngine[] = [
  { name: 'SQLite', skip: false, open: async () => undefined },
  {
    name: 'PostgreSQL',
    skip: pgSkipReason(),
    open: async () => {
      const db = await freshDatabase()
      const store = await openPgStore({ url: db.url, poolSize: 4 })
      onTestFinished(async () => {
        await store.close()
        await db.drop()
      })
      return store
    },
  },
]
