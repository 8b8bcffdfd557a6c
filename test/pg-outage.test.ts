/**
 * The database stops mid-load and starts again (a fast shutdown of a cluster of this test's own,
 * as `pg_ctl stop -m fast`): two collector processes answer 503 with Retry-After meanwhile,
 * promptly, and `/readyz` says why; the SDK (`createTracker`) and a server-usage client retry, and
 * once the database is back every event is counted exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { createTracker, memoryStore, type FetchLike } from '@tally/sdk'
import { BROWSER_UA, freePort, requireBuilt, startCollector, type Collector } from './e2e-process.js'
import { pgSkipReason } from './pg/database.js'
import { startTestPostgres, type TestPostgres } from './pg/server.js'

const ORIGIN = 'https://shop.outage.test'
const SK = 'sk_outage_test'
const TABS = 8
const CAMPAIGNS = 10
const USAGE_CLIENTS = 2
const USAGE_BATCHES = 20
const ALERTS_PER_BATCH = 5

function writeOutageConfig() {
  const dir = mkdtempSync(join(tmpdir(), 'tally-outage-'))
  const config = join(dir, 'config.json')
  const campaigns = Object.fromEntries(Array.from({ length: CAMPAIGNS }, (_, i) => [`cmp_${i}`, {}]))
  writeFileSync(
    config,
    JSON.stringify({
      plans: { basic: { currency: 'EUR', basePrice: 1000 } },
      accounts: {
        acme: {
          timezone: 'UTC',
          subscription: { plan: 'basic', cycle: 'monthly', start: new Date().toISOString().slice(0, 10) },
          keys: { secret: SK, read: 'rk_outage_test' },
          containers: { ctr_test: { domains: ['shop.outage.test'], campaigns } },
        },
      },
      server: { rateLimits: { perIp: { rate: 1e6, burst: 1e6 }, perContainer: { rate: 1e6, burst: 1e6 } }, sessionsPerHour: 1e6 },
    }),
  )
  return { dir, config }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(pgSkipReason())('PostgreSQL stopped and started again under load', () => {
  let server: TestPostgres
  let env: { dir: string; config: string }
  const collectors: Collector[] = []
  beforeAll(async () => {
    requireBuilt()
    server = await startTestPostgres()
    env = writeOutageConfig()
    const ports = await Promise.all([1, 2].map(() => freePort()))
    // Short timeouts, so an unreachable database turns into 503 within about a second.
    const timeouts = { TALLY_PG_CONNECT_TIMEOUT_MS: '1000', TALLY_PG_STATEMENT_TIMEOUT_MS: '2000' }
    for (const port of ports) collectors.push(await startCollector({ config: env.config, db: '', databaseUrl: server.url, port, env: timeouts }))
  }, 60_000)
  afterAll(async () => {
    await Promise.all(collectors.map((c) => c.stop()))
    await server?.stop()
    if (env) rmSync(env.dir, { recursive: true, force: true })
  })

  it('answers 503 while it is down, and counts every retried event exactly once after', async () => {
    const statuses: number[] = []
    // Each tab talks to one of the collectors, as a load balancer would spread them.
    const tabs = Array.from({ length: TABS }, (_, k) => {
      const url = collectors[k % collectors.length]!.url
      const fetchFn: FetchLike = async (u, init) => {
        const res = await fetch(u.replace(/^https?:\/\/[^/]+/, url), {
          ...init,
          headers: { origin: ORIGIN, 'user-agent': BROWSER_UA, 'content-type': 'text/plain' },
          signal: AbortSignal.timeout(5_000),
        })
        statuses.push(res.status)
        return res
      }
      return createTracker({ container: 'ctr_test', endpoint: 'https://collector.test', fetch: fetchFn, store: memoryStore(), sendBeacon: () => false })
    })

    // A backend reporting alerts, retrying each batch until it is answered 200 (as examples/server-usage does by hand).
    const usageStatuses: number[] = []
    const usageClient = async (c: number) => {
      for (let b = 0; b < USAGE_BATCHES; b++) {
        const events = Array.from({ length: ALERTS_PER_BATCH }, (_, i) => ({
          id: `u${c}-b${b}-${i}`,
          type: 'alert',
          alert: 'daily',
          user: `user${i}`,
          ts: Date.now(),
        }))
        const url = collectors[(c + b) % collectors.length]!.url
        for (let attempt = 0; ; attempt++) {
          if (attempt > 200) throw new Error('usage batch never accepted')
          try {
            const res = await fetch(`${url}/v1/usage`, {
              method: 'POST',
              headers: { authorization: `Bearer ${SK}`, 'content-type': 'application/json' },
              body: JSON.stringify({ events }),
              signal: AbortSignal.timeout(5_000),
            })
            usageStatuses.push(res.status)
            if (res.status === 200) break
            expect(res.status).toBe(503)
            await sleep(Number(res.headers.get('retry-after')) * 1000 || 500)
          } catch (e) {
            if ((e as Error).name === 'AssertionError') throw e
            await sleep(200)
          }
        }
        await sleep(100)
      }
    }
    const usage = Promise.all(Array.from({ length: USAGE_CLIENTS }, (_, c) => usageClient(c)))

    // Impressions spread over about three seconds, the outage in the middle.
    const browsing = (async () => {
      for (let i = 0; i < CAMPAIGNS; i++) {
        for (const t of tabs) t.impression(`cmp_${i}`)
        await sleep(300)
      }
    })()

    await sleep(800)
    await server.pause()
    const down = Date.now()
    // Meanwhile: not ready, with the reason, and writes refused promptly with Retry-After.
    const ready = await fetch(`${collectors[0]!.url}/readyz`)
    expect(ready.status).toBe(503)
    expect(((await ready.json()) as { error: { message: string } }).error.message).toMatch(/database/)
    const started = Date.now()
    const refused = await fetch(`${collectors[1]!.url}/v1/usage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SK}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [{ id: 'probe', type: 'alert', alert: 'probe', user: 'p', ts: Date.now() }] }),
    })
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(Date.now() - started).toBeLessThan(5_000)
    await sleep(Math.max(0, 2_000 - (Date.now() - down)))
    await server.resume()

    await browsing
    await usage
    await Promise.all(tabs.map((t) => t.flush()))
    // Ready again by itself: /readyz stays 503 for a few seconds after the last failed write (docs/reliability.md).
    let readyAgain = 0
    for (const until = Date.now() + 15_000; Date.now() < until; await sleep(250)) {
      readyAgain = (await fetch(`${collectors[0]!.url}/readyz`)).status
      if (readyAgain === 200) break
    }
    expect(readyAgain).toBe(200)

    // The clients did meet the outage (503 or a refused connection), and got through it.
    expect(usageStatuses.filter((s) => s === 503).length + statuses.filter((s) => s === 503).length).toBeGreaterThan(0)
    const pool = new pg.Pool({ connectionString: server.url, max: 1 })
    try {
      const n = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]?.n)
      expect(await n('SELECT count(*) AS n FROM impressions')).toBe(TABS * CAMPAIGNS)
      expect(await n("SELECT coalesce(sum(units), 0) AS n FROM rollups WHERE kind = 'campaign'")).toBe(TABS * CAMPAIGNS)
      // The probe sent during the outage was refused, so it is not there.
      expect(await n("SELECT count(*) AS n FROM usage_events WHERE id <> 'probe'")).toBe(USAGE_CLIENTS * USAGE_BATCHES * ALERTS_PER_BATCH)
      expect(await n('SELECT count(*) AS n FROM usage_events')).toBe(USAGE_CLIENTS * USAGE_BATCHES * ALERTS_PER_BATCH)
      expect(await n('SELECT coalesce(sum(alerts), 0) AS n FROM usage_daily')).toBe(USAGE_CLIENTS * USAGE_BATCHES * ALERTS_PER_BATCH)
    } finally {
      await pool.end()
    }
  }, 90_000)
})
