/**
 * Per-request billing work does not grow with the subscription's age (docs/performance.md,
 * "Periods"): the period in force, its terms, the email check and the credit catch-up make as many
 * calendar computations, and take as long, in an account's hundredth month as in its second.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { periodAt, type BillingSubscription } from './period.js'
import { termsAt, type BillingAccount } from './rating.js'
import { emailMonthAt, emailWindow, emailsAt } from './invoice.js'
import { creditsDue, openLedger, replay, spend } from './ledger.js'
import type { UsageRow } from './meters.js'
import { growth, pro } from './testing/plans.js'

const DAY = 86_400_000
const plans = { growth, pro }

describe('per-request period work', () => {
  afterEach(() => vi.restoreAllMocks())
  const sub: BillingSubscription = {
    plan: 'growth',
    cycle: 'monthly',
    start: '2018-01-31',
    seats: 2,
    contacts: 1200,
    // Every change by the first month's end (an upgrade, a term bought, a downgrade waiting): the
    // second month and the hundredth differ only in their age.
    changes: [
      { at: '2018-01-20', plan: 'pro' },
      { at: '2018-02-10', seats: 4 },
      { at: '2018-02-15', cycle: 'quarterly' },
      { at: '2018-02-20', seats: 1 },
    ],
  }
  const a: BillingAccount = { timezone: 'Europe/Amsterdam', subscription: sub, plans }
  /** Calendar computations (Date.UTC) that the per-request billing calls make at `at`, on a warm process. */
  const work = (at: number) => {
    const window = emailWindow(a, at)
    if (!window) throw new Error('no window')
    const usage: UsageRow[] = [{ day: window.fromDay, emails: 3, contacts: 1500 }]
    const ledger = openLedger(replay(creditsDue(a, [], at - 40 * DAY)))
    const calls = () => {
      periodAt(sub, a.timezone, at)
      termsAt(a, at)
      emailWindow(a, at)
      emailsAt(a, { usage, finalized: [], emailGrants: [] }, at)
      emailMonthAt(a, at)
      creditsDue(a, ledger, at)
      spend(a, ledger, { id: 'x', action: 'sms', quantity: 1, at })
    }
    calls()
    const utc = vi.spyOn(Date, 'UTC')
    calls()
    const n = utc.mock.calls.length
    utc.mockRestore()
    return n
  }

  it('makes as many calendar computations in month 100 as in month 2', () => {
    const second = work(Date.UTC(2018, 2, 20, 12))
    const hundredth = work(Date.UTC(2026, 3, 20, 12))
    expect(second).toBeGreaterThan(0)
    // The walk made some 57 per period before the one in force: 141 in month 2, 5,853 in month 100.
    expect(hundredth).toBeLessThanOrEqual(second + 10)
  })

  // The time it takes is measured in bench/billing (month 2 against month 100, same run).
})
