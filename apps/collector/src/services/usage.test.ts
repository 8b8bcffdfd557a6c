import { describe, expect, it } from 'vitest'
import { countingEngine as counting } from '../testkit.js'
import { parseConfig } from '@tally/protocol'
import type { Invoice } from '@tally/billing'
import { SqliteEngine } from '../engines/sqlite/engine.js'
import { createConfigState } from '../domain/config.js'
import { billingAccount } from '../domain/billing-account.js'
import { localDayOf } from '@tally/billing'
import { createStore } from './store.js'

const config = createConfigState(
  (() => {
    const r = parseConfig({
      plans: { growth: { currency: 'EUR', basePrice: 4900, emailsPerContact: 4 } },
      accounts: {
        acme: {
          timezone: 'Europe/Amsterdam',
          subscription: { plan: 'growth', cycle: 'monthly', start: '2018-01-12', contacts: 1000 },
          keys: { secret: 'sk_acme_secret', read: 'rk_acme_read' },
        },
      },
    })
    if (!r.ok) throw new Error(r.message)
    return r.value
  })(),
)

describe('the email quota check', () => {
  it("reads as much in an account's hundredth month as in its second", async () => {
    const inner = new SqliteEngine({ file: ':memory:' })
    const engine = counting(inner)
    const store = createStore(engine)
    const billing = billingAccount(config, 'acme')
    if (!billing) throw new Error('no account')
    const day = localDayOf('Europe/Amsterdam')
    const start = Date.UTC(2018, 0, 12, 12)
    // 100 months of history: a row a day and a finalized invoice a month.
    await inner.transaction(async (tx) => {
      for (let t = start; t < start + 3050 * 86_400_000; t += 86_400_000) {
        await tx.addUsageDaily('acme', day(t), { alerts: 1, emails: 10, contacts: null })
      }
      const invoices = Array.from(
        { length: 100 },
        (_, i) =>
          ({
            key: `recurring:${i}`,
            kind: 'recurring',
            status: 'finalized',
            number: i + 1,
            currency: 'EUR',
            issuedAt: start,
            issuedDate: '2018-01-12',
            period: null,
            lines: [],
            total: 4900,
          }) as unknown as Invoice,
      )
      await tx.insertInvoices('acme', invoices, start)
    })
    const readsFor = async (at: number) => {
      engine.rows = 0
      const [r] = await store.recordUsage({
        account: 'acme',
        billing,
        receivedAt: at,
        events: [{ id: `mail-${at}`, type: 'email', time: at, day: day(at), count: 1 }],
      })
      expect(r?.status).toBe('accepted')
      return engine.rows
    }
    const second = await readsFor(Date.UTC(2018, 1, 20, 12))
    const hundredth = await readsFor(Date.UTC(2026, 3, 20, 12))
    // Two periods of daily rows at most, and the invoices of those two periods.
    expect(second).toBeLessThanOrEqual(62 + 2 + 1)
    expect(hundredth).toBeLessThanOrEqual(62 + 2 + 1)
    expect(Math.abs(hundredth - second)).toBeLessThanOrEqual(4)
    await store.close()
  })
})
