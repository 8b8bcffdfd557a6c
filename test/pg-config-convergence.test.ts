/**
 * Every collector converges fast (docs/scaling.md, "Configuration changes"): three `tally serve`
 * processes on one PostgreSQL; an admin change is made through one, and the other two are polled
 * until they answer as it does. Each must agree within CONVERGENCE_MS of the change's 200, by the
 * notification (`LISTEN/NOTIFY`) or, when it is missed, by the version check on a timer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { BROWSER_UA, freePort, requireBuilt, startCollector, type Collector } from './e2e-process.js'
import { freshDatabase, pgSkipReason, type FreshDatabase } from './pg/database.js'

/** The bound docs/scaling.md states. */
const CONVERGENCE_MS = 1_000
const ADMIN = 'admin-process-test'

function writeConvergenceConfig() {
  const dir = mkdtempSync(join(tmpdir(), 'tally-pg-conv-'))
  const config = join(dir, 'config.json')
  writeFileSync(
    config,
    JSON.stringify({
      plans: { growth: { currency: 'EUR', basePrice: 4900 } },
      accounts: {
        acme: {
          subscription: { plan: 'growth', cycle: 'monthly', start: '2026-01-01' },
          keys: { secret: 'sk_conv_test_secret', read: 'rk_conv_test_read' },
          containers: { ctr_test: { domains: ['shop.conv.test', 'old.conv.test'], campaigns: { cmp_a: {}, cmp_b: {} } } },
        },
      },
      server: { rateLimits: { perIp: { rate: 1e6, burst: 1e6 }, perContainer: { rate: 1e6, burst: 1e6 } }, sessionsPerHour: 1e6 },
    }),
  )
  return { dir, config }
}

const admin = (url: string, method: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })

let n = 0
/** A beacon's answer: the status, and how many of its one impression were accepted. */
async function beacon(url: string, origin: string, campaign: string): Promise<string> {
  n++
  const res = await fetch(`${url}/v1/containers/ctr_test/events`, {
    method: 'POST',
    headers: { origin, 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
    body: JSON.stringify({
      v: 1,
      sentAt: Date.now(),
      sdk: 'tally-js/test',
      events: [{ id: `conv${n}`, type: 'impression', session: `s${n}`, campaign, ts: Date.now() }],
    }),
  })
  if (res.status !== 200) return String(res.status)
  const body = (await res.json()) as { accepted: number; rejected?: { code: string }[] }
  return body.accepted === 1 ? 'accepted' : (body.rejected?.[0]?.code ?? 'not accepted')
}

const read = async (url: string, key: string) => String((await fetch(`${url}/v1/invoices`, { headers: { authorization: `Bearer ${key}` } })).status)

/** Polls `probe` on each collector until it answers `expected`; resolves to the milliseconds since `since`, per collector. */
async function agreeWithin(collectors: Collector[], probe: (url: string) => Promise<string>, expected: string, since: number): Promise<number[]> {
  return Promise.all(
    collectors.map(async (c) => {
      for (;;) {
        const got = await probe(c.url)
        const elapsed = performance.now() - since
        if (got === expected) return elapsed
        if (elapsed > CONVERGENCE_MS) throw new Error(`${c.url} still answers ${got}, not ${expected}, ${Math.round(elapsed)} ms after the change`)
        await new Promise((r) => setTimeout(r, 10))
      }
    }),
  )
}

describe.skipIf(pgSkipReason())('a configuration change reaches every collector on one PostgreSQL', () => {
  let db: FreshDatabase
  let env: { dir: string; config: string }
  let pool: pg.Pool
  const collectors: Collector[] = []
  const others = () => collectors.slice(1)
  beforeAll(async () => {
    requireBuilt()
    db = await freshDatabase()
    env = writeConvergenceConfig()
    const ports = await Promise.all([1, 2, 3].map(() => freePort()))
    // One first (it seeds the database from the file), then two beside it.
    collectors.push(await startCollector({ config: env.config, db: '', databaseUrl: db.url, port: ports[0]! }))
    collectors.push(...(await Promise.all(ports.slice(1).map((port) => startCollector({ config: env.config, db: '', databaseUrl: db.url, port })))))
    pool = new pg.Pool({ connectionString: db.url, max: 2 })
    pool.on('error', () => {})
  }, 60_000)
  afterAll(async () => {
    await Promise.all(collectors.map((c) => c.stop()))
    await pool?.end()
    await db?.drop()
    if (env) rmSync(env.dir, { recursive: true, force: true })
  })

  it('answers the same on all three before any change', async () => {
    for (const c of collectors) {
      expect(await read(c.url, 'rk_conv_test_read')).toBe('200')
      expect(await beacon(c.url, 'https://old.conv.test', 'cmp_a')).toBe('accepted')
    }
  })

  it('refuses a rotated read key everywhere within the bound', async () => {
    const res = await admin(collectors[0]!.url, 'PATCH', '/v1/admin/accounts/acme', { keys: { read: 'rk_conv_test_rotated' } })
    const since = performance.now()
    expect(res.status).toBe(200)
    expect(await read(collectors[0]!.url, 'rk_conv_test_read')).toBe('401')
    const elapsed = await agreeWithin(others(), (url) => read(url, 'rk_conv_test_read'), '401', since)
    for (const c of collectors) expect(await read(c.url, 'rk_conv_test_rotated')).toBe('200')
    expect(Math.max(...elapsed)).toBeLessThanOrEqual(CONVERGENCE_MS)
  })

  it('refuses a removed domain everywhere within the bound', async () => {
    const res = await admin(collectors[1]!.url, 'PATCH', '/v1/admin/containers/ctr_test', { domains: ['shop.conv.test'] })
    const since = performance.now()
    expect(res.status).toBe(200)
    const all = [collectors[0]!, collectors[2]!]
    await agreeWithin(all, (url) => beacon(url, 'https://old.conv.test', 'cmp_b'), '403', since)
    for (const c of collectors) expect(await beacon(c.url, 'https://shop.conv.test', 'cmp_b')).toBe('accepted')
  })

  it('refuses a deactivated campaign everywhere within the bound', async () => {
    const res = await admin(collectors[2]!.url, 'PATCH', '/v1/admin/containers/ctr_test', { campaigns: { cmp_a: { active: false } } })
    const since = performance.now()
    expect(res.status).toBe(200)
    await agreeWithin(collectors.slice(0, 2), (url) => beacon(url, 'https://shop.conv.test', 'cmp_a'), 'inactive_campaign', since)
  })

  it('reads a version whose notification never came on the timer, within the bound', async () => {
    // A version written without NOTIFY, as if the notification had been lost with a connection.
    const { rows } = await pool.query<{ body: { keys: { read: string } } }>(
      "SELECT body FROM config_versions WHERE kind = 'account' AND id = 'acme' ORDER BY version DESC LIMIT 1",
    )
    const body = { ...rows[0]!.body, keys: { ...rows[0]!.body.keys, read: 'rk_conv_test_silent' } }
    await pool.query(
      `INSERT INTO config_versions (seq, kind, id, version, body, effective_at, created_at)
      SELECT max(seq) + 1, 'account', 'acme', (SELECT max(version) + 1 FROM config_versions WHERE kind = 'account' AND id = 'acme'), $1::json, $2, $2
      FROM config_versions`,
      [JSON.stringify(body), Date.now()],
    )
    await pool.query(`INSERT INTO config_audit (seq, kind, id, version, actor, at, before, after)
      SELECT seq, kind, id, version, 'test', created_at, NULL, body FROM config_versions WHERE seq = (SELECT max(seq) FROM config_versions)`)
    const since = performance.now()
    await agreeWithin(collectors, (url) => read(url, 'rk_conv_test_rotated'), '401', since)
    for (const c of collectors) expect(await read(c.url, 'rk_conv_test_silent')).toBe('200')
  })

  it('lists the same history on every collector', async () => {
    const lists = await Promise.all(
      collectors.map(
        async (c) =>
          (await (await fetch(`${c.url}/v1/admin/accounts/acme/history`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
            versions: { version: number; actor: string }[]
          },
      ),
    )
    expect(lists[0]!.versions.map((v) => [v.version, v.actor])).toEqual([
      [5, 'test'],
      [4, 'admin'],
      [3, 'admin'],
      [2, 'admin'],
      [1, 'config file'],
    ])
    expect(lists[1]).toEqual(lists[0])
    expect(lists[2]).toEqual(lists[0])
  })
})
