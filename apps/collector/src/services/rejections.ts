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
 */
import type { Logger } from 'pino'
import type { Clock } from '../domain/clock.js'
import type { RejectionRecord } from '../store/repository.js'
import type { Store } from './store.js'

export interface RejectionLog {
  /** Counts one refusal (or `r.count`). Synchronous: never waits for, or fails with, the database. */
  note(r: RejectionRecord): void
  /** Writes what was counted; resolves when committed (or logged as failed). */
  flush(): Promise<void>
}

export interface RejectionLogOptions {
  store: Pick<Store, 'recordRejections'>
  clock: Clock
  logger: Logger
  flushEveryMs?: number
  keysPerDay?: number
  maxPending?: number
}

const DAY_MS = 86_400_000
/** What a refusal is counted under once its account's keys for the day are spent. */
export const OTHER = '*'

export function createRejectionLog(opts: RejectionLogOptions): RejectionLog {
  const { store, clock, logger, flushEveryMs = 5_000, keysPerDay = 1_000, maxPending = 10_000 } = opts
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
    if (!keys) known.set(owner, (keys = new Set()))
    const key = keyOf(r)
    if (keys.has(key)) return r
    if (keys.size < keysPerDay) {
      keys.add(key)
      return r
    }
    return { ...r, container: r.account === null ? OTHER : r.container, origin: OTHER, subject: '' }
  }

  function flush(): Promise<void> {
    const rows = [...pending.values()]
    pending = new Map()
    pendingMinute = -1
    lastFlush = clock.now()
    if (rows.length === 0) return writing
    // One write at a time, in order: a flush waits for the one before it.
    writing = writing.then(() => store.recordRejections(rows)).catch((err) => {
      logger.error({ err, rows: rows.length }, 'could not record refusals')
    })
    return writing
  }

  return {
    note(r) {
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
    },
    flush,
  }
}
