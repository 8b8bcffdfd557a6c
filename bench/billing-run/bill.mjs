// One billing run in this process, as `tally bill` runs it (apps/collector/src/server.ts billOnce),
// then one JSON line: the wall time, the process's peak memory, and the invoices written. Run as a
// child process by index.mjs: argv config, --db file or --database-url url, as-of (ISO).
import { billOnce } from '../../apps/collector/dist/server.js'

const [config, how, where, asOf] = process.argv.slice(2)
const started = performance.now()
const reports = await billOnce({ config, ...(how === '--db' ? { db: where } : { databaseUrl: where }), asOf: Date.parse(asOf) })
const ms = performance.now() - started
const failed = reports.filter((r) => r.error)
process.stdout.write(
  `${JSON.stringify({
    ms,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    accounts: reports.length,
    invoices: reports.reduce((n, r) => n + r.invoices.length, 0),
    failed: failed.length,
    firstError: failed[0]?.error,
  })}\n`,
)
