/**
 * Evidence exports are a bounded resource (docs/security.md, "Exports"): against the built
 * collector, 20 clients with the read key that ask for an export and never read get one export
 * running (the account's limit; the collector's is 2) and 429 with Retry-After for the rest; the
 * running one is cut once it has taken nothing for the write timeout (30 s), which frees its slot;
 * the collector's memory stays within 100 MB of what it was, and beacons are answered meanwhile.
 * Before, each export started a thread of its own that held its pages with no timeout.
 */
import { afterAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { BROWSER_UA, ROOT, freePort, requireBuilt, startCollector } from '../e2e-process.js'

const UNITS = 100_000
const STALLED = 20
const RK = 'rk_export_flood_read_key'
const dir = mkdtempSync(join(tmpdir(), 'tally-export-flood-'))
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
        keys: { secret: 'sk_export_flood_secret_key', read: RK },
        containers: { ctr_a: { domains: ['shop.flood.test'], campaigns: { cmp_0: {} } } },
      },
    },
    server: { rateLimits: { perIp: { rate: 1e6, burst: 1e6 }, perContainer: { rate: 1e6, burst: 1e6 } } },
  }),
)

async function load() {
  const { migrateSqlite } = (await import(pathToFileURL(ENGINE).href)) as { migrateSqlite: (f: string) => void }
  migrateSqlite(db)
  const d = new Database(db)
  const start = Date.UTC(2026, 0, 1)
  const imp = d.prepare("INSERT INTO impressions (container, session, campaign, event_id, time) VALUES ('ctr_a', ?, 'cmp_0', ?, ?)")
  const roll = d.prepare(`INSERT INTO rollups (account, day, container, kind, subject, units) VALUES ('acme', ?, 'ctr_a', 'campaign', 'cmp_0', 1)
    ON CONFLICT (account, day, container, kind, subject) DO UPDATE SET units = units + 1`)
  d.transaction(() => {
    for (let i = 0; i < UNITS; i++) {
      const time = start + Math.floor((i / UNITS) * 31 * 86_400_000)
      imp.run(`session_with_a_long_id_${i}`, `event_with_a_long_id_${i}`, time)
      roll.run(new Date(time).toISOString().slice(0, 10))
    }
  })()
  d.close()
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

/** A client that sends the request, reads the status line, then never reads again. */
function stalled(port: number): Promise<{ status: number; retryAfter: string | null; socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const closed = new Promise<void>((r) => socket.once('close', () => r()))
    socket.once('error', () => undefined)
    socket.write(`GET /v1/invoices/2/evidence.csv HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${RK}\r\n\r\n`)
    socket.once('data', (chunk) => {
      socket.pause()
      const head = chunk.toString('latin1')
      resolve({ status: Number(head.split(' ')[1]), retryAfter: /\r\nretry-after: (\d+)/i.exec(head)?.[1] ?? null, socket, closed })
    })
    setTimeout(() => reject(new Error('no answer')), 20_000).unref()
  })
}

describe('20 evidence exports that are never read', () => {
  it('run one at a time per account, are cut after the write timeout, and leave memory and beacons as they were', async () => {
    requireBuilt(ENGINE)
    await load()
    const port = await freePort()
    const collector = await startCollector({ config, db, port })
    try {
      let ready = false
      for (let i = 0; i < 400 && !ready; i++) {
        ready = (await fetch(`${collector.url}/v1/invoices/2.json`, { headers: { authorization: `Bearer ${RK}` } })).ok
        if (!ready) await new Promise((r) => setTimeout(r, 50))
      }
      expect(ready).toBe(true)
      const idle = rssMb(collector.child.pid as number)

      const clients = await Promise.all(Array.from({ length: STALLED }, () => stalled(port)))
      const running = clients.filter((c) => c.status === 200)
      const refused = clients.filter((c) => c.status === 429)
      expect(running).toHaveLength(1)
      expect(refused).toHaveLength(STALLED - 1)
      expect(refused.every((c) => Number(c.retryAfter) >= 1)).toBe(true)

      // Beacons are answered while the export waits on its client.
      const t0 = performance.now()
      const beacon = await fetch(`${collector.url}/v1/containers/ctr_a/events`, {
        method: 'POST',
        headers: { origin: 'https://shop.flood.test', 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
        body: JSON.stringify({ v: 1, sentAt: Date.now(), events: [{ id: 'live1', type: 'impression', session: 'live', campaign: 'cmp_0', ts: Date.now() }] }),
      })
      expect(beacon.status).toBe(200)
      expect(performance.now() - t0).toBeLessThan(1_000)
      expect(rssMb(collector.child.pid as number) - idle).toBeLessThan(100)

      // The write timeout cuts the client that stopped reading, and frees its slot: until then the
      // account's next export is refused, after it the export runs whole.
      const since = Date.now()
      let res = await fetch(`${collector.url}/v1/invoices/2/evidence.csv`, { headers: { authorization: `Bearer ${RK}` } })
      while (res.status === 429 && Date.now() - since < 45_000) {
        await res.arrayBuffer()
        await new Promise((r) => setTimeout(r, 1_000))
        res = await fetch(`${collector.url}/v1/invoices/2/evidence.csv`, { headers: { authorization: `Bearer ${RK}` } })
      }
      expect(res.status).toBe(200)
      const csv = await res.text()
      expect(
        csv
          .trimEnd()
          .split('\r\n')
          .filter((l) => l.split(',')[3] === 'impression'),
      ).toHaveLength(UNITS)
      expect(rssMb(collector.child.pid as number) - idle).toBeLessThan(100)
      // The stalled client, reading again, finds its answer cut short.
      const stalledClient = running[0] as (typeof running)[number]
      let got = 0
      stalledClient.socket.on('data', (b: Buffer) => {
        got += b.length
      })
      stalledClient.socket.resume()
      await stalledClient.closed
      expect(got).toBeLessThan(Buffer.byteLength(csv))
      for (const c of clients) c.socket.destroy()
    } finally {
      expect(await collector.stop()).toBe(0)
    }
  }, 120_000)
})
