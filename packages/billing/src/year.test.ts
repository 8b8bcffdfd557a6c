/**
 * A year of one account at the pure level: the billing run at every boundary, with the usage and
 * the credit log known by then. Every expected figure below is worked out by hand.
 */
import { describe, expect, it } from 'vitest'
import { growth, pro } from './testing/plans.js'
import { runBilling, type BillingData, type Invoice } from './invoice.js'
import { balanceOf, memberWallet, purchase, spend, transfer, ACCOUNT_WALLET, type LedgerEntry } from './ledger.js'
import type { UsageRow } from './meters.js'
import { localDate, startOfDay, addMonthsClamped } from './period.js'
import type { BillingAccount } from './rating.js'

const zone = 'Europe/Amsterdam'
const acme: BillingAccount = {
  timezone: zone,
  plans: { growth, pro },
  members: ['alice'],
  subscription: { plan: 'growth', cycle: 'monthly', start: '2026-07-12', seats: 3, contacts: 1000, changes: [{ at: '2026-12-22', plan: 'pro' }] },
}
const local = (date: string, hour = 12) => startOfDay(date, zone) + hour * 3_600_000

const usage: UsageRow[] = [
  { day: '2026-07-20', impressions: 90000, chatSessions: 520, alerts: 1000 }, // period 0: 20 chat sessions over
  { day: '2026-08-12', impressions: 60000 },
  { day: '2026-09-11', impressions: 40001 }, // period 1: 1 impression over
  { day: '2026-10-20', engagements: 5250, contacts: 1500 }, // period 3: 250 engagements over, contacts pass 1000
  { day: '2026-12-30', impressions: 300000 }, // period 5, upgraded to pro (500000 included)
  { day: '2027-03-12', alerts: 600 },
  { day: '2027-04-11', alerts: 500 }, // period 8: 100 alerts over
  { day: '2027-04-20', contacts: 800 }, // period 9: contacts fall
]

/** The credit requests of the year, in order. */
function creditLog(): LedgerEntry[] {
  let log: LedgerEntry[] = []
  const apply = (r: ReturnType<typeof spend>) => {
    expect(r.ok).toBe(true)
    log = [...log, ...r.entries]
  }
  apply(purchase(acme, log, { id: 'pack-1', pack: 'small', at: local('2026-09-20') }))
  apply(spend(acme, log, { id: 'sms-1', action: 'sms', quantity: 100, at: local('2026-09-21') }))
  apply(transfer(acme, log, { id: 'send-1', to: 'alice', credits: 200, at: local('2026-10-15') }))
  apply(spend(acme, log, { id: 'ai-1', action: 'ai', quantity: 1, member: 'alice', at: local('2026-10-20') }))
  return log
}

describe('a year of an account', () => {
  it('bills every invoice of the year to the cent, numbered without gaps', () => {
    const requests = creditLog()
    let data: BillingData & { finalized: Invoice[]; ledger: LedgerEntry[] } = { usage: [], ledger: [], finalized: [] }
    for (let k = 0; k <= 12; k++) {
      const asOf = startOfDay(addMonthsClamped('2026-07-12', k), zone)
      const today = localDate(asOf, zone)
      const seen: BillingData = {
        usage: usage.filter((r) => r.day < today),
        ledger: [...data.ledger, ...requests.filter((e) => e.at <= asOf && !data.ledger.some((d) => d.id === e.id))],
        finalized: data.finalized,
      }
      const run = runBilling(acme, seen, asOf)
      data = { usage: seen.usage, ledger: [...seen.ledger, ...run.ledger], finalized: [...data.finalized, ...run.invoices] }
      // Running again at the same instant changes nothing.
      expect(runBilling(acme, data, asOf)).toEqual({ ledger: [], invoices: [] })
    }
    const invoices = data.finalized
    expect(invoices.map((i) => [i.number, i.key, i.issuedDate, i.total])).toEqual([
      [1, 'recurring:0', '2026-07-12', 9400], // 4900 + 3 x 1500 + contacts up to 1000 (0)
      [2, 'recurring:1', '2026-08-12', 9640], // 9400 + 20 chat sessions x 12
      [3, 'recurring:2', '2026-09-12', 9440], // 9400 + 1 block of 1000 impressions x 40
      [4, 'credits:pack-1', '2026-09-20', 1000], // the small pack
      [5, 'recurring:3', '2026-10-12', 9400],
      [6, 'recurring:4', '2026-11-12', 15650], // 4900 + 4500 + 2900 (1500 contacts) + 3 x 150 engagements + 2900 contacts above the paid range
      [7, 'recurring:5', '2026-12-12', 12300], // 4900 + 4500 + 2900
      [8, 'upgrade:5:2026-12-22:plan=pro', '2026-12-22', 4404], // 21 of 31 days: 6706 + 4065 + 1965 - 3319 - 3048 - 1965
      [9, 'recurring:6', '2027-01-12', 18800], // 9900 + 3 x 2000 + 2900; December's 300000 impressions are within pro's 500000
      [10, 'recurring:7', '2027-02-12', 18800],
      [11, 'recurring:8', '2027-03-12', 18800],
      [12, 'recurring:9', '2027-04-12', 18900], // + 100 alerts x 1
      [13, 'recurring:10', '2027-05-12', 15900], // 800 contacts: range 0
      [14, 'recurring:11', '2027-06-12', 15900],
      [15, 'recurring:12', '2027-07-12', 15900],
    ])
    const upgrade = invoices.find((i) => i.kind === 'upgrade')
    expect(upgrade?.lines.map((l) => l.amount)).toEqual([-3319, -3048, -1965, 6706, 4065, 1965])
    expect(invoices.every((i) => i.currency === 'EUR' && i.status === 'finalized')).toBe(true)
    for (const i of invoices) expect(i.total).toBe(i.lines.reduce((n, l) => n + l.amount, 0))

    // Credits: the account spent 200 of September's 500 free credits and kept the pack. The 200 sent
    // to alice in October came from the pack (a transfer sends purchased credits first), so
    // October's grant stayed whole and alice's unspent 190 never expire.
    const at = (date: string) => startOfDay(date, zone)
    expect(balanceOf(data.ledger, ACCOUNT_WALLET, at('2026-10-16'))).toBe(500 + 800)
    expect(balanceOf(data.ledger, memberWallet('alice'), at('2026-10-21'))).toBe(190)
    expect(balanceOf(data.ledger, memberWallet('alice'), at('2026-11-12'))).toBe(190)
    expect(balanceOf(data.ledger, ACCOUNT_WALLET, at('2027-07-12'))).toBe(800 + 500)
    const grants = data.ledger.filter((e) => e.type === 'grant')
    expect(grants).toHaveLength(13)
    const expired = data.ledger.filter((e) => e.type === 'expiry').reduce((n, e) => n + e.credits, 0)
    // 12 grants gone at their month end: 500 each, less the 200 spent in September: 6000 - 200
    expect(expired).toBe(5800)
  })
})
