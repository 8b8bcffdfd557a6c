import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Invoice } from '@tally/billing'
import { openPgStore, type PgStore } from '../../storage.js'
import { BILLING_LOCK } from '../../services/billing-runner.js'
import { ADMIN, batch, chat, impression, NOW, setup, testConfig } from '../../testkit.js'
import { freshDatabase, pgSkipReason, type FreshDatabase } from '../../../../../test/pg/database.js'
import { freePort } from '../../../../../test/e2e-process.js'

describe.skipIf(pgSkipReason())('the collector on PostgreSQL', () => {
  let db: FreshDatabase
  let store: PgStore
  beforeAll(async () => {
    db = await freshDatabase()
    store = await openPgStore({ url: db.url, poolSize: 4 })
  })
  afterAll(async () => {
    await store?.close()
    await db?.drop()
  })

  it('counts a retried beacon once, and says it is ready', async () => {
    const { app, post } = setup({ store })
    const events = [impression('cmp_summer', 's_pg'), impression('cmp_winter', 's_pg'), chat('start', NOW, 'conv_pg'), chat('end', NOW + 60_000, 'conv_pg')]
    for (let k = 0; k < 2; k++) expect((await post(batch(events, NOW + 60_000))).status).toBe(200)
    const rollups = await store.rollups('acme', '2026-07-20', '2026-07-21')
    expect(rollups.map((r) => [r.kind, r.subject, r.units])).toEqual([
      ['bot', 'bot_help', 1],
      ['campaign', 'cmp_summer', 1],
      ['campaign', 'cmp_winter', 1],
    ])
    const ready = await app.request('/readyz')
    expect(ready.status).toBe(200)
  })

  // docs/lessons.md: NUL bytes break PostgreSQL text, lone surrogates break UTF-8. Refused with a
  // 4xx before the database, or stored as JSON escapes: never a 500 from the database.
  const hostile = ['a\u0000b', '\ud800', '__proto__', "'; DROP TABLE rollups; --"]
  it.each(hostile)('answers %j in beacons, usage events and admin changes with no 5xx', async (bad) => {
    const { app, post } = setup({ store })
    const statuses = [
      (await post(batch([impression('cmp_summer', bad), chat('start', NOW, bad)]))).status,
      (
        await app.request('/v1/usage', {
          method: 'POST',
          headers: { authorization: 'Bearer sk_acme_secret', 'content-type': 'application/json' },
          body: JSON.stringify({
            events: [
              { id: 'u1', type: 'alert', alert: bad, user: bad, ts: NOW },
              { id: bad, type: 'alert', alert: 'a', ts: NOW },
            ],
          }),
        })
      ).status,
      (
        await app.request('/v1/admin/accounts/acme', {
          method: 'PUT',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ...testConfig().accounts.acme, name: bad }),
        })
      ).status,
    ]
    for (const status of statuses) expect(status).toBeLessThan(500)
    expect((await app.request('/readyz')).status).toBe(200)
  })

  it('rejects a transaction with the write that failed, not with the statements after it', async () => {
    const invoice = { key: 'k1', number: 1, kind: 'recurring', issuedAt: NOW, currency: 'EUR', total: 1 } as unknown as Invoice
    await store.engine.transaction((tx) => tx.insertInvoices('pipe', [invoice], NOW))
    const failed = store.engine.transaction(async (tx) => {
      await tx.insertInvoices('pipe', [invoice], NOW)
      return tx.invoices('pipe')
    })
    await expect(failed).rejects.toMatchObject({ code: '23505' })
    expect(await store.engine.read((db) => db.invoices('pipe'))).toHaveLength(1)
  })

  it('runs a transaction again when it lost a deadlock, and both commit', async () => {
    const day = (d: string) => ({ day: d, container: 'ctr', kind: 'campaign' as const, subject: 'dl', units: 1 })
    await store.engine.transaction((tx) => tx.addRollups('deadlock', [day('2026-01-01'), day('2026-01-02')]))
    let runs = 0
    // Each locks one row, waits for the other to lock its row, then wants the other's row.
    let arrived = 0
    let bothIn!: () => void
    const ready = new Promise<void>((r) => (bothIn = r))
    const crossing = (first: string, second: string) =>
      store.engine.transaction(async (tx) => {
        runs++
        await tx.usageDaily('deadlock') // a read: the pipelined BEGIN and first write are answered before it
        await tx.addRollups('deadlock', [day(first)])
        await tx.rollups('deadlock', first, '9999')
        if (++arrived === 2) bothIn()
        await Promise.race([ready, new Promise((r) => setTimeout(r, 2_000))])
        await tx.addRollups('deadlock', [day(second)])
        await tx.rollups('deadlock', second, '9999')
      })
    await Promise.all([crossing('2026-01-01', '2026-01-02'), crossing('2026-01-02', '2026-01-01')])
    // One of them lost the deadlock and ran again (more runs when the box is slow, never fewer).
    expect(runs).toBeGreaterThan(2)
    const units = (await store.engine.read((db) => db.rollups('deadlock', '2026-01-01', '2026-01-03'))).map((r) => r.units)
    expect(units).toEqual([3, 3])
  })

  it('runs locked work on one collector at a time and skips it on the others', async () => {
    const other = await openPgStore({ url: db.url, poolSize: 2, migrate: false })
    try {
      let release!: () => void
      const held = new Promise<void>((r) => (release = r))
      const first = store.exclusive!(BILLING_LOCK, () => held.then(() => 'ran'))
      await new Promise((r) => setTimeout(r, 100))
      expect(await other.exclusive!(BILLING_LOCK, async () => 'also ran')).toEqual({ ran: false })
      release()
      expect(await first).toEqual({ ran: true, value: 'ran' })
      expect(await other.exclusive!(BILLING_LOCK, async () => 'now')).toEqual({ ran: true, value: 'now' })
    } finally {
      await other.close()
    }
  })

  it('answers 503 with the reason on /readyz and 503 with Retry-After on writes while the database is unreachable', async () => {
    // Nothing listens on this port: every connection is refused.
    const gone = await openPgStore({ url: `postgres://postgres@127.0.0.1:${await freePort()}/none`, connectTimeoutMs: 1_000, migrate: false })
    try {
      const { app, post } = setup({ store: gone })
      const ready = await app.request('/readyz')
      expect(ready.status).toBe(503)
      expect(ready.headers.get('retry-after')).toBe('1')
      expect(((await ready.json()) as { error: { message: string } }).error.message).toMatch(/^the database probe failed: .*ECONNREFUSED/)
      const started = Date.now()
      const res = await post(batch([impression('cmp_summer', 's_gone')]))
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      expect(Date.now() - started).toBeLessThan(5_000)
    } finally {
      await gone.close()
    }
  })
})
