/**
 * The services over SQLite on the storage thread (engines/sqlite/worker.ts hosts them; this module
 * is the thread's entry). The request thread's `Store` is derived from the methods the thread
 * names: adding a storage operation changes nothing here.
 */
import { isMainThread, workerData } from 'node:worker_threads'
import { createStore, type Store } from './services/store.js'
import { SqliteEngine, type SqliteOptions } from './engines/sqlite/engine.js'
import { hostOnThread, openOnThread } from './engines/sqlite/worker.js'
import { readOnThread } from './engines/sqlite/reader.js'
import exportEvidence from './services/evidence-export.js'

const EVIDENCE_TASK = new URL('./services/evidence-export.js', import.meta.url)

if (!isMainThread && (workerData as { tallyStore?: SqliteOptions } | undefined)?.tallyStore) {
  hostOnThread(() => createStore(new SqliteEngine((workerData as { tallyStore: SqliteOptions }).tallyStore)))
}

/** Opens (and migrates) the database on a worker thread; resolves once it is ready. */
export async function openWorkerStore(opts: SqliteOptions): Promise<Store> {
  const thread = await openOnThread(new URL(import.meta.url), { tallyStore: opts })
  const store = Object.fromEntries(thread.methods.map((m) => [m, (...args: unknown[]) => thread.call(m, ...args)])) as unknown as Store
  // An export reads on its own thread and connection, beside the writer (engines/sqlite/reader.ts); an
  // in-memory database has no file another connection could open, so it reads through this one.
  store.evidence = (req) => (opts.file === ':memory:' ? exportEvidence(store, req) : readOnThread(opts.file, EVIDENCE_TASK, req))
  store.close = () => thread.close()
  return store
}
