/**
 * Webhooks across a `kill -9` (docs/webhooks.md): the built collector, with short backoff
 * settings, sends `credits.purchased` events to a real receiver on loopback that fails its first
 * answers and is down while the collector is killed with SIGKILL and restarted on the same
 * database. Every event written before the kill is still delivered after it, each purchase yields
 * exactly one event, the receiver gets them in the account's order, and every signature verifies.
 */
import { afterAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, requireBuilt, startCollector, type Collector } from './e2e-process.js'
import { startReceiver, type Receiver } from './webhook-receiver.js'

const ADMIN = 'admin-process-test'
const SK = 'sk_process_test'
const PURCHASES = 36
const dir = mkdtempSync(join(tmpdir(), 'tally-hooks-'))
const env = { dir, config: join(dir, 'config.json'), db: join(dir, 'tally.db') }
writeFileSync(
  env.config,
  JSON.stringify({
    // The receiver listens on loopback (docs/webhooks.md, "Where webhooks may go").
    server: { webhooks: { allowPrivateNetworks: true } },
    plans: { basic: { currency: 'EUR', basePrice: 0, creditPacks: { small: { credits: 10, price: 100 } } } },
    accounts: {
      acme: {
        // Started today: the billing run at each start finalizes the first invoice and the packs bought so far.
        subscription: { plan: 'basic', cycle: 'monthly', start: new Date().toISOString().slice(0, 10) },
        keys: { secret: SK, read: 'rk_process_test' },
      },
    },
  }),
)
const timing = { TALLY_WEBHOOK_RETRY_BASE_MS: '100', TALLY_WEBHOOK_RETRY_MAX_MS: '400', TALLY_WEBHOOK_POLL_MS: '50', TALLY_WEBHOOK_TIMEOUT_MS: '2000' }
let receiver: Receiver | undefined
afterAll(async () => {
  await receiver?.close()
  rmSync(dir, { recursive: true, force: true })
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Buys pack `k`, retrying until an answer comes, as a vendor's backend would. */
async function purchase(url: () => string, k: number): Promise<number> {
  let unanswered = 0
  for (;;) {
    try {
      const res = await fetch(`${url()}/v1/credits/purchase`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SK}`, 'content-type': 'application/json' },
        body: JSON.stringify({ pack: 'small', id: `buy-${k}` }),
        signal: AbortSignal.timeout(3000),
      })
      if (res.status === 200) return unanswered
    } catch {
      // the collector is down: retry
    }
    unanswered++
    await sleep(50)
  }
}

describe('webhooks across a kill -9 of the collector', () => {
  it('delivers every event written before the kill, once per fact, in order, each signature valid', async () => {
    requireBuilt()
    const port = await freePort()
    receiver = await startReceiver()
    const rcv = receiver
    let collector: Collector = await startCollector({ ...env, port, env: timing })
    const url = () => collector.url
    const created = await fetch(`${url()}/v1/admin/accounts/acme/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: rcv.url }),
    })
    expect(created.status).toBe(201)
    rcv.secret = ((await created.json()) as { secret: string }).secret

    rcv.failNext(3)
    for (let k = 0; k < PURCHASES / 3; k++) await purchase(url, k)
    // The receiver goes down: what is bought now waits in the outbox.
    await rcv.down()
    for (let k = PURCHASES / 3; k < (2 * PURCHASES) / 3; k++) await purchase(url, k)
    // The last third is bought by a client that meets the kill and retries across the restart.
    let unanswered = 0
    const rest = (async () => {
      for (let k = (2 * PURCHASES) / 3; k < PURCHASES; k++) {
        unanswered += await purchase(url, k)
        await sleep(40)
      }
    })()
    await sleep(60)
    const waitingAtKill = (2 * PURCHASES) / 3 - rcv.accepted().length
    expect(await collector.stop('SIGKILL')).toBeNull()
    expect(collector.child.signalCode).toBe('SIGKILL')
    await sleep(300)
    collector = await startCollector({ ...env, port, env: timing })
    await rcv.up()
    await rest

    const db = new Database(env.db, { readonly: true })
    // The events written once the endpoint existed (the first start's invoice came before it, and goes nowhere).
    const stored = () =>
      db
        .prepare(`SELECT id, type, data FROM webhook_events e WHERE account = 'acme'
      AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.account = e.account AND d.seq = e.seq) ORDER BY seq`)
        .all() as { id: string; type: string; data: string }[]
    const deadline = Date.now() + 30_000
    while (rcv.accepted().length < stored().length && Date.now() < deadline) await sleep(100)
    expect(await collector.stop('SIGTERM')).toBe(0)

    // The kill came while events waited for the receiver, and while the client was buying.
    expect(waitingAtKill, 'events waiting at the kill').toBeGreaterThan(0)
    expect(unanswered, 'purchases that met the dead collector').toBeGreaterThan(0)
    // One event per purchase, none lost, none doubled by the client's retries; the billing runs' invoices besides.
    const rows = stored()
    const events = rows.map((r) => r.id)
    const bought = rows.filter((r) => r.type === 'credits.purchased').map((r) => (JSON.parse(r.data) as { id: string }).id)
    expect(bought.sort()).toEqual(Array.from({ length: PURCHASES }, (_, k) => `buy-${k}`).sort())
    expect(rows.filter((r) => r.type === 'invoice.finalized').length).toBeGreaterThan(0)
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(['credits.purchased', 'invoice.finalized']))
    const undelivered = db
      .prepare(`SELECT d.seq, d.status, d.attempts, d.next_at, d.last_status, d.last_error, e.type FROM webhook_deliveries d
      JOIN webhook_events e USING (account, seq) WHERE d.status != 'delivered'`)
      .all()
    expect(undelivered).toEqual([])
    // Each accepted at least once, first in the account's order; retried ones carry the same id.
    expect(rcv.accepted()).toEqual(events)
    expect(rcv.got.length).toBeGreaterThan(PURCHASES)
    expect(rcv.got.every((g) => g.verified && events.includes(g.id))).toBe(true)
    expect(db.prepare('SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status').all()).toEqual([{ status: 'delivered', n: events.length }])
    db.close()
  }, 90_000)
})
