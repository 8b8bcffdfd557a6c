/**
 * The billing runner with several accounts in flight: each account is still decided and written in
 * its own transaction, so the run bills exactly what one account at a time bills, in config order.
 */
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '@tally/protocol'
import { manualClock } from '../domain/clock.js'
import { createConfigState } from '../domain/config.js'
import { openSqliteStore } from '../storage.js'
import { createBillingRunner, SERVING_SHARE } from './billing-runner.js'

const CYCLES = [
  ['monthly', '2026-03-01'],
  ['quarterly', '2026-03-01'],
  ['semiannual', '2026-06-01'],
  ['annual', '2025-12-01'],
] as const
const AS_OF = Date.UTC(2026, 11, 1)

function config(n: number) {
  const accounts = Object.fromEntries(
    Array.from({ length: n }, (_, i) => {
      const [cycle, start] = CYCLES[i % 4]!
      return [
        `acct_${i}`,
        {
          name: `Shop ${i}`,
          timezone: 'UTC',
          subscription: { plan: 'growth', cycle, start, seats: 1 + (i % 3), contacts: 500 * i },
          keys: { secret: `sk_acct_${i}_secret`, read: `rk_acct_${i}_read` },
          containers: { [`ctr_${i}`]: { domains: [`shop${i}.test`], campaigns: { cmp_a: {} } } },
        },
      ]
    }),
  )
  const r = parseConfig({
    plans: {
      growth: {
        currency: 'EUR',
        basePrice: 4900,
        seatPrice: 1500,
        included: { impressions: 1000 },
        overage: { impressions: { per: 100, price: 40 } },
        contactRanges: [
          { upTo: 1000, price: 0 },
          { upTo: null, price: 2900 },
        ],
      },
    },
    accounts,
  })
  if (!r.ok) throw new Error(r.message)
  return createConfigState(r.value)
}

/** A store with a few days of impressions for every account, and a runner over it. */
function billed(n: number, concurrency: number) {
  const store = openSqliteStore({ file: ':memory:' })
  const insert = store.db.prepare('INSERT INTO rollups (account, day, container, kind, subject, units) VALUES (?, ?, ?, ?, ?, ?)')
  for (let i = 0; i < n; i++) {
    for (const day of ['2026-09-14', '2026-10-02', '2026-11-20']) insert.run(`acct_${i}`, day, `ctr_${i}`, 'campaign', 'cmp_a', 400 * (i % 5))
  }
  const runner = createBillingRunner({ store, config: config(n), clock: manualClock(AS_OF), logger: pino({ level: 'silent' }), concurrency })
  return { store, runner }
}

const invoicesOf = (store: ReturnType<typeof openSqliteStore>) =>
  store.db.prepare('SELECT account, key, number, total, invoice FROM invoices ORDER BY account, number').all()

describe('the billing runner', () => {
  it('bills with eight accounts in flight exactly what it bills one at a time, answering in config order', async () => {
    const one = billed(13, 1)
    const eight = billed(13, 8)
    const a = await one.runner.run(AS_OF)
    const b = await eight.runner.run(AS_OF)
    expect(b.map((r) => r.account)).toEqual(Array.from({ length: 13 }, (_, i) => `acct_${i}`))
    expect(b).toEqual(a)
    expect(a.every((r) => r.invoices.length > 0 && !r.error)).toBe(true)
    expect(invoicesOf(eight.store)).toEqual(invoicesOf(one.store))
  })

  it('writes nothing when run again with accounts in flight', async () => {
    const { store, runner } = billed(9, 4)
    await runner.run(AS_OF)
    const before = invoicesOf(store)
    const again = await runner.run(AS_OF)
    expect(again.flatMap((r) => r.invoices)).toEqual([])
    expect(invoicesOf(store)).toEqual(before)
  })

  it('rests after each account as long as it took when given half the time, and bills the same', async () => {
    const { store, runner, calls } = timed(4)
    const runs = await runner.run(AS_OF, undefined, 0.5)
    expect(runs.every((r) => r.invoices.length > 0 && !r.error)).toBe(true)
    expectRests(calls, 4, 0.5)
    const full = billed(4, 1)
    await full.runner.run(AS_OF)
    expect(invoicesOf(store)).toEqual(invoicesOf(full.store))
  })

  it(`rests so in a serving collector's timed run (SERVING_SHARE ${SERVING_SHARE})`, async () => {
    const { runner, calls } = timed(3)
    runner.start(3_600_000)
    try {
      await expect.poll(() => calls.length, { timeout: 5_000 }).toBe(3)
    } finally {
      runner.stop()
    }
    expectRests(calls, 3, SERVING_SHARE)
  })

  it('does not start a timed run while the last one is still billing: each account once, not once per tick', async () => {
    const { runner, calls } = timed(3)
    // A tick every 10 ms, an account every 20 ms and more, then its rest: ticks come during the run.
    runner.start(10)
    try {
      await expect.poll(() => calls.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(3)
    } finally {
      runner.stop()
    }
    expect(calls.slice(0, 3).map((c) => c.account)).toEqual(['acct_0', 'acct_1', 'acct_2'])
    expectRests(calls.slice(0, 3), 3, SERVING_SHARE)
  })
})

/** A runner whose store takes at least 20 ms an account, with each call's start and end. */
function timed(n: number) {
  const { store, runner } = billed(n, 1)
  const calls: { start: number; end: number; account: string }[] = []
  const billingRun = store.billingRun.bind(store)
  store.billingRun = async (req) => {
    const start = performance.now()
    await new Promise((r) => setTimeout(r, 20))
    const out = await billingRun(req)
    calls.push({ start, end: performance.now(), account: req.account })
    return out
  }
  return { store, runner, calls }
}

/**
 * Between two accounts' calls, the rest that `share` gives the first: (1 - share) / share of the
 * time it took (timers may fire a millisecond early).
 */
function expectRests(calls: { start: number; end: number }[], n: number, share: number) {
  expect(calls).toHaveLength(n)
  for (let k = 1; k < calls.length; k++) {
    const took = calls[k - 1]!.end - calls[k - 1]!.start
    expect(calls[k]!.start - calls[k - 1]!.end).toBeGreaterThanOrEqual((took * (1 - share)) / share - 2)
  }
}
