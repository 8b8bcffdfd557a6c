/**
 * Refusals a storefront can cause (docs/protocol.md §5, docs/security.md), counted without
 * letting a flood of them cost a write each or fill the table:
 *
 * - counts are summed in memory and written in one transaction per flush: when the minute turns,
 *   when `flushEveryMs` passed since the last flush, when `maxPending` keys are waiting, before a
 *   read (`GET /v1/rejections` sees what this process noted), and when the server stops;
 * - each account (and the unknown containers together) may add at most `keysPerDay` distinct
 *   (container, reason, origin, subject) keys per UTC day; past that a refusal is counted under
 *   the origin `*` with no subject (and, for unknown containers, the container `*`), so 36,000
 *   forged origins make a handful of rows, not 36,000. Counts are never dropped, only merged.
 *
 * Per process, like the rate limits: N collectors allow N x the keys per day (still bounded).
 * A failed write is logged and its counts dropped: a count never changes an answer.
 *
 * The refusals the beacon route answers with 403 (`noteAndLog`) also go to the log, aggregated
 * (`createRejectionLines`, docs/security.md "Refusals"): one line per (container, reason) at once,
 * then at most one per `logEveryMs` carrying the count since the line before.
 */
import type { Logger } from 'pino'
import type { Clock } from '../domain/clock.js'
import type { RejectionRecord } from '../engines/repository.js'
import type { Store } from './store.js'

export interface RejectionLog {
  /** Counts one refusal (or `r.count`). Synchronous: never waits for, or fails with, the database. */
  note(r: RejectionRecord): void
  /** `note`, and the refusal goes to the log too, aggregated per (container, reason) (`createRejectionLines`). */
  noteAndLog(r: RejectionRecord): void
  /**
   * Writes what was counted; resolves when committed (or logged as failed). Also writes the log
   * lines that are due; `{ final: true }` (at stop) writes every count not yet logged.
   */
  flush(opts?: { final?: boolean }): Promise<void>
}

export interface RejectionLogOptions {
  store: Pick<Store, 'recordRejections'>
  clock: Clock
  logger: Logger
  flushEveryMs?: number
  keysPerDay?: number
  maxPending?: number
  /** At most one log line per (container, reason) this often (default a minute). */
  logEveryMs?: number
  /** (container, reason) keys the log lines remember (default 100); past that, the container `*`. */
  logKeys?: number
}

const DAY_MS = 86_400_000
/** What a refusal is counted under once its account's keys for the day are spent. */
export const OTHER = '*'

export function createRejectionLog(opts: RejectionLogOptions): RejectionLog {
  const { store, clock, logger, flushEveryMs = 5_000, keysPerDay = 1_000, maxPending = 10_000 } = opts
  const lines = createRejectionLines({ logger, everyMs: opts.logEveryMs, maxKeys: opts.logKeys })
  let pending = new Map<string, RejectionRecord & { count: number }>()
  let pendingMinute = -1
  let lastFlush = clock.now()
  let budgetDay = -1
  /** Keys already given a row today, per account ('' for unknown containers). */
  const known = new Map<string, Set<string>>()
  let writing: Promise<void> = Promise.resolve()

  const keyOf = (r: RejectionRecord) => JSON.stringify([r.container, r.reason, r.origin, r.subject ?? ''])

  function budgeted(r: RejectionRecord): RejectionRecord {
    const day = Math.floor(r.at / DAY_MS)
    if (day !== budgetDay) {
      known.clear()
      budgetDay = day
    }
    const owner = r.account ?? ''
    let keys = known.get(owner)
    if (!keys) {
      keys = new Set()
      known.set(owner, keys)
    }
    const key = keyOf(r)
    if (keys.has(key)) return r
    if (keys.size < keysPerDay) {
      keys.add(key)
      return r
    }
    return { ...r, container: r.account === null ? OTHER : r.container, origin: OTHER, subject: '' }
  }

  function flush(o: { final?: boolean } = {}): Promise<void> {
    lines.due(clock.now(), o.final === true)
    const rows = [...pending.values()]
    pending = new Map()
    pendingMinute = -1
    lastFlush = clock.now()
    if (rows.length === 0) return writing
    // One write at a time, in order: a flush waits for the one before it.
    writing = writing
      .then(() => store.recordRejections(rows))
      .catch((err) => {
        logger.error({ err, rows: rows.length }, 'could not record refusals')
      })
    return writing
  }

  function note(r: RejectionRecord): void {
    const minute = Math.floor(r.at / 60_000)
    if (pending.size > 0 && (minute !== pendingMinute || pending.size >= maxPending || r.at - lastFlush >= flushEveryMs)) void flush()
    pendingMinute = minute
    const b = budgeted(r)
    const key = `${b.account ?? ''}\u0000${keyOf(b)}`
    const held = pending.get(key)
    if (held) {
      held.count += r.count ?? 1
      held.at = r.at
    } else {
      pending.set(key, { ...b, subject: b.subject ?? '', count: r.count ?? 1 })
    }
  }

  return {
    note,
    noteAndLog(r) {
      note(r)
      lines.note(r)
    },
    flush,
  }
}

export interface RejectionLinesOptions {
  logger: Pick<Logger, 'warn'>
  /** At most one line per key this often; default a minute. */
  everyMs?: number
  /** Keys remembered at once; default 100. Past that, a refusal is counted under the container `*`. */
  maxKeys?: number
}

/**
 * Refusals as log lines, aggregated so that a flood cannot fill the disk or drown the log
 * (docs/security.md, "Refusals"): per (container, reason), the first refusal is logged at once
 * (`count: 1`), later ones are counted, and `due` logs each key's count since its last line once
 * `everyMs` has passed since that line. Memory is bounded: at most `maxKeys` keys, plus one
 * `*`-container key per reason once they are taken (a forged container per request cannot grow
 * it); a key whose last line is an interval old and that has nothing to log is forgotten by `due`.
 * Counts are never dropped: every refusal is in exactly one line, once `due(now, true)` ran.
 */
export function createRejectionLines(opts: RejectionLinesOptions): {
  note(r: RejectionRecord): void
  due(now: number, all?: boolean): void
  /** Keys held now (for tests). */
  size(): number
} {
  const { logger, everyMs = 60_000, maxKeys = 100 } = opts
  type Key = {
    container: string
    account: string | null
    reason: string
    origin: string
    /** Counted since `since`, not logged yet; `lastLine`: when this key's last line was written. */
    count: number
    since: number
    lastLine: number
    /** The `*` key of a reason, held beyond `maxKeys`. */
    spill: boolean
  }
  const keys = new Map<string, Key>()
  let spilled = 0

  const line = (k: Key, count: number) =>
    logger.warn(
      { container: k.container, account: k.account ?? undefined, reason: k.reason, origin: k.origin, count, since: new Date(k.since).toISOString() },
      'beacons refused',
    )

  return {
    note(r) {
      let id = JSON.stringify([r.container, r.reason])
      let spill = false
      if (!keys.has(id) && keys.size - spilled >= maxKeys) {
        // Every key is taken: counted under the container `*` (one key per reason, a fixed set).
        id = JSON.stringify([OTHER, r.reason, 'spill'])
        spill = true
      }
      const n = r.count ?? 1
      const k = keys.get(id)
      if (k) {
        k.count += n
        k.origin = r.origin
        return
      }
      const fresh: Key = {
        container: spill ? OTHER : r.container,
        account: spill ? null : r.account,
        reason: r.reason,
        origin: r.origin,
        count: 0,
        since: r.at,
        lastLine: r.at,
        spill,
      }
      keys.set(id, fresh)
      if (spill) spilled++
      // The first refusal of a key is logged at once: a misconfigured page shows without delay.
      line(fresh, n)
    },
    due(now, all = false) {
      for (const [id, k] of keys) {
        if (!all && now - k.lastLine < everyMs) continue
        if (k.count > 0) {
          line(k, k.count)
          k.count = 0
          k.since = now
          k.lastLine = now
        } else {
          keys.delete(id)
          if (k.spill) spilled--
        }
      }
    },
    size: () => keys.size,
  }
}
