/**
 * Where the services meet an engine: `createStore` (./services/store.ts) over SQLite in this
 * thread, or over PostgreSQL. The engines (./store) hold SQL and import no service; this file,
 * like ./storage-thread.ts, wires the two (docs/architecture.md, "Dependencies").
 */
import type Database from 'better-sqlite3'
import { createStore, type Store } from './services/store.js'
import { SqliteEngine, type SqliteOptions } from './engines/sqlite/engine.js'
import { CONFIG_CHANNEL, openPgEngine, type PgEngine, type PgEngineOptions } from './engines/postgres/engine.js'

export { openWorkerStore } from './storage-thread.js'

/** The services on an SQLite database in this thread (tests, `tally bill`); `db` for tests that look inside. */
export type SqliteStore = Store & { db: Database.Database }

export function openSqliteStore(opts: SqliteOptions): SqliteStore {
  const engine = new SqliteEngine(opts)
  return Object.assign(createStore(engine), { db: engine.db })
}

/** The services on PostgreSQL, with the engine for readiness and the billing lock. */
export type PgStore = Store & { engine: PgEngine }

export async function openPgStore(opts: PgEngineOptions): Promise<PgStore> {
  const engine = await openPgEngine(opts)
  return Object.assign(createStore(engine), {
    engine,
    readiness: () => engine.readiness(),
    exclusive: <T>(key: string, fn: () => Promise<T>) => engine.exclusive(key, fn),
    onConfigChange: (listener: () => void, onError: (e: Error) => void) => engine.listen(CONFIG_CHANNEL, listener, onError),
  })
}
