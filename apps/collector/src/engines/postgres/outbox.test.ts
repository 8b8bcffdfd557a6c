/**
 * The webhook outbox with several collectors on one database (docs/webhooks.md): what the
 * contract suite cannot show with one engine. Each engine here has its own pool, as two
 * collector processes would.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PgEngine, openPgEngine } from './engine.js'
import { claimDeliveries } from '../../services/webhooks.js'
import { freshDatabase, pgSkipReason, type FreshDatabase } from '../../../../../test/pg/database.js'

const T = Date.UTC(2026, 6, 20, 12)
const endpoint = (id: string) => ({ id, url: `https://hooks.test/${id}`, secret: `whsec_${id}`, createdAt: T })
const event = (key: string) => ({ key, id: `evt_${key}`, type: 'credits.purchased', created: T, data: { key } })

describe.skipIf(pgSkipReason())('the webhook outbox on PostgreSQL, with two collectors', () => {
  let db: FreshDatabase
  let one: PgEngine
  let two: PgEngine
  beforeAll(async () => {
    db = await freshDatabase()
    await (await openPgEngine({ url: db.url, poolSize: 1 })).close()
  })
  beforeEach(async () => {
    one = new PgEngine({ url: db.url, poolSize: 4 })
    two = new PgEngine({ url: db.url, poolSize: 4 })
    await one.pool.query('TRUNCATE webhook_endpoints, webhook_events, webhook_deliveries')
  })
  afterEach(async () => {
    await one.close()
    await two.close()
  })
  afterAll(() => db?.drop())

  it('never leases one delivery to both: the second collector skips what the first is leasing', async () => {
    for (const a of ['acme', 'beta', 'gamma']) {
      await one.transaction(async (tx) => {
        await tx.insertWebhookEndpoint(a, endpoint('we_1'))
        await tx.lockAccount(a)
        await tx.insertOutboxEvent(a, event(`${a}_k1`))
        await tx.insertOutboxEvent(a, event(`${a}_k2`))
      })
    }
    const lease = T + 10_000
    let second: string[] = []
    // The first collector holds its lease uncommitted while the second claims: without the
    // row locks the second would read the same heads as due and send them too.
    const first = await one.transaction(async (tx) => {
      const mine = await claimDeliveries(tx, T, 2, lease)
      second = (await two.transaction((tx2) => claimDeliveries(tx2, T, 10, lease))).map((d) => d.event.id)
      return mine.map((d) => d.event.id)
    })
    expect(first).toHaveLength(2)
    expect(second).toHaveLength(1)
    // Every queue's head once, and no event behind a head.
    expect([...first, ...second].sort()).toEqual(['evt_acme_k1', 'evt_beta_k1', 'evt_gamma_k1'])
    // Leased: nothing is due again until the lease ends.
    expect(await two.transaction((tx) => claimDeliveries(tx, T + 1, 10, lease))).toEqual([])
    expect((await two.transaction((tx) => claimDeliveries(tx, lease, 10, lease + 10_000))).map((d) => d.event.id).sort()).toEqual([
      'evt_acme_k1',
      'evt_beta_k1',
      'evt_gamma_k1',
    ])
  })

  it('numbers the events of one account written by two collectors at once without a gap or a repeat', async () => {
    await one.transaction((tx) => tx.insertWebhookEndpoint('acme', endpoint('we_1')))
    const write = (engine: PgEngine, key: string) =>
      engine.transaction(async (tx) => {
        await tx.lockAccount('acme')
        return tx.insertOutboxEvent('acme', event(key))
      })
    const keys = Array.from({ length: 20 }, (_, n) => `k${n}`)
    const written = await Promise.all(keys.map((k, n) => write(n % 2 === 0 ? one : two, k)))
    expect(written.every(Boolean)).toBe(true)
    const log = await one.read((r) => r.deliveries('acme', 100))
    expect(log.map((d) => d.seq)).toEqual(Array.from({ length: 20 }, (_, n) => 20 - n))
    expect(new Set(log.map((d) => d.event.id)).size).toBe(20)
  })
})
