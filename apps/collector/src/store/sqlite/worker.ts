/**
 * The SQLite engine on its own thread. better-sqlite3 blocks while it writes; on the request
 * thread that time adds to every request's parsing and validation. Here the two run side by
 * side: the request thread posts each service call, this thread runs the services over the
 * engine (group commit, see ./engine.ts) and answers after the COMMIT. Same `Store` as in-process.
 *
 * Error kinds cross the thread boundary: a StoreUnavailable stays one (503 and Retry-After), and
 * anything else arrives as a `StoreBug` with its message and stack (500, logged with an error id),
 * so clients do not retry a deterministic failure forever.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'
import { SqliteEngine, type SqliteOptions } from './engine.js'
import { StoreUnavailable } from '../repository.js'
import { createStore, type Store } from '../../services/store.js'
import { invoiceEvidence } from '../../services/evidence.js'
import { evidenceChunks } from '../../domain/evidence-csv.js'
import { readEvidence } from './reader.js'

type Method = keyof Store
interface Call { id: number; method: Method; args: unknown[] }
type Answer =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; kind: 'unavailable' | 'bug'; message: string; stack?: string | undefined }

/** A failure on the storage thread that retrying will not fix. */
export class StoreBug extends Error {
  override readonly name = 'StoreBug'
}

if (!isMainThread && parentPort && (workerData as { tallyStore?: SqliteOptions })?.tallyStore) {
  const port = parentPort
  let store: Store
  try {
    store = createStore(new SqliteEngine((workerData as { tallyStore: SqliteOptions }).tallyStore))
  } catch (e) {
    // SQLite's code may be on a wrapped cause (a migration's query error): the opener names it.
    let code: string | undefined
    for (let c: unknown = e, depth = 0; c && !code && depth < 5; c = (c as { cause?: unknown }).cause, depth++) code = (c as { code?: string }).code
    port.postMessage({ id: 0, ok: false, kind: 'unavailable', message: `${code ? `${code}: ` : ''}${(e as Error).message}` } satisfies Answer)
    throw e
  }
  port.on('message', (call: Call) => {
    const fn = store[call.method] as (...a: unknown[]) => Promise<unknown>
    fn.apply(store, call.args).then(
      (value) => port.postMessage({ id: call.id, ok: true, value } satisfies Answer),
      (e: unknown) => {
        const err = e as Error
        const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
        port.postMessage({
          id: call.id, ok: false, kind: e instanceof StoreUnavailable ? 'unavailable' : 'bug',
          message: `${err.message}${cause}`, stack: err.stack,
        } satisfies Answer)
      },
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
    worker.once('message', (a: Answer) => (a.ok ? resolve() : reject(new StoreUnavailable(a.message))))
    worker.once('error', reject)
  })
  worker.on('message', (a: Answer) => {
    const p = pending.get(a.id)
    if (!p) return
    pending.delete(a.id)
    if (a.ok) p.resolve(a.value)
    else if (a.kind === 'unavailable') p.reject(new StoreUnavailable(a.message))
    else {
      const bug = new StoreBug(a.message)
      if (a.stack) bug.stack = a.stack
      p.reject(bug)
    }
  })
  const fail = (e: Error) => {
    dead = e
    for (const p of pending.values()) p.reject(new StoreUnavailable('the storage thread stopped', { cause: e }))
    pending.clear()
  }
  worker.on('error', fail)
  worker.on('exit', (code) => fail(new Error(`storage thread exited with code ${code}`)))
  await ready

  const call = (method: Method, ...args: unknown[]) => {
    if (dead) return Promise.reject(new StoreUnavailable('the storage thread stopped', { cause: dead }))
    return new Promise<any>((resolve, reject) => {
      const id = next++
      pending.set(id, { resolve, reject })
      worker.postMessage({ id, method, args } satisfies Call)
    })
  }
  const store: Store = {
    ingest: (req) => call('ingest', req),
    recordRejections: (rows) => call('recordRejections', rows),
    rejections: (account, since, page) => call('rejections', account, since, page),
    pruneRejections: (before, limit) => call('pruneRejections', before, limit),
    rollups: (account, from, to) => call('rollups', account, from, to),
    conversations: (account, from, to) => call('conversations', account, from, to),
    closeIdleConversations: (now, idle) => call('closeIdleConversations', now, idle),
    saveConfigChange: (change, at) => call('saveConfigChange', change, at),
    configChanges: () => call('configChanges'),
    recordUsage: (req) => call('recordUsage', req),
    creditRequest: (req) => call('creditRequest', req),
    creditBalances: (account, billing, at) => call('creditBalances', account, billing, at),
    grantEmails: (req) => call('grantEmails', req),
    billingRun: (req) => call('billingRun', req),
    billingData: (account) => call('billingData', account),
    saveAccountChange: (req) => call('saveAccountChange', req),
    createPortalSession: (req) => call('createPortalSession', req),
    openPortalLink: (account, id, session, at) => call('openPortalLink', account, id, session, at),
    portalSession: (account, session) => call('portalSession', account, session),
    recordFact: (req) => call('recordFact', req),
    facts: (account, kind) => call('facts', account, kind),
    fact: (account, kind, id) => call('fact', account, kind, id),
    addWebhookEndpoint: (account, endpoint) => call('addWebhookEndpoint', account, endpoint),
    webhookEndpoints: (account) => call('webhookEndpoints', account),
    deleteWebhookEndpoint: (account, id) => call('deleteWebhookEndpoint', account, id),
    webhookDeliveries: (account, limit, beforeSeq) => call('webhookDeliveries', account, limit, beforeSeq),
    redeliverWebhook: (account, eventId, now) => call('redeliverWebhook', account, eventId, now),
    refusedSpike: (req) => call('refusedSpike', req),
    claimDeliveries: (now, limit, leaseUntil) => call('claimDeliveries', now, limit, leaseUntil),
    recordDelivery: (account, seq, endpoint, update) => call('recordDelivery', account, seq, endpoint, update),
    unitContainers: (...a) => call('unitContainers', ...a),
    unitPage: (...a) => call('unitPage', ...a),
    conversationPage: (...a) => call('conversationPage', ...a),
    usageEventPage: (...a) => call('usageEventPage', ...a),
    // An export reads on its own thread and connection, beside the writer (./reader.ts); an
    // in-memory database has no file another connection could open, so it reads through this one.
    evidence: (req) => (opts.file === ':memory:' ? evidenceChunks(invoiceEvidence(store, req), req.format) : readEvidence(opts.file, req)),
    ping: () => call('ping'),
    async close() {
      if (dead) return
      await call('close')
      await worker.terminate()
    },
  }
  return store
}
