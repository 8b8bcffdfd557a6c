/**
 * What a billing run reads (docs/rules.md §5, "Settled periods"; docs/performance.md, "A month's
 * billing run"): from the first unsettled period on, so an account in its fourth year reads the
 * same days as one in its third month, and still issues what the whole history gives.
 */
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '@tally/protocol'
import { invoicesDue } from '@tally/billing'
import { manualClock } from '../domain/clock.js'
import { createConfigState } from '../domain/config.js'
import { billingAccount } from '../domain/billing-account.js'
import { openSqliteStore } from '../storage.js'
import { createBillingRunner } from './billing-runner.js'
import { windowAfter } from './billing.js'

const DAY = 86_400_000
const STARTS = { old: '2023-12-01', young: '2026-10-01' } as const
const AS_OF = Date.UTC(2026, 11, 1)

function config() {
  const account = (start: string, i: number) => ({
    timezone: 'UTC',
    subscription: { plan: 'growth', cycle: 'monthly', start, seats: 2, contacts: 800 },
    keys: { secret: `sk_acct_${i}_secret`, read: `rk_acct_${i}_read` },
    containers: { [`ctr_${i}`]: { domains: [`shop${i}.test`], campaigns: { cmp_a: {} } } },
  })
  const r = parseConfig({
    plans: {
      growth: {
        currency: 'EUR',
        basePrice: 4900,
        seatPrice: 1500,
        included: { impressions: 1000, alerts: 20 },
        overage: { impressions: { per: 100, price: 40 }, alerts: { per: 1, price: 3 } },
        contactRanges: [
          { upTo: 1000, price: 0 },
          { upTo: null, price: 2900 },
        ],
        freeCredits: 100,
      },
    },
    accounts: { old: account(STARTS.old, 0), young: account(STARTS.young, 1) },
  })
  if (!r.ok) throw new Error(r.message)
  return createConfigState(r.value)
}

describe('the billing window of a run', () => {
  it('reads the same days for an account in its fourth year as for one in its third month, and bills what the whole history gives', async () => {
    const store = openSqliteStore({ file: ':memory:' })
    const rollup = store.db.prepare('INSERT INTO rollups (account, day, container, kind, subject, units) VALUES (?, ?, ?, ?, ?, ?)')
    const daily = store.db.prepare('INSERT INTO usage_daily (account, day, alerts, emails, contacts) VALUES (?, ?, ?, ?, ?)')
    for (const [account, start] of Object.entries(STARTS)) {
      for (let t = Date.parse(`${start}T00:00:00Z`), i = 0; t < AS_OF; t += DAY, i++) {
        const day = new Date(t).toISOString().slice(0, 10)
        rollup.run(account, day, 'ctr', 'campaign', 'cmp_a', 30 + (i % 20))
        daily.run(account, day, 1, 0, i % 9 === 0 ? 600 + ((i * 37) % 900) : null)
      }
    }
    const state = config()
    const runner = createBillingRunner({ store, config: state, clock: manualClock(AS_OF), logger: pino({ level: 'silent' }) })
    // A run at each month boundary before this one, as the serving collector makes them.
    for (let m = 1; m <= 35; m++) await runner.run(Date.UTC(2023, 11 + m, 1) + 3_600_000)

    const reads = async (account: string) => {
      const billing = billingAccount(state, account)
      if (!billing) throw new Error(account)
      const window = windowAfter(billing, await store.lastRecurringKey(account))
      return { billing, window, read: await store.billingReads(account, window) }
    }
    const old = await reads('old')
    const young = await reads('young')
    // October and November: the period closing now, and the one before, whose late usage it still bills.
    expect(old.window).toMatchObject({ index: 34, fromDay: '2026-10-01' })
    expect(young.window).toMatchObject({ index: 0, fromDay: '2026-10-01' })
    expect(old.read.page).toHaveLength(61)
    expect(young.read.page).toHaveLength(61)
    expect(old.read.server).toHaveLength(young.read.server.length)
    // The first invoice (the minimum price), the one before the window, and those of the window.
    expect(old.read.invoices.map((i) => i.key)).toEqual(['recurring:0', 'recurring:33', 'recurring:34', 'recurring:35'])
    // The latest reading before it (every ninth day has one), which the paid contacts carry in.
    expect(old.read.reading?.day).toBe('2026-09-22')

    // The run issues what the whole history, read whole, says is due.
    const due = invoicesDue(old.billing, await store.billingData('old'), AS_OF)
    const [run] = await runner.run(AS_OF, 'old')
    expect(due.map((i) => i.key)).toEqual(['recurring:36'])
    expect(run?.invoices.map((i) => [i.key, i.total])).toEqual(due.map((i) => [i.key, i.total]))
    const stored = (await store.billingData('old')).finalized.at(-1)
    expect(stored?.lines).toEqual(due[0]?.lines)
  })
})
