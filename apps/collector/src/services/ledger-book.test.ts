/**
 * A credit request costs the same whatever the account's credit history (docs/architecture.md,
 * "Per-request work"): the rows read, counted with a proxy over the repository, and the state the
 * credit rules are handed, for an account with a dozen stored credit entries and one with 5,000,
 * on a warm cache, in a new process, and after another collector wrote.
 */
import { describe, expect, it } from 'vitest'
import { parseConfig } from '@tally/protocol'
import { balances, openLedger, replay } from '@tally/billing'
import { countingEngine as counting } from '../testkit.js'
import { SqliteEngine } from '../engines/sqlite/engine.js'
import { createConfigState } from '../domain/config.js'
import { billingAccount } from '../domain/billing-account.js'
import { createStore, type Store } from './store.js'
import { LedgerBook } from './ledger-book.js'
import type { UsageInput } from './usage.js'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 3, 20, 12)
const config = createConfigState(
  (() => {
    const r = parseConfig({
      plans: {
        growth: { currency: 'EUR', basePrice: 4900, freeCredits: 100, creditCosts: { sms: 1 }, creditPacks: { small: { credits: 1000, price: 1000 } } },
      },
      accounts: {
        // Month 100 of its subscription.
        long: {
          timezone: 'Europe/Amsterdam',
          subscription: { plan: 'growth', cycle: 'monthly', start: '2018-01-12' },
          keys: { secret: 'sk_long_secret', read: 'rk_long_read' },
          members: ['alice'],
        },
        // Month 2.
        short: {
          timezone: 'Europe/Amsterdam',
          subscription: { plan: 'growth', cycle: 'monthly', start: '2026-02-12' },
          keys: { secret: 'sk_short_secret', read: 'rk_short_read' },
          members: ['alice'],
        },
      },
    })
    if (!r.ok) throw new Error(r.message)
    return r.value
  })(),
)
const billing = (id: string) => {
  const b = billingAccount(config, id)
  if (!b) throw new Error(`no account ${id}`)
  return b
}
let seq = 0
const sms = (at: number, n = 1): UsageInput[] =>
  Array.from({ length: n }, () => ({ id: `sms-${++seq}`, type: 'action', time: at, day: new Date(at).toISOString().slice(0, 10), action: 'sms', quantity: 1 }))

/** One pack bought and a few credits sent to a member: both accounts hold the same open lots now. */
async function holdings(store: Store, account: string, at: number): Promise<void> {
  const p = await store.creditRequest({ kind: 'purchase', account, billing: billing(account), id: `pack-${account}`, pack: 'small', at })
  const t = await store.creditRequest({ kind: 'transfer', account, billing: billing(account), id: `send-${account}`, to: 'alice', credits: 5, at })
  expect([p.ok, t.ok]).toEqual([true, true])
}

async function histories() {
  const inner = new SqliteEngine({ file: ':memory:' })
  const engine = counting(inner)
  const store = createStore(engine)
  // 100 months of 48 SMS a month, paid from the month's free credits: about 5,000 entries.
  for (let at = Date.UTC(2018, 0, 15, 12); at < NOW - 10 * DAY; at += 30 * DAY) {
    await store.recordUsage({ account: 'long', billing: billing('long'), receivedAt: at, events: sms(at, 48) })
  }
  await holdings(store, 'long', NOW - DAY)
  await store.recordUsage({ account: 'short', billing: billing('short'), receivedAt: Date.UTC(2026, 1, 20, 12), events: sms(Date.UTC(2026, 1, 20, 12), 3) })
  await holdings(store, 'short', NOW - DAY)
  const entries = async (account: string) => (await inner.read((db) => db.ledger(account))).length
  expect(await entries('long')).toBeGreaterThanOrEqual(5000)
  expect(await entries('short')).toBeLessThan(20)
  return { inner, engine, store }
}

describe('a credit request', () => {
  it('reads as many rows for an account with 5,000 credit entries as for one with a dozen: warm, cold, after another writer', async () => {
    const { inner, engine, store } = await histories()
    /** Rows read by each kind of credit request, on the given store, in this order. */
    const requests = async (s: Store, account: string, at: number) => {
      const rows: number[] = []
      const measure = async (run: () => Promise<unknown>) => {
        engine.rows = 0
        await run()
        rows.push(engine.rows)
      }
      await measure(async () =>
        expect((await s.recordUsage({ account, billing: billing(account), receivedAt: at, events: sms(at) }))[0]?.status).toBe('accepted'),
      )
      await measure(async () =>
        expect((await s.creditRequest({ kind: 'purchase', account, billing: billing(account), id: `p${++seq}`, pack: 'small', at })).ok).toBe(true),
      )
      await measure(async () =>
        expect((await s.creditRequest({ kind: 'transfer', account, billing: billing(account), id: `t${++seq}`, to: 'alice', credits: 1, at })).ok).toBe(true),
      )
      // A repeat of the purchase before: found by its key, answered as the first time.
      await measure(async () =>
        expect(await s.creditRequest({ kind: 'purchase', account, billing: billing(account), id: `p${seq - 1}`, pack: 'small', at })).toMatchObject({
          ok: true,
          duplicate: true,
        }),
      )
      await measure(async () => expect((await s.creditBalances(account, billing(account), at)).account?.balance).toBeGreaterThan(0))
      return rows
    }
    // Warm: this process wrote last.
    const warmLong = await requests(store, 'long', NOW)
    const warmShort = await requests(store, 'short', NOW)
    expect(warmLong).toEqual(warmShort)
    // Cold: a new process on the same database.
    const cold = createStore(engine)
    const coldLong = await requests(cold, 'long', NOW + 1000)
    const coldShort = await requests(cold, 'short', NOW + 1000)
    expect(coldLong).toEqual(coldShort)
    // Another collector wrote in between: the first one's cache is stale.
    await requests(cold, 'long', NOW + 2000)
    await requests(cold, 'short', NOW + 2000)
    const afterLong = await requests(store, 'long', NOW + 3000)
    const afterShort = await requests(store, 'short', NOW + 3000)
    expect(afterLong).toEqual(afterShort)
    // A handful of rows each: the open lots (a month's grant, a pack or two, a member's lot), never the log.
    for (const n of [...warmLong, ...coldLong, ...afterLong]) expect(n).toBeLessThan(20)
    await inner.close()
  }, 60_000)

  it('hands the credit rules a state the size of what the account holds, not of its history', async () => {
    const { inner, store } = await histories()
    const size = async (account: string) => {
      const s = await inner.read((db) => new LedgerBook().state(db, account))
      return s.lots.size + s.entries.size
    }
    expect(await size('long')).toBe(await size('short'))
    expect(await size('long')).toBeLessThan(10)
    // And the answers are those of the whole log replayed.
    for (const account of ['long', 'short']) {
      const full = replay(await inner.read((db) => db.ledger(account)))
      const open = await inner.read((db) => new LedgerBook().state(db, account))
      expect(open.totals).toEqual(full.totals)
      expect([...open.lots.values()]).toEqual([...full.lots.values()].filter((l) => l.remaining > 0 && !l.expired))
      expect(await store.creditBalances(account, billing(account), NOW)).toEqual(balances(full, NOW))
    }
    await inner.close()
  }, 60_000)

  it('replays a log stored before its open ledger once, stores it, and reads it bounded from then on', async () => {
    const { inner, engine, store } = await histories()
    const expected = await store.creditBalances('long', billing('long'), NOW)
    // As a database migrated from a version without the open ledger: the log alone.
    await inner.transaction(async (tx) => {
      await tx.saveCreditBook('long', { head: -1, dueThrough: null, wallets: [], totals: { granted: 0, purchased: 0, spent: 0, expired: 0 } }, [])
    })
    const rowsOf = async (s: Store) => {
      engine.rows = 0
      const [r] = await s.recordUsage({ account: 'long', billing: billing('long'), receivedAt: NOW, events: sms(NOW) })
      expect(r).toMatchObject({ status: 'accepted', credits: { spent: 1 } })
      return engine.rows
    }
    expect(await rowsOf(createStore(engine))).toBeGreaterThan(5000)
    expect(await rowsOf(createStore(engine))).toBeLessThan(20)
    expect((await createStore(engine).creditBalances('long', billing('long'), NOW)).account?.balance).toBe((expected.account?.balance ?? 0) - 2)
    await inner.close()
  }, 60_000)
})

describe('an account without a credit entry', () => {
  it('is read by its head alone: no book, no log, nothing stored before its first entry', async () => {
    const engine = new SqliteEngine({ file: ':memory:' })
    const calls: string[] = []
    const state = await engine.transaction(async (tx) => {
      const seen = new Proxy(tx, {
        get(target, name, receiver) {
          const value = Reflect.get(target, name, receiver) as unknown
          if (typeof value !== 'function') return value
          return (...args: unknown[]) => {
            calls.push(String(name))
            return (value as (...a: unknown[]) => unknown).apply(target, args)
          }
        },
      })
      return new LedgerBook().state(seen, 'short')
    })
    expect(calls).toEqual(['ledgerHead'])
    expect(state).toEqual(openLedger(replay([])))
    // Its first entries are stored with the book as any append's are: a purchase is then held.
    const store = createStore(engine)
    const p = await store.creditRequest({ kind: 'purchase', account: 'short', billing: billing('short'), id: 'first-pack', pack: 'small', at: NOW })
    expect(p.ok).toBe(true)
    expect((await store.creditBalances('short', billing('short'), NOW)).account?.balance).toBeGreaterThanOrEqual(1000)
    expect(await engine.read((db) => db.creditBook('short'))).toMatchObject({ head: await engine.read((db) => db.ledgerHead('short')) })
    await engine.close()
  })
})
