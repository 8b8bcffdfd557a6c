#!/usr/bin/env node
// bench/billing-run: a whole month's billing run. 10,000 accounts (three plans, the four cycles,
// seats, products, contact readings, free credits granted by the run, and a year of daily rollups
// and meter readings each), every subscription closing one period at 2026-12-01 00:00 UTC; one
// run bills them all, as `tally bill --as-of 2026-12-01T00:00:00Z` does (bill.mjs), on SQLite
// and on PostgreSQL (a throwaway cluster started here, or TALLY_BENCH_PG_URL). BENCH_PG=0 skips
// PostgreSQL, BENCH_SQLITE=0 skips SQLite.
// Prints, for 1,000 / 5,000 / 10,000 accounts, the run's time and peak memory (each on a fresh
// copy of the same data); ingestion p99 at a fixed rate while a collector runs the month's billing
// vs the same collector idle; and whether the run is idempotent: rerun, and killed midway then
// rerun, both leave exactly the invoices and credit log of one uninterrupted run.
// The ingestion pair runs BENCH_LOAD_ROUNDS times (default 3), alternated, judged on the medians.
// BENCH_ACCOUNTS=n scales the whole bench down (the sizes become n/10, n/2, n); BENCH_PROFILE=dir
// writes a --cpu-prof of each billing run there. Needs the build.
import { execFileSync, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PLANS } from './plans.mjs'
import { median } from '../lib.mjs'
import { LOAD_ROUNDS, RATE, ingestP99 } from './ingestion.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLI = join(ROOT, 'apps/collector/dist/cli.js')
const BILL = join(ROOT, 'bench/billing-run/bill.mjs')
const require = createRequire(join(ROOT, 'apps/collector/package.json'))
const Database = require('better-sqlite3')
const pg = require('pg')

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000)
const SIZES = [ACCOUNTS / 10, ACCOUNTS / 2, ACCOUNTS].map(Math.round)
const AS_OF = '2026-12-01T00:00:00Z'
const DAYS = 365
const GOAL_S = 60

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first`)
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'tally-bench-billing-'))
const fmt = (n) => Math.round(n).toLocaleString('en-US')

// --- the accounts -------------------------------------------------------------------------------
// Each cycle starts so that exactly one period ends at AS_OF.
const CYCLES = [
  ['monthly', '2026-11-01'],
  ['quarterly', '2026-09-01'],
  ['semiannual', '2026-06-01'],
  ['annual', '2025-12-01'],
]
const id = (i) => `acct_${String(i).padStart(5, '0')}`
function account(i) {
  const [cycle, start] = CYCLES[i % 4]
  return {
    name: `Shop ${i}`,
    timezone: 'UTC',
    subscription: {
      plan: Object.keys(PLANS)[i % 3],
      cycle,
      start,
      seats: 1 + (i % 7),
      contacts: (i * 37) % 6000,
      products: i % 5 === 0 ? ['data_unlimited'] : i % 5 === 1 ? ['data_unlimited', 'priority'] : [],
    },
    keys: { secret: `sk_${id(i)}_secret`, read: `rk_${id(i)}_read` },
    containers: { [`ctr_${i}`]: { domains: ['bench.test'], campaigns: { cmp_a: {} }, advisors: { adv_a: {} }, bots: { bot_a: {} } } },
  }
}
const ingestAccount = {
  timezone: 'UTC',
  subscription: { plan: 'starter', cycle: 'monthly', start: '2026-12-01' },
  keys: { secret: 'sk_ingest_secret', read: 'rk_ingest_read' },
  containers: { ctr_ingest: { domains: ['bench.test'], campaigns: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`cmp_${i}`, {}])) } },
}
const server = { rateLimits: { perIp: { rate: 1e9, burst: 1e9 }, perContainer: { rate: 1e9, burst: 1e9 } }, sessionsPerHour: 1e6 }
function config(name, n, withIngest = false) {
  const file = join(dir, `${name}.json`)
  const accounts = Object.fromEntries(Array.from({ length: n }, (_, i) => [id(i), account(i)]))
  if (withIngest) accounts.ingest = ingestAccount
  writeFileSync(file, JSON.stringify({ plans: PLANS, accounts, server }))
  return file
}

// --- the history: a year of days before AS_OF, per account -----------------------------------
const FIRST_DAY = Date.UTC(2025, 11, 1)
const dayOf = (d) => new Date(FIRST_DAY + d * 86_400_000).toISOString().slice(0, 10)
/** Rows per account: rollups (impressions, engagements, chat sessions) and the daily meters. */
function* history(i) {
  const scale = 1 + (i % 3) * 10
  for (let d = 0; d < DAYS; d++) {
    const day = dayOf(d)
    yield ['rollup', id(i), day, `ctr_${i}`, 'campaign', 'cmp_a', scale * (100 + ((i + d) % 50))]
    yield ['rollup', id(i), day, `ctr_${i}`, 'advisor', 'adv_a', scale * (5 + ((i + d) % 5))]
    if (d % 3 === 0) yield ['rollup', id(i), day, `ctr_${i}`, 'bot', 'bot_a', 1 + ((i + d) % 3)]
    yield ['daily', id(i), day, (i + d) % 40, (i + d) % 200, 500 + ((i * 13 + d) % 5000)]
  }
}

function fillSqlite(file) {
  execFileSync(process.execPath, [CLI, 'migrate', '--db', file], { stdio: 'ignore' })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = OFF')
  const roll = db.prepare('INSERT INTO rollups (account, day, container, kind, subject, units) VALUES (?, ?, ?, ?, ?, ?)')
  const daily = db.prepare('INSERT INTO usage_daily (account, day, alerts, emails, contacts) VALUES (?, ?, ?, ?, ?)')
  const fill = db.transaction((from, to) => {
    for (let i = from; i < to; i++) for (const [t, ...r] of history(i)) (t === 'rollup' ? roll : daily).run(...r)
  })
  for (let i = 0; i < ACCOUNTS; i += 500) fill(i, Math.min(ACCOUNTS, i + 500))
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
}

async function fillPg(url) {
  execFileSync(process.execPath, [CLI, 'migrate', '--database-url', url], { stdio: 'ignore' })
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  for (let i = 0; i < ACCOUNTS; i += 100) {
    const r = [[], [], [], [], [], []],
      d = [[], [], [], [], []]
    for (let k = i; k < Math.min(ACCOUNTS, i + 100); k++) {
      for (const [t, ...row] of history(k)) for (const [j, col] of (t === 'rollup' ? r : d).entries()) col.push(row[j])
    }
    await c.query(
      'INSERT INTO rollups (account, day, container, kind, subject, units) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])',
      r,
    )
    await c.query(
      'INSERT INTO usage_daily (account, day, alerts, emails, contacts) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])',
      d,
    )
  }
  await c.query('VACUUM ANALYZE')
  await c.end()
}

// --- runs ------------------------------------------------------------------------------------
/** One billing run in a child process; `killAfter` kills it (SIGKILL) once that many accounts are billed. */
function bill(cfg, target, { killAfter } = {}) {
  const how = target.startsWith('postgres') ? '--database-url' : '--db'
  const prof = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : []
  return new Promise((resolve, reject) => {
    // The runner logs one line per account billed (info): what the kill waits for.
    const child = spawn(process.execPath, [...prof, BILL, cfg, how, target, AS_OF], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LOG_LEVEL: killAfter ? 'info' : 'error' },
    })
    let out = ''
    let billed = 0
    child.stdout.on('data', (b) => {
      out += b
      for (let nl = out.indexOf('\n'); nl >= 0 && !out.startsWith('{"ms"'); nl = out.indexOf('\n')) {
        if (out.slice(0, nl).includes('"msg":"billing run"') && ++billed === killAfter) child.kill('SIGKILL')
        out = out.slice(nl + 1)
      }
    })
    // 'close', not 'exit': the last of its output may still be unread when the process exits.
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') return resolve({ killed: true, billed })
      if (code !== 0) return reject(new Error(`billing run exited with ${code}`))
      resolve(JSON.parse(out))
    })
  })
}

/** What a run leaves: every invoice and credit log entry, without the instants of writing. */
async function snapshot(target) {
  const invoiceSql = 'SELECT account, key, number, kind, issued_at, currency, total, invoice FROM invoices ORDER BY account, key'
  const ledgerSql = 'SELECT account, source, ref, leg, id, type, wallet, at, credits, entry FROM ledger ORDER BY account, source, ref, leg'
  let rows
  if (target.startsWith('postgres')) {
    const c = new pg.Client({ connectionString: target })
    await c.connect()
    rows = [(await c.query(invoiceSql)).rows, (await c.query(ledgerSql)).rows]
    await c.end()
  } else {
    const db = new Database(target, { readonly: true })
    rows = [db.prepare(invoiceSql).all(), db.prepare(ledgerSql).all()]
    db.close()
  }
  const norm = (r) =>
    JSON.stringify(r, (k, v) => (typeof v === 'bigint' ? String(v) : typeof v === 'number' && (k === 'issued_at' || k === 'at') ? String(v) : v))
  return { invoices: rows[0].length, ledger: rows[1].length, text: rows.map((t) => t.map(norm).join('\n')).join('\n--\n') }
}

async function engine(name, fill, fresh, drop) {
  console.log(`\n${name}: filling ${fmt(ACCOUNTS)} accounts x ${DAYS} days of history…`)
  const t0 = performance.now()
  const source = await fresh('src')
  await fill(source)
  console.log(`  filled in ${fmt((performance.now() - t0) / 1000)} s`)
  const sizes = []
  for (const n of SIZES) {
    const target = await fresh(`n${n}`, source)
    const r = await bill(config(`accounts-${n}`, n), target)
    if (r.failed) throw new Error(`${r.failed} accounts failed: ${r.firstError}`)
    sizes.push({ n, ...r, target })
    console.log(
      `  ${fmt(n).padStart(6)} accounts: ${(r.ms / 1000).toFixed(1)} s (${(r.ms / n).toFixed(2)} ms an account), peak RSS ${fmt(r.maxRssMb)} MB, ${fmt(r.invoices)} invoices`,
    )
  }
  const [small, , full] = sizes
  console.log(
    `  growth ${fmt(small.n)} -> ${fmt(full.n)} accounts: time x${(full.ms / small.ms).toFixed(1)}, memory x${(full.maxRssMb / small.maxRssMb).toFixed(1)} (linear: x${(full.n / small.n).toFixed(0)} time)`,
  )
  const verdict = full.n < 10_000 ? 'not judged below 10,000 accounts' : full.ms / 1000 < GOAL_S ? 'met' : 'NOT met'
  console.log(`  goal: all invoices of 10,000 accounts in < ${GOAL_S} s: ${verdict} (${(full.ms / 1000).toFixed(1)} s for ${fmt(full.n)})`)

  // Idempotency, on the smallest size: a rerun, and a run killed midway then rerun.
  const once = await snapshot(small.target)
  const again = await bill(config(`accounts-${small.n}`, small.n), small.target)
  const rerun = await snapshot(small.target)
  const killedTarget = await fresh(`killed`, source)
  // Killed (SIGKILL) once half of the accounts are billed, then run again to the end.
  const killed = await bill(config(`accounts-${small.n}`, small.n), killedTarget, { killAfter: Math.ceil(small.n / 2) })
  const partial = await snapshot(killedTarget)
  await bill(config(`accounts-${small.n}`, small.n), killedTarget)
  const resumed = await snapshot(killedTarget)
  const same = (a, b) => a.text === b.text
  console.log(
    `  idempotent: rerun ${same(once, rerun) ? 'identical' : 'DIFFERENT'} (${fmt(once.invoices)} invoices, ${fmt(once.ledger)} credit entries; the rerun wrote ${again.invoices} invoices); ` +
      `killed (${killed.killed ? 'SIGKILL' : 'NOT killed: it ended first'}) after ${fmt(killed.billed)} accounts with ${fmt(partial.invoices)} invoices written, then rerun: ${same(once, resumed) ? 'identical' : 'DIFFERENT'}`,
  )

  // The billed copies are done with: left in place, a database's autovacuum of the invoices and
  // credit log just written there ran beside the ingestion measured next.
  for (const { target } of sizes) await drop(target)
  await drop(killedTarget)

  // Ingestion while a collector bills the full size, vs the same collector idle: the same accounts
  // on the same data, started with --no-billing. (Against a collector of the one ingesting account,
  // as this bench measured before, the run's figures also carried the heap of 10,000 accounts:
  // docs/performance.md, "The same collector idle".)
  const seconds = Math.min(60, Math.max(10, Math.ceil((full.ms / 1000) * 1.2)))
  const all = config('all-and-ingest', ACCOUNTS, true)
  const idle = []
  const busy = []
  for (let round = 1; round <= LOAD_ROUNDS; round++) {
    const i = await ingestP99(all, await fresh('idle', source), seconds, ['--no-billing'])
    const b = await ingestP99(all, await fresh('busy', source), seconds)
    idle.push(i)
    busy.push(b)
    console.log(
      `  ingestion at ${RATE} req/s x 50 events, ${seconds} s, round ${round}: idle p50 ${i.p50} ms p99 ${i.p99} ms, ${i.lost}; during the run (${fmt(b.billed)} accounts billed in ${b.billingSeconds.toFixed(1)} s) p50 ${b.p50} ms p99 ${b.p99} ms, ${b.lost}: ` +
        `x${(b.p99 / Math.max(1, i.p99)).toFixed(1)}`,
    )
  }
  const idleP99 = Math.round(median(idle.map((r) => r.p99)) * 10) / 10
  const busyP99 = Math.round(median(busy.map((r) => r.p99)) * 10) / 10
  const answered = [...idle, ...busy].every((r) => r.failed === 0)
  console.log(
    `  ingestion p99, median of ${LOAD_ROUNDS} rounds: idle ${idleP99} ms, during the run ${busyP99} ms: x${(busyP99 / Math.max(1, idleP99)).toFixed(1)} ` +
      `(goal < x2 and every request answered 2xx: ${busyP99 < 2 * idleP99 && answered ? 'met' : 'NOT met'})`,
  )
}

let pgServer
try {
  console.log(
    `one billing run at ${AS_OF}: ${SIZES.map(fmt).join(' / ')} accounts; 3 plans, 4 cycles, seats, products, contact readings, free credits, ${DAYS} days of rollups and meters each`,
  )
  if (process.env.BENCH_SQLITE !== '0') {
    // A copy replaces the file of the same name with its WAL and index gone: a WAL left by the
    // last round's collector would be read as the new copy's, and corrupt it.
    const drop = async (file) => {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
    }
    await engine(
      'SQLite',
      fillSqlite,
      async (name, source) => {
        const file = join(dir, `${name}.db`)
        await drop(file)
        if (source) copyFileSync(source, file)
        return file
      },
      drop,
    )
  }
  if (process.env.BENCH_PG !== '0') {
    let admin = process.env.TALLY_BENCH_PG_URL
    if (!admin) {
      const { tsImport } = await import('tsx/esm/api')
      const { startTestPostgres } = await tsImport('../../test/pg/server.ts', import.meta.url)
      pgServer = await startTestPostgres()
      admin = pgServer.url
    }
    const made = []
    const dropDb = async (db) => {
      const c = new pg.Client({ connectionString: admin })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
      await c.end()
    }
    const fresh = async (name, source) => {
      const db = `bench_billing_${name}`
      await dropDb(db)
      const c = new pg.Client({ connectionString: admin })
      await c.connect()
      // A copy is written straight to disk and checkpointed before it is used (FILE_COPY, the only
      // way before PostgreSQL 15), not through the WAL, whose checkpoint would then write it out
      // beside the measurement.
      const { rows } = await c.query(`SELECT current_setting('server_version_num')::int >= 150000 AS strategy`)
      const copy = rows[0].strategy ? ' STRATEGY FILE_COPY' : ''
      await c.query(source ? `CREATE DATABASE ${db} TEMPLATE ${new URL(source).pathname.slice(1)}${copy}` : `CREATE DATABASE ${db}`)
      await c.query('CHECKPOINT')
      await c.end()
      made.push(db)
      const u = new URL(admin)
      u.pathname = `/${db}`
      return u.toString()
    }
    await engine('PostgreSQL', fillPg, fresh, (url) => dropDb(new URL(url).pathname.slice(1)))
    if (process.env.TALLY_BENCH_PG_URL) for (const db of made) await dropDb(db)
  }
} catch (e) {
  console.error(e)
  process.exitCode = 1
} finally {
  await pgServer?.stop()
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
}
