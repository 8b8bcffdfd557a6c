/**
 * Evidence exports on one reader thread (docs/evidence.md, docs/security.md "Exports"). The
 * thread is started at the first export and kept: it runs every export of the process side by
 * side, each on its own read-only connection (WAL lets it read beside the writer, so the storage
 * thread keeps writing beacons), formats the pages and hands each page's bytes to the request
 * thread without a copy, which then only pipes them to the client. At most two pages of an export
 * wait for its client: the thread reads the next only when the request thread takes one, so a
 * client that stops reading costs a paused generator, not a thread. How many exports run at once
 * is the route's limit (../../domain/export-slots.ts).
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { SqliteRepository } from './repository.js'
import { prepare } from './statements.js'
import { classifySqliteError } from './engine.js'
import { StoreUnavailable } from '../repository.js'
import { StoreBug } from './worker.js'
import type { Repository } from '../repository.js'

/** The default export of a task module: the chunks of one read. */
export type ReadTask<R> = (repo: Repository, req: R) => AsyncIterable<Uint8Array>

type Reply = { job: number; chunk: Uint8Array } | { job: number; done: true } | { job: number; error: string; kind: 'unavailable' | 'bug' }

type Order = { job: number; start: { file: string; task: string; req: unknown } } | { job: number; more: true } | { job: number; stop: true }

/** Pages an export may have sent that the request thread has not taken yet. */
const AHEAD = 2
/**
 * The share of a core the reader thread may take. After each page it rests a third as long as the
 * page took to read and format, whichever export it was for: on a box of two cores, exports as
 * fast as their clients read would otherwise take one whole, and beacons wait for the other. Three
 * quarters keep an export of a million units over 100,000 rows a second (docs/performance.md).
 */
const READ_SHARE = 3 / 4

if (!isMainThread && parentPort && (workerData as { tallyEvidenceReader?: true } | undefined)?.tallyEvidenceReader) {
  const port = parentPort
  const jobs = new Map<number, { credit: number; stopped: boolean; wake: (() => void) | null }>()
  // What is read is the caller's: `task` is the URL of a module whose default export turns a
  // repository and the request into chunks (services/evidence-export.ts); this file holds none of it.
  const tasks = new Map<string, Promise<ReadTask<unknown>>>()
  const taskOf = (url: string) => {
    let t = tasks.get(url)
    if (!t) {
      t = import(url).then((m: { default: ReadTask<unknown> }) => m.default)
      tasks.set(url, t)
    }
    return t
  }
  /** Until when the thread rests (every export waits for it before reading its next page). */
  let restUntil = 0
  const rest = () => {
    const wait = restUntil - performance.now()
    return wait > 0 ? new Promise<void>((r) => setTimeout(r, wait)) : undefined
  }
  const run = async (job: number, file: string, task: string, req: unknown) => {
    const me = jobs.get(job) as { credit: number; stopped: boolean; wake: (() => void) | null }
    const db = new Database(file, { readonly: true, fileMustExist: true })
    db.pragma('busy_timeout = 5000')
    try {
      const repo = new SqliteRepository(prepare(db))
      const read = await taskOf(task)
      await rest()
      let began = performance.now()
      for await (const chunk of read(repo, req)) {
        const now = performance.now()
        restUntil = Math.max(restUntil, now) + ((now - began) * (1 - READ_SHARE)) / READ_SHARE
        while (me.credit === 0 && !me.stopped)
          await new Promise<void>((r) => {
            me.wake = r
          })
        me.wake = null
        if (me.stopped) return
        me.credit--
        port.postMessage({ job, chunk } satisfies Reply, [chunk.buffer as ArrayBuffer])
        await rest()
        began = performance.now()
      }
      port.postMessage({ job, done: true } satisfies Reply)
    } finally {
      db.close()
      jobs.delete(job)
    }
  }
  port.on('message', (m: Order) => {
    if ('start' in m) {
      jobs.set(m.job, { credit: AHEAD, stopped: false, wake: null })
      run(m.job, m.start.file, m.start.task, m.start.req).catch((e: unknown) => {
        const err = classifySqliteError(e, 'the database refused an evidence read') as Error
        port.postMessage({ job: m.job, error: err.message, kind: err instanceof StoreUnavailable ? 'unavailable' : 'bug' } satisfies Reply)
      })
      return
    }
    const me = jobs.get(m.job)
    if (!me) return
    if ('stop' in m) me.stopped = true
    else me.credit++
    me.wake?.()
  })
}

type Inbox = { push(m: Reply | { exit: number }): void }

/** The one reader thread and the exports it runs, by job number. */
let reader: { worker: Worker; inboxes: Map<number, Inbox> } | null = null
let jobs = 0

function readerThread() {
  if (reader) return reader
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { tallyEvidenceReader: true },
    // A small heap: each export holds a page or two of rows at a time.
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 },
  })
  const inboxes = new Map<number, Inbox>()
  const mine = { worker, inboxes }
  worker.on('message', (m: Reply) => inboxes.get(m.job)?.push(m))
  worker.on('error', (e: Error) => {
    for (const [job, box] of inboxes) box.push({ job, error: e.message, kind: 'bug' })
  })
  worker.on('exit', (code) => {
    if (reader === mine) reader = null
    for (const box of inboxes.values()) box.push({ exit: code })
  })
  // An idle reader never keeps the process alive.
  worker.unref()
  reader = mine
  return mine
}

/**
 * The chunks of `task` (a module URL, see `ReadTask`) read on the reader thread from the database
 * file `file`; ending the iteration early (a client gone, or cut by the route's write timeout)
 * stops the export.
 */
export async function* readOnThread(file: string, task: URL, req: unknown): AsyncGenerator<Uint8Array> {
  const { worker, inboxes } = readerThread()
  const job = ++jobs
  const queue: (Reply | { exit: number })[] = []
  let wake: (() => void) | null = null
  inboxes.set(job, {
    push: (m) => {
      queue.push(m)
      wake?.()
    },
  })
  worker.ref()
  worker.postMessage({ job, start: { file, task: task.href, req } } satisfies Order)
  let finished = false
  try {
    for (;;) {
      while (queue.length === 0)
        await new Promise<void>((r) => {
          wake = r
        })
      wake = null
      const m = queue.shift() as Reply | { exit: number }
      if ('chunk' in m) {
        worker.postMessage({ job, more: true } satisfies Order)
        yield m.chunk
      } else if ('done' in m) {
        finished = true
        return
      } else if ('error' in m) {
        finished = true
        throw m.kind === 'unavailable' ? new StoreUnavailable(m.error) : new StoreBug(m.error)
      } else throw new StoreUnavailable(`the evidence reader stopped (exit code ${m.exit})`)
    }
  } finally {
    if (!finished) worker.postMessage({ job, stop: true } satisfies Order)
    inboxes.delete(job)
    if (inboxes.size === 0) worker.unref()
  }
}
