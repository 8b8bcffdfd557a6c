/**
 * The identity of docs/evidence.md, checked over random traffic, time zones and period boundaries:
 * after a billing run, for every invoice line, the evidence rows add up to what billing computed
 * (the line's quantity for a charge; for a usage line, the unit rows add up to the meter total and
 * the summary's blocks are the line's quantity). Impressions and engagements are also counted by
 * an independent model of the traffic, so a unit missing from both the meters and the evidence fails.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import fc from 'fast-check'
import { allPeriods, localDayOf, periodStates, type BillingAccount, type Invoice } from '@tally/billing'
import { parseConfig } from '@tally/protocol'
import { openPgStore, openSqliteStore } from '../storage.js'
import type { Store } from './store.js'
import { freshDatabase, pgSkipReason, type FreshDatabase } from '../../../../test/pg/database.js'
import { invoiceEvidence, type EvidenceRow } from './evidence.js'
import type { IngestEvent } from './ingest.js'

const ZONES = ['UTC', 'Europe/Amsterdam', 'America/New_York', 'Pacific/Auckland', 'Asia/Kolkata', 'Pacific/Chatham']
const DAY = 86_400_000
const HOUR = 3_600_000

const PLAN = {
  currency: 'EUR',
  basePrice: 4900,
  seatPrice: 1500,
  included: { impressions: 3, engagements: 1, chatSessions: 1, alerts: 1 },
  overage: { impressions: { per: 2, price: 40 }, engagements: { per: 1, price: 150 }, chatSessions: { per: 1, price: 12 }, alerts: { per: 2, price: 1 } },
}

function account(timezone: string, start: string): BillingAccount {
  const r = parseConfig({
    plans: { growth: PLAN },
    accounts: {
      acme: { timezone, subscription: { plan: 'growth', cycle: 'monthly', start, seats: 2 }, keys: { secret: 'sk_acme_secret', read: 'rk_acme_read' } },
    },
  })
  if (!r.ok) throw new Error(r.message)
  const a = r.value.accounts.acme
  if (!a) throw new Error('no account')
  return { timezone: a.timezone, subscription: a.subscription, plans: r.value.plans }
}

/** The starts of the first four periods (local midnights in the account's zone). */
function* periods(billing: BillingAccount): Generator<number> {
  let n = 0
  for (const p of allPeriods(billing.subscription, billing.timezone)) {
    if (n++ === 4) return
    yield p.start
  }
}

/** Every row of an invoice's evidence, read in pages of `pageSize`. */
async function evidence(store: Store, billing: BillingAccount, invoice: Invoice, at: number, pageSize: number) {
  const data = await store.billingData('acme')
  const rows: EvidenceRow[] = []
  for await (const page of invoiceEvidence(store, { account: 'acme', billing, invoice, data, at, pageSize })) {
    expect(page.length).toBeLessThanOrEqual(pageSize)
    rows.push(...page)
  }
  return rows
}

const unit = fc.record({
  type: fc.constantFrom('impression' as const, 'engagement' as const),
  container: fc.constantFrom('ctr_a', 'ctr_b'),
  session: fc.constantFrom('s1', 's2', 's3', 's4'),
  subject: fc.constantFrom('x', 'y'),
  at: instant(),
})
/**
 * When, against the periods: anywhere in the first three periods (hours from the start), or
 * minutes either side of one of their local-midnight boundaries, where a wrong bound shows.
 */
type At = { hour: number } | { boundary: number; ms: number }
function instant(): fc.Arbitrary<At> {
  return fc.oneof(
    fc.record({ hour: fc.integer({ min: -30, max: 24 * 95 }) }),
    fc.record({ boundary: fc.integer({ min: 0, max: 3 }), ms: fc.oneof(fc.integer({ min: -5_400_000, max: 5_400_000 }), fc.constantFrom(-1, 0, 1, 59_999)) }),
  )
}
const conversation = fc.record({ start: instant(), minutes: fc.integer({ min: 0, max: 50 }), ended: fc.boolean() })
const alert = instant()

/**
 * Where a run's store comes from: a new SQLite database in memory, or the test's PostgreSQL
 * database emptied (a store of its own per run, so nothing of an earlier run is remembered).
 */
interface Engine {
  name: string
  skip: string | false
  store(): Promise<Store>
}
let pgDatabase: FreshDatabase | undefined
const ENGINES: Engine[] = [
  { name: 'SQLite', skip: false, store: async () => openSqliteStore({ file: ':memory:' }) },
  {
    name: 'PostgreSQL',
    skip: pgSkipReason(),
    store: async () => {
      if (!pgDatabase) {
        const db = await freshDatabase()
        pgDatabase = db
        onTestFinished(async () => {
          pgDatabase = undefined
          await db.drop()
        })
      }
      const store = await openPgStore({ url: pgDatabase.url, poolSize: 2 })
      const { rows } = await store.engine.pool.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`)
      await store.engine.pool.query(`TRUNCATE ${rows.map((r) => r.name).join(', ')} RESTART IDENTITY`)
      return store
    },
  },
]

describe.each(ENGINES)('invoice evidence on $name', ({ skip, store: open }) => {
  it.skipIf(skip)(
    'adds up to every line of every invoice: charges to their quantity, usage to the meter total and its blocks',
    async () => {
      /** Meters that got a usage line in some run: the traffic must reach every kind of line. */
      const billed = new Set<string>()
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ZONES),
          fc.constantFrom('2026-01-31', '2026-03-01', '2026-10-25', '2026-03-29', '2026-02-28'),
          fc.array(unit, { minLength: 10, maxLength: 60 }),
          fc.array(conversation, { minLength: 1, maxLength: 6 }),
          fc.array(alert, { minLength: 2, maxLength: 8 }),
          fc.integer({ min: 1, max: 7 }),
          async (zone, start, units, conversations, alerts, pageSize) => {
            const billing = account(zone, start)
            const store = await open()
            try {
              const t0 = Date.parse(`${start}T00:00:00Z`)
              const bounds = [...periods(billing)]
              const time = (at: At) => ('hour' in at ? t0 + at.hour * HOUR + 17_000 : (bounds[at.boundary] ?? 0) + at.ms)
              const dayOf = localDayOf(zone)
              /** The model: the first time each unit was sent, whatever the duplicates. */
              const first = new Map<string, { type: string; time: number }>()
              let id = 0
              for (const u of units) {
                const t = time(u.at)
                const event: IngestEvent = { id: `e${++id}`, type: u.type, session: u.session, subject: u.subject, time: t }
                await store.ingest({ account: 'acme', container: u.container, receivedAt: t, timeZone: zone, events: [event] })
                const key = `${u.type}|${u.container}|${u.session}|${u.subject}`
                if (!first.has(key)) first.set(key, { type: u.type, time: t })
              }
              for (const [k, c] of conversations.entries()) {
                const begin = time(c.start)
                const chat = (phase: 'start' | 'ping' | 'end', time: number): IngestEvent => ({
                  id: `c${++id}`,
                  type: 'chat',
                  session: 's1',
                  subject: 'bot',
                  conversation: `conv${k}`,
                  phase,
                  time,
                })
                const events = [chat('start', begin)]
                for (let m = 10; m < c.minutes; m += 10) events.push(chat('ping', begin + m * 60_000))
                if (c.ended) events.push(chat('end', begin + c.minutes * 60_000))
                for (const e of events) await store.ingest({ account: 'acme', container: 'ctr_a', receivedAt: e.time, timeZone: zone, events: [e] })
              }
              for (const a of alerts) {
                const t = time(a)
                await store.recordUsage({ account: 'acme', billing, receivedAt: t, events: [{ id: `a${++id}`, type: 'alert', time: t, day: dayOf(t) }] })
              }

              const asOf = t0 + 100 * DAY
              const run = await store.billingRun({ account: 'acme', billing, asOf, at: asOf })
              const invoices = await store.invoices(
                'acme',
                run.invoices.map((i) => i.key),
              )
              const states = periodStates(billing, await store.billingData('acme'), asOf)
              for (const inv of invoices) {
                const rows = await evidence(store, billing, inv, asOf, pageSize)
                for (const [i, line] of inv.lines.entries()) {
                  const of = rows.filter((r) => r.line === i + 1)
                  if (line.kind !== 'usage') {
                    expect(of.map((r) => [r.record, r.quantity])).toEqual([['charge', line.quantity]])
                    continue
                  }
                  billed.add(line.meter ?? '')
                  const meter = line.meter as 'impressions' | 'engagements' | 'chatSessions' | 'alerts'
                  const summary = of.filter((r) => r.record === 'summary')
                  const sum = of.filter((r) => r.record !== 'summary').reduce((s, r) => s + (r.quantity ?? 0), 0)
                  const ps = states.find((s) => s.period.index === line.period.index)
                  expect(summary).toHaveLength(1)
                  expect(summary[0]?.used).toBe(sum)
                  expect(sum).toBe(ps?.meters[meter])
                  expect(summary[0]?.blocks).toBe(line.quantity)
                  expect(line.quantity).toBe(Math.ceil((sum - (summary[0]?.included ?? 0)) / (summary[0]?.per ?? 1)))
                  if (meter === 'impressions' || meter === 'engagements') {
                    const type = meter === 'impressions' ? 'impression' : 'engagement'
                    const modeled = [...first.values()].filter((u) => u.type === type && u.time >= line.period.start && u.time < line.period.end)
                    expect(sum).toBe(modeled.length)
                    // Each row is one stored unit, each once.
                    const keys = of.filter((r) => r.record !== 'summary').map((r) => `${r.container}|${r.session}|${r.subject}`)
                    expect(new Set(keys).size).toBe(keys.length)
                  }
                }
              }
            } finally {
              await store.close()
            }
          },
        ),
        { numRuns: 60 },
      )
      expect([...billed].sort()).toEqual(['alerts', 'chatSessions', 'engagements', 'impressions'])
    },
    60_000,
  )

  it.skipIf(skip)(
    "explains late usage: the adjustment line is the blocks of all the period's units now less the blocks billed before",
    async () => {
      let adjusted = 0
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ZONES),
          fc.constantFrom('2026-01-31', '2026-03-29', '2026-10-25'),
          fc.array(fc.nat({ max: 40 }), { maxLength: 12 }),
          fc.array(fc.nat({ max: 40 }), { minLength: 1, maxLength: 12 }),
          fc.integer({ min: 1, max: 5 }),
          async (zone, start, early, late, pageSize) => {
            const billing = account(zone, start)
            const store = await open()
            try {
              const [p0 = 0, p1 = 0, , p3 = 0] = [...periods(billing)]
              let id = 0
              // Unit n of period 0: its own session, at a spread of instants up to the period's last millisecond.
              const send = (n: number) => {
                const time = n === 40 ? p1 - 1 : p0 + Math.floor(((p1 - p0) * n) / 40)
                const event: IngestEvent = { id: `e${++id}`, type: 'impression', session: `s${n}`, subject: 'x', time }
                return store.ingest({ account: 'acme', container: 'ctr_a', receivedAt: time, timeZone: zone, events: [event] })
              }
              for (const n of early) await send(n)
              await store.billingRun({ account: 'acme', billing, asOf: p1 + DAY, at: p1 + DAY })
              const [issued] = await store.invoices('acme', ['recurring:1'])
              const billedLine = issued?.lines.findIndex((l) => l.kind === 'usage' && l.meter === 'impressions') ?? -1
              const billedBlocks = billedLine >= 0 ? (issued?.lines[billedLine]?.quantity ?? 0) : 0
              for (const n of late) await send(n)
              const units = new Set([...early, ...late]).size
              const blocksNow = Math.max(0, Math.ceil((units - 3) / 2))

              const asOf = p3 + DAY
              await store.billingRun({ account: 'acme', billing, asOf, at: asOf })
              const [next] = await store.invoices('acme', ['recurring:2'])
              const at = next?.lines.findIndex((l) => l.kind === 'adjustment' && l.meter === 'impressions') ?? -1
              if (blocksNow === billedBlocks) {
                expect(at).toBe(-1)
                return
              }
              adjusted++
              const line = next?.lines[at]
              const rows = (await evidence(store, billing, next as Invoice, asOf, pageSize)).filter((r) => r.line === at + 1)
              const unitRows = rows.filter((r) => r.record === 'impression')
              const summary = rows.find((r) => r.record === 'summary')
              expect(unitRows.reduce((sum, r) => sum + (r.quantity ?? 0), 0)).toBe(units)
              expect(unitRows.every((r) => (r.time ?? 0) >= p0 && (r.time ?? 0) < p1)).toBe(true)
              expect(summary).toMatchObject({ lineKind: 'adjustment', used: units, blocks: blocksNow, billedBefore: billedBlocks })
              expect(line?.quantity).toBe(blocksNow - billedBlocks)

              // The invoice that billed period 0 first: its evidence now shows the late units and says where they are billed.
              if (issued && billedLine >= 0) {
                const again = (await evidence(store, billing, issued, asOf, pageSize)).find((r) => r.line === billedLine + 1 && r.record === 'summary')
                expect(again).toMatchObject({ used: units, blocks: blocksNow })
                expect(again?.note).toContain('adjustment')
              }
            } finally {
              await store.close()
            }
          },
        ),
        { numRuns: 40 },
      )
      expect(adjusted).toBeGreaterThan(5)
    },
    60_000,
  )
})
