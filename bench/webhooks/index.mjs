#!/usr/bin/env node
// bench/webhooks: what the webhook outbox costs (docs/webhooks.md), each figure beside a baseline
// measured in the same run on the same in-memory SQLite store:
// (1) credit purchases per second when each also writes a `credits.purchased` event for two
//     endpoints, against the same purchases for an account without endpoints (its event has no
//     delivery to write);
// (2) the delivery loop's claim of due deliveries when every endpoint has a backlog of pending
//     events (its receiver is down), against the same claim with one pending event per endpoint:
//     the order rule looks only at the head of each queue, so a backlog should not cost much more.
// No network, bounded in count. Needs the build (`npm run bench` builds first).
import { performance } from 'node:perf_hooks'
import { openSqliteStore } from '../../apps/collector/dist/storage.js'

const PURCHASES = 3200
const ACCOUNTS = 100
const BACKLOG = 100
const CLAIMS = 200
const T = Date.UTC(2026, 6, 20, 12)

const plan = {
  currency: 'EUR',
  basePrice: 0,
  seatPrice: 0,
  included: {},
  overage: {},
  contactRanges: [],
  emailsPerContact: 4,
  freeCredits: 0,
  creditCosts: {},
  creditPacks: { small: { credits: 10, price: 100 } },
  products: {},
  cycleDiscountPercent: {},
}
const billing = {
  timezone: 'UTC',
  plans: { basic: plan },
  members: [],
  subscription: { plan: 'basic', cycle: 'monthly', start: '2026-07-01', seats: 1, contacts: 0 },
}

async function purchasesPerSecond(withEndpoints) {
  const store = openSqliteStore({ file: ':memory:' })
  if (withEndpoints) {
    for (const id of ['we_a', 'we_b']) await store.addWebhookEndpoint('acme', { id, url: `https://hooks.test/${id}`, secret: 'whsec_x', createdAt: T })
  }
  const t0 = performance.now()
  // Sixteen in flight at a time, as concurrent requests would be: the engine groups their commits.
  for (let k = 0; k < PURCHASES; k += 16) {
    await Promise.all(
      Array.from({ length: 16 }, (_, j) => store.creditRequest({ kind: 'purchase', account: 'acme', billing, id: `p${k + j}`, pack: 'small', at: T })),
    )
  }
  const ms = performance.now() - t0
  const events = store.db.prepare('SELECT COUNT(*) AS n FROM webhook_events').get().n
  const deliveries = store.db.prepare('SELECT COUNT(*) AS n FROM webhook_deliveries').get().n
  await store.close()
  return { perSecond: (PURCHASES / ms) * 1000, events, deliveries }
}

async function claimMs(backlog) {
  const store = openSqliteStore({ file: ':memory:' })
  const insert = store.db.prepare(`INSERT INTO webhook_events (account, seq, key, id, type, created, data) VALUES (?, ?, ?, ?, 'credits.purchased', ?, '{}')`)
  const pending = store.db.prepare(`INSERT INTO webhook_deliveries (account, seq, endpoint, status, attempts, next_at) VALUES (?, ?, 'we_a', 'pending', 0, ?)`)
  store.db.transaction(() => {
    for (let a = 0; a < ACCOUNTS; a++) {
      store.db
        .prepare('INSERT INTO webhook_endpoints (account, id, url, secret, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(`acc${a}`, 'we_a', 'https://hooks.test/', 'whsec_x', T)
      for (let s = 1; s <= backlog; s++) {
        insert.run(`acc${a}`, s, `k${s}`, `evt_${a}_${s}`, T)
        pending.run(`acc${a}`, s, T)
      }
    }
  })()
  const runs = []
  for (let i = 0; i < CLAIMS; i++) {
    // Each claim leases the heads; put them back so every run claims the same ACCOUNTS rows.
    const t0 = performance.now()
    const claimed = await store.claimDeliveries(T + 1, ACCOUNTS, T + 1)
    runs.push(performance.now() - t0)
    if (claimed.length !== ACCOUNTS) throw new Error(`claimed ${claimed.length}, expected ${ACCOUNTS}`)
    store.db.prepare("UPDATE webhook_deliveries SET next_at = ? WHERE status = 'pending'").run(T)
  }
  await store.close()
  runs.sort((x, y) => x - y)
  return runs[Math.floor(runs.length / 2)]
}

const without = await purchasesPerSecond(false)
const withHooks = await purchasesPerSecond(true)
console.log(`purchases/s without endpoints ${without.perSecond.toFixed(0)} (events ${without.events}, deliveries ${without.deliveries})`)
console.log(`purchases/s with 2 endpoints  ${withHooks.perSecond.toFixed(0)} (events ${withHooks.events}, deliveries ${withHooks.deliveries})`)
console.log(`ratio with/without: ${(withHooks.perSecond / without.perSecond).toFixed(2)}`)

const base = await claimMs(1)
const backlog = await claimMs(BACKLOG)
console.log(`claim of ${ACCOUNTS} due heads, 1 pending per endpoint: median ${base.toFixed(2)} ms`)
console.log(`claim of ${ACCOUNTS} due heads, ${BACKLOG} pending per endpoint (${ACCOUNTS * BACKLOG} rows): median ${backlog.toFixed(2)} ms`)
console.log(`ratio backlog/baseline: ${(backlog / base).toFixed(2)}`)
