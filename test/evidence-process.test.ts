/**
 * The evidence export of the built collector (docs/evidence.md): read on its own thread and
 * read-only connection beside the storage thread. Units are loaded straight into the database
 * (January's events are older than any beacon may be), the collector bills January at start, and
 * the export must hold every unit once, agree with the invoice line, survive a client that goes
 * away mid-stream, and leave beacons answered meanwhile.
 */
import { afterAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { BROWSER_UA, ROOT, freePort, requireBuilt, startCollector } from './e2e-process.js'

const UNITS = 25_000
const RK = 'rk_evidence_process'
const dir = mkdtempSync(join(tmpdir(), 'tally-evidence-'))
const config = join(dir, 'config.json')
const db = join(dir, 'tally.db')
const ENGINE = join(ROOT, 'apps/collector/dist/engines/sqlite/engine.js')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

writeFileSync(
  config,
  JSON.stringify({
    plans: { metered: { currency: 'EUR', basePrice: 100, included: { impressions: 10 }, overage: { impressions: { per: 10, price: 1 } } } },
    accounts: {
      acme: {
        timezone: 'UTC',
        subscription: { plan: 'metered', cycle: 'monthly', start: '2026-01-01' },
        keys: { secret: 'sk_evidence_process', read: RK },
        containers: {
          ctr_a: { domains: ['shop.evidence.test'], campaigns: { cmp_0: {}, cmp_1: {} } },
          ctr_b: { domains: ['b.evidence.test'], campaigns: { cmp_0: {} } },
        },
      },
    },
    server: { rateLimits: { perIp: { rate: 1e6, burst: 1e6 }, perContainer: { rate: 1e6, burst: 1e6 } } },
  }),
)

/** January's units in two containers, and their rollups, as ingestion would have written them. */
async function load() {
  const { migrateSqlite } = (await import(pathToFileURL(ENGINE).href)) as { migrateSqlite: (f: string) => void }
  migrateSqlite(db)
  const d = new Database(db)
  const start = Date.UTC(2026, 0, 1)
  const imp = d.prepare('INSERT INTO impressions (container, session, campaign, event_id, time) VALUES (?, ?, ?, ?, ?)')
  const roll = d.prepare(`INSERT INTO rollups (account, day, container, kind, subject, units) VALUES ('acme', ?, ?, 'campaign', ?, 1)
    ON CONFLICT (account, day, container, kind, subject) DO UPDATE SET units = units + 1`)
  d.transaction(() => {
    for (let i = 0; i < UNITS; i++) {
      const container = i % 5 === 0 ? 'ctr_b' : 'ctr_a'
      const campaign = container === 'ctr_b' ? 'cmp_0' : `cmp_${i % 2}`
      const time = start + Math.floor((i / UNITS) * 31 * 86_400_000)
      imp.run(container, `s${i >> 1}`, campaign, `e${i}`, time)
      roll.run(new Date(time).toISOString().slice(0, 10), container, campaign)
    }
    // A unit of February: not January's evidence.
    imp.run('ctr_a', 's_feb', 'cmp_0', 'e_feb', Date.UTC(2026, 1, 1))
    roll.run('2026-02-01', 'ctr_a', 'cmp_0')
  })()
  d.close()
}

const get = (url: string, init: RequestInit = {}) => fetch(url, { ...init, headers: { authorization: `Bearer ${RK}`, ...init.headers } })

describe('the evidence export of the running collector', () => {
  it('holds every unit once, agrees with the line, survives a client gone mid-stream, and beacons go on', async () => {
    requireBuilt(ENGINE)
    await load()
    const collector = await startCollector({ config, db, port: await freePort() })
    try {
      // The runner bills at start: invoice 2 bills January's usage.
      let invoice: { lines: { kind: string; meter?: string; quantity: number }[] } | undefined
      for (let i = 0; i < 200 && !invoice; i++) {
        const res = await get(`${collector.url}/v1/invoices/2.json`)
        if (res.ok) invoice = await res.json()
        else await new Promise((r) => setTimeout(r, 50))
      }
      const line = invoice?.lines.findIndex((l) => l.meter === 'impressions') ?? -1
      expect(invoice?.lines[line]?.quantity).toBe(Math.ceil((UNITS - 10) / 10))

      // A client that takes one chunk and leaves.
      const abort = new AbortController()
      const gone = await get(`${collector.url}/v1/invoices/2/evidence.csv`, { signal: abort.signal })
      const reader = (gone.body as ReadableStream<Uint8Array>).getReader()
      expect((await reader.read()).done).toBe(false)
      abort.abort()

      // The account's one export slot is free once the collector has seen that client go: until
      // then a new export answers 429 (docs/security.md, "Exports"), and the next client asks again.
      const exportCsv = async () => {
        for (let i = 0; ; i++) {
          const res = await get(`${collector.url}/v1/invoices/2/evidence.csv`)
          if (res.status !== 429 || i === 100) {
            expect(res.status).toBe(200)
            return res.text()
          }
          await res.arrayBuffer()
          await new Promise((r) => setTimeout(r, 50))
        }
      }
      const [csv, beacon] = await Promise.all([
        exportCsv(),
        fetch(`${collector.url}/v1/containers/ctr_a/events`, {
          method: 'POST',
          headers: { origin: 'https://shop.evidence.test', 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
          body: JSON.stringify({ v: 1, sentAt: Date.now(), events: [{ id: 'live1', type: 'impression', session: 'live', campaign: 'cmp_0', ts: Date.now() }] }),
        }),
      ])
      expect(beacon.status).toBe(200)
      const rows = csv
        .trimEnd()
        .split('\r\n')
        .slice(1)
        .map((l) => l.split(','))
      const units = rows.filter((r) => r[3] === 'impression')
      expect(units).toHaveLength(UNITS)
      expect(new Set(units.map((r) => r[4])).size).toBe(UNITS)
      expect(units.every((r) => r[0] === String(line + 1))).toBe(true)
      expect(units.some((r) => r[4] === 'e_feb')).toBe(false)
      const summary = rows.find((r) => r[3] === 'summary')
      expect(summary?.slice(14, 18)).toEqual([String(UNITS), '10', '10', String(Math.ceil((UNITS - 10) / 10))])

      const jsonl = await (await get(`${collector.url}/v1/invoices/2/evidence.jsonl`)).text()
      expect(
        jsonl
          .trimEnd()
          .split('\n')
          .filter((l) => l.includes('"record":"impression"')),
      ).toHaveLength(UNITS)
      expect((await fetch(`${collector.url}/healthz`)).status).toBe(200)
    } finally {
      expect(await collector.stop()).toBe(0)
    }
  }, 60_000)
})
