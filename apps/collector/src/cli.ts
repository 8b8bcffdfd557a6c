#!/usr/bin/env node
/**
 * `tally` — the operator's command line (docs/protocol.md §8).
 *   tally serve    [--config FILE] [--db FILE | --database-url URL] [--port 8787] [--host 0.0.0.0]
 *   tally migrate  [--db FILE | --database-url URL]
 *   tally config apply FILE [--dry-run] [--db FILE | --database-url URL]   merge what the file changed into the database, as one change
 *   tally bill     [--as-of ISO] [--account ID] [--config FILE] [--db FILE | --database-url URL]   close ended billing periods once
 *   tally start    [--port 8787] [--storefront-port N]   the demo of `npm start`: the collector and the
 *                  demo storefront on a second origin (by default the first free port after the collector's)
 * Environment: read and checked once by ./env.ts (docs/deployment.md, "Environment"); a bad value or an
 *   unknown TALLY_ variable is one sentence and exit 2.
 */
import { newAccountKey } from './domain/keys.js'
import { Command, InvalidArgumentError } from 'commander'
import { ConfigError } from './domain/config.js'
import { parseIsoInstant } from './domain/dates.js'
import {
  DEFAULT_DB,
  DatabaseOpenError,
  applyConfigOnce,
  billOnce,
  exitOnSignals,
  pgOptions,
  redact,
  startCollector,
  type RunningCollector,
  type ServeOptions,
} from './server.js'
import { PortInUse } from './listen.js'
import { EnvError, readEnv, type Env } from './env.js'
import { migrateSqlite } from './engines/sqlite/engine.js'
import { openPgEngine } from './engines/postgres/engine.js'
import { startStorefront, startStorefrontFrom } from './storefront.js'

const port = (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number')
  return n
}

/** The environment, checked at the first read (in `run`, before any command does anything). */
let checked: Env | undefined
const env = (): Env => (checked ??= readEnv())

/** SQLite file from --db or a `sqlite:` URL, or a PostgreSQL URL (--database-url, TALLY_DATABASE_URL); --db wins. */
function database(o: { db?: string; databaseUrl?: string }): { db: string; databaseUrl?: string } {
  const url = o.databaseUrl ?? env().TALLY_DATABASE_URL
  if (!o.db && url) {
    if (url.startsWith('sqlite:')) return { db: url.slice('sqlite:'.length).replace(/^\/\//, '') }
    if (/^postgres(ql)?:\/\//.test(url)) return { db: DEFAULT_DB, databaseUrl: url }
    console.error(`tally: ${url.split(':')[0]} databases are not supported; use --db FILE (SQLite) or a postgres:// URL`)
    process.exit(2)
  }
  return { db: o.db ?? DEFAULT_DB }
}

/** The SQLite file of a command that runs on SQLite only (`tally start`, the demo). */
function sqliteFile(o: { db?: string; databaseUrl?: string }): string {
  const { db, databaseUrl } = database(o)
  if (databaseUrl) {
    console.error('tally start: the demo runs on SQLite; unset TALLY_DATABASE_URL, or use tally serve --database-url')
    process.exit(2)
  }
  return db
}

/** The one line a taken port gets (docs/protocol.md §8), naming the flag and variable that change it. */
function portTaken(e: PortInUse, flag: string, env: string, what = ''): never {
  console.error(`tally: port ${e.port}${what} is already in use; choose another with ${flag} <n> or ${env}=<n>`)
  process.exit(2)
}

/** The admin token line of a banner: its value only the first time, when it was generated. */
function adminTokenLine(c: RunningCollector): string {
  if (!c.adminTokenFile) return 'from TALLY_ADMIN_TOKEN'
  return c.generatedToken
    ? `${c.adminToken}   (generated and saved in ${c.adminTokenFile}; set TALLY_ADMIN_TOKEN to choose one)`
    : `saved in ${c.adminTokenFile} (shown at the first start only)`
}

const sync = (): ServeOptions['synchronous'] => env().TALLY_SQLITE_SYNC ?? 'NORMAL'

async function run(fn: () => Promise<void>) {
  try {
    env()
    await fn()
  } catch (e) {
    if (e instanceof EnvError) {
      console.error(`tally: ${e.message}`)
      process.exit(2)
    }
    if (e instanceof PortInUse) portTaken(e, '--port', 'PORT')
    if (e instanceof ConfigError) {
      console.error(`tally: invalid configuration: ${e.message}`)
      process.exit(2)
    }
    if (e instanceof DatabaseOpenError) {
      console.error(`tally: ${e.message}`)
      process.exit(2)
    }
    throw e
  }
}

const program = new Command('tally').description('Tally collector: usage tracking and billing')

program
  .command('serve')
  .description('run the collector')
  .option('--config <file>', 'config file (default: TALLY_CONFIG or the demo config)')
  .option('--db <file>', `SQLite database file (default: ${DEFAULT_DB})`)
  .option('--database-url <url>', 'database URL (default: TALLY_DATABASE_URL)')
  .option('--port <n>', 'port (default: PORT or 8787)', port)
  .option('--host <addr>', 'address to listen on', '0.0.0.0')
  .option('--no-billing', 'never run the billing run here: another collector or `tally bill` bills')
  .action((o) =>
    run(async () => {
      const c = await startCollector({
        config: o.config ?? env().TALLY_CONFIG,
        ...database(o),
        port: o.port ?? env().PORT ?? 8787,
        host: o.host,
        adminToken: env().TALLY_ADMIN_TOKEN,
        synchronous: sync(),
        billing: o.billing,
      })
      if (c.adminTokenFile) console.log(`admin token: ${adminTokenLine(c)}`)
      exitOnSignals(c.close)
    }),
  )

program
  .command('migrate')
  .description('apply the database migrations and exit')
  .option('--db <file>', `SQLite database file (default: ${DEFAULT_DB})`)
  .option('--database-url <url>', 'database URL (default: TALLY_DATABASE_URL)')
  .action((o) =>
    run(async () => {
      const { db, databaseUrl } = database(o)
      if (databaseUrl) {
        await (await openPgEngine(pgOptions(databaseUrl))).close()
        console.log(`migrated ${redact(databaseUrl)}`)
        return
      }
      migrateSqlite(db)
      console.log(`migrated ${db}`)
    }),
  )

/** A single-use billing portal link for the account of `secret`, or why there is none. */
async function portalLink(url: string, secret: string): Promise<string> {
  try {
    const res = await fetch(`${url}/v1/portal/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: '{}',
    })
    return res.ok ? ((await res.json()) as { url: string }).url : `(not available: HTTP ${res.status})`
  } catch (e) {
    return `(not available: ${(e as Error).message})`
  }
}

program
  .command('start')
  .description('the demo: the collector on localhost and the demo storefront on a second origin')
  .option('--port <n>', 'collector port (default: PORT or 8787)', port)
  .option('--storefront-port <n>', "storefront port (default: STOREFRONT_PORT or the first free port after the collector's)", port)
  .action((o) =>
    run(async () => {
      // Loopback only. The page (localhost) and the collector (127.0.0.1) are two origins, as in production.
      const c = await startCollector({
        config: env().TALLY_CONFIG,
        db: sqliteFile({}),
        port: o.port ?? env().PORT ?? 8787,
        host: '127.0.0.1',
        adminToken: env().TALLY_ADMIN_TOKEN,
        synchronous: sync(),
      })
      const chosen: number | undefined = o.storefrontPort ?? env().STOREFRONT_PORT
      let shop: Awaited<ReturnType<typeof startStorefront>>
      try {
        shop =
          chosen === undefined
            ? await startStorefrontFrom({ collectorUrl: c.url, from: c.port + 1, host: '127.0.0.1' })
            : await startStorefront({ collectorUrl: c.url, port: chosen, host: '127.0.0.1' })
      } catch (e) {
        await c.close()
        if (e instanceof PortInUse) portTaken(e, '--storefront-port', 'STOREFRONT_PORT', ' (the demo storefront)')
        throw e
      }
      // The first account of the config is the one the demo pages track (`demo` in the demo config),
      // with its keys as they are now: an admin change saved in the database wins over the file.
      const [accountId, account] = Object.entries(c.config.current().accounts)[0] ?? []
      const readKey = account?.keys.read ?? '(no account configured)'
      const shopUrl = `http://localhost:${shop.port}/`
      // A billing portal session for the demo account, minted as the vendor's backend would (docs/portal.md).
      const portalUrl = account ? await portalLink(c.url, account.keys.secret) : '(no account configured)'
      console.log(
        [
          '',
          `  Tally collector   ${c.url}`,
          `  Demo storefront   ${shopUrl}   (open it and scroll: each banner is a campaign, the buttons are advisors)`,
          `  Help chat         ${shopUrl}   ("Need help?" at the bottom right; ESM SDK example: ${shopUrl}chat-widget/)`,
          `  Dashboard         ${c.url}/dashboard   (sign in with the read key below)`,
          `  Billing portal    ${portalUrl}`,
          `                    (works once, for about an hour; another: curl -X POST -H 'Authorization: Bearer <secret key>' ${c.url}/v1/portal/sessions)`,
          `  Read key          ${readKey}   (account "${accountId ?? ''}")`,
          `  Server usage      TALLY_URL=${c.url} node examples/server-usage/send.mjs   (alerts, credits, contacts, emails with the secret key)`,
          `  HTTP API          ${c.url}/openapi.json   (curl -H 'Authorization: Bearer ${readKey}' ${c.url}/v1/usage)`,
          `  Metrics           ${c.url}/metrics`,
          `  Admin token       ${adminTokenLine(c)}`,
          '',
        ].join('\n'),
      )
      exitOnSignals(async () => {
        shop.server.close()
        await c.close()
      })
    }),
  )

program
  .command('config')
  .description('the configuration in the database (docs/configuration.md)')
  .command('apply')
  .description('apply what FILE changed since it was last applied to the database, as one change, and print the diff')
  .argument('<file>', 'config file')
  .option('--dry-run', 'print the diff, change nothing')
  .option('--db <file>', `SQLite database file (default: ${DEFAULT_DB})`)
  .option('--database-url <url>', 'database URL (default: TALLY_DATABASE_URL)')
  .action((file: string, o) =>
    run(async () => {
      const r = await applyConfigOnce({ config: file, ...database(o), dryRun: o.dryRun === true })
      for (const line of r.lines) console.log(line)
      if (r.lines.length === 0) console.log('nothing to apply: the database holds what the file says, or what the admin API changed since')
      else if (o.dryRun) console.log('dry run: nothing written')
      else console.log(`applied: ${r.written} new version${r.written === 1 ? '' : 's'}`)
    }),
  )

program
  .command('bill')
  .description('close every billing period that ended by --as-of (default now), for every account, and exit')
  .option('--as-of <iso>', 'an ISO-8601 instant, not in the future (default: now)')
  .option('--account <id>', 'bill this account only')
  .option('--config <file>', 'config file (default: TALLY_CONFIG or the demo config)')
  .option('--db <file>', `SQLite database file (default: ${DEFAULT_DB})`)
  .option('--database-url <url>', 'database URL (default: TALLY_DATABASE_URL)')
  .action((o) =>
    run(async () => {
      const asOf = o.asOf === undefined ? Date.now() : parseIsoInstant(o.asOf)
      if (Number.isNaN(asOf)) {
        console.error('tally bill: --as-of: expected an ISO-8601 date, or a date-time with Z or an offset')
        process.exit(2)
      }
      if (asOf > Date.now()) {
        console.error('tally bill: --as-of: a period is closed only once it has ended; the instant is in the future')
        process.exit(2)
      }
      const reports = await billOnce({ config: o.config ?? env().TALLY_CONFIG, ...database(o), asOf, account: o.account })
      for (const r of reports) {
        const invoices = r.invoices.map((i) => `#${i.number} ${i.key} ${i.total} ${i.currency}`).join(', ') || 'no invoice'
        console.log(`${r.account}: ${invoices}; ${r.ledger} credit log entries${r.error ? `; FAILED: ${r.error}` : ''}`)
      }
      if (reports.some((r) => r.error)) process.exit(1)
    }),
  )

program
  .command('keys')
  .description("prints a new secret key and read key for an account's `keys` (32 random bytes each: docs/security.md)")
  .action(() => {
    console.log(JSON.stringify({ secret: newAccountKey('secret'), read: newAccountKey('read') }, null, 2))
  })

await program.parseAsync()
