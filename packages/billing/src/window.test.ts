/**
 * Settled periods and the billing window (docs/rules.md §5, "Settled periods"): a run that reads
 * only the window issues exactly the invoices a run over the whole history issues, and a settled
 * period is left as it was billed.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { growth, pro } from './testing/plans.js'
import { runBilling, type BillingData, type Invoice } from './invoice.js'
import { openLedger, replay, type LedgerEntry } from './ledger.js'
import { addDays } from './period.js'
import type { UsageRow } from './meters.js'
import type { BillingAccount } from './rating.js'
import { billingWindow, lastRecurring, type BillingWindow } from './window.js'
import { account, utc } from './invoice.fixtures.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const flat = { ...growth, basePrice: 3000, contactRanges: [] }

/** What the collector reads for a window (`Repository.billingReads`), from everything stored. */
function windowOf(w: BillingWindow, usage: readonly UsageRow[], ledger: readonly LedgerEntry[], finalized: readonly Invoice[]): BillingData {
  const first = finalized.find((i) => i.key === w.firstKey)?.number ?? 0
  const wanted = finalized.filter((i) => (i.number ?? 0) >= first || w.keys.includes(i.key))
  const before = usage.filter((r) => r.day < w.fromDay && r.contacts !== undefined).at(-1)
  return {
    usage: usage.filter((r) => r.day >= w.fromDay),
    ledger: ledger.filter((e) => e.type === 'purchase' && e.at >= w.from),
    finalized: wanted,
    readingBefore: before ? { day: before.day, contacts: before.contacts as number } : null,
  }
}

const CONTACTS = [0, 600, 1000, 1200, 3000, 5000, 6000]

const historyArb = fc.record({
  cycle: fc.constantFrom('monthly', 'monthly', 'quarterly', 'semiannual', 'annual'),
  start: fc.record({ m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 31 }) }),
  plan: fc.constantFrom('growth', 'pro', 'flat'),
  contacts: fc.constantFrom(...CONTACTS),
  changes: fc.array(
    fc.record({
      offset: fc.integer({ min: 0, max: 900 }),
      plan: fc.option(fc.constantFrom('growth', 'pro', 'flat'), { nil: undefined }),
      seats: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
      products: fc.option(fc.subarray(['data', 'push']), { nil: undefined }),
    }),
    { maxLength: 4 },
  ),
  cancel: fc.option(fc.integer({ min: 200, max: 1000 }), { nil: undefined, freq: 4 }),
  // Usage on some days: alerts over the quota now and then, contact readings, each arriving up to 71 hours late.
  days: fc.array(
    fc.record({
      offset: fc.integer({ min: 0, max: 940 }),
      alerts: fc.integer({ min: 0, max: 900 }),
      impressions: fc.integer({ min: 0, max: 60_000 }),
      contacts: fc.option(fc.constantFrom(...CONTACTS), { nil: undefined }),
      late: fc.integer({ min: 0, max: 71 }),
    }),
    { maxLength: 80 },
  ),
  purchases: fc.array(fc.integer({ min: 0, max: 940 * 24 }), { maxLength: 4 }),
  lag: fc.integer({ min: 0, max: 40 }),
})

describe('the billing window', () => {
  it('starts one period before the newest finalized recurring invoice, and at the first period before there is one', () => {
    const a = account()
    expect(lastRecurring(['recurring:0', 'credits:purchase:x', 'recurring:12', 'recurring:3:late:1'])).toBe(12)
    expect(lastRecurring(['credits:purchase:recurring:9'])).toBeNull()
    expect(billingWindow(a, null)).toMatchObject({ index: 0, fromDay: '2026-07-12', keys: [] })
    expect(billingWindow(a, 1)).toMatchObject({ index: 0, fromDay: '2026-07-12' })
    expect(billingWindow(a, 12)).toMatchObject({
      index: 11,
      fromDay: '2027-06-12',
      from: utc(2027, 6, 12),
      firstKey: 'recurring:11',
      keys: ['recurring:0', 'recurring:10'],
    })
  })

  it('issues, run after run over two and a half years, exactly what a run over the whole history issues', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const start = `2025-${String(h.start.m).padStart(2, '0')}-${String(Math.min(h.start.d, 28)).padStart(2, '0')}`
        const changes = h.changes.map((c) => ({
          at: addDays(start, c.offset),
          ...(c.plan === undefined ? {} : { plan: c.plan }),
          ...(c.seats === undefined ? {} : { seats: c.seats }),
          ...(c.products === undefined ? {} : { products: [...c.products] }),
        }))
        const a: BillingAccount = {
          ...account({
            plan: h.plan,
            cycle: h.cycle,
            start,
            contacts: h.contacts,
            changes,
            ...(h.cancel === undefined ? {} : { cancelledAt: addDays(start, h.cancel) }),
          }),
          plans: { growth, pro, flat },
        }
        const t0 = Date.parse(`${start}T00:00:00Z`)
        const rows = new Map<string, UsageRow & { arrives: number }>()
        for (const d of h.days) {
          const day = addDays(start, d.offset)
          const arrives = Date.parse(`${day}T12:00:00Z`) + d.late * HOUR
          const row = { day, alerts: d.alerts, impressions: d.impressions, arrives, ...(d.contacts === undefined ? {} : { contacts: d.contacts }) }
          rows.set(day, row)
        }
        const usage = [...rows.values()].sort((x, y) => (x.day < y.day ? -1 : 1))
        const purchases: LedgerEntry[] = h.purchases.map((hours, i) => ({
          id: `purchase:p${i}`,
          type: 'purchase',
          wallet: 'account',
          at: t0 + hours * HOUR,
          credits: 1000,
          lot: `purchase:p${i}`,
          pack: 'small',
          price: 1000,
          currency: 'EUR',
        }))
        // A run a few hours after each month boundary, as the runner does.
        const runs = Array.from({ length: 31 }, (_, k) => Date.parse(`${addMonths(start, k + 1)}T00:00:00Z`) + ((h.lag * (k + 1)) % 31) * HOUR)
        let ledger: LedgerEntry[] = []
        let finalized: Invoice[] = []
        let issued = 0
        for (const asOf of runs) {
          ledger = [...ledger, ...purchases.filter((p) => p.at <= asOf && !ledger.includes(p))].sort((x, y) => x.at - y.at)
          const seen = usage.filter((r) => r.arrives <= asOf).map(({ arrives: _, ...r }) => r)
          const whole = runBilling(a, { usage: seen, ledger, finalized }, asOf)
          const w = billingWindow(a, lastRecurring(finalized.map((i) => i.key)))
          const windowed = runBilling(a, windowOf(w, seen, ledger, finalized), asOf, openLedger(replay(ledger)))
          expect(windowed).toEqual(whole)
          // A window decided from an older invoice (another collector finalized one meanwhile) reads more, bills the same.
          const last = lastRecurring(finalized.map((i) => i.key))
          const early = billingWindow(a, last === null ? null : last - 1)
          expect(runBilling(a, windowOf(early, seen, ledger, finalized), asOf, openLedger(replay(ledger)))).toEqual(whole)
          ledger = [...ledger, ...whole.ledger]
          finalized = [...finalized, ...whole.invoices]
          issued += whole.invoices.length
        }
        expect(issued).toBeGreaterThan(0)
      }),
      { numRuns: 60 },
    )
  })
})

describe('settled periods', () => {
  // Monthly from Jul 12: period 0 is Jul 12 - Aug 12; recurring:2 (Sep 12) settles it.
  const seats = (n: number) => account({ changes: [{ at: '2026-07-20', seats: n }] })
  const billed = (a: BillingAccount, at: number) => runBilling(a, { usage: [], ledger: [], finalized: [] }, at).invoices

  it.each([
    // Edited while period 0 is not settled: the edit is billed as ever (docs/billing.md, "Changes").
    ['before recurring:2', utc(2026, 9, 11), ['upgrade:0:2026-07-20:seats=5']],
    // Edited once recurring:2 is final: period 0 keeps what it was billed; the new seats bill from the
    // first unsettled period on, on the invoices not finalized yet (docs/rules.md §5, "Settled periods").
    ['after recurring:2', utc(2026, 9, 13), []],
  ])('bills an edit of a change in period 0 made %s as the rule says', (_, firstRun, keys) => {
    const first = billed(seats(4), firstRun)
    expect(first.map((i) => i.key)).toContain('upgrade:0:2026-07-20:seats=4')
    const next = runBilling(seats(5), { usage: [], ledger: [], finalized: first }, firstRun + DAY)
    expect(next.invoices.filter((i) => i.period?.index === 0).map((i) => i.key)).toEqual(keys)
  })

  it('re-prices a period for late usage until it is settled, and not after', () => {
    const a = account()
    const over = (day: string): UsageRow => ({ day, alerts: 1010 })
    const first = billed(a, utc(2026, 9, 12) + HOUR)
    // 10 alerts over the quota in period 0, stored after recurring:1 billed it.
    const late = runBilling(a, { usage: [over('2026-08-10')], ledger: [], finalized: first.slice(0, 2) }, utc(2026, 9, 12) + HOUR)
    expect(
      late.invoices
        .find((i) => i.key === 'recurring:2')
        ?.lines.filter((l) => l.kind === 'adjustment')
        .map((l) => l.amount),
    ).toEqual([10])
    // The same rows once recurring:2 is final: period 0 is settled, nothing re-prices it.
    const after = runBilling(a, { usage: [over('2026-08-10')], ledger: [], finalized: first }, utc(2026, 10, 12) + HOUR)
    expect(after.invoices.flatMap((i) => i.lines).filter((l) => l.kind === 'adjustment')).toEqual([])
  })

  it('reads the rows of the window only: the same days for an account in its third year as in its second month', () => {
    const w = (start: string, at: number) => {
      const a = account({ start })
      const invoices = billed(a, at)
      const win = billingWindow(a, lastRecurring(invoices.map((i) => i.key)))
      return (Date.parse(`2026-12-12T00:00:00Z`) - win.from) / DAY
    }
    expect(w('2023-11-12', utc(2026, 11, 12) + HOUR)).toBe(w('2026-10-12', utc(2026, 11, 12) + HOUR))
  })
})

/** `n` months after a date (the day clamped), for the boundaries of the runs. */
function addMonths(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const total = y * 12 + (m - 1) + n
  const last = new Date(Date.UTC(Math.floor(total / 12), (total % 12) + 1, 0)).getUTCDate()
  return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`
}
