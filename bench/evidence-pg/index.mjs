#!/usr/bin/env node
// bench/evidence-pg: the evidence pages of an invoice on PostgreSQL (docs/evidence.md), 1,000,000
// impression units of one container among 20 accounts' units. Measures in the same run:
//   - every unit of the container read by the built repository in keyset pages of 5,000
//     (unitPage, as the export reads them): rows/s beside a ceiling, the same statements sent by
//     raw `pg` over the same index;
//   - the first ten pages against the last ten (a keyset page costs the same wherever it starts: the
//     ratio stays near 1, where an OFFSET page would grow with its position);
//   - the bytes of the evidence index per unit.
// The database is a throwaway cluster started by the test harness (test/pg/server.ts), or
// TALLY_BENCH_PG_URL (a user that may create databases). Loopback only, bounded (under a minute).
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const ENGINE = join(ROOT, 'apps/collector/dist/engines/postgres/engine.js')
const require = createRequire(join(ROOT, 'apps/collector/package.json'))
const pg = require('pg')

const UNITS = Number(process.env.BENCH_UNITS ?? 1_000_000)
const OTHERS = 20
const PAGE = 5_000
const START = Date.parse('2026-01-01T00:00:00Z')
const END = Date.parse('2026-02-01T00:00:00Z')

if (!existsSync(ENGINE)) {
  console.error(`${ENGINE} is missing: run \`npm run build\` first`)
  process.exit(1)
}

const fmt = (n) => Math.round(n).toLocaleString('en-US')
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

/** Reads every page with `page(after)`, timing each. */
async function readAll(page) {
  const times = []
  let rows = 0
  const started = performance.now()
  for (let after = null; ; ) {
    const t0 = performance.now()
    const got = await page(after)
    times.push(performance.now() - t0)
    if (got.length === 0) break
    rows += got.length
    const last = got[got.length - 1]
    after = { time: Number(last.time), session: last.session, subject: last.subject }
  }
  const seconds = (performance.now() - started) / 1000
  // The empty page at the end is not a page of rows.
  times.pop()
  // Medians of ten pages: the very first also pays for the connection and the statement's preparation.
  return { rows, rowsPerSec: rows / seconds, first: median(times.slice(0, 10)), last: median(times.slice(-10)) }
}

let server
try {
  let admin = process.env.TALLY_BENCH_PG_URL
  if (!admin) {
    const { tsImport } = await import('tsx/esm/api')
    const { startTestPostgres } = await tsImport('../../test/pg/server.ts', import.meta.url)
    server = await startTestPostgres()
    admin = server.url
    console.log(`PostgreSQL ${server.version} (${server.binaries.source}), a throwaway cluster`)
  }
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  await client.query('DROP DATABASE IF EXISTS bench_evidence WITH (FORCE)')
  await client.query('CREATE DATABASE bench_evidence')
  await client.end()
  const url = new URL(admin)
  url.pathname = '/bench_evidence'

  const { openPgEngine } = await import(pathToFileURL(ENGINE).href)
  const engine = await openPgEngine({ url: url.toString(), poolSize: 2 })
  try {
    const loadStarted = performance.now()
    // The container's units over January, SDK-shaped ids; then as many of other accounts' containers.
    await engine.pool.query(
      `INSERT INTO impressions (account, container, session, campaign, event_id, time)
      SELECT 'bench', 'ctr_bench', 's_' || (g / 10) || '_x8f2k1q9', 'cmp_' || (g % 10), '01JD' || lpad(g::text, 22, '0'),
        $1::bigint + (g::bigint * ($2::bigint - $1::bigint)) / $3 FROM generate_series(0, $3 - 1) g`,
      [START, END, UNITS],
    )
    await engine.pool.query(
      `INSERT INTO impressions (account, container, session, campaign, event_id, time)
      SELECT 'other_' || (g % ${OTHERS}), 'ctr_other', 's_' || g, 'cmp_0', 'e' || g, $1::bigint + (g::bigint * ($2::bigint - $1::bigint)) / $3
      FROM generate_series(0, $3 - 1) g`,
      [START, END, UNITS],
    )
    await engine.pool.query('VACUUM ANALYZE impressions')
    console.log(
      `loaded ${fmt(UNITS)} units of ctr_bench and ${fmt(UNITS)} of ${OTHERS} other accounts in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`,
    )

    const repo = await readAll((after) => engine.read((r) => r.unitPage('bench', 'ctr_bench', 'campaign', START, END, after, PAGE)))
    const raw = new pg.Client({ connectionString: url.toString() })
    await raw.connect()
    const cols = 'container, session, campaign AS subject, event_id AS "eventId", time'
    const ceiling = await readAll(
      async (after) =>
        (after === null
          ? await raw.query({
              name: 'first',
              text: `SELECT ${cols} FROM impressions WHERE account = $1 AND container = $2 AND time >= $3 AND time < $4
          ORDER BY time, session, campaign LIMIT $5`,
              values: ['bench', 'ctr_bench', START, END, PAGE],
            })
          : await raw.query({
              name: 'next',
              text: `SELECT ${cols} FROM impressions WHERE account = $1 AND container = $2
          AND (time, session, campaign) > ($3::bigint, $4::text, $5::text) AND time < $6 ORDER BY time, session, campaign LIMIT $7`,
              values: ['bench', 'ctr_bench', after.time, after.session, after.subject, END, PAGE],
            })
        ).rows,
    )
    const {
      rows: [size],
    } = await raw.query(`SELECT pg_relation_size('impressions_account_container_time') AS index,
      (SELECT count(*) FROM impressions) AS rows`)
    await raw.end()

    if (repo.rows !== UNITS || ceiling.rows !== UNITS) throw new Error(`read ${repo.rows} and ${ceiling.rows} units of ${UNITS}`)
    const line = (name, r) =>
      `${name.padEnd(24)} ${fmt(r.rowsPerSec).padStart(9)} rows/s  first pages ${r.first.toFixed(1)} ms  last pages ${r.last.toFixed(1)} ms (x${(r.last / r.first).toFixed(2)})`
    console.log(line('repository (unitPage)', repo))
    console.log(line('raw pg, same statements', ceiling))
    console.log(`ratio to raw pg: ${(repo.rowsPerSec / ceiling.rowsPerSec).toFixed(2)}`)
    console.log(`evidence index: ${fmt(Number(size.index) / Number(size.rows))} bytes per unit (impressions_account_container_time)`)
  } finally {
    await engine.close()
  }
} finally {
  await server?.stop()
}
