/**
 * Group commit on PostgreSQL for the beacons' transactions (`Engine.grouped`, ../repository.ts):
 * the beacons that arrive while the engine is busy are written together, in ONE transaction on
 * one connection, as the SQLite engine does (../sqlite/engine.ts). Their `insertUnits` calls made
 * in the same turn go out as one statement, their `addRollups` as one upsert sent with the COMMIT,
 * and every promise settles only after the shared COMMIT. A beacon of 50 impressions then costs
 * the database a share of four statements and two round trips instead of all of them, and the
 * shared rollup rows are written once per group instead of once per beacon.
 *
 * There are no savepoints: a group is all or nothing. When anything in it fails (a statement, a
 * service, the commit), it is rolled back and each of its transactions runs again alone, as
 * `transaction` runs it (retried on a deadlock), so each request gets its own answer and a retry
 * never counts twice; only a database that cannot serve now (503) answers them all at once.
 *
 * What a grouped function may do: the beacon's writes and reads (../../services/ingest.ts). Two
 * of them deciding on one account's stored state (a conversation's fold) take turns at
 * `lockAccount`, the second running once the first has finished, and each sees what the one
 * before it wrote: the statements of one connection run in the order they were sent. Rollups are
 * added at the end of the group, so a grouped function does not read back the rollups it adds.
 */
import { StoreUnavailable, type Repository, type RollupDelta, type UnitRow } from '../repository.js'
import { isRetryableTransaction } from './connect.js'
import type { UnitBatch } from './units.js'
import type { PgRepository } from './repository.js'

interface Job {
  run: (tx: Repository) => Promise<unknown>
  resolve: (v: unknown) => void
  reject: (e: unknown) => void
}

export interface GroupOptions {
  /** Runs `fn` in a transaction of its own on a pooled connection, once (no retry); rejects as `Engine.transaction` does. */
  once: <T>(fn: (tx: PgRepository) => Promise<T>) => Promise<T>
  /** Runs `fn` in a transaction of its own, retried as `Engine.transaction` retries it. */
  alone: <T>(fn: (tx: Repository) => Promise<T>) => Promise<T>
  /** Groups written at once by this collector (each holds one pooled connection). */
  inFlight: number
  /** Transactions in one group at most. */
  maxJobs: number
}

export class GroupCommit {
  private queue: Job[] = []
  private running = 0
  private scheduled = false

  constructor(private readonly opts: GroupOptions) {}

  submit<T>(run: (tx: Repository) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: (v) => resolve(v as T), reject })
      this.schedule()
    })
  }

  /** Starts a group on the next turn, so that what arrives in this one joins it. */
  private schedule(): void {
    if (this.scheduled || this.running >= this.opts.inFlight || this.queue.length === 0) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      if (this.running >= this.opts.inFlight || this.queue.length === 0) return
      const jobs = this.queue.splice(0, this.opts.maxJobs)
      this.running++
      void this.write(jobs).finally(() => {
        this.running--
        this.schedule()
      })
      this.schedule()
    })
  }

  private async write(jobs: Job[]): Promise<void> {
    if (jobs.length === 1) {
      const [job] = jobs as [Job]
      await this.opts.alone(job.run).then(job.resolve, job.reject)
      return
    }
    let values: unknown[]
    try {
      values = await this.opts.once((tx) => shared(tx, jobs))
    } catch (e) {
      if (e instanceof StoreUnavailable && !isRetryableTransaction(e)) {
        for (const job of jobs) job.reject(e)
        return
      }
      // Nothing of the group was written: each runs again alone and gets its own answer.
      await Promise.all(jobs.map((job) => this.opts.alone(job.run).then(job.resolve, job.reject)))
      return
    }
    for (const [k, job] of jobs.entries()) job.resolve(values[k])
  }
}

/** Runs the jobs of a group on one transaction's repository; rejects when any of them failed. */
async function shared(tx: PgRepository, jobs: Job[]): Promise<unknown[]> {
  const units = new UnitBatcher(tx)
  const rollups: (RollupDelta & { account: string })[] = []
  /** Per account, the end of the last job that took its turn at lockAccount. */
  const turns = new Map<string, Promise<unknown>>()
  const started = jobs.map((job) => {
    let finished!: () => void
    const done = new Promise<void>((r) => (finished = r))
    const held = new Set<string>()
    const view: PgRepository = Object.create(tx)
    view.insertUnits = (account, container, rows) => units.add({ account, container, units: rows })
    view.addRollups = async (account, deltas) => {
      for (const d of deltas) rollups.push({ account, ...d })
    }
    view.lockAccount = async (account) => {
      if (held.has(account)) return
      held.add(account)
      const before = turns.get(account)
      turns.set(account, done)
      await before
      await tx.lockAccount(account)
    }
    return job.run(view).finally(finished)
  })
  units.flush()
  const results = await Promise.allSettled(started)
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) throw failed.reason
  await tx.addRollupRows(rollups)
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value)
}

/** The `insertUnits` calls of one turn, sent as one statement. */
class UnitBatcher {
  private pending: { batch: UnitBatch; resolve: (v: boolean[]) => void; reject: (e: unknown) => void }[] = []
  private scheduled = false

  constructor(private readonly tx: PgRepository) {}

  add(batch: { account: string; container: string; units: readonly UnitRow[] }): Promise<boolean[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ batch, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        queueMicrotask(() => this.flush())
      }
    })
  }

  flush(): void {
    this.scheduled = false
    const calls = this.pending
    this.pending = []
    if (calls.length === 0) return
    this.tx.insertUnitBatches(calls.map((c) => c.batch)).then(
      (fresh) => {
        for (const [k, c] of calls.entries()) c.resolve(fresh[k] ?? [])
      },
      (e: unknown) => {
        for (const c of calls) c.reject(e)
      },
    )
  }
}
