/**
 * Histories on which the collector and the model once disagreed, kept as they were found (the
 * oracle's random runs may not draw them again). Each must agree on every invoice.
 */
import { describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../apps/collector/src/storage.js'
import { drive } from './drive.js'
import type { History } from './history.js'

describe('the billing oracle on histories it once failed', () => {
  it('carries no contacts reading dated before the subscription started into a window (seed -439775347)', async () => {
    // A reading of 5,000 contacts dated the day before a flat plan's start; an upgrade to a plan with
    // contact ranges in the third period. The chain of periods never counts that reading; the window
    // once carried it in and billed the contacts range the model does not.
    const store = openSqliteStore({ file: ':memory:' })
    const v = await drive(store, 'acct1', HISTORY)
    expect(v.invoices).toBeGreaterThan(0)
    expect(v.disagreement).toBeNull()
    await store.close()
  })
})

const HISTORY = {
  zone: 'Europe/Amsterdam',
  before: {
    plan: 'flat',
    cycle: 'quarterly',
    start: '2026-10-15',
    seats: 1,
    contacts: 0,
    products: [],
    changes: [
      { at: '2027-05-11', seats: 0, plan: 'pro' },
      { at: '2027-03-06', plan: 'growth' },
    ],
  },
  after: {
    plan: 'flat',
    cycle: 'quarterly',
    start: '2026-10-15',
    seats: 1,
    contacts: 0,
    products: [],
    changes: [
      { at: '2027-05-11', seats: 0, plan: 'pro' },
      { at: '2027-03-06', plan: 'growth' },
    ],
  },
  happenings: [
    { kind: 'contacts', arrives: 1792160220000, ts: 1791947820000, count: 5000, id: 'ev-4:x' },
    { kind: 'alerts', arrives: 1792520220000, ts: 1792340220000, count: 7, id: 'ev-1' },
    { kind: 'run', arrives: 1793469600000 },
    { kind: 'run', arrives: 1794718800000 },
    { kind: 'run', arrives: 1797321600000 },
    { kind: 'run', arrives: 1800010800000 },
    { kind: 'run', arrives: 1802700000000 },
    { kind: 'run', arrives: 1805130000000 },
    { kind: 'run', arrives: 1807815600000 },
    { kind: 'contacts', arrives: 1807885020000, ts: 1807885020000, count: 1000, id: 'ev-0:x' },
    { kind: 'run', arrives: 1810418400000 },
    { kind: 'run', arrives: 1811973600000 },
    { kind: 'run', arrives: 1813107600000 },
    { kind: 'purchase', arrives: 1814069820000, id: 'ev-5' },
    { kind: 'run', arrives: 1814403600000 },
    { kind: 'contacts', arrives: 1815441420000, ts: 1815423420000, count: 0, id: 'ev-2' },
    { kind: 'run', arrives: 1815710400000 },
    { kind: 'run', arrives: 1818288000000 },
    { kind: 'run', arrives: 1820977200000 },
    { kind: 'contacts', arrives: 1821320220000, ts: 1821320220000, count: 9000, id: 'ev-3a' },
    { kind: 'run', arrives: 1821428220000 },
    { kind: 'contacts', arrives: 1821431820000, ts: 1821233820000, count: 3000, id: 'ev-3b' },
    { kind: 'run', arrives: 1823580000000 },
    { kind: 'run', arrives: 1823724000000 },
  ],
  end: 1823724000000,
} as unknown as History
