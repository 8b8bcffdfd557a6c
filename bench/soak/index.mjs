#!/usr/bin/env node
// bench/soak: the built collector under sustained load with some hostile traffic (docs/reliability.md).
// SOAK_SECONDS (60) at SOAK_RATE requests/s (2,000) of 50-event batches, 5% of them a resent
// batch (all duplicates) and 1% hostile (forged origin, unknown container, bad JSON, oversized).
// Prints p50/p99/max latency of the good requests, their errors (must be 0), the collector's RSS
// at start and end, each the median of ten seconds of samples (growth must stay under 20%), and
// the stored counts against what was sent.
// The baseline, measured in the same run: the first 10 seconds' latency against the last 10.
// Loopback only; bounded in time; stops by itself.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { lowClient } from '../lib.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLI = join(ROOT, 'apps/collector/dist/cli.js')
const require = createRequire(join(ROOT, 'apps/collector/package.json'))
const Database = require('better-sqlite3')

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60)
const RATE = Number(process.env.SOAK_RATE ?? 2000)
const EVENTS = 50
const DUPLICATES = 0.05
const HOSTILE = 0.01
/** Under the collector's 64 connections per address (all of this comes from 127.0.0.1). */
const SOCKETS = 48
const ORIGIN = 'https://soak.test'
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first`)
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'tally-soak-'))
const campaigns = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`cmp_${i}`, {}]))
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify({
    plans: { basic: { currency: 'EUR', basePrice: 0 } },
    accounts: {
      soak: {
        subscription: { plan: 'basic', cycle: 'monthly', start: '2026-01-01' },
        keys: { secret: 'sk_soak_secret', read: 'rk_soak_read' },
        containers: { ctr_soak: { domains: ['soak.test'], campaigns } },
      },
    },
    server: { rateLimits: { perIp: { rate: 1e9, burst: 1e9 }, perContainer: { rate: 1e9, burst: 1e9 } }, sessionsPerHour: 1e6 },
  }),
)
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port
    s.close(() => resolve(p))
  })
})
const db = join(dir, 'soak.db')
const child = spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'config.json'), '--db', db, '--port', String(port), '--host', '127.0.0.1'], {
  env: { ...process.env, TALLY_ADMIN_TOKEN: 'soak-admin', LOG_LEVEL: 'error' },
  stdio: ['ignore', 'ignore', 'inherit'],
})
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break
  } catch {}
  if (i > 200) throw new Error('the collector did not start')
  await sleep(50)
}

// The lean client of ../lib.mjs: Node's http module costs the box several times its CPU a request,
// which on two cores shared with the collector would be measured as the collector's.
const client = lowClient(`http://127.0.0.1:${port}`, SOCKETS)
async function send(path, body, headers) {
  const t0 = performance.now()
  const status = await client.send(path, { 'content-type': 'text/plain', 'user-agent': UA, ...headers }, body)
  return { status, ms: performance.now() - t0 }
}

let seq = 0
function batch() {
  const r = (seq++).toString(36)
  const ts = Date.now()
  const events = []
  for (let i = 0; i < EVENTS; i++) events.push({ id: `${r}-${i}`, type: 'impression', session: `s${r}-${i % 10}`, campaign: `cmp_${(i / 10) | 0}`, ts })
  return JSON.stringify({ v: 1, sentAt: ts, sdk: 'tally-js/soak', events })
}
const hostile = [
  () => ['/v1/containers/ctr_soak/events', batch(), { origin: 'https://forged.evil.test' }],
  () => ['/v1/containers/ctr_nope/events', batch(), { origin: ORIGIN }],
  () => ['/v1/containers/ctr_soak/events', '{"v":1,"events":[', { origin: ORIGIN }],
  () => ['/v1/containers/ctr_soak/events', 'x'.repeat(70_000), { origin: ORIGIN }],
]

// Warm up, then measure.
let accepted = 0
for (let i = 0; i < 50; i++) if ((await send('/v1/containers/ctr_soak/events', batch(), { origin: ORIGIN })).status === 200) accepted += EVENTS
/**
 * RSS is sampled every second. The garbage collector makes it a saw-tooth of about ±20 MB with a
 * period of a few seconds, so one sample says more about where the tooth was than about growth:
 * the start is the median of the samples over WINDOW seconds once the load has run WARM_SECONDS
 * (the heap and SQLite's page cache have grown to their working size), the end the median of the
 * last WINDOW seconds' samples. The first sample after WARM_SECONDS is printed beside them.
 */
const WARM_SECONDS = 5
const WINDOW = 10
/** [seconds into the load, RSS in MB] */
const rssEverySecond = []
const sent = { good: 0, duplicate: 0, hostile: 0 }
const errors = { good: 0, duplicate: 0, hostile5xx: 0, hostileOk: 0 }
const latencies = []
const early = []
const late = []
const stored = [] // bodies answered 200, for resending
const inflight = new Set()
const start = performance.now()
const tickMs = 10
let issued = 0
let skipped = 0
const MAX_WAITING = 4 * SOCKETS
while (performance.now() - start < SECONDS * 1000) {
  if (performance.now() - start > (rssEverySecond.length + 1) * 1000) rssEverySecond.push([rssEverySecond.length + 1, rss()])
  // Paced by the clock, not by the ticks: a late tick sends what fell due meanwhile.
  const due = Math.floor((RATE * (performance.now() - start)) / 1000) - issued
  for (let k = 0; k < due; k++) {
    issued++
    // Beyond this many waiting, the collector is not keeping up: the request is not sent, and
    // counted, so that the run stays bounded in time and memory.
    if (inflight.size >= MAX_WAITING) {
      skipped++
      continue
    }
    const roll = Math.random()
    let p
    if (roll < HOSTILE) {
      sent.hostile++
      const [path, body, headers] = hostile[sent.hostile % hostile.length]()
      p = send(path, body, headers).then((r) => {
        if (r.status >= 500 || r.status === 0) errors.hostile5xx++
        else if (r.status < 400) errors.hostileOk++
      })
    } else if (roll < HOSTILE + DUPLICATES && stored.length > 0) {
      sent.duplicate++
      const body = stored[Math.floor(Math.random() * stored.length)]
      p = send('/v1/containers/ctr_soak/events', body, { origin: ORIGIN }).then((r) => {
        if (r.status !== 200) errors.duplicate++
      })
    } else {
      sent.good++
      const body = batch()
      const at = performance.now() - start
      p = send('/v1/containers/ctr_soak/events', body, { origin: ORIGIN }).then((r) => {
        if (r.status !== 200) {
          errors.good++
          return
        }
        accepted += EVENTS
        if (stored.length < 10_000) stored.push(body)
        latencies.push(r.ms)
        if (at < 10_000) early.push(r.ms)
        if (at > SECONDS * 1000 - 10_000) late.push(r.ms)
      })
    }
    inflight.add(p)
    p.finally(() => inflight.delete(p))
  }
  await sleep(tickMs)
}
await Promise.all(inflight)
const elapsed = (performance.now() - start) / 1000
await sleep(500)
child.kill('SIGTERM')
await new Promise((r) => child.once('exit', r))
client.close()
const units = new Database(db, { readonly: true }).prepare('SELECT COUNT(*) AS n FROM impressions').get().n

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}
const f = (x) => x.toFixed(1)
const total = sent.good + sent.duplicate + sent.hostile
console.log(
  `soak: ${f(elapsed)} s, ${total} requests (${f(total / elapsed)}/s of ${RATE}/s asked; ${skipped} not sent while ${MAX_WAITING} waited), ${sent.good} good, ${sent.duplicate} resent, ${sent.hostile} hostile`,
)
console.log(
  `latency of good requests: p50 ${f(pct(latencies, 0.5))} ms, p99 ${f(pct(latencies, 0.99))} ms, max ${f(latencies.reduce((m, x) => Math.max(m, x), 0))} ms`,
)
console.log(
  `baseline (same run): p50 first 10 s ${f(pct(early, 0.5))} ms, last 10 s ${f(pct(late, 0.5))} ms, ratio ${(pct(late, 0.5) / pct(early, 0.5)).toFixed(2)}`,
)
console.log(`errors: good ${errors.good}, resent ${errors.duplicate}, hostile answered 5xx ${errors.hostile5xx}, hostile answered 2xx ${errors.hostileOk}`)
const median = (xs) => pct(xs, 0.5)
const rssIn = (from, to) => rssEverySecond.filter(([t]) => t > from && t <= to).map(([, mb]) => mb)
const rssStart = median(rssIn(WARM_SECONDS, WARM_SECONDS + WINDOW))
const rssEnd = median(rssIn(SECONDS - WINDOW, SECONDS))
const growth = (rssEnd - rssStart) / rssStart
console.log(
  `RSS: median of ${WARM_SECONDS}-${WARM_SECONDS + WINDOW} s ${f(rssStart)} MB, of the last ${WINDOW} s ${f(rssEnd)} MB, growth ${f(growth * 100)}% (at ${WARM_SECONDS + 1} s ${f(rssIn(WARM_SECONDS, WARM_SECONDS + 1)[0] ?? NaN)} MB, at the end ${f(rssEverySecond.at(-1)?.[1] ?? NaN)} MB); every 10 s: ${rssEverySecond
    .filter(([t]) => t % 10 === 0)
    .map(([, mb]) => Math.round(mb))
    .join(', ')} MB`,
)
console.log(`stored units ${units}, accepted units sent ${accepted}: ${units === accepted ? 'equal' : 'DIFFERENT'}`)
rmSync(dir, { recursive: true, force: true })
const ok = errors.good === 0 && errors.duplicate === 0 && errors.hostile5xx === 0 && errors.hostileOk === 0 && units === accepted && growth < 0.2
if (!ok) console.log('soak: FAILED')
process.exit(ok ? 0 : 1)
