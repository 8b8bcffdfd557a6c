#!/usr/bin/env node
// bench/hostile-exports: evidence exports as an attack (docs/security.md, "Exports"). An account's
// invoice holds 200,000 units. 20 clients ask for its evidence and never read; 8 clients of a
// second account export its evidence over and over (each retrying after a 429). Measured in the
// same run: the collector's RSS idle and at its peak under the attack (goal: within 100 MB), and
// beacon latency at a fixed rate, quiet and under the attack (goal: p99 ratio under 2).
// Loopback only, about a minute. Needs the build (`npm run bench` builds first).
import { fork, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { setPriority, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { freePort, pacedBeacons, waitHealthy } from '../lib.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const HERE = fileURLToPath(new URL('.', import.meta.url))
const CLI = join(ROOT, 'apps/collector/dist/cli.js')
const ENGINE = join(ROOT, 'apps/collector/dist/engines/sqlite/engine.js')
const require = createRequire(join(ROOT, 'apps/collector/package.json'))
const Database = require('better-sqlite3')

const UNITS = Number(process.env.BENCH_UNITS ?? 200_000)
const STALLED = 20
const ACTIVE = 8
const RATE = 200
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const PERIOD_START = Date.parse('2026-01-01T00:00:00Z')
const PERIOD_MS = Date.parse('2026-02-01T00:00:00Z') - PERIOD_START

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first`)
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'tally-bench-hostile-exports-'))
const file = join(dir, 'collector.db')
const account = (name, container) => ({
  timezone: 'UTC',
  subscription: { plan: 'metered', cycle: 'monthly', start: '2026-01-01' },
  keys: { secret: `sk_${name}_secret`, read: `rk_${name}_read` },
  containers: { [container]: { domains: [`${name}.test`], campaigns: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`cmp_${i}`, {}])) } },
})
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify({
    plans: { metered: { currency: 'EUR', basePrice: 0, included: { impressions: 10 }, overage: { impressions: { per: 1000, price: 40 } } } },
    accounts: { evil: account('evil', 'ctr_evil'), shop: account('shop', 'ctr_shop') },
    server: { rateLimits: { perIp: { rate: 1e9, burst: 1e9 }, perContainer: { rate: 1e9, burst: 1e9 } } },
  }),
)

async function load() {
  const { migrateSqlite } = await import(pathToFileURL(ENGINE).href)
  migrateSqlite(file)
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  const imp = db.prepare('INSERT INTO impressions (container, session, campaign, event_id, time) VALUES (?, ?, ?, ?, ?)')
  const roll = db.prepare(`INSERT INTO rollups (account, day, container, kind, subject, units) VALUES (?, ?, ?, 'campaign', ?, 1)
    ON CONFLICT (account, day, container, kind, subject) DO UPDATE SET units = units + 1`)
  db.transaction(() => {
    for (const [acct, container] of [
      ['evil', 'ctr_evil'],
      ['shop', 'ctr_shop'],
    ]) {
      for (let i = 0; i < UNITS; i++) {
        const time = PERIOD_START + Math.floor((i / UNITS) * PERIOD_MS)
        const campaign = `cmp_${i % 10}`
        imp.run(container, `s_${(i / 10) | 0}_x8f2k1q9`, campaign, `01JD${i.toString(36).padStart(22, '0')}`, time)
        roll.run(acct, new Date(time).toISOString().slice(0, 10), container, campaign)
      }
    }
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
}

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`

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
  const res = await pacedBeacons(base, { container: 'ctr_shop', origin: 'https://shop.test', rate: RATE, seconds: SECONDS, body })
  return { p50: res.p50, p99: res.p99, max: res.max, non2xx: res.failed }
}

try {
  await load()
  const port = await freePort()
  const child = spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'config.json'), '--db', file, '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, LOG_LEVEL: 'warn', TALLY_ADMIN_TOKEN: 'bench' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const base = `http://127.0.0.1:${port}`
  try {
    await waitHealthy(`${base}/healthz`)
    for (let i = 0; i < 600; i++) {
      const ok =
        (await fetch(`${base}/v1/invoices/2.json`, { headers: { authorization: 'Bearer rk_shop_read' } })).ok &&
        (await fetch(`${base}/v1/invoices/2.json`, { headers: { authorization: 'Bearer rk_evil_read' } })).ok
      if (ok) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const quiet = await beacons(base)
    const idleKb = rssKb(child.pid)
    // The attack runs in a process of its own, at the lowest CPU priority (./attacker.mjs), which
    // also samples the collector's RSS every 20 ms (not the beacons' load generator's work).
    const attacker = fork(join(HERE, 'attacker.mjs'), [String(port), String(STALLED), String(ACTIVE), String(child.pid)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    })
    setPriority(attacker.pid, 19)
    const report = new Promise((resolve) => attacker.on('message', (m) => m.ready || resolve(m)))
    await new Promise((resolve) => attacker.once('message', resolve))
    const busy = await beacons(base)
    attacker.send('stop')
    const { stalled, statuses, peakKb: attackPeakKb } = await report
    const peakKb = Math.max(idleKb, attackPeakKb)
    await new Promise((r) => attacker.once('exit', r))

    const count = (list) => [...list.reduce((m, s) => m.set(s, (m.get(s) ?? 0) + 1), new Map())].map(([s, n]) => `${n} x ${s}`).join(', ')
    const growth = (peakKb - idleKb) / 1024
    const ratio = busy.p99 / Math.max(quiet.p99, 1)
    console.log(
      `${UNITS.toLocaleString('en-US')} units per account; ${STALLED} stalled readers (${count(stalled)}), ${ACTIVE} active exporters (${count(Object.entries(statuses).flatMap(([s, n]) => Array(n).fill(s)))})`,
    )
    console.log(`collector RSS     ${mb(idleKb)} idle, ${mb(peakKb)} peak under the attack (+${growth.toFixed(0)} MB)`)
    console.log(`beacons @${RATE}/s   quiet:        p50 ${quiet.p50} ms  p99 ${quiet.p99} ms  non-2xx ${quiet.non2xx}`)
    console.log(`beacons @${RATE}/s   under attack: p50 ${busy.p50} ms  p99 ${busy.p99} ms  max ${busy.max} ms  non-2xx ${busy.non2xx}`)
    console.log(`p99 ratio under attack / quiet ${ratio.toFixed(2)}`)
    console.log(`targets (RSS within 100 MB of idle, p99 ratio < 2, no refused beacon): ${growth < 100 && ratio < 2 && busy.non2xx === 0 ? 'met' : 'NOT met'}`)
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
