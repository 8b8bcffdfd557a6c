#!/usr/bin/env node
// bench/pg-driver: which PostgreSQL driver the collector's engine uses, measured on its hot write
// shape through drizzle-orm: `pg` (node-postgres, drizzle-orm/node-postgres) against `postgres`
// (postgres.js, drizzle-orm/postgres-js). Each batch is one transaction holding
//   1. one multi-row INSERT of 50 impressions ... ON CONFLICT DO NOTHING RETURNING the key
//      (a tenth of the rows repeat committed keys, so some come back as duplicates), and
//   2. one multi-row rollup upsert of the fresh rows' counts per campaign
//      (ON CONFLICT ... DO UPDATE SET units = rollups.units + excluded.units), keys sorted so
//      concurrent batches lock the same hot rows in the same order and never deadlock.
// A pool of 8 connections serves 16 concurrent batches, about 5 s per driver after a warm-up.
// The server is a throwaway cluster (test/pg/server.ts: no fsync, asynchronous commit, so the
// drivers' own cost shows rather than the disk's), or TALLY_BENCH_PG_URL (needs CREATEDB).
// Env: BENCH_SECONDS (5), BENCH_ROUNDS (1; the drivers alternate each round), BENCH_POOL (8),
// BENCH_CONCURRENCY (16), BENCH_DRIVERS (a comma-separated subset: pg, postgres).
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import postgres from 'postgres'
import { sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { drizzle as drizzlePostgresJs } from 'drizzle-orm/postgres-js'
import { bigint, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { tsImport } from 'tsx/esm/api'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const WARMUP_SECONDS = 1
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1)
const ROWS = 50
const POOL = Number(process.env.BENCH_POOL ?? 8)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16)
const CAMPAIGNS = 10
const DUPLICATE_SHARE = 0.1

const impressions = pgTable(
  'impressions',
  {
    account: text('account').notNull(),
    container: text('container').notNull(),
    session: text('session').notNull(),
    campaign: text('campaign').notNull(),
    eventId: text('event_id').notNull(),
    time: bigint('time', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.container, t.session, t.campaign] })],
)

const rollups = pgTable(
  'rollups',
  {
    account: text('account').notNull(),
    day: text('day').notNull(),
    container: text('container').notNull(),
    kind: text('kind').notNull(),
    subject: text('subject').notNull(),
    units: bigint('units', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.account, t.day, t.container, t.kind, t.subject] })],
)

const DDL = `
  CREATE TABLE impressions (account text NOT NULL, container text NOT NULL, session text NOT NULL,
    campaign text NOT NULL, event_id text NOT NULL, time bigint NOT NULL,
    PRIMARY KEY (account, container, session, campaign));
  CREATE TABLE rollups (account text NOT NULL, day text NOT NULL, container text NOT NULL,
    kind text NOT NULL, subject text NOT NULL, units bigint NOT NULL,
    PRIMARY KEY (account, day, container, kind, subject));`

const DRIVERS = {
  'pg (node-postgres)': (url) => {
    const pool = new pg.Pool({ connectionString: url, max: POOL })
    return { db: drizzlePg(pool), close: () => pool.end() }
  },
  'postgres (postgres.js)': (url) => {
    const client = postgres(url, { max: POOL, onnotice: () => {} })
    return { db: drizzlePostgresJs(client), close: () => client.end() }
  },
}

async function adminQuery(url, text) {
  const client = new pg.Client(url)
  await client.connect()
  try {
    return await client.query(text)
  } finally {
    await client.end()
  }
}

function withDatabase(url, name) {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

let batchNumber = 0

/**
 * One batch: 50 distinct keys, 10 sessions x 5 campaigns (half the batches the first five of the
 * ten campaigns, half the others), a tenth of the rows replaced by keys already committed.
 */
function makeBatch(committed) {
  const run = randomBytes(6).toString('hex')
  const time = Date.now()
  const offset = (batchNumber++ % 2) * (CAMPAIGNS / 2)
  const rows = []
  for (let i = 0; i < ROWS; i++) {
    const old = committed.length > 0 && Math.random() < DUPLICATE_SHARE ? committed[(Math.random() * committed.length) | 0] : undefined
    rows.push(
      old ?? {
        account: 'acct_bench',
        container: 'ctr_bench',
        session: `s${run}-${i % 10}`,
        campaign: `cmp_${((i / 10) | 0) + offset}`,
        eventId: `${run}-${i}`,
        time,
      },
    )
  }
  // An old key drawn twice would repeat within the batch (legal: DO NOTHING skips it); drop it.
  const seen = new Set()
  return rows.filter((r) => {
    const k = `${r.session}\u0000${r.campaign}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

async function writeBatch(db, rows) {
  return db.transaction(async (tx) => {
    const fresh = await tx
      .insert(impressions)
      .values(rows)
      .onConflictDoNothing()
      .returning({ account: impressions.account, container: impressions.container, session: impressions.session, campaign: impressions.campaign })
    const counts = new Map()
    for (const r of fresh) counts.set(r.campaign, (counts.get(r.campaign) ?? 0) + 1)
    const day = new Date(rows[0].time).toISOString().slice(0, 10)
    const deltas = [...counts]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([subject, units]) => ({ account: 'acct_bench', day, container: 'ctr_bench', kind: 'campaign', subject, units }))
    if (deltas.length) {
      await tx
        .insert(rollups)
        .values(deltas)
        .onConflictDoUpdate({
          target: [rollups.account, rollups.day, rollups.container, rollups.kind, rollups.subject],
          set: { units: sql`${rollups.units} + excluded.units` },
        })
    }
    return fresh.length
  })
}

async function measure(name, adminUrl) {
  const database = `bench_${randomBytes(4).toString('hex')}`
  await adminQuery(adminUrl, `CREATE DATABASE ${database}`)
  const url = withDatabase(adminUrl, database)
  await adminQuery(url, DDL)
  const { db, close } = DRIVERS[name](url)
  const committed = []
  let rows = 0
  let fresh = 0
  let batches = 0
  const latencies = []
  let counting = false
  const warmEnd = Date.now() + WARMUP_SECONDS * 1000
  const end = warmEnd + SECONDS * 1000
  let started = 0
  let cpuAtStart
  const loop = async () => {
    while (Date.now() < end) {
      if (!counting && Date.now() >= warmEnd) {
        counting = true
        started = performance.now()
        cpuAtStart = process.cpuUsage()
      }
      const batch = makeBatch(committed)
      const t = performance.now()
      const n = await writeBatch(db, batch)
      if (committed.length < 10_000) committed.push(batch[0])
      if (counting) {
        rows += batch.length
        fresh += n
        batches++
        latencies.push(performance.now() - t)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, loop))
  } finally {
    await close()
  }
  const elapsed = (performance.now() - started) / 1000
  // The client's own CPU per row: the driver's cost, and less at the mercy of a busy machine.
  const cpu = process.cpuUsage(cpuAtStart)
  const cpuUsPerRow = (cpu.user + cpu.system) / rows
  const check = (
    await adminQuery(
      url,
      `SELECT (SELECT count(*) FROM impressions)::int AS impressions,
    (SELECT coalesce(sum(units), 0) FROM rollups)::int AS units`,
    )
  ).rows[0]
  await adminQuery(adminUrl, `DROP DATABASE ${database} WITH (FORCE)`)
  if (check.impressions !== check.units) throw new Error(`${name}: ${check.impressions} impressions but ${check.units} units rolled up`)
  latencies.sort((a, b) => a - b)
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(1)
  return { name, cpuUsPerRow, rowsPerSec: rows / elapsed, freshPerSec: fresh / elapsed, batchesPerSec: batches / elapsed, p50: pct(0.5), p99: pct(0.99) }
}

let server
let adminUrl = process.env.TALLY_BENCH_PG_URL
if (!adminUrl) {
  const { startTestPostgres } = await tsImport('../../test/pg/server.ts', import.meta.url)
  server = await startTestPostgres()
  adminUrl = server.url
  console.log(`throwaway PostgreSQL ${server.version} (${server.binaries.source}) started in ${server.startMs} ms`)
}
try {
  const only = process.env.BENCH_DRIVERS?.split(',')
  const names = Object.keys(DRIVERS).filter((n) => !only || only.includes(n.split(' ')[0]))
  const totals = Object.fromEntries(names.map((n) => [n, []]))
  console.log(`${ROWS}-row batches, one transaction each (insert ... on conflict do nothing returning + rollup upsert),`)
  console.log(`pool ${POOL}, ${CONCURRENCY} concurrent batches, ${SECONDS} s per driver after ${WARMUP_SECONDS} s warm-up, ${ROUNDS} round(s)`)
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order each round, so neither driver always runs on the warmer server.
    for (const name of round % 2 ? [...names].reverse() : names) {
      const r = await measure(name, adminUrl)
      totals[name].push(r)
      console.log(
        `  ${name.padEnd(24)} ${Math.round(r.rowsPerSec).toString().padStart(7)} rows/s  (${Math.round(r.freshPerSec)} fresh/s, ${r.batchesPerSec.toFixed(0)} batches/s, p50 ${r.p50} ms, p99 ${r.p99} ms, client CPU ${r.cpuUsPerRow.toFixed(1)} µs/row)`,
      )
    }
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
  if (names.length === 2) {
    const [a, b] = names.map((n) => mean(totals[n].map((r) => r.rowsPerSec)))
    const [ca, cb] = names.map((n) => mean(totals[n].map((r) => r.cpuUsPerRow)))
    console.log(`ratio ${names[1]} / ${names[0]}: ${(b / a).toFixed(2)} x the rows/s, ${(cb / ca).toFixed(2)} x the client CPU per row`)
  }
} finally {
  await server?.stop()
}
