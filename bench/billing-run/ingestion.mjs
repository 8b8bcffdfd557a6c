// Ingestion at a fixed rate against a collector started for it: the part of bench/billing-run that
// measures beacons beside the month's run (index.mjs runs it).
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beaconBody, freePort, pacedBeacons, waitHealthy } from '../lib.mjs'

const CLI = join(fileURLToPath(new URL('../..', import.meta.url)), 'apps/collector/dist/cli.js')
export const RATE = 500
const LOAD_CONNECTIONS = 8
/**
 * Seconds of beacons not counted at the start of each ingestion run, idle and busy alike: a fresh
 * collector on PostgreSQL falls behind 500 beacons a second for its first 2.5-5.5 s on this box
 * (docs/performance.md, "Every beacon counted, and the serving run at a quarter share").
 */
const LOAD_WARMUP = 6
/**
 * Beacons due but unanswered before the next one is not sent (and counted failed): a second's
 * worth. Each is counted from when it was due, so a slow second shows in the p99 instead of as
 * requests never sent; a collector that stalls for longer still fails the run.
 */
const LOAD_MAX_WAITING = RATE
/**
 * Idle and busy ingestion runs, alternated: one pair is at the mercy of a slow second of a shared
 * two-core box (PostgreSQL's idle p99 ranged 14.6-79.4 ms over five runs of one build), so the goal
 * is judged on the medians. BENCH_LOAD_ROUNDS=n changes it.
 */
export const LOAD_ROUNDS = Number(process.env.BENCH_LOAD_ROUNDS ?? 3)
const ORIGIN = 'https://bench.test'

/**
 * Ingestion at RATE req/s against a collector on `target` with the config `cfg` of all accounts:
 * it bills them as it starts, or with `args` ['--no-billing'] bills nothing.
 */
export async function ingestP99(cfg, target, seconds, args = []) {
  const port = await freePort()
  const where = target.startsWith('postgres') ? ['--database-url', target] : ['--db', target]
  const child = spawn(process.execPath, [CLI, 'serve', '--config', cfg, ...where, '--port', String(port), '--host', '127.0.0.1', ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', TALLY_ADMIN_TOKEN: 'bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  // The runner logs one line per account billed; the last one ends the run.
  let billed = 0
  let lastBilledAt = 0
  let buf = ''
  child.stdout.on('data', (b) => {
    buf += b
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      if (buf.slice(0, nl).includes('"msg":"billing run"')) {
        billed++
        lastBilledAt = performance.now()
      }
      buf = buf.slice(nl + 1)
    }
  })
  const base = `http://127.0.0.1:${port}`
  try {
    // Loading and checking a config of 10,000 accounts takes a while on a busy box: up to 3 minutes.
    for (let i = 0; ; i++) {
      try {
        await waitHealthy(`${base}/healthz`)
        break
      } catch (e) {
        if (i === 8) throw e
      }
    }
    return await loadDuring(base, () => ({ billed, lastBilledAt }), seconds)
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()))
  }
}

/** What `failed` counts, by kind. */
const lost = (r) => `${r.non2xx} non-2xx, ${r.errors} connection errors, ${r.skipped} not sent`

async function loadDuring(base, progress, seconds) {
  const started = performance.now()
  let n = 0
  // RATE beacons a second, evenly spaced (`paced`: latency counted from when each was due).
  const res = await pacedBeacons(base, {
    container: 'ctr_ingest',
    origin: ORIGIN,
    rate: RATE,
    seconds,
    connections: LOAD_CONNECTIONS,
    warmup: LOAD_WARMUP,
    maxWaiting: LOAD_MAX_WAITING,
    body: () => beaconBody(`i${n++}`, 50),
  })
  const { billed, lastBilledAt } = progress()
  return {
    p50: res.p50,
    p99: res.p99,
    reqPerSec: res.reqPerSec,
    failed: res.failed,
    lost: lost(res),
    billed,
    billingSeconds: billed ? (lastBilledAt - started) / 1000 : 0,
  }
}
