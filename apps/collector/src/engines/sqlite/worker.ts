/**
 * The SQLite engine on its own thread. better-sqlite3 blocks while it writes; on the request
 * thread that time adds to every request's parsing and validation. Here the two run side by
 * side: the request thread posts each call, this thread runs it (over the engine, group commit,
 * see ./engine.ts) and answers after the COMMIT.
 *
 * This file knows nothing of what it hosts: the thread's entry module (../../storage-thread.ts)
 * gives `hostOnThread` the object to serve (the services over the engine), and the thread names
 * its methods when it is ready, so the request thread's side is derived from them, never listed
 * by hand.
 *
 * Error kinds cross the thread boundary: a StoreUnavailable stays one (503 and Retry-After), and
 * anything else arrives as a `StoreBug` with its message and stack (500, logged with an error id),
 * so clients do not retry a deterministic failure forever.
 */
import { Worker, parentPort } from 'node:worker_threads'
import { StoreUnavailable } from '../repository.js'

interface Call {
  id: number
  method: string
  args: unknown[]
}
type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; kind: 'unavailable' | 'bug'; message: string; stack?: string | undefined }

/** A failure on the storage thread that retrying will not fix. */
export class StoreBug extends Error {
  override readonly name = 'StoreBug'
}

/** On the storage thread: serves the methods of what `open` returns; the ready message names them. */
export function hostOnThread(open: () => object): void {
  const port = parentPort
  if (!port) throw new Error('hostOnThread runs on a worker thread')
  let target: Record<string, unknown>
  try {
    target = open() as Record<string, unknown>
  } catch (e) {
    // SQLite's code may be on a wrapped cause (a migration's query error): the opener names it.
    let code: string | undefined
    for (let c: unknown = e, depth = 0; c && !code && depth < 5; c = (c as { cause?: unknown }).cause, depth++) code = (c as { code?: string }).code
    port.postMessage({ id: 0, ok: false, kind: 'unavailable', message: `${code ? `${code}: ` : ''}${(e as Error).message}` } satisfies Answer)
    throw e
  }
  port.on('message', (call: Call) => {
    const fn = target[call.method] as (...a: unknown[]) => Promise<unknown>
    fn.apply(target, call.args).then(
      (value) => port.postMessage({ id: call.id, ok: true, value } satisfies Answer),
      (e: unknown) => {
        const err = e as Error
        const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
        port.postMessage({
          id: call.id,
          ok: false,
          kind: e instanceof StoreUnavailable ? 'unavailable' : 'bug',
          message: `${err.message}${cause}`,
          stack: err.stack,
        } satisfies Answer)
      },
    )
  })
  const methods = Object.keys(target).filter((k) => typeof target[k] === 'function')
  port.postMessage({ id: 0, ok: true, value: methods } satisfies Answer)
}

/** A thread's methods seen from the request thread: each call posted, answered after the thread's work. */
export interface Remote {
  /** The methods the thread serves, as it named them. */
  methods: string[]
  call(method: string, ...args: unknown[]): Promise<unknown>
  /** Asks the thread to run `close` (when it serves one), then stops it. */
  close(): Promise<void>
}

/** Starts `entry` (a module that calls `hostOnThread`) on a worker thread; resolves once it is ready. */
export async function openOnThread(entry: string | URL, workerData: unknown): Promise<Remote> {
  const worker = new Worker(entry, { workerData })
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  let next = 1
  let dead: Error | undefined
  const ready = new Promise<string[]>((resolve, reject) => {
    worker.once('message', (a: Answer) => (a.ok ? resolve(a.value as string[]) : reject(new StoreUnavailable(a.message))))
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
  const methods = await ready

  const call = (method: string, ...args: unknown[]) => {
    if (dead) return Promise.reject(new StoreUnavailable('the storage thread stopped', { cause: dead }))
    return new Promise<unknown>((resolve, reject) => {
      const id = next++
      pending.set(id, { resolve, reject })
      worker.postMessage({ id, method, args } satisfies Call)
    })
  }
  return {
    methods,
    call,
    async close() {
      if (dead) return
      if (methods.includes('close')) await call('close')
      await worker.terminate()
    },
  }
}
