/**
 * A billing run decided beside the writer (docs/performance.md, "A month's billing run"): a plan
 * read from a snapshot is written only when what it was decided from still holds, the credit
 * log's head and the highest invoice number; otherwise the run decides again in its transaction. On the storage thread (a database file) every run plans on the reader
 * thread the store starts, at the lowest CPU priority, and issues what a run in one transaction issues.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '@tally/protocol'
import { SqliteEngine } from '../engines/sqlite/engine.js'
import { createConfigState } from '../domain/config.js'
import { billingAccount } from '../domain/billing-account.js'
import { billingRun, planBilling, type BillingRunCall } from './billing.js'
import { purchaseInvoiceKey } from './ledger-book.js'
import { createStore, type Store } from './store.js'
import { LedgerBook } from './ledger-book.js'

const DAY = 86_400_000
const START = Date.UTC(2026, 8, 1)
const AS_OF = Date.UTC(2026, 11, 1)
const config = createConfigState(
  (() => {
    const r = parseConfig({
      plans: {
        growth: {
          currency: 'EUR',
          basePrice: 4900,
          included: { alerts: 20 },
          overage: { alerts: { per: 1, price: 3 } },
          freeCredits: 100,
          creditPacks: { small: { credits: 1000, price: 1000 } },
        },
        // No credits at all: its runs write invoices and no credit log entry.
        basic: { currency: 'EUR', basePrice: 900 },
      },
      accounts: {
        acme: {
          timezone: 'UTC',
          subscription: { plan: 'growth', cycle: 'monthly', start: '2026-09-01' },
          keys: { secret: 'sk_acme_secret', read: 'rk_acme_read' },
        },
        plain: {
          timezone: 'UTC',
          subscription: { plan: 'basic', cycle: 'monthly', start: '2026-09-01' },
          keys: { secret: 'sk_plain_secret', read: 'rk_plain_read' },
        },
      },
    })
    if (!r.ok) throw new Error(r.message)
    return r.value
  })(),
)
const billing = (() => {
  const b = billingAccount(config, 'acme')
  if (!b) throw new Error('no account acme')
  return b
})()
const call = (asOf: number): BillingRunCall => ({ account: 'acme', billing, asOf, at: asOf })

/** Three months of alerts, and a credit pack bought in the second. */
async function history(store: Store): Promise<void> {
  let n = 0
  for (let t = START; t < AS_OF; t += DAY) {
    const day = new Date(t).toISOString().slice(0, 10)
    await store.recordUsage({ account: 'acme', billing, receivedAt: t, events: [{ id: `a${++n}`, type: 'alert', time: t, day }] })
  }
  expect((await store.creditRequest({ kind: 'purchase', account: 'acme', billing, id: 'pack-1', pack: 'small', at: START + 40 * DAY })).ok).toBe(true)
}

const keysOf = (invoices: readonly { key: string }[]) => invoices.map((i) => i.key).sort()

describe('a billing plan made beside the writer', () => {
  it('is written as decided when nothing it was decided from moved, and issues what a run in one transaction issues', async () => {
    const a = new SqliteEngine({ file: ':memory:' })
    const b = new SqliteEngine({ file: ':memory:' })
    await history(createStore(a))
    await history(createStore(b))
    const plan = await a.read((db) => planBilling(db, new LedgerBook(), call(AS_OF)))
    expect(plan.invoices.length).toBeGreaterThan(2)
    const planned = await a.transaction((tx) => billingRun(tx, new LedgerBook(), call(AS_OF), plan))
    const direct = await b.transaction((tx) => billingRun(tx, new LedgerBook(), call(AS_OF)))
    expect(planned).toEqual(direct)
    expect(await a.read((db) => db.invoices('acme'))).toEqual(await b.read((db) => db.invoices('acme')))
    expect(await a.read((db) => db.ledger('acme'))).toEqual(await b.read((db) => db.ledger('acme')))
  })

  it('is decided again when the credit log moved after it: a pack bought meanwhile is invoiced by this run', async () => {
    const engine = new SqliteEngine({ file: ':memory:' })
    const store = createStore(engine)
    await history(store)
    const plan = await engine.read((db) => planBilling(db, new LedgerBook(), call(AS_OF)))
    expect(keysOf(plan.invoices)).not.toContain(purchaseInvoiceKey('pack-2'))
    expect((await store.creditRequest({ kind: 'purchase', account: 'acme', billing, id: 'pack-2', pack: 'small', at: AS_OF - DAY })).ok).toBe(true)
    const out = await engine.transaction((tx) => billingRun(tx, new LedgerBook(), call(AS_OF), plan))
    expect(keysOf(out.invoices)).toContain(purchaseInvoiceKey('pack-2'))
    expect(keysOf(out.invoices)).toEqual(keysOf(await engine.read((db) => db.invoices('acme'))))
  })

  it('writes nothing twice when another run finalized invoices after it was made', async () => {
    const engine = new SqliteEngine({ file: ':memory:' })
    await history(createStore(engine))
    const stale = await engine.read((db) => planBilling(db, new LedgerBook(), call(AS_OF)))
    const first = await engine.transaction((tx) => billingRun(tx, new LedgerBook(), call(AS_OF)))
    expect(first.invoices.length).toBe(stale.invoices.length)
    const again = await engine.transaction((tx) => billingRun(tx, new LedgerBook(), call(AS_OF), stale))
    expect(again).toEqual({ ledger: 0, invoices: [] })
    expect(keysOf(await engine.read((db) => db.invoices('acme')))).toEqual(keysOf(first.invoices))
  })

  it('writes nothing twice when another run finalized invoices and no credit entry after it was made', async () => {
    const engine = new SqliteEngine({ file: ':memory:' })
    const plain = billingAccount(config, 'plain')
    if (!plain) throw new Error('no account plain')
    const req: BillingRunCall = { account: 'plain', billing: plain, asOf: AS_OF, at: AS_OF }
    const stale = await engine.read((db) => planBilling(db, new LedgerBook(), req))
    const first = await engine.transaction((tx) => billingRun(tx, new LedgerBook(), req))
    expect(first).toMatchObject({ ledger: 0, invoices: stale.invoices.map((i) => ({ key: i.key })) })
    expect(stale.invoices.length).toBeGreaterThan(2)
    const again = await engine.transaction((tx) => billingRun(tx, new LedgerBook(), req, stale))
    expect(again).toEqual({ ledger: 0, invoices: [] })
    expect(keysOf(await engine.read((db) => db.invoices('plain')))).toEqual(keysOf(first.invoices))
  })
})

describe('billing on the storage thread', () => {
  const BUILT = new URL('../../dist/storage-thread.js', import.meta.url)

  it('plans each account on the reader thread, at the lowest CPU priority, and issues what a run in one transaction issues', async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT.pathname} is missing: run \`npm run build\` first (npm test does)`)
    const { openWorkerStore } = (await import(BUILT.href)) as typeof import('../storage-thread.js')
    const dir = mkdtempSync(join(tmpdir(), 'tally-plan-'))
    const before = threads()
    const store = await openWorkerStore({ file: join(dir, 'tally.db') })
    const direct = new SqliteEngine({ file: ':memory:' })
    try {
      await history(store)
      await history(createStore(direct))
      const out = await store.billingRun(call(AS_OF))
      expect(out).toEqual(await direct.transaction((tx) => billingRun(tx, new LedgerBook(), call(AS_OF))))
      expect(await store.invoices('acme')).toEqual(await direct.read((db) => db.invoices('acme')))
      // Of the threads the store started (the storage thread, the reader), one at the lowest priority (Linux).
      const added = threads().filter((t) => !before.some((b) => b.tid === t.tid))
      expect(added.filter((t) => t.nice === 19)).toHaveLength(1)
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** This process's threads and their nice values (/proc/self/task/<tid>/stat, field 19). */
function threads(): { tid: string; nice: number }[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return { tid, nice: Number(fields[16]) }
  })
}
