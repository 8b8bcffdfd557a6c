#!/usr/bin/env node
// bench/ingest: the collector's ingestion throughput and latency, beside ceilings measured in
// the same run on the same machine: (1) a bare Hono route that only parses the body, (2) raw
// better-sqlite3 inserts of the same rows (same schema, same pragmas), and (3) the minimal
// pipeline (minimal.mjs): the collector's own route, body reader, storage thread and group commit
// writing the same rows, with none of the rules. (1) and (2) each leave out half of the work; (3)
// is what any collector on this stack must spend, and the goal is stated against it.
// Beside these, the collector at saturation with ids shaped as the SDK makes them (40-digit event
// ids; session ids random, as they were, and with the time first, as they are now): what the
// shape of the keys costs its storage thread.
// BENCH_ROUNDS=n alternates the collector and the minimal pipeline n times and prints medians
// (the box may be shared). Loopback only, bounded in time (about a minute a round). Needs the
// build (`npm run bench` builds first).
import { fork, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { beaconBody, freePort, paced, sdkBeaconBody, waitHealthy } from '../lib.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
// TALLY_BENCH_CLI: another build of the collector to measure (an A/B of a change), same baselines.
const CLI = process.env.TALLY_BENCH_CLI ?? join(ROOT, 'apps/collector/dist/cli.js')
const MIGRATIONS = join(ROOT, 'apps/collector/drizzle/sqlite')
const require = createRequire(join(ROOT, 'apps/collector/package.json'))
const Database = require('better-sqlite3')

const EVENTS = 50
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const FIXED_RATE = 2000
/** A second fixed rate the box sustains, to show the latency when not saturated. */
const EASY_RATE = 1000
/** Connections of the fixed-rate runs (`paced`: evenly spaced requests, an open model). */
const FIXED_CONNECTIONS = 32
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1)
/** The goals (docs/performance.md): of the minimal pipeline at saturation, and at FIXED_RATE. */
const GOAL_RATIO = 0.85
const GOAL_P99_MS = 25
const ORIGIN = 'https://bench.test'
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first`)
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'tally-bench-'))
const campaigns = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`cmp_${i}`, {}]))
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify({
    plans: { basic: { currency: 'EUR', basePrice: 0 } },
    accounts: {
      bench: {
        subscription: { plan: 'basic', cycle: 'monthly', start: '2026-01-01' },
        keys: { secret: 'sk_bench_secret', read: 'rk_bench_read' },
        containers: { ctr_bench: { domains: ['bench.test'], campaigns } },
      },
    },
    server: { rateLimits: { perIp: { rate: 1e9, burst: 1e9 }, perContainer: { rate: 1e9, burst: 1e9 } }, sessionsPerHour: 1e6 },
  }),
)

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
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: SECONDS,
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': UA },
        requests: [{ setupRequest: (req) => ({ ...req, body: body(run) }) }],
        ...extra,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    )
  })
}

const summary = (res) => ({
  reqPerSec: res.requests.average,
  requests: res.requests.total,
  eventsPerSec: (res.requests.total / res.duration) * EVENTS,
  p50: res.latency.p50,
  p99: res.latency.p99,
  non2xx: res.non2xx,
  errors: res.errors,
  timeouts: res.timeouts,
})

/** `rate` requests a second, evenly spaced, for SECONDS (after half a second of warm-up). */
async function atRate(url, run, rate) {
  const { origin, pathname } = new URL(url)
  const res = await paced({
    url: origin,
    rate,
    seconds: SECONDS,
    connections: FIXED_CONNECTIONS,
    request: () => ({ path: pathname, headers: { origin: ORIGIN, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': UA }, body: body(run) }),
  })
  return {
    reqPerSec: res.reqPerSec,
    requests: res.requests,
    eventsPerSec: res.reqPerSec * EVENTS,
    p50: res.latency.p50,
    p99: res.latency.p99,
    non2xx: res.non2xx,
    errors: res.errors,
    timeouts: 0,
    notSent: res.skipped,
  }
}

/** CPU time (user + system) of a process (every thread), or of one thread with `pid/task/tid`, so far, in ms (Linux). */
function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100
}

/**
 * Saturation, then the two fixed rates, against the server `pid` at `url`. Besides throughput, the
 * server's CPU time per request at saturation: on a shared box it moves far less than events/s.
 */
async function measure(url, tag, pid) {
  await load(url, `w${tag}`, { duration: 3 })
  const cpu0 = cpuMs(pid)
  const max = summary(await load(url, `a${tag}`))
  max.cpuMsPerReq = (cpuMs(pid) - cpu0) / max.requests
  const fixed = await withThreads(pid, () => atRate(url, `f${tag}`, FIXED_RATE))
  const easy = await atRate(url, `g${tag}`, EASY_RATE)
  return { max, fixed, easy }
}

/** CPU time of each thread (task) of a process so far, in ms, by thread id (Linux). */
function threadMs(pid) {
  const out = new Map()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, cpuMs(`${pid}/task/${tid}`))
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out
}

/**
 * `run()`'s result with the request thread's (the process's main thread) and the storage thread's
 * (the busiest other one) CPU time a request and share of a core while it ran: which of the two binds.
 */
async function withThreads(pid, run) {
  const before = threadMs(pid)
  const r = await run()
  return { ...r, ...perThread(pid, before, r) }
}

function perThread(pid, before, run) {
  const after = threadMs(pid)
  const used = (tid) => (after.get(tid) ?? 0) - (before.get(tid) ?? 0)
  const storage = [...after.keys()].filter((t) => t !== String(pid)).sort((a, b) => used(b) - used(a))[0]
  const share = (ms) => ms / (run.requests / run.reqPerSec) / 10
  return {
    requestUs: (used(String(pid)) * 1000) / run.requests,
    requestCore: share(used(String(pid))),
    storageUs: (used(storage) * 1000) / run.requests,
    storageCore: share(used(storage)),
  }
}

async function benchCollector(round) {
  const port = await freePort()
  const db = join(dir, `collector-${round}.db`)
  const child = spawn(
    process.execPath,
    [...profile('collector', round), CLI, 'serve', '--config', join(dir, 'config.json'), '--db', db, '--port', String(port), '--host', '127.0.0.1'],
    { env: { ...process.env, LOG_LEVEL: 'warn', TALLY_ADMIN_TOKEN: 'bench' }, stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const base = `http://127.0.0.1:${port}`
  await waitHealthy(`${base}/healthz`)
  const url = `${base}/v1/containers/ctr_bench/events`
  const runs = await measure(url, `c${round}`, child.pid)
  // The SDK's id shapes at saturation: its sessions as they were (random) and as they are (the time first).
  for (const sessions of ['random', 'timed']) {
    const body = () => sdkBeaconBody(EVENTS, sessions)
    runs[`sdk_${sessions}`] = await withThreads(child.pid, async () =>
      summary(await load(url, '', { requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }] })),
    )
  }
  const metrics = await (await fetch(`${base}/metrics`)).text()
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  const accepted = Number(/tally_events_total\{result="accepted",reason=""\} (\d+)/.exec(metrics)?.[1] ?? 0)
  return { ...runs, accepted }
}

/** The minimal pipeline (minimal.mjs) on a fresh database of its own, measured like the collector. */
async function benchMinimal(round) {
  const port = await freePort()
  const db = join(dir, `minimal-${round}.db`)
  const child = fork(join(ROOT, 'bench/ingest/minimal.mjs'), [String(port), db], {
    cwd: join(ROOT, 'apps/collector'),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: profile('minimal', round),
  })
  await new Promise((r) => child.once('message', r))
  const runs = await measure(`http://127.0.0.1:${port}/v1/containers/ctr_bench/events`, `m${round}`, child.pid)
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  return runs
}

/** BENCH_PROFILE=dir: `--cpu-prof` of both threads (request and storage) of each server, into dir. */
function profile(name, round) {
  const out = process.env.BENCH_PROFILE
  return out ? ['--cpu-prof', '--cpu-prof-dir', join(out, `${name}-${round}`)] : []
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
  for (const f of readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
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
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b)
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}
/** Medians, field by field, of the rounds' summaries; non-2xx and errors summed. */
const mid = (list) =>
  Object.fromEntries(
    Object.keys(list[0]).map((k) => [
      k,
      ['non2xx', 'errors', 'timeouts', 'notSent'].includes(k) ? list.reduce((s, r) => s + r[k], 0) : median(list.map((r) => r[k])),
    ]),
  )

try {
  console.log(
    `batches of ${EVENTS} events, ${CONNECTIONS} connections, ${SECONDS} s per run, loopback, ${ROUNDS} round(s) alternating collector and minimal pipeline (medians)`,
  )
  const tally = []
  const minimal = []
  for (let round = 0; round < ROUNDS; round++) {
    tally.push(await benchCollector(round))
    minimal.push(await benchMinimal(round))
  }
  const collector = {
    sdkRandom: mid(tally.map((r) => r.sdk_random)),
    sdkTimed: mid(tally.map((r) => r.sdk_timed)),
    max: mid(tally.map((r) => r.max)),
    fixed: mid(tally.map((r) => r.fixed)),
    easy: mid(tally.map((r) => r.easy)),
    accepted: tally.reduce((s, r) => s + r.accepted, 0),
  }
  const least = { max: mid(minimal.map((r) => r.max)), fixed: mid(minimal.map((r) => r.fixed)), easy: mid(minimal.map((r) => r.easy)) }
  const bare = await benchBare()
  const raw = benchSqlite()
  const lower = Math.min(bare.eventsPerSec, raw.eventsPerSec)
  const ratio = collector.max.eventsPerSec / lower
  const perMinimal = collector.max.eventsPerSec / least.max.eventsPerSec
  const row = (name, r) =>
    `${name.padEnd(26)} ${fmt(r.eventsPerSec).padStart(7)} events/s  (${fmt(r.eventsPerSec / EVENTS)} req/s)  p50 ${r.p50} ms  p99 ${r.p99} ms  non-2xx ${r.non2xx}${r.notSent === undefined ? '' : `  not sent (${FIXED_CONNECTIONS * 4} waiting) ${r.notSent}`}`
  console.log(row('collector', collector.max))
  console.log(row('minimal pipeline', least.max))
  console.log(row(`collector @${FIXED_RATE} req/s`, collector.fixed))
  console.log(row(`minimal @${FIXED_RATE} req/s`, least.fixed))
  console.log(row(`collector @${EASY_RATE} req/s`, collector.easy))
  console.log(row(`minimal @${EASY_RATE} req/s`, least.easy))
  console.log(`ceiling: bare Hono  ${fmt(bare.eventsPerSec)} events/s  (${fmt(bare.reqPerSec)} req/s)  p50 ${bare.p50} ms  p99 ${bare.p99} ms`)
  console.log(`ceiling: raw SQLite ${fmt(raw.eventsPerSec)} events/s`)
  const thread = (name, us, core) => `${name} thread ${Math.round(us)} µs a request (${Math.round(core)}% of a core)`
  const split = (r) => `${thread('request', r.requestUs, r.requestCore)}, ${thread('storage', r.storageUs, r.storageCore)}`
  const sdkRow = (name, r) => `${row(name, r)}  ${thread('storage', r.storageUs, r.storageCore)}`
  console.log(sdkRow("collector, the SDK's ids, sessions random (as before)", collector.sdkRandom))
  console.log(sdkRow("collector, the SDK's ids, sessions time first (now)", collector.sdkTimed))
  console.log(
    `the SDK's ids: sessions time first give ${(collector.sdkTimed.eventsPerSec / collector.sdkRandom.eventsPerSec).toFixed(2)}x the events/s of random ones, the storage thread ${(collector.sdkRandom.storageUs / collector.sdkTimed.storageUs).toFixed(2)}x less CPU a request`,
  )
  console.log(`threads @${FIXED_RATE} req/s offered: collector ${split(collector.fixed)}; minimal pipeline ${split(least.fixed)}`)
  console.log(
    `CPU per request at saturation (both threads): collector ${collector.max.cpuMsPerReq.toFixed(2)} ms, minimal pipeline ${least.max.cpuMsPerReq.toFixed(2)} ms: ratio ${(least.max.cpuMsPerReq / collector.max.cpuMsPerReq).toFixed(2)}`,
  )
  console.log(
    `ratio to the minimal pipeline ${perMinimal.toFixed(2)} (goal >= ${GOAL_RATIO}); to bare Hono ${(collector.max.eventsPerSec / bare.eventsPerSec).toFixed(2)}, to raw SQLite ${(collector.max.eventsPerSec / raw.eventsPerSec).toFixed(2)}, to the lower of those two ${ratio.toFixed(2)}`,
  )
  console.log(`accepted events counted by the collector: ${fmt(collector.accepted)}`)
  const sustained =
    collector.fixed.reqPerSec >= FIXED_RATE * 0.98 && collector.fixed.p99 < GOAL_P99_MS && collector.fixed.non2xx + collector.fixed.notSent === 0
  console.log(
    `goal: >= ${GOAL_RATIO} of the minimal pipeline: ${perMinimal >= GOAL_RATIO ? 'met' : 'NOT met'}; ${FIXED_RATE} req/s sustained with p99 < ${GOAL_P99_MS} ms and no non-2xx: ${sustained ? 'met' : 'NOT met'} (${fmt(collector.fixed.reqPerSec)} req/s, p99 ${collector.fixed.p99} ms, non-2xx ${collector.fixed.non2xx}, not sent ${collector.fixed.notSent})`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
