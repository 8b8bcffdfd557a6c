#!/usr/bin/env node
// bench/evidence: exporting the evidence of an invoice with 1,000,000 impression units
// (docs/evidence.md). Loads the units straight into the collector's schema (migrated by the
// built collector), lets the built collector bill the period, then measures in the same run:
//   - the export: rows/s and the collector's peak RSS, beside a ceiling: the same rows read by
//     raw better-sqlite3 over the same index;
//   - beacon latency at a fixed rate, without and with exports running, and their ratio;
//   - the storage cost of a unit: bytes per row from SQLite's dbstat (table + indexes).
// Loopback only, bounded (about a minute). Needs the build (`npm run bench` builds first).
import http from 'node:http'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { freePort, pacedBeacons } from '../lib.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLI = join(ROOT, 'apps/collector/dist/cli.js')
const ENGINE = join(ROOT, 'apps/collector/dist/engines/sqlite/engine.js')
const require = createRequire(join(ROOT, 'apps/collector/package.json'))
const Database = require('better-sqlite3')

const UNITS = Number(process.env.BENCH_UNITS ?? 1_000_000)
const CAMPAIGNS = 10
const RATE = 200 // beacons/s, 10 events each, during the latency runs
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const ORIGIN = 'https://bench.test'
const PERIOD_START = Date.parse('2026-01-01T00:00:00Z')
const PERIOD_MS = Date.parse('2026-02-01T00:00:00Z') - PERIOD_START

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first`)
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'tally-bench-evidence-'))
const file = join(dir, 'collector.db')
const campaigns = Object.fromEntries(Array.from({ length: CAMPAIGNS }, (_, i) => [`cmp_${i}`, {}]))
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify({
    plans: { metered: { currency: 'EUR', basePrice: 0, included: { impressions: UNITS / 10 }, overage: { impressions: { per: 1000, price: 40 } } } },
    accounts: {
      bench: {
        timezone: 'UTC',
        subscription: { plan: 'metered', cycle: 'monthly', start: '2026-01-01' },
        keys: { secret: 'sk_bench_secret', read: 'rk_bench_read' },
        containers: { ctr_bench: { domains: ['bench.test'], campaigns } },
      },
    },
    server: { rateLimits: { perIp: { rate: 1e9, burst: 1e9 }, perContainer: { rate: 1e9, burst: 1e9 } } },
  }),
)

const fmt = (n) => Math.round(n).toLocaleString('en-US')
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`

/** 1M units of January 2026 and their daily rollups, as the collector would have written them. */
async function load() {
  const { migrateSqlite } = await import(pathToFileURL(ENGINE).href)
  migrateSqlite(file)
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  const before = statSync(file).size
  const imp = db.prepare('INSERT INTO impressions (container, session, campaign, event_id, time) VALUES (?, ?, ?, ?, ?)')
  const roll = db.prepare('INSERT INTO rollups (account, day, container, kind, subject, units) VALUES (?, ?, ?, ?, ?, ?)')
  const perDay = new Map()
  const started = performance.now()
  db.transaction(() => {
    for (let i = 0; i < UNITS; i++) {
      const time = PERIOD_START + Math.floor((i / UNITS) * PERIOD_MS)
      const campaign = `cmp_${i % CAMPAIGNS}`
      // Ids shaped like the SDK's: a session id and a ULID-like event id.
      imp.run('ctr_bench', `s_${(i / CAMPAIGNS) | 0}_x8f2k1q9`, campaign, `01JD${i.toString(36).padStart(22, '0')}`, time)
      const key = `${new Date(time).toISOString().slice(0, 10)}|${campaign}`
      perDay.set(key, (perDay.get(key) ?? 0) + 1)
    }
    for (const [key, n] of perDay) {
      const [day, campaign] = key.split('|')
      roll.run('bench', day, 'ctr_bench', 'campaign', campaign, n)
    }
  })()
  const loadSeconds = (performance.now() - started) / 1000
  db.pragma('wal_checkpoint(TRUNCATE)')
  const after = statSync(file).size
  const bytes = (name) => db.prepare('SELECT SUM(pgsize) AS b FROM dbstat WHERE name = ?').get(name).b
  const table = bytes('impressions')
  const index = bytes('impressions_container_time')
  db.close()
  return { loadSeconds, growth: after - before, table, index }
}

/** The same rows read by better-sqlite3 alone, in the same pages: the ceiling of an export. */
function rawRead() {
  const db = new Database(file, { readonly: true })
  const first = db.prepare(
    'SELECT container, session, campaign AS subject, event_id AS eventId, time FROM impressions WHERE container = ? AND time >= ? AND time < ? ORDER BY time, session, campaign LIMIT 5000',
  )
  const next = db.prepare(
    'SELECT container, session, campaign AS subject, event_id AS eventId, time FROM impressions WHERE container = ? AND (time, session, campaign) > (?, ?, ?) AND time < ? ORDER BY time, session, campaign LIMIT 5000',
  )
  const end = PERIOD_START + PERIOD_MS
  let rows = 0
  const started = performance.now()
  for (let page = first.all('ctr_bench', PERIOD_START, end); page.length > 0; ) {
    rows += page.length
    const last = page[page.length - 1]
    page = next.all('ctr_bench', last.time, last.session, last.subject, end)
  }
  const seconds = (performance.now() - started) / 1000
  db.close()
  return { rows, rowsPerSec: rows / seconds }
}

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)

/** One export, read to the end: rows, seconds, the collector's highest RSS seen while it ran. */
async function exportOnce(base, pid) {
  let peak = rssKb(pid)
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssKb(pid))
  }, 20)
  const started = performance.now()
  // node:http rather than fetch: the client shares the two cores with the collector, and Node's
  // plain response stream costs it far less per megabyte than a web stream does.
  const res = await new Promise((resolve, reject) => {
    http.get(`${base}/v1/invoices/2/evidence.csv`, { headers: { authorization: 'Bearer rk_bench_read' } }, resolve).on('error', reject)
  })
  if (res.statusCode !== 200) {
    let text = ''
    for await (const c of res) text += c
    throw new Error(`evidence answered ${res.statusCode}: ${text}`)
  }
  // Lines are counted natively; the few that are not units — the header and charges at the start,
  // the summary at the end — are told apart in the first and last bytes, and the summary's `used`
  // must say the same count.
  let lines = 0
  let bytes = 0
  let head = ''
  let tail = Buffer.alloc(0)
  for await (const buf of res) {
    bytes += buf.length
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++
    if (head.length < 4096) head += buf.subarray(0, 4096).toString('utf8')
    tail = Buffer.concat([tail, buf]).subarray(-4096)
  }
  const record = (l) => l.split(',', 4)[3]
  const headLines = head.split('\r\n').slice(0, -1)
  const firstUnit = headLines.findIndex((l) => record(l) === 'impression')
  const tailLines = tail.toString('utf8').split('\r\n').slice(1, -1)
  const after = tailLines.length - 1 - tailLines.findLastIndex((l) => record(l) === 'impression')
  const summary = tailLines.find((l) => record(l) === 'summary')?.split(',')
  const units = lines - firstUnit - after
  if (Number(summary?.[14]) !== units) throw new Error(`the summary says ${summary?.[14]} units, the export held ${units}`)
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  return { units, seconds, bytes, peakKb: Math.max(peak, rssKb(pid)) }
}

let seq = 0
const body = () => {
  const r = (seq++).toString(36)
  const ts = Date.now()
  let events = ''
  for (let i = 0; i < 10; i++) events += `${i ? ',' : ''}{"id":"b${r}-${i}","type":"impression","session":"sb${r}","campaign":"cmp_${i}","ts":${ts}}`
  return `{"v":1,"sentAt":${ts},"sdk":"bench","events":[${events}]}`
}

/** RATE beacons a second, evenly spaced (`paced`: latency counted from when each was due). */
async function beacons(base) {
  const res = await pacedBeacons(base, { container: 'ctr_bench', origin: ORIGIN, rate: RATE, seconds: SECONDS, body })
  return { p50: res.p50, p99: res.p99, max: res.max, non2xx: res.failed, total: res.requests }
}

async function waitFor(check, what) {
  for (let i = 0; i < 600; i++) {
    try {
      if (await check()) return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what} did not happen`)
}

try {
  const loaded = await load()
  const raw = rawRead()
  const port = await freePort()
  const child = spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'config.json'), '--db', file, '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, LOG_LEVEL: 'warn', TALLY_ADMIN_TOKEN: 'bench' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const base = `http://127.0.0.1:${port}`
  try {
    await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 'the collector coming up')
    // The runner bills at start: invoice 2 bills January's usage.
    await waitFor(async () => (await fetch(`${base}/v1/invoices/2.json`, { headers: { authorization: 'Bearer rk_bench_read' } })).ok, 'the billing run')
    const idleKb = rssKb(child.pid)
    const once = await exportOnce(base, child.pid)
    const quiet = await beacons(base)
    // Exports back to back for the whole latency run.
    let exporting = true
    let exports = 0
    const loop = (async () => {
      while (exporting) {
        await exportOnce(base, child.pid)
        exports++
      }
    })()
    const busy = await beacons(base)
    exporting = false
    await loop

    const rate = once.units / once.seconds
    console.log(`${fmt(UNITS)} impression units loaded in ${loaded.loadSeconds.toFixed(1)} s (direct inserts)`)
    console.log(`export            ${fmt(once.units)} rows in ${once.seconds.toFixed(2)} s = ${fmt(rate)} rows/s  (${(once.bytes / 1e6).toFixed(0)} MB CSV)`)
    console.log(
      `ceiling: raw read ${fmt(raw.rows)} rows at ${fmt(raw.rowsPerSec)} rows/s (better-sqlite3, same pages)   ratio ${(rate / raw.rowsPerSec).toFixed(2)}`,
    )
    console.log(`collector RSS     ${mb(idleKb)} before, ${mb(once.peakKb)} peak during the export`)
    console.log(`beacons @${RATE}/s   alone: p50 ${quiet.p50} ms  p99 ${quiet.p99} ms  non-2xx ${quiet.non2xx}`)
    console.log(`beacons @${RATE}/s   with ${exports} exports running: p50 ${busy.p50} ms  p99 ${busy.p99} ms  max ${busy.max} ms  non-2xx ${busy.non2xx}`)
    console.log(`p99 ratio with/without export ${(busy.p99 / Math.max(quiet.p99, 1)).toFixed(2)}`)
    console.log(
      `storage per unit: ${(loaded.table / UNITS).toFixed(1)} B table + ${(loaded.index / UNITS).toFixed(1)} B evidence index (dbstat); file growth ${(loaded.growth / UNITS).toFixed(1)} B per unit`,
    )
    const ok = once.units === UNITS && rate >= 100_000 && busy.non2xx === 0
    console.log(`targets (every unit exported, >= 100,000 rows/s, no refused beacon): ${ok ? 'met' : 'NOT met'}`)
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
