// Invoice computation for an account with 10 million events in its period, from the daily rollups
// the collector keeps (30 days x 1000 subjects), beside the time to scan the same 10 million raw
// events. Target: the invoice under 50 ms. Needs `npm run build -w @tally/billing`.
import { performance } from 'node:perf_hooks'
import { computeInvoices, preview } from '../../packages/billing/dist/index.js'

const EVENTS = 10_000_000
const DAYS = 30
const SUBJECTS = 1000
const TARGET_MS = 50

const plan = {
  currency: 'EUR',
  basePrice: 4900,
  seatPrice: 1500,
  included: { impressions: 100000, engagements: 5000, chatSessions: 500, alerts: 1000 },
  overage: { impressions: { per: 1000, price: 40 }, engagements: { per: 100, price: 150 }, chatSessions: { per: 1, price: 12 }, alerts: { per: 1, price: 1 } },
  contactRanges: [
    { upTo: 1000, price: 0 },
    { upTo: 5000, price: 2900 },
    { upTo: null, price: 9900 },
  ],
  emailsPerContact: 4,
  freeCredits: 500,
  creditCosts: { sms: 2 },
  creditPacks: {},
  cycleDiscountPercent: { quarterly: 5, semiannual: 10, annual: 20 },
}
const account = {
  timezone: 'Europe/Amsterdam',
  plans: { growth: plan },
  members: [],
  subscription: { plan: 'growth', cycle: 'monthly', start: '2026-09-01', seats: 3, contacts: 1000 },
}
const periodStart = Date.UTC(2026, 7, 31, 22) // 2026-09-01 00:00 in Amsterdam
const periodEnd = Date.UTC(2026, 8, 30, 22) // 2026-10-01 00:00

// Event mix: 80% impressions, 15% engagements, 4% chat sessions, 1% alerts.
const KINDS = ['impressions', 'engagements', 'chatSessions', 'alerts']
const kindOf = (i) => {
  const r = i % 100
  return r < 80 ? 0 : r < 95 ? 1 : r < 99 ? 2 : 3
}

// Rollups: one row per day and subject, the 10M events spread over them.
const rows = []
const perRow = Math.floor(EVENTS / (DAYS * SUBJECTS))
let extra = EVENTS - perRow * DAYS * SUBJECTS
for (let d = 0; d < DAYS; d++) {
  const day = `2026-09-${String(d + 1).padStart(2, '0')}`
  for (let s = 0; s < SUBJECTS; s++) {
    const row = { day, impressions: 0, engagements: 0, chatSessions: 0, alerts: 0 }
    const n = perRow + (extra > 0 ? 1 : 0)
    if (extra > 0) extra--
    for (let i = 0; i < n; i++) row[KINDS[kindOf(i)]]++
    if (s === 0) row.contacts = 900 + d
    rows.push(row)
  }
}
const data = { usage: rows, ledger: [] }

function invoiceFromRollups() {
  const invoices = computeInvoices(account, data, periodEnd)
  return invoices.find((i) => i.key === 'recurring:1')
}
for (let i = 0; i < 5; i++) invoiceFromRollups()
const runs = []
let invoice
for (let i = 0; i < 21; i++) {
  const t0 = performance.now()
  invoice = invoiceFromRollups()
  runs.push(performance.now() - t0)
}
runs.sort((a, b) => a - b)
const rollupMs = runs[10]
const previewT0 = performance.now()
const p = preview(account, data, periodStart + 86_400_000)
const previewMs = performance.now() - previewT0
if (!invoice || !p || p.total !== invoice.total) throw new Error('the preview differs from the invoice')

// Raw scan: the same 10M events as typed arrays, generated and scanned in 1M-event chunks so that
// memory stays bounded (about 14 MB per chunk); only the scans are timed.
const CHUNK = 1_000_000
const ts = new Float64Array(CHUNK)
const subject = new Uint32Array(CHUNK)
const kind = new Uint8Array(CHUNK)
const counts = new Float64Array(DAYS * 4)
let scanMs = 0
let seed = 42
for (let base = 0; base < EVENTS; base += CHUNK) {
  for (let i = 0; i < CHUNK; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0
    ts[i] = periodStart + (seed % (periodEnd - periodStart))
    subject[i] = seed % SUBJECTS
    kind[i] = kindOf(base + i)
  }
  const t0 = performance.now()
  for (let i = 0; i < CHUNK; i++) {
    const t = ts[i]
    if (t < periodStart || t >= periodEnd) continue
    const day = ((t - periodStart) / 86_400_000) | 0
    counts[day * 4 + kind[i]]++
  }
  scanMs += performance.now() - t0
}
const scanned = counts.reduce((a, b) => a + b, 0)
if (scanned !== EVENTS) throw new Error(`scanned ${scanned} events`)

const total = rows.reduce((n, r) => n + r.impressions + r.engagements + r.chatSessions + r.alerts, 0)
console.log(`events in the period      ${total.toLocaleString('en')} (${rows.length.toLocaleString('en')} rollup rows)`)
console.log(
  `invoice from rollups      ${rollupMs.toFixed(2)} ms (median of 21; target < ${TARGET_MS} ms) — total ${invoice.total} ${invoice.currency}, ${invoice.lines.length} lines`,
)
console.log(`preview (same code)       ${previewMs.toFixed(2)} ms`)
console.log(`scan of the raw events    ${scanMs.toFixed(2)} ms (typed arrays, counting only)`)
console.log(`ratio raw scan / rollups  ${(scanMs / rollupMs).toFixed(1)}x`)
if (rollupMs >= TARGET_MS) {
  console.log(`FAIL: ${rollupMs.toFixed(2)} ms is over the ${TARGET_MS} ms target`)
  process.exitCode = 1
}

// A credit request (one SMS paid from the wallet) for an account with a short and with a long
// credit history, measured in this run: the open ledger makes it read the same rows whatever the
// log holds (docs/architecture.md, "Per-request work"), so the ratio should be about 1.0. Two
// pairs: the same subscription age (month 100, 12 against 5,000 entries: the credit history
// alone), and month 2 against month 100 (the history and the subscription's age together). Warm:
// the collector wrote last; cold: a new process on the same database. Needs `npm run build`.
const { SqliteEngine } = await import('../../apps/collector/dist/engines/sqlite/engine.js')
const { createStore } = await import('../../apps/collector/dist/services/store.js')
{
  const creditPlan = (freeCredits) => ({ ...plan, freeCredits, creditCosts: { sms: 1 }, creditPacks: { big: { credits: 100_000, price: 10_000 } } })
  const plans = { granted: creditPlan(100), packs: creditPlan(0) }
  const billingOf = (planId, start) => ({ timezone: 'Europe/Amsterdam', plans, members: [], subscription: { plan: planId, cycle: 'monthly', start } })
  const accounts = {
    longPacks: billingOf('packs', '2018-01-12'),
    shortPacks: billingOf('packs', '2018-01-12'),
    long: billingOf('granted', '2018-01-12'),
    short: billingOf('granted', '2026-02-12'),
  }
  const NOW = Date.UTC(2026, 3, 20, 12)
  const DAY = 86_400_000
  const engine = new SqliteEngine({ file: ':memory:' })
  let store = createStore(engine)
  let n = 0
  const sms = (account, at, count = 1) =>
    store.recordUsage({
      account,
      billing: accounts[account],
      receivedAt: at,
      events: Array.from({ length: count }, () => ({
        id: `sms-${++n}`,
        type: 'action',
        time: at,
        day: new Date(at).toISOString().slice(0, 10),
        action: 'sms',
        quantity: 1,
      })),
    })
  const buy = (account, at) => store.creditRequest({ kind: 'purchase', account, billing: accounts[account], id: `pack-${++n}`, pack: 'big', at })
  const first = Date.UTC(2018, 0, 15, 12)
  await buy('longPacks', first)
  await buy('shortPacks', first)
  for (let at = first; at < NOW - 10 * DAY; at += 30 * DAY) {
    await sms('longPacks', at, 50)
    await sms('long', at, 48)
  }
  await sms('shortPacks', NOW - 2 * DAY, 10)
  await sms('short', NOW - 60 * DAY, 10)
  // Enough credits for the timed requests; a pack each, so both hold the same open lots.
  await buy('long', NOW - DAY)
  await buy('short', NOW - DAY)
  const entries = Object.fromEntries(await Promise.all(Object.keys(accounts).map(async (a) => [a, (await engine.read((db) => db.ledger(a))).length])))
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1]
  /** Median ms of a paid SMS per account, the accounts taking turns; `cold`: a new store (process) before each. */
  const time = async (pair, runs, cold) => {
    const ms = Object.fromEntries(pair.map((a) => [a, []]))
    for (let i = 0; i < runs; i++) {
      for (const a of pair) {
        if (cold) store = createStore(engine)
        const at = NOW + i * 1000
        const t0 = performance.now()
        const [r] = await sms(a, at)
        ms[a].push(performance.now() - t0)
        if (r.status !== 'accepted') throw new Error(`${a}: ${r.code}`)
      }
    }
    return pair.map((a) => median(ms[a]))
  }
  for (const [label, pair] of [
    ['same age', ['shortPacks', 'longPacks']],
    ['month 2 / 100', ['short', 'long']],
  ]) {
    await time(pair, 50, false)
    const [ws, wl] = await time(pair, 400, false)
    const [cs, cl] = await time(pair, 100, true)
    console.log(
      `credit request, ${label.padEnd(13)} ${entries[pair[0]]} / ${entries[pair[1]].toLocaleString('en')} entries: warm ${ws.toFixed(3)} / ${wl.toFixed(3)} ms (ratio ${(wl / ws).toFixed(2)}), cold ${cs.toFixed(3)} / ${cl.toFixed(3)} ms (ratio ${(cl / cs).toFixed(2)})`,
    )
  }
  // The period in force alone, month 2 against month 100 of subscriptions with the same changes
  // (an upgrade, a quarterly term, a seat downgrade, all in the first month): what the email check
  // and the credit rules compute per request (docs/performance.md, "Periods"), no storage.
  const { termsAt, emailWindow, emailsAt } = await import('../../packages/billing/dist/index.js')
  {
    const changes = [
      { at: '2018-01-20', plan: 'packs' },
      { at: '2018-02-10', seats: 4 },
      { at: '2018-02-15', cycle: 'quarterly' },
      { at: '2018-02-20', seats: 1 },
    ]
    const sub = { plan: 'granted', cycle: 'monthly', start: '2018-01-31', seats: 2, contacts: 1000, changes }
    const billing = { timezone: 'Europe/Amsterdam', plans, members: [], subscription: sub }
    const periodWork = (at) => {
      const w = emailWindow(billing, at)
      const terms = termsAt(billing, at)
      const emails = emailsAt(billing, { usage: [{ day: w.fromDay, emails: 10 }], finalized: [], emailGrants: [] }, at)
      if (!terms || !emails) throw new Error('no period')
    }
    const timeAt = (at, runs) => {
      const ms = []
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now()
        periodWork(at + i * 1000)
        ms.push(performance.now() - t0)
      }
      return median(ms)
    }
    const m2 = Date.UTC(2018, 2, 20, 12)
    const m100 = Date.UTC(2026, 3, 20, 12)
    timeAt(m2, 200)
    timeAt(m100, 200)
    const [s, l] = [timeAt(m2, 2000), timeAt(m100, 2000)]
    console.log(`period in force, month 2 / 100 (terms, email window and quota): ${s.toFixed(3)} / ${l.toFixed(3)} ms (ratio ${(l / s).toFixed(2)})`)
  }
  await engine.close()
}
