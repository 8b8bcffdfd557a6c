#!/usr/bin/env node
// bench/ingest-pg: the collector's ingestion on PostgreSQL, 1 and 2 collector processes on one
// database, beside the raw PostgreSQL ceiling for the same rows measured in the same run: a
// beacon's rows as one transaction of two statements (one multi-row insert of the billable units,
// one multi-row rollup upsert; prepared and pipelined), from client processes with no HTTP. The
// goal is stated against that per-beacon client sent from two processes, as two collectors are
// two. The engine now groups the beacons arriving together into one such transaction
// (apps/collector/src/engines/postgres/group.ts), so the same rows are also sent grouped (10
// beacons a transaction), for information. Then the bytes each stored event takes
// (pg_total_relation_size). The database is a throwaway cluster started here by the test harness
// (test/pg/server.ts: fsync and synchronous_commit off, so the figures are the engine's and not
// the disk's), or TALLY_BENCH_PG_URL (a user that may create databases). Loopback only, about a minute.
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { beaconBody, freePort, waitHealthy } from '../lib.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLI = join(ROOT, 'apps/collector/dist/cli.js')
const require = createRequire(join(ROOT, 'apps/collector/package.json'))
const pg = require('pg')

const EVENTS = 50
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
/** Concurrent transactions of the raw ceiling: as many as two collectors' pools would run. */
const RAW_CLIENTS = 20
/** The goal (docs/performance.md): 2 collectors against raw inserts from two clients. */
const GOAL_RATIO = 0.75
/** Node flags for the collectors (e.g. `--cpu-prof --cpu-prof-dir=…`), and a file for their log (warnings). */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
const LOG = process.env.BENCH_COLLECTOR_LOG
/** Which runs (default all): `one,two,raw,rawTwo,rawGrouped`. */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'one,two,raw,rawTwo,rawGrouped').split(','))
/** Beacons per transaction, and transactions at once per client, of the grouped raw run: about what the engine's groups hold here. */
const RAW_GROUP = 10
const RAW_GROUPS_AT_ONCE = 2
const ORIGIN = 'https://bench.test'
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36'

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first`)
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'tally-bench-pg-'))
const campaigns = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`cmp_${i}`, {}]))
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify({
    plans: { basic: { currency: 'EUR', basePrice: 0 } },
    accounts: {
      bench: {
        timezone: 'UTC',
        subscription: { plan: 'basic', cycle: 'monthly', start: '2026-01-01' },
        keys: { secret: 'sk_bench_secret', read: 'rk_bench_read' },
        containers: { ctr_bench: { domains: ['bench.test'], campaigns } },
      },
    },
    server: { rateLimits: { perIp: { rate: 1e9, burst: 1e9 }, perContainer: { rate: 1e9, burst: 1e9 } } },
  }),
)

// Every request carries 50 distinct billable units: 10 sessions x 5 campaigns (as bench/ingest).
const body = (run) => beaconBody(run, EVENTS)

/** Seconds of load before the measured window, on the same connections. */
const WARMUP = 2

/**
 * One run of WARMUP + SECONDS on one set of connections, measured over the last SECONDS only:
 * events/s, p50/p99, non-2xx, and the client errors by kind (a timeout, a socket's code). One set
 * of connections, not a warm-up run and then a measured one: the warm-up's sockets would still be
 * open at the collector when the next run connects, and from one address more than 64 are closed
 * at accept (docs/security.md, "Sockets").
 */
function load(url, run, extra = {}) {
  return new Promise((resolve, reject) => {
    const errorKinds = {}
    const latencies = []
    let non2xx = 0
    let errors = 0
    const from = performance.now() + WARMUP * 1000
    const instance = autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: WARMUP + SECONDS,
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': UA },
        requests: [{ setupRequest: (req) => ({ ...req, body: body(run) }) }],
        ...extra,
      },
      (err) => {
        if (err) return reject(err)
        latencies.sort((a, b) => a - b)
        const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN
        resolve({ eventsPerSec: (latencies.length / SECONDS) * EVENTS, p50: at(0.5), p99: at(0.99), non2xx, errors, errorKinds })
      },
    )
    instance.on('response', (_client, status, _bytes, ms) => {
      if (performance.now() < from) return
      latencies.push(ms)
      if (status < 200 || status > 299) non2xx++
    })
    instance.on('reqError', (e) => {
      if (performance.now() < from) return
      errors++
      const kind = e?.code ?? e?.message ?? String(e)
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1
    })
  })
}

async function startCollectors(n, url) {
  const out = []
  for (let k = 0; k < n; k++) {
    const port = await freePort()
    const child = spawn(
      process.execPath,
      [...NODE_ARGS, CLI, 'serve', '--config', join(dir, 'config.json'), '--database-url', url, '--port', String(port), '--host', '127.0.0.1'],
      { env: { ...process.env, LOG_LEVEL: 'warn', TALLY_ADMIN_TOKEN: 'bench' }, stdio: ['ignore', LOG ? openSync(LOG, 'a') : 'ignore', 'inherit'] },
    )
    const base = `http://127.0.0.1:${port}`
    await waitHealthy(`${base}/healthz`)
    out.push({ child, url: `${base}/v1/containers/ctr_bench/events` })
  }
  return out
}

/** `n` collectors, the connections split between them; events/s summed, the worst p50/p99. */
async function benchCollectors(n, url) {
  const collectors = await startCollectors(n, url)
  const per = { connections: Math.ceil(CONNECTIONS / n) }
  const runs = await Promise.all(collectors.map((c, k) => load(c.url, `m${n}${k}`, per)))
  for (const c of collectors) c.child.kill('SIGTERM')
  await Promise.all(collectors.map((c) => new Promise((r) => c.child.once('exit', r))))
  return {
    eventsPerSec: runs.reduce((s, r) => s + r.eventsPerSec, 0),
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    errorKinds: runs.reduce((all, r) => {
      for (const [k, n] of Object.entries(r.errorKinds)) all[k] = (all[k] ?? 0) + n
      return all
    }, {}),
  }
}

const INSERT_UNITS = `
  WITH i AS (
    INSERT INTO impressions (account, container, session, campaign, event_id, time)
    SELECT $1, $2, s, c, e, t FROM unnest($3::text[], $4::text[], $5::text[], $6::bigint[]) AS u(s, c, e, t) ORDER BY s, c
    ON CONFLICT DO NOTHING RETURNING session, campaign)
  SELECT session, campaign FROM i`
const ADD_ROLLUPS = `
  INSERT INTO rollups (account, day, container, kind, subject, units)
  SELECT $1, d, c, k, s, sum(n) FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) AS u(d, c, k, s, n)
  GROUP BY d, c, k, s ORDER BY d, c, k, s
  ON CONFLICT (account, day, container, kind, subject) DO UPDATE SET units = rollups.units + excluded.units`

/**
 * The raw ceiling: the repository's statements for a beacon, `RAW_CLIENTS` transactions at once,
 * no HTTP. With `group` > 1 each transaction carries that many beacons' rows in the same two
 * statements, as the engine's group commit writes them (apps/collector/src/engines/postgres/group.ts).
 */
async function benchRaw(url, clients = RAW_CLIENTS, group = 1) {
  // Sent as the engine sends them: prepared, pipelined (BEGIN with the insert, COMMIT behind the upsert).
  const pool = new pg.Pool({ connectionString: url, max: clients, pipeline: true })
  pool.on('error', () => {})
  let batches = 0
  const latencies = []
  const end = performance.now() + SECONDS * 1000
  let n = 0
  const worker = async () => {
    const client = await pool.connect()
    try {
      while (performance.now() < end) {
        const r = `raw${process.pid}-${(n++).toString(36)}`
        const ts = Date.now()
        const s = [],
          c = [],
          e = [],
          t = []
        for (let i = 0; i < EVENTS * group; i++) {
          s.push(group > 1 ? `s${r}-${i % 10}-${(i / EVENTS) | 0}` : `s${r}-${i % 10}`)
          c.push(`cmp_${((i % EVENTS) / 10) | 0}`)
          e.push(`${r}-${i}`)
          t.push(ts)
        }
        const started = performance.now()
        const begin = client.query('BEGIN')
        const fresh = (await client.query({ name: 'units', text: INSERT_UNITS, values: ['bench', 'ctr_bench', s, c, e, t] })).rows
        await begin
        const per = new Map()
        for (const row of fresh) per.set(row.campaign, (per.get(row.campaign) ?? 0) + 1)
        const k = [...per.keys()]
        const rollups = client.query({
          name: 'rollups',
          text: ADD_ROLLUPS,
          values: ['bench', k.map(() => '2026-07-20'), k.map(() => 'ctr_bench'), k.map(() => 'campaign'), k, k.map((x) => per.get(x))],
        })
        const commit = client.query('COMMIT')
        await rollups
        await commit
        latencies.push(performance.now() - started)
        batches += group
      }
    } finally {
      client.release()
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: clients }, worker))
  const seconds = (performance.now() - start) / 1000
  await pool.end()
  latencies.sort((a, b) => a - b)
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
  return { eventsPerSec: (batches * EVENTS) / seconds, p50: at(0.5), p99: at(0.99) }
}

/**
 * The ceiling the goal is stated against: the same statements from two client processes (as two
 * collectors are two processes, each with its own pool and event loop), RAW_CLIENTS/2
 * transactions at once each, started together; events/s summed, the worse p50/p99.
 */
async function benchRawTwo(url, clients = RAW_CLIENTS / 2, group = 1) {
  const runs = await Promise.all(
    [0, 1].map(
      () =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'raw-client', url, String(clients), String(group)], {
            stdio: ['ignore', 'pipe', 'inherit'],
          })
          let out = ''
          child.stdout.on('data', (b) => (out += b))
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`raw client exited with ${code}`))))
        }),
    ),
  )
  return { eventsPerSec: runs[0].eventsPerSec + runs[1].eventsPerSec, p50: Math.max(runs[0].p50, runs[1].p50), p99: Math.max(runs[0].p99, runs[1].p99) }
}

if (process.argv[2] === 'raw-client') {
  rmSync(dir, { recursive: true, force: true })
  process.stdout.write(JSON.stringify(await benchRaw(process.argv[3], Number(process.argv[4]), Number(process.argv[5]))))
  process.exit(0)
}

async function freshDatabase(admin, name) {
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await client.query(`CREATE DATABASE ${name}`)
  await client.end()
  const u = new URL(admin)
  u.pathname = `/${name}`
  const url = u.toString()
  execFileSync(process.execPath, [CLI, 'migrate', '--database-url', url], { stdio: 'ignore' })
  return url
}

async function storage(url) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const {
    rows: [r],
  } = await client.query(`SELECT (SELECT count(*) FROM impressions)::bigint AS events,
    pg_total_relation_size('impressions') AS impressions, pg_total_relation_size('rollups') AS rollups`)
  await client.end()
  const events = Number(r.events)
  return { events, bytesPerEvent: (Number(r.impressions) + Number(r.rollups)) / events }
}

const fmt = (n) => Math.round(n).toLocaleString('en-US')
let server
try {
  let admin = process.env.TALLY_BENCH_PG_URL
  if (!admin) {
    const { tsImport } = await import('tsx/esm/api')
    const { startTestPostgres } = await tsImport('../../test/pg/server.ts', import.meta.url)
    server = await startTestPostgres()
    admin = server.url
    console.log(`PostgreSQL ${server.version} (${server.binaries.source}), a throwaway cluster: fsync and synchronous_commit off`)
  }
  console.log(`batches of ${EVENTS} events, ${CONNECTIONS} connections in all, ${SECONDS} s per run, loopback`)
  const none = { eventsPerSec: Number.NaN, p50: Number.NaN, p99: Number.NaN }
  const one = PARTS.has('one') ? await benchCollectors(1, await freshDatabase(admin, 'bench_one')) : none
  const twoUrl = await freshDatabase(admin, 'bench_two')
  const two = PARTS.has('two') ? await benchCollectors(2, twoUrl) : none
  const bytes = PARTS.has('two') ? await storage(twoUrl) : { events: 0, bytesPerEvent: Number.NaN }
  const raw = PARTS.has('raw') ? await benchRaw(await freshDatabase(admin, 'bench_raw')) : none
  const rawTwo = PARTS.has('rawTwo') ? await benchRawTwo(await freshDatabase(admin, 'bench_raw_two')) : none
  const rawGrouped = PARTS.has('rawGrouped') ? await benchRawTwo(await freshDatabase(admin, 'bench_raw_grouped'), RAW_GROUPS_AT_ONCE, RAW_GROUP) : none
  const kinds = (r) =>
    r.errors
      ? ` (${Object.entries(r.errorKinds)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')})`
      : ''
  const line = (name, r) =>
    `${name.padEnd(30)} ${fmt(r.eventsPerSec).padStart(7)} events/s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms` +
    (r.non2xx === undefined ? '' : `  non-2xx ${r.non2xx}  errors ${r.errors}${kinds(r)}`)
  console.log(line('1 collector', one))
  console.log(line('2 collectors', two))
  console.log(line(`raw PostgreSQL (${RAW_CLIENTS} tx, 1 client)`, raw))
  console.log(line(`raw PostgreSQL (2 clients x ${RAW_CLIENTS / 2} tx)`, rawTwo))
  console.log(line(`raw, ${RAW_GROUP} beacons a tx (2 x ${RAW_GROUPS_AT_ONCE} tx)`, rawGrouped))
  const ratio = two.eventsPerSec / rawTwo.eventsPerSec
  console.log(
    `ratio of 2 collectors to raw from two clients ${ratio.toFixed(2)} (goal >= ${GOAL_RATIO}); to raw from one client: 1 collector ${(one.eventsPerSec / raw.eventsPerSec).toFixed(2)}, 2 collectors ${(two.eventsPerSec / raw.eventsPerSec).toFixed(2)}; 2 collectors / 1 ${(two.eventsPerSec / one.eventsPerSec).toFixed(2)}`,
  )
  console.log(`2 collectors to raw sent as the engine groups beacons: ${(two.eventsPerSec / rawGrouped.eventsPerSec).toFixed(2)}`)
  console.log(`storage: ${fmt(bytes.bytesPerEvent)} bytes per stored event (impressions + rollups, indexes included, ${fmt(bytes.events)} events)`)
  const ok = two.eventsPerSec >= 30_000 && two.non2xx === 0 && two.errors === 0
  console.log(
    `target (>= 30,000 events/s with 2 collectors, no errors): ${ok ? 'met' : 'NOT met'}; goal >= ${GOAL_RATIO} of raw from two clients: ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'}`,
  )
  if (process.env.TALLY_BENCH_PG_URL) {
    const client = new pg.Client({ connectionString: admin })
    await client.connect()
    for (const d of ['bench_one', 'bench_two', 'bench_raw', 'bench_raw_two', 'bench_raw_grouped'])
      await client.query(`DROP DATABASE IF EXISTS ${d} WITH (FORCE)`)
    await client.end()
  }
} finally {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
}
