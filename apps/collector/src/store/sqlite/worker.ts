/**
 * The SQLite store on its own thread. better-sqlite3 blocks while it writes; on the request
 * thread that time adds to every request's parsing and validation. Here the two run side by
 * side: the request thread posts each call, this thread group-commits whatever arrived together
 * (see `SqliteStore`) and answers after the COMMIT. Same contract, same `Store` interface.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { SqliteStore, type SqliteOptions } from './store.js'
import { StoreUnavailable, type Store } from '../repository.js'

type Method = Exclude<keyof Store, 'close'>
interface Call { id: number; method: Method | 'close'; args: unknown[] }
type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string }

if (!isMainThread && parentPort && (workerData as { tallyStore?: SqliteOptions })?.tallyStore) {
  const port = parentPort
  const store = new SqliteStore((workerData as { tallyStore: SqliteOptions }).tallyStore)
  port.on('message', (call: Call) => {
    const fn = store[call.method] as (...a: unknown[]) => Promise<unknown>
    fn.apply(store, call.args).then(
      (value) => port.postMessage({ id: call.id, ok: true, value } satisfies Answer),
      (e: unknown) => port.postMessage({
        id: call.id, ok: false,
        message: `${(e as Error).message}${(e as Error).cause ? `: ${((e as Error).cause as Error).message}` : ''}`,
      } satisfies Answer),
    )
  })
  port.postMessage({ id: 0, ok: true, value: 'ready' } satisfies Answer)
}

/** Opens (and migrates) the database on a worker thread; resolves once it is ready. */
export async function openWorkerStore(opts: SqliteOptions): Promise<Store> {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { tallyStore: opts } })
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  let next = 1
  let dead: Error | undefined
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
  worker.on('message', (a: Answer) => {
    const p = pending.get(a.id)
    if (!p) return
    pending.delete(a.id)
    if (a.ok) p.resolve(a.value)
    else p.reject(new StoreUnavailable(a.message))
  })
  const fail = (e: Error) => {
    dead = e
    for (const p of pending.values()) p.reject(new StoreUnavailable('the storage thread stopped', { cause: e }))
    pending.clear()
  }
  worker.on('error', fail)
  worker.on('exit', (code) => fail(new Error(`storage thread exited with code ${code}`)))
  await ready

  const call = (method: Call['method'], ...args: unknown[]) => {
    if (dead) return Promise.reject(new StoreUnavailable('the storage thread stopped', { cause: dead }))
    return new Promise<any>((resolve, reject) => {
      const id = next++
      pending.set(id, { resolve, reject })
      worker.postMessage({ id, method, args } satisfies Call)
    })
  }
  return {
    ingest: (req) => call('ingest', req),
    recordRejection: (r) => call('recordRejection', r),
    rejections: (account, since) => call('rejections', account, since),
    rollups: (account, from, to) => call('rollups', account, from, to),
    conversations: (account, from, to) => call('conversations', account, from, to),
    closeIdleConversations: (now, idle) => call('closeIdleConversations', now, idle),
    saveConfigChange: (change, at) => call('saveConfigChange', change, at),
    configChanges: () => call('configChanges'),
    recordUsage: (req) => call('recordUsage', req),
    creditRequest: (req) => call('creditRequest', req),
    billingRun: (req) => call('billingRun', req),
    billingData: (account) => call('billingData', account),
    ping: () => call('ping'),
    async close() {
      if (dead) return
      await call('close')
      await worker.terminate()
    },
  }
}
