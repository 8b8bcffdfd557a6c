/**
 * A long read on a thread of its own (the evidence export, docs/evidence.md). It reads the pages
 * on its own read-only connection (WAL lets it read beside the writer, so the storage thread
 * keeps writing beacons), and hands each chunk's bytes to the request thread without a copy,
 * which then only pipes them to the client. At most two chunks wait for the client: the thread
 * reads the next only when the request thread takes one.
 *
 * What is read is the caller's: `task` is the URL of a module whose default export turns a
 * repository and the request into chunks (services/evidence-export.ts); this file holds none of it.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { SqliteRepository, prepare } from './repository.js'
import { classifySqliteError } from './engine.js'
import { StoreUnavailable } from '../repository.js'
import { StoreBug } from './worker.js'
import type { Repository } from '../repository.js'

/** The default export of a task module: the chunks of one read. */
export type ReadTask<R> = (repo: Repository, req: R) => AsyncIterable<Uint8Array>

type Message =
  | { chunk: Uint8Array }
  | { done: true }
  | { error: string; kind: 'unavailable' | 'bug' }

/** Pages a thread may have sent that the request thread has not taken yet. */
const AHEAD = 2

interface ReaderData { tallyRead: { file: string; task: string; req: unknown } }

if (!isMainThread && parentPort && (workerData as ReaderData | undefined)?.tallyRead) {
  const port = parentPort
  const { file, task, req } = (workerData as ReaderData).tallyRead
  let credit = AHEAD
  let wake: (() => void) | null = null
  port.on('message', () => {
    credit++
    wake?.()
  })
  const run = async () => {
    const db = new Database(file, { readonly: true, fileMustExist: true })
    db.pragma('busy_timeout = 5000')
    try {
      const repo = new SqliteRepository(prepare(db))
      const read = (await import(task) as { default: ReadTask<unknown> }).default
      for await (const chunk of read(repo, req)) {
        while (credit === 0) await new Promise<void>((r) => { wake = r })
        wake = null
        credit--
        port.postMessage({ chunk } satisfies Message, [chunk.buffer as ArrayBuffer])
      }
      port.postMessage({ done: true } satisfies Message)
    } finally {
      db.close()
    }
  }
  run().catch((e: unknown) => {
    const err = classifySqliteError(e, 'the database refused an evidence read') as Error
    port.postMessage({ error: err.message, kind: err instanceof StoreUnavailable ? 'unavailable' : 'bug' } satisfies Message)
  })
}

/**
 * The chunks of `task` (a module URL, see `ReadTask`) read on a new thread from the database file
 * `file`; ending the iteration early (a client gone) stops the thread.
 */
export async function* readOnThread(file: string, task: URL, req: unknown): AsyncGenerator<Uint8Array> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { tallyRead: { file, task: task.href, req } } satisfies ReaderData })
  const queue: (Message | { exit: number })[] = []
  let wake: (() => void) | null = null
  const push = (m: Message | { exit: number }) => {
    queue.push(m)
    wake?.()
  }
  worker.on('message', push)
  worker.on('error', (e: Error) => push({ error: e.message, kind: 'bug' }))
  worker.on('exit', (code) => push({ exit: code }))
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => { wake = r })
      wake = null
      const m = queue.shift() as Message | { exit: number }
      if ('chunk' in m) {
        worker.postMessage('more')
        yield m.chunk
      } else if ('done' in m) return
      else if ('error' in m) throw m.kind === 'unavailable' ? new StoreUnavailable(m.error) : new StoreBug(m.error)
      else throw new StoreUnavailable(`the evidence reader stopped (exit code ${m.exit})`)
    }
  } finally {
    await worker.terminate()
  }
}
