/**
 * Several stateless collectors on one PostgreSQL (docs/scaling.md): three `tally serve` processes
 * of the built collector on one database get the same batches at once, then again (the SDK's
 * retries), and the billing run is started on all three at once. Every billable unit and chat
 * session is counted once, and there is one set of invoices, numbered without gaps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { BROWSER_UA, CLI, freePort, requireBuilt, startCollector, type Collector } from './e2e-process.js'
import { freshDatabase, pgSkipReason, type FreshDatabase } from './pg/database.js'

const ORIGIN = 'https://shop.multi.test'
const ADMIN = 'admin-process-test'
const BATCHES = 30
const DAY = 86_400_000

/** A paying account that started three months ago: its ended monthly periods are due. */
function writeMultiConfig() {
  const dir = mkdtempSync(join(tmpdir(), 'tally-pg-'))
  const config = join(dir, 'config.json')
  const start = new Date(Date.now() - 95 * DAY).toISOString().slice(0, 10)
  writeFileSync(
    config,
    JSON.stringify({
      plans: { growth: { currency: 'EUR', basePrice: 4900 } },
      accounts: {
        acme: {
          timezone: 'UTC',
          subscription: { plan: 'growth', cycle: 'monthly', start },
          keys: { secret: 'sk_multi_test', read: 'rk_multi_test' },
          containers: { ctr_test: { domains: ['shop.multi.test'], campaigns: { cmp_a: {}, cmp_b: {} }, advisors: { adv_a: {} }, bots: { bot_help: {} } } },
        },
      },
      server: { rateLimits: { perIp: { rate: 1e6, burst: 1e6 }, perContainer: { rate: 1e6, burst: 1e6 } }, sessionsPerHour: 1e6 },
    }),
  )
  return { dir, config }
}

/** Batch `b`: 40 units in 20 sessions (two campaigns each), 5 engagements, and a whole conversation. */
function makeBatch(b: number, now: number) {
  const units = Array.from({ length: 40 }, (_, i) => ({
    id: `b${b}-u${i}`,
    type: 'impression',
    session: `s${b}-${i >> 1}`,
    campaign: i % 2 ? 'cmp_a' : 'cmp_b',
    ts: now,
  }))
  const engagements = Array.from({ length: 5 }, (_, i) => ({ id: `b${b}-g${i}`, type: 'engagement', session: `s${b}-${i}`, advisor: 'adv_a', ts: now }))
  const conversation = `conv${b}`
  const chat = (['start', 'ping', 'end'] as const).map((phase, i) => ({
    id: `b${b}-c${i}`,
    type: 'chat',
    session: `s${b}-0`,
    conversation,
    bot: 'bot_help',
    phase,
    ts: now - 120_000 + i * 60_000,
  }))
  return { v: 1, sentAt: now, sdk: 'tally-js/test', events: [...units, ...engagements, ...chat] }
}

/** Sends until answered 200, as the SDK does on 503 or a dropped connection. */
async function send(url: string, body: unknown): Promise<{ accepted: number; duplicates: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const res = await fetch(`${url}/v1/containers/ctr_test/events`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      })
      if (res.status === 200) return (await res.json()) as { accepted: number; duplicates: number }
      if (res.status !== 503) throw new Error(`answered ${res.status}: ${await res.text()}`)
    } catch (e) {
      if ((e as Error).message.startsWith('answered')) throw e
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('never answered 200')
}

describe.skipIf(pgSkipReason())('three collectors on one PostgreSQL', () => {
  let db: FreshDatabase
  let env: { dir: string; config: string }
  let pool: pg.Pool
  const collectors: Collector[] = []
  beforeAll(async () => {
    requireBuilt()
    db = await freshDatabase()
    env = writeMultiConfig()
    // The schema by `tally migrate`, as an operator would before starting the collectors.
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'migrate', '--database-url', db.url])
    expect(stdout).toMatch(/^migrated postgres:/)
    const ports = await Promise.all([1, 2, 3].map(() => freePort()))
    collectors.push(...(await Promise.all(ports.map((port) => startCollector({ config: env.config, db: '', databaseUrl: db.url, port })))))
    pool = new pg.Pool({ connectionString: db.url, max: 2 })
    // The database is dropped WITH (FORCE) at the end: an idle client may hear the termination.
    pool.on('error', () => {})
  }, 60_000)
  afterAll(async () => {
    await Promise.all(collectors.map((c) => c.stop()))
    await pool?.end()
    await db?.drop()
    if (env) rmSync(env.dir, { recursive: true, force: true })
  })

  const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]?.n)

  it('counts every unit and chat session once when the same batches reach all three at once, twice', async () => {
    const now = Date.now()
    const batches = Array.from({ length: BATCHES }, (_, b) => makeBatch(b, now))
    let accepted = 0
    let duplicates = 0
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all(batches.flatMap((body) => collectors.map((c) => send(c.url, body))))
      for (const r of results) {
        accepted += r.accepted
        duplicates += r.duplicates
      }
    }
    const events = batches[0]!.events.length
    // Each event is accepted by exactly one of the six deliveries, a duplicate on the other five.
    expect(accepted).toBe(BATCHES * events)
    expect(duplicates).toBe(BATCHES * events * 5)
    expect(await count('SELECT count(*) AS n FROM impressions')).toBe(BATCHES * 40)
    expect(await count('SELECT count(*) AS n FROM engagements')).toBe(BATCHES * 5)
    expect(await count("SELECT coalesce(sum(units), 0) AS n FROM rollups WHERE kind = 'campaign'")).toBe(BATCHES * 40)
    expect(await count("SELECT coalesce(sum(units), 0) AS n FROM rollups WHERE kind = 'advisor'")).toBe(BATCHES * 5)
    expect(await count('SELECT count(*) AS n FROM chat_events')).toBe(BATCHES * 3)
    // One conversation per batch, ended, one chat session each.
    expect(await count("SELECT count(*) AS n FROM conversations WHERE status = 'ended' AND sessions = 1 AND events = 3")).toBe(BATCHES)
    expect(await count("SELECT coalesce(sum(units), 0) AS n FROM rollups WHERE kind = 'bot'")).toBe(BATCHES)
  })

  it('writes one set of invoices, numbered without gaps, when the billing run starts on all three at once', async () => {
    const asOf = new Date().toISOString()
    const runs = await Promise.all(
      collectors.map(async (c) => {
        const res = await fetch(`${c.url}/v1/admin/billing/run`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ asOf }),
        })
        expect(res.status).toBe(200)
        return (await res.json()) as { accounts: { account: string; error?: string }[] }
      }),
    )
    for (const r of runs) expect(r.accounts.filter((a) => a.error)).toEqual([])
    const { rows } = await pool.query<{ key: string; number: number }>("SELECT key, number FROM invoices WHERE account = 'acme' ORDER BY number")
    // Three monthly periods (95 days back) have ended: three invoices, whoever wrote them (the
    // collectors' own billing timers at start, or these runs).
    expect(rows.length).toBeGreaterThanOrEqual(3)
    expect(rows.map((r) => r.number)).toEqual(rows.map((_, k) => k + 1))
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length)
    // `tally bill` by hand beside the running collectors finds nothing left to write.
    const bill = await promisify(execFile)(process.execPath, [CLI, 'bill', '--config', env.config, '--database-url', db.url, '--as-of', asOf])
    expect(bill.stdout).toBe('acme: no invoice; 0 credit log entries\n')
    expect(await count("SELECT count(*) AS n FROM invoices WHERE account = 'acme'")).toBe(rows.length)
    // Every collector answers the same invoices.
    const lists = await Promise.all(
      collectors.map(async (c) => (await (await fetch(`${c.url}/v1/invoices`, { headers: { authorization: 'Bearer rk_multi_test' } })).json()) as unknown),
    )
    expect(lists[1]).toEqual(lists[0])
    expect(lists[2]).toEqual(lists[0])
  })
})
