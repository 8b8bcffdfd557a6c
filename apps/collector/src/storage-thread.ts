/**
 * The services over SQLite on the storage thread (engines/sqlite/worker.ts hosts them; this module
 * is the thread's entry). The request thread's `Store` is derived from the methods the thread
 * names: adding a storage operation changes nothing here.
 */
import { isMainThread, workerData } from 'node:worker_threads'
import { readlinkSync } from 'node:fs'
import { constants, setPriority } from 'node:os'
import { createStore, type Store } from './services/store.js'
import { SqliteEngine, type SqliteOptions } from './engines/sqlite/engine.js'
import { hostOnThread, openOnThread } from './engines/sqlite/worker.js'
import { readOnThread } from './engines/sqlite/reader.js'
import { openSnapshotReader } from './engines/sqlite/snapshot.js'
import exportEvidence from './services/evidence-export.js'
import { planBilling, type BillingPlan, type BillingRunCall } from './services/billing.js'
import { LedgerBook } from './services/ledger-book.js'

const EVIDENCE_TASK = new URL('./services/evidence-export.js', import.meta.url)

const data = isMainThread ? undefined : (workerData as { tallyStore?: SqliteOptions; tallyBillingReader?: string } | undefined)

if (data?.tallyStore) {
  const opts = data.tallyStore
  hostOnThread(() => {
    const engine = new SqliteEngine(opts)
    // A billing run reads and decides each account on a thread and connection of its own (a
    // snapshot beside this writer, at the lowest CPU priority); this thread only checks and writes
    // the plan, so beacons wait for the writes, not for the reads and the rating
    // (docs/performance.md, "A month's billing run"). Started with the store, so that its start-up
    // is paid while the collector starts, not beside its first beacons. An in-memory database has
    // no file to share: its runs decide in their transaction.
    const planner = opts.file === ':memory:' ? undefined : openOnThread(new URL(import.meta.url), { tallyBillingReader: opts.file })
    planner?.catch(() => undefined)
    const plan = planner
      ? async (req: BillingRunCall) =>
          // Without a plan (the reader failed), the run decides in its transaction, as it always can.
          (await planner.then((p) => p.call('billingPlan', req)).catch(() => undefined)) as BillingPlan | undefined
      : undefined
    const store = createStore(engine, { plan })
    const close = store.close
    store.close = async () => {
      await close()
      await planner?.then((p) => p.close()).catch(() => undefined)
    }
    return store
  })
}

if (data?.tallyBillingReader) {
  const file = data.tallyBillingReader
  hostOnThread(() => {
    lowestPriority()
    const snapshot = openSnapshotReader(file)
    const book = new LedgerBook()
    return { billingPlan: (req: BillingRunCall) => snapshot.read((db) => planBilling(db, book, req)), close: () => snapshot.close() }
  })
}

/**
 * This thread at the lowest CPU priority (on Linux a thread is a task of its own): the billing
 * reader takes the cores only when beacons leave them idle. Elsewhere it keeps the process's.
 */
function lowestPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1))
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, constants.priority.PRIORITY_LOW)
  } catch {
    // No /proc/thread-self, or not allowed: the process's priority.
  }
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
