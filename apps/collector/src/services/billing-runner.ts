/**
 * The billing runner: closes every period that has ended by `asOf`, for every account. Each
 * account is one store call, decided and written in one transaction with the account locked, so
 * runs never interleave on an account and running twice changes nothing (the second run finds
 * every invoice and entry already written). One account failing does not stop the others.
 *
 * Started three ways: on a timer in `tally serve`, by `tally bill --as-of`, and by
 * `POST /v1/admin/billing/run`.
 */
import type { Logger } from 'pino'
import type { Store } from './store.js'
import type { ConfigState } from '../domain/config.js'
import type { Clock } from '../domain/clock.js'
import { billingSegments } from '../domain/billing-account.js'

export interface AccountRun {
  account: string
  /** Credit log entries written (grants, expiries). */
  ledger: number
  invoices: { number: number | null; key: string; total: number; currency: string }[]
  error?: string
}

export interface BillingRunner {
  /**
   * Closes every period that ended by `asOf` (ms), for every account, or the one named. With
   * `share` below 1, the run rests after each account so that it takes at most that share of the
   * time (see SERVING_SHARE).
   */
  run(asOf: number, only?: string, share?: number): Promise<AccountRun[]>
  /** Runs now and then every `everyMs` until `stop()`, at SERVING_SHARE; failures are logged. */
  start(everyMs: number): void
  stop(): void
}

/**
 * The share of the time a serving collector's timed run may take. Each account is a transaction on
 * the storage thread that beacons share (on SQLite the one writer; on PostgreSQL the database's
 * backends on the same cores): billed back to back, the month's run kept that thread nine tenths
 * busy and beacons queued behind it (docs/performance.md, "A month's billing run"). The run rests
 * after each account three times as long as it took: a month of 10,000 accounts then takes minutes
 * beside the beacons instead of seconds. `tally bill` and the admin route run at full speed.
 */
export const SERVING_SHARE = 0.25

/** The key of the billing run's lock across collectors. */
export const BILLING_LOCK = 'tally:billing-run'

/**
 * `concurrency`: accounts billed at once (default 1). `tally bill` runs several; a serving
 * collector few, since its runs share the writer with ingestion (docs/performance.md).
 */
export function createBillingRunner(deps: { store: Store; config: ConfigState; clock: Clock; logger: Logger; concurrency?: number }): BillingRunner {
  const { store, config, clock, logger } = deps
  const concurrency = deps.concurrency ?? 1
  let timer: NodeJS.Timeout | undefined

  /** Per account, the `asOf` of its last complete run: a configuration version dated before it is billed already. */
  const doneThrough = new Map<string, number>()

  /** One account's run: every stretch of it, in order; a failure is reported, not thrown. */
  const runAccount = async (id: string, asOf: number): Promise<AccountRun | null> => {
    // The versions in force at each instant (docs/configuration.md): one run per stretch, each
    // closing what was issued in it, priced by the versions it names.
    const segments = billingSegments(config, id, doneThrough.get(id) ?? Number.NEGATIVE_INFINITY, asOf)
    if (segments.length === 0) return null
    try {
      let ledger = 0
      const invoices: AccountRun['invoices'] = []
      for (const seg of segments) {
        const r = await store.billingRun({ account: id, billing: seg.billing, asOf: seg.asOf, at: clock.now(), pricedBy: seg.pricedBy })
        ledger += r.ledger
        invoices.push(...r.invoices.map((i) => ({ number: i.number, key: i.key, total: i.total, currency: i.currency })))
      }
      if (asOf > (doneThrough.get(id) ?? Number.NEGATIVE_INFINITY)) doneThrough.set(id, asOf)
      if (ledger || invoices.length) logger.info({ account: id, asOf: new Date(asOf).toISOString(), ledger, invoices }, 'billing run')
      return { account: id, ledger, invoices }
    } catch (err) {
      logger.error({ err, account: id }, 'billing run failed for an account')
      return { account: id, ledger: 0, invoices: [], error: (err as Error).message }
    }
  }

  const run = async (asOf: number, only?: string, share = 1): Promise<AccountRun[]> => {
    const ids = only === undefined ? Object.keys(config.current().accounts) : [only]
    // `concurrency` accounts in flight, each its own transaction: on SQLite they share the group
    // commit, on PostgreSQL they use that many pooled connections. The answer keeps config order.
    const done: (AccountRun | null)[] = new Array(ids.length).fill(null)
    let next = 0
    const worker = async () => {
      for (let k = next++; k < ids.length; k = next++) {
        const began = performance.now()
        done[k] = await runAccount(ids[k] as string, asOf)
        const rest = share < 1 ? ((performance.now() - began) * (1 - share)) / share : 0
        if (rest > 0) await new Promise((r) => setTimeout(r, rest))
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, ids.length)) }, worker))
    return done.filter((r): r is AccountRun => r !== null)
  }

  return {
    run,
    start(everyMs) {
      // Every collector on a shared database ticks; the one holding the run's lock runs it. Explicit
      // runs (the admin route, `tally bill`) do not wait for it: per-account locks and unique keys
      // already make a concurrent run write nothing twice.
      const once = () => run(clock.now(), undefined, SERVING_SHARE)
      // A tick while this collector's last timed run is still billing (a month's run of many accounts
      // at SERVING_SHARE can outlast the interval) starts nothing: the run under way bills them all.
      let running = false
      const tick = () => {
        if (running) return
        running = true
        void (
          store.exclusive ? store.exclusive(BILLING_LOCK, once).then((r) => r.ran || logger.debug('billing run skipped: another collector holds it')) : once()
        )
          .catch((err) => logger.error({ err }, 'billing run failed'))
          .finally(() => {
            running = false
          })
      }
      tick()
      timer = setInterval(tick, everyMs)
      timer.unref()
    },
    stop() {
      if (timer) clearInterval(timer)
      timer = undefined
    },
  }
}
