#!/usr/bin/env node
// bench/billing-run/steady.mjs: the month's billing run in the steady state, where an account has
// been billed at every month boundary of its history before (docs/performance.md, "After: reading
// only what the month needs"). BENCH_ACCOUNTS accounts (default 500; the plans and the four cycles
// of index.mjs, all started BENCH_YEARS years, default 3, before 2026-12-01, with daily rollups and
// meter readings every day), billed at each month boundary (untimed), then the 2026-12-01 run is
// timed: wall time and the CPU of its `tally bill` process (user + system, start-up included).
// BENCH_BASE=/path/to/another/checkout (built) measures that build too, on the same data,
// alternating with this one, and says whether both leave the same invoices and credit log.
// BENCH_ENGINE=pg runs on a throwaway PostgreSQL cluster (test/pg/server.ts). Needs the build and
// /usr/bin/time.
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { PLANS } from './plans.mjs'

const MINE = fileURLToPath(new URL('../..', import.meta.url))
const BASE = process.env.BENCH_BASE
const require = createRequire(join(MINE, 'apps/collector/package.json'))
const Database = require('better-sqlite3')
const pg = require('pg')
const N = Number(process.env.BENCH_ACCOUNTS ?? 500)
const ENGINE = process.env.BENCH_ENGINE ?? 'sqlite'
const REPS = 2
const YEARS = Number(process.env.BENCH_YEARS ?? 3)
const DAYS = 365 * YEARS
const dir = mkdtempSync(join(tmpdir(), 'tally-bench-steady-'))

const CYCLES = ['monthly', 'quarterly', 'semiannual', 'annual']
const START = `${2026 - YEARS}-12-01`
const id = (i) => `acct_${String(i).padStart(5, '0')}`
const account = (i) => ({
  name: `Shop ${i}`,
  timezone: 'UTC',
  subscription: {
    plan: Object.keys(PLANS)[i % 3],
    cycle: CYCLES[i % 4],
    start: START,
    seats: 1 + (i % 7),
    contacts: (i * 37) % 6000,
    products: i % 5 === 0 ? ['data_unlimited'] : i % 5 === 1 ? ['data_unlimited', 'priority'] : [],
  },
  keys: { secret: `sk_${id(i)}_secret`, read: `rk_${id(i)}_read` },
  containers: { [`ctr_${i}`]: { domains: ['bench.test'], campaigns: { cmp_a: {} }, advisors: { adv_a: {} }, bots: { bot_a: {} } } },
})
const cfg = join(dir, 'config.json')
writeFileSync(cfg, JSON.stringify({ plans: PLANS, accounts: Object.fromEntries(Array.from({ length: N }, (_, i) => [id(i), account(i)])) }))
const FIRST_DAY = Date.UTC(2025 - YEARS + 1, 11, 1)
const dayOf = (d) => new Date(FIRST_DAY + d * 86_400_000).toISOString().slice(0, 10)
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
const cli = (root) => join(root, 'apps/collector/dist/cli.js')
const bill = (root, target, asOf) => {
  const how = ENGINE === 'pg' ? '--database-url' : '--db'
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, join(root, 'bench/billing-run/bill.mjs'), cfg, how, target, asOf], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'error' },
  })
  if (r.status !== 0) throw new Error(r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1))
  const [u, s] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number)
  return { ...out, cpu: (u + s) * 1000 }
}
const snapSql = [
  'SELECT account, key, number, kind, issued_at, currency, total, invoice FROM invoices ORDER BY account, key',
  'SELECT account, source, ref, leg, id, type, wallet, at, credits, entry FROM ledger ORDER BY account, source, ref, leg',
]
const norm = (r) =>
  JSON.stringify(r, (k, v) => (typeof v === 'bigint' ? String(v) : typeof v === 'number' && (k === 'issued_at' || k === 'at') ? String(v) : v))

let admin, pgServer
async function fresh(name, source) {
  if (ENGINE === 'sqlite') {
    const f = join(dir, `${name}.db`)
    if (source) copyFileSync(source, f)
    return f
  }
  const c = new pg.Client({ connectionString: admin })
  await c.connect()
  await c.query(`DROP DATABASE IF EXISTS ab_${name} WITH (FORCE)`)
  await c.query(source ? `CREATE DATABASE ab_${name} TEMPLATE ${new URL(source).pathname.slice(1)}` : `CREATE DATABASE ab_${name}`)
  await c.end()
  const u = new URL(admin)
  u.pathname = `/ab_${name}`
  return u.toString()
}
async function snapshot(target) {
  if (ENGINE === 'sqlite') {
    const db = new Database(target, { readonly: true })
    const t = snapSql.map((q) => db.prepare(q).all().map(norm).join('\n')).join('\n--\n')
    db.close()
    return t
  }
  const c = new pg.Client({ connectionString: target })
  await c.connect()
  const parts = []
  for (const q of snapSql) parts.push((await c.query(q)).rows.map(norm).join('\n'))
  await c.end()
  return parts.join('\n--\n')
}

try {
  if (ENGINE === 'pg') {
    const { tsImport } = await import('tsx/esm/api')
    const { startTestPostgres } = await tsImport('../../test/pg/server.ts', import.meta.url)
    pgServer = await startTestPostgres()
    admin = pgServer.url
  }
  const src = await fresh('src')
  if (ENGINE === 'sqlite') {
    execFileSync(process.execPath, [cli(MINE), 'migrate', '--db', src], { stdio: 'ignore' })
    const db = new Database(src)
    db.pragma('journal_mode = WAL')
    const roll = db.prepare('INSERT INTO rollups (account, day, container, kind, subject, units) VALUES (?, ?, ?, ?, ?, ?)')
    const daily = db.prepare('INSERT INTO usage_daily (account, day, alerts, emails, contacts) VALUES (?, ?, ?, ?, ?)')
    db.transaction(() => {
      for (let i = 0; i < N; i++) for (const [t, ...r] of history(i)) (t === 'rollup' ? roll : daily).run(...r)
    })()
    db.pragma('wal_checkpoint(TRUNCATE)')
    db.close()
  } else {
    execFileSync(process.execPath, [cli(MINE), 'migrate', '--database-url', src], { stdio: 'ignore' })
    const c = new pg.Client({ connectionString: src })
    await c.connect()
    for (let i = 0; i < N; i += 100) {
      const r = [[], [], [], [], [], []],
        d = [[], [], [], [], []]
      for (let k = i; k < Math.min(N, i + 100); k++)
        for (const [t, ...row] of history(k)) for (const [j, col] of (t === 'rollup' ? r : d).entries()) col.push(row[j])
      await c.query(
        'INSERT INTO rollups (account, day, container, kind, subject, units) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])',
        r,
      )
      await c.query(
        'INSERT INTO usage_daily (account, day, alerts, emails, contacts) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])',
        d,
      )
    }
    await c.end()
  }
  // The year before, billed at each boundary (the worktree's build; both builds issue the same).
  for (let m = 1; m < 12 * YEARS; m++) bill(MINE, src, new Date(Date.UTC(2026 - YEARS, 11 + m, 1, 1)).toISOString())
  if (ENGINE === 'pg') {
    const c = new pg.Client({ connectionString: src })
    await c.connect()
    await c.query('VACUUM ANALYZE')
    await c.end()
  }
  console.log(
    `${N} accounts, ${ENGINE === 'pg' ? 'PostgreSQL' : 'SQLite'}, steady state (${YEARS} year${YEARS === 1 ? '' : 's'}, ${12 * YEARS - 1} monthly runs before), the 2026-12-01 run, load ${(
      await import('node:os')
    )
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  )
  const snaps = {}
  for (let rep = 0; rep < REPS; rep++) {
    const builds = BASE
      ? [
          ['base', BASE],
          ['this', MINE],
        ]
      : [['this', MINE]]
    for (const [name, root] of rep % 2 ? builds.reverse() : builds) {
      const t = await fresh(`${name}${rep}`, src)
      const r = bill(root, t, '2026-12-01T00:00:00Z')
      snaps[name] = await snapshot(t)
      console.log(
        `  ${name.padEnd(4)} ${(r.ms / 1000).toFixed(2)} s wall, ${(r.cpu / 1000).toFixed(2)} s CPU (${(r.cpu / N).toFixed(2)} ms an account), ${r.invoices} invoices, peak RSS ${Math.round(r.maxRssMb)} MB`,
      )
    }
  }
  if (BASE) console.log(`  invoices and credit log after the run: ${snaps.base === snaps.this ? 'identical' : 'DIFFERENT'} (base vs this build)`)
  console.log(
    `  load ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  )
} finally {
  await pgServer?.stop()
  rmSync(dir, { recursive: true, force: true })
}
