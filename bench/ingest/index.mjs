#!/usr/bin/env node
// bench/ingest: the collector's ingestion throughput and latency, beside two ceilings measured in
// the same run on the same machine: (1) a bare Hono route that only parses the body, (2) raw
// better-sqlite3 inserts of the same rows (same schema, same pragmas). Loopback only, bounded in
// time (about a minute). Needs the build (`npm run bench` builds first).
import { fork, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { beaconBody, freePort, waitHealthy } from '../lib.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLI = join(ROOT, 'apps/collector/dist/cli.js')
const MIGRATIONS = join(ROOT, 'apps/collector/drizzle/sqlite')
const require = createRequire(join(ROOT, 'apps/collector/package.json'))
const Database = require('better-sqlite3')

const EVENTS = 50
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const FIXED_RATE = 2000
/** A second fixed rate the box sustains, to show the latency when not saturated. */
const EASY_RATE = 1000
/** Fixed-rate runs use fewer connections: autocannon paces each connection by itself, so many
 * slow-paced connections send in bursts and measure their own queueing. */
const FIXED_CONNECTIONS = 16
const ORIGIN = 'https://bench.test'
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first`)
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'tally-bench-'))
const campaigns = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`cmp_${i}`, {}]))
writeFileSync(join(dir, 'config.json'), JSON.stringify({
  plans: { basic: { currency: 'EUR', basePrice: 0 } },
  accounts: {
    bench: {
      subscription: { plan: 'basic', cycle: 'monthly', start: '2026-01-01' },
      keys: { secret: 'sk_bench_secret', read: 'rk_bench_read' },
      containers: { ctr_bench: { domains: ['bench.test'], campaigns } },
    },
  },
  server: { rateLimits: { perIp: { rate: 1e9, burst: 1e9 }, perContainer: { rate: 1e9, burst: 1e9 } }, sessionsPerHour: 1e6 },
}))

// Every request carries 50 distinct events: 10 sessions x 5 campaigns, 50 distinct billable units, none a duplicate.
let seq = 0
function nextEvents(run) {
  const r = `${run}${(seq++).toString(36)}`
  const ts = Date.now()
  const out = []
  for (let i = 0; i < EVENTS; i++) {
    out.push({ id: `${r}-${i}`, type: 'impression', session: `s${r}-${i % 10}`, campaign: `cmp_${(i / 10) | 0}`, ts })
  }
  return out
}
const body = (run) => beaconBody(run, EVENTS)



function load(url, run, extra = {}) {
  return new Promise((resolve, reject) => {
    autocannon({
      url, connections: CONNECTIONS, duration: SECONDS, method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': UA },
      requests: [{ setupRequest: (req) => ({ ...req, body: body(run) }) }],
      ...extra,
    }, (err, res) => (err ? reject(err) : resolve(res)))
  })
}

const summary = (res) => ({
  reqPerSec: res.requests.average,
  eventsPerSec: (res.requests.total / res.duration) * EVENTS,
  p50: res.latency.p50, p99: res.latency.p99,
  non2xx: res.non2xx, errors: res.errors, timeouts: res.timeouts,
})

async function benchCollector() {
  const port = await freePort()
  const child = spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'config.json'), '--db', join(dir, 'collector.db'), '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, LOG_LEVEL: 'warn', TALLY_ADMIN_TOKEN: 'bench' }, stdio: ['ignore', 'ignore', 'inherit'],
  })
  const base = `http://127.0.0.1:${port}`
  await waitHealthy(`${base}/healthz`)
  const url = `${base}/v1/containers/ctr_bench/events`
  await load(url, 'w', { duration: 3 })
  const max = summary(await load(url, 'a'))
  const fixed = summary(await load(url, 'f', { overallRate: FIXED_RATE, connections: FIXED_CONNECTIONS }))
  const easy = summary(await load(url, 'g', { overallRate: EASY_RATE, connections: FIXED_CONNECTIONS }))
  const metrics = await (await fetch(`${base}/metrics`)).text()
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  const accepted = Number(/tally_events_total\{result="accepted",reason=""\} (\d+)/.exec(metrics)?.[1] ?? 0)
  return { max, fixed, easy, accepted }
}

async function benchBare() {
  const port = await freePort()
  const child = fork(join(ROOT, 'bench/ingest/bare.mjs'), [String(port)], { cwd: join(ROOT, 'apps/collector'), stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  await new Promise((r) => child.once('message', r))
  const url = `http://127.0.0.1:${port}/v1/containers/ctr_bench/events`
  await load(url, 'x', { duration: 3 })
  const max = summary(await load(url, 'b'))
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  return max
}

/**
 * The same rows the collector writes for an impression — its billable unit, whose key is also the
 * idempotency key, and the rollup — in transactions of 10 requests.
 */
function benchSqlite() {
  const db = new Database(join(dir, 'raw.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('cache_size = -65536')
  for (const f of readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort()) {
    for (const stmt of readFileSync(join(MIGRATIONS, f), 'utf8').split('--> statement-breakpoint')) if (stmt.trim()) db.exec(stmt)
  }
  const imp = db.prepare('INSERT INTO impressions (container, session, campaign, event_id, time) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
  const roll = db.prepare(`INSERT INTO rollups (account, day, container, kind, subject, units) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (account, day, container, kind, subject) DO UPDATE SET units = units + excluded.units`)
  const group = db.transaction((batches) => {
    for (const events of batches) {
      const per = new Map()
      for (const e of events) {
        if (imp.run('ctr_bench', e.session, e.campaign, e.id, e.ts).changes) per.set(e.campaign, (per.get(e.campaign) ?? 0) + 1)
      }
      for (const [c, n] of per) roll.run('bench', '2026-07-20', 'ctr_bench', 'campaign', c, n)
    }
  })
  // Rows are made before the clock starts: this ceiling is the inserts alone.
  const groups = Array.from({ length: 2000 }, () => Array.from({ length: 10 }, () => nextEvents('q')))
  let events = 0
  const start = performance.now()
  for (const batches of groups) {
    group(batches)
    events += 10 * EVENTS
    if (performance.now() - start > SECONDS * 1000) break
  }
  const seconds = (performance.now() - start) / 1000
  db.close()
  return { eventsPerSec: events / seconds }
}

const fmt = (n) => Math.round(n).toLocaleString('en-US')
try {
  console.log(`batches of ${EVENTS} events, ${CONNECTIONS} connections, ${SECONDS} s per run, loopback`)
  const collector = await benchCollector()
  const bare = await benchBare()
  const raw = benchSqlite()
  const lower = Math.min(bare.eventsPerSec, raw.eventsPerSec)
  const ratio = collector.max.eventsPerSec / lower
  console.log(`collector           ${fmt(collector.max.eventsPerSec)} events/s  (${fmt(collector.max.reqPerSec)} req/s)  p50 ${collector.max.p50} ms  p99 ${collector.max.p99} ms  non-2xx ${collector.max.non2xx}  errors ${collector.max.errors}`)
  console.log(`collector @${FIXED_RATE} req/s  ${fmt(collector.fixed.eventsPerSec)} events/s  p50 ${collector.fixed.p50} ms  p99 ${collector.fixed.p99} ms  non-2xx ${collector.fixed.non2xx}`)
  console.log(`collector @${EASY_RATE} req/s   ${fmt(collector.easy.eventsPerSec)} events/s  p50 ${collector.easy.p50} ms  p99 ${collector.easy.p99} ms  non-2xx ${collector.easy.non2xx}`)
  console.log(`ceiling: bare Hono  ${fmt(bare.eventsPerSec)} events/s  (${fmt(bare.reqPerSec)} req/s)  p50 ${bare.p50} ms  p99 ${bare.p99} ms`)
  console.log(`ceiling: raw SQLite ${fmt(raw.eventsPerSec)} events/s`)
  console.log(`ratio to bare Hono ${(collector.max.eventsPerSec / bare.eventsPerSec).toFixed(2)}, to raw SQLite ${(collector.max.eventsPerSec / raw.eventsPerSec).toFixed(2)}, to the lower ceiling ${ratio.toFixed(2)}`)
  console.log(`accepted events counted by the collector: ${fmt(collector.accepted)}`)
  const ok = collector.max.eventsPerSec >= 100_000 && ratio >= 0.75 && collector.max.non2xx === 0
  console.log(`targets (>= 100,000 events/s, >= 0.75 of the lower ceiling, no errors): ${ok ? 'met' : 'NOT met'}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
