/**
 * The collector process: the configuration (the database's versions, the file's changes applied at start), the SQLite store (migrated at start),
 * the app on a Node HTTP server, the idle-conversation sweeper, and a graceful drain on SIGTERM:
 * stop accepting, let in-flight requests commit and answer, then close the database.
 */
import { createAdaptorServer } from '@hono/node-server'
import { listenOn } from './listen.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'
import pino, { type Logger } from 'pino'
import { CHAT_IDLE_MS } from '@tally/protocol'
import { createApp } from './app.js'
import { ConfigError, loadConfigFile, type ConfigState } from './domain/config.js'
import { openConfig, watchConfig } from './services/config.js'
import { describeChange } from './domain/config-merge.js'
import { systemClock } from './domain/clock.js'
import { createMetrics } from './metrics.js'
import { createBillingRunner, type AccountRun } from './services/billing-runner.js'
import { openPgStore, openSqliteStore, openWorkerStore } from './storage.js'
import type { PgEngineOptions } from './engines/postgres/engine.js'
import { createWebhookDelivery, type DeliverySettings } from './services/webhooks.js'
import { guardSockets, serverOptions, SOCKET_LIMITS, type SocketLimits } from './middleware/sockets.js'
import { trustList } from './domain/ratelimit.js'
import { createRejectionLog } from './services/rejections.js'
import { readEnv, type Env } from './env.js'

export const DEMO_CONFIG = resolve(dirname(fileURLToPath(import.meta.url)), '../../../examples/demo.config.json')
export const DEFAULT_DB = 'data/tally.db'
const SWEEP_EVERY_MS = 60_000
/**
 * How often a collector checks for configuration versions it has not read (docs/scaling.md): the
 * bound when a notification is missed; with notifications (PostgreSQL) a change arrives sooner.
 */
export const CONFIG_CHECK_MS = 500
/** The billing runner closes ended periods at start and then this often. */
const BILL_EVERY_MS = 60_000
/** Accounts `tally bill` bills at once (apps/collector/src/services/billing-runner.ts): each still its own transaction. */
const BILL_CONCURRENCY = 8
/** After this, draining cuts the requests that stopped making progress; DRAIN_MAX_MS cuts every one. */
const DRAIN_TIMEOUT_MS = 10_000
const DRAIN_MAX_MS = 30_000
/** Refusals are kept this long (docs/security.md), deleted by the sweeper a bounded batch at a time. */
export const REJECTIONS_KEPT_MS = 30 * 86_400_000
const PRUNE_PER_SWEEP = 5_000
/** Counted refusals are written at least this often. */
const REJECTIONS_FLUSH_MS = 5_000

export interface ServeOptions {
  config?: string
  db?: string
  /** A `postgres://` URL: PostgreSQL instead of the SQLite file `db` (docs/deployment.md). */
  databaseUrl?: string
  port?: number
  host?: string
  adminToken?: string
  synchronous?: 'NORMAL' | 'FULL'
  logger?: Logger
  /** Webhook delivery timing; by default from `TALLY_WEBHOOK_*` (see `webhookSettings`), else docs/webhooks.md's. */
  webhooks?: Partial<DeliverySettings>
  /** Socket timeouts and the per-address connection cap (./middleware/sockets.ts); defaults sized for beacons. */
  sockets?: Partial<SocketLimits>
  /**
   * Run the billing run at start and every minute (default true). False (`tally serve
   * --no-billing`): this collector only serves, and another collector or `tally bill` bills
   * (docs/deployment.md, "A collector that only ingests").
   */
  billing?: boolean
}

const WEBHOOK_ENV = {
  TALLY_WEBHOOK_RETRY_BASE_MS: 'retryBaseMs',
  TALLY_WEBHOOK_RETRY_MAX_MS: 'retryMaxMs',
  TALLY_WEBHOOK_GIVE_UP_MS: 'giveUpAfterMs',
  TALLY_WEBHOOK_TIMEOUT_MS: 'attemptTimeoutMs',
  TALLY_WEBHOOK_POLL_MS: 'pollMs',
} as const satisfies Partial<Record<keyof Env, keyof DeliverySettings>>

/** Webhook timing from the environment (./env.ts; tests shorten the backoff); a value that is not a positive integer fails the start. */
export function webhookSettings(env: NodeJS.ProcessEnv = process.env): Partial<DeliverySettings> {
  const checked = readEnv(env)
  const out: Partial<DeliverySettings> = {}
  for (const [name, key] of Object.entries(WEBHOOK_ENV) as [keyof typeof WEBHOOK_ENV, keyof DeliverySettings][]) {
    const v = checked[name]
    if (v !== undefined) out[key] = v
  }
  return out
}

/** The database could not be opened at start: one sentence for the operator, exit 2 (see cli.ts). */
export class DatabaseOpenError extends Error {
  override readonly name = 'DatabaseOpenError'
}

const OPEN_HINTS: Record<string, string> = {
  SQLITE_CANTOPEN: 'the file cannot be opened or created there (a directory, a missing parent, or no permission)',
  SQLITE_READONLY: 'the file or its folder is read-only',
  SQLITE_FULL: 'the disk is full',
  SQLITE_IOERR: 'the disk answered with an input/output error (full, read-only or failing)',
  SQLITE_NOTADB: 'the file is not an SQLite database',
  SQLITE_CORRUPT: 'the file is damaged; restore it from a backup',
  ENOENT: 'a folder on the path does not exist and cannot be created',
  EACCES: 'no permission to create the folder or the file',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
}

/** Opens the store, turning a failure into one sentence that names the database, the cause and what to do. */
async function openDatabase<T>(opts: { db?: string; databaseUrl?: string }, open: () => Promise<T> | T): Promise<T> {
  try {
    return await open()
  } catch (e) {
    if (e instanceof ConfigError) throw e
    const where = opts.databaseUrl ? redact(opts.databaseUrl) : (opts.db ?? DEFAULT_DB)
    // The cause may be wrapped (a migration's query error carries SQLite's as its `cause`).
    const codes: string[] = []
    for (let c: unknown = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
      codes.push(String((c as { code?: unknown }).code ?? ''), String((c as Error).message ?? c))
    }
    const known = Object.keys(OPEN_HINTS).find((k) => codes.some((code) => code.includes(k)))
    const why = known ? `${OPEN_HINTS[known]} (${known})` : ((e as Error)?.message ?? String(e))
    throw new DatabaseOpenError(`cannot open the database ${where}: ${why}. Fix it, or choose another with --db FILE or --database-url URL`)
  }
}

/** Where a generated admin token is kept: beside the database file, readable by its owner only. */
export const adminTokenFile = (db: string): string => `${db}.admin-token`

/**
 * The admin token when none is configured: generated once and kept beside the database, so that
 * a restart does not invalidate the one the operator noted; `created` says it is new (the only
 * time its value is shown). A new token is written by `save`, once the server listens, so that
 * a start that fails (a port in use) does not keep a token nobody saw.
 */
export function storedAdminToken(db: string): { token: string; file: string; created: boolean; save(): void } {
  const file = adminTokenFile(db)
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim()
    if (token) {
      chmodSync(file, 0o600)
      return { token, file, created: false, save: () => {} }
    }
  }
  const token = randomBytes(18).toString('base64url')
  return {
    token,
    file,
    created: true,
    save() {
      mkdirSync(dirname(resolve(file)), { recursive: true })
      writeFileSync(file, `${token}\n`, { mode: 0o600 })
      chmodSync(file, 0o600)
    },
  }
}

export interface RunningCollector {
  url: string
  port: number
  /** The configuration in force: the versions in the database (docs/configuration.md). */
  config: ConfigState
  adminToken: string
  /** True when the token was generated by this run (none was configured nor stored): show it once. */
  generatedToken: boolean
  /** The file holding the generated token, when none was configured. */
  adminTokenFile?: string
  close(): Promise<void>
}

export async function startCollector(opts: ServeOptions = {}): Promise<RunningCollector> {
  const logger = opts.logger ?? pino({ level: readEnv().LOG_LEVEL ?? 'info' })
  const webhookTiming = opts.webhooks ?? webhookSettings()
  const configPath = opts.config ?? DEMO_CONFIG
  const file = loadConfigFile(configPath)
  const store = await openDatabase(opts, () =>
    opts.databaseUrl
      ? openPgStore(pgOptions(opts.databaseUrl, logger))
      : openWorkerStore({ file: opts.db ?? DEFAULT_DB, synchronous: opts.synchronous ?? 'NORMAL' }),
  )
  // The database holds the plans and accounts; the file's changes since it was last applied become versions.
  let config: ConfigState
  try {
    config = await openConfig(store, file, { logger })
  } catch (e) {
    await store.close()
    throw e
  }
  const watcher = watchConfig({ store, config, logger, everyMs: CONFIG_CHECK_MS, subscribe: store.onConfigChange?.bind(store) })
  const stored = opts.adminToken ? undefined : storedAdminToken(opts.db ?? DEFAULT_DB)
  const adminToken = opts.adminToken ?? stored!.token
  const rejections = createRejectionLog({ store, clock: systemClock, logger, flushEveryMs: REJECTIONS_FLUSH_MS })
  const app = createApp({ store, config, clock: systemClock, logger, adminToken, metrics: createMetrics({ defaults: true }), rejections })
  const sockets: SocketLimits = { ...SOCKET_LIMITS, ...opts.sockets }

  const server = createAdaptorServer({ fetch: app.fetch, serverOptions: serverOptions(sockets) }) as Server
  try {
    await listenOn(server, opts.port ?? 8787, opts.host ?? '0.0.0.0')
  } catch (e) {
    await watcher.stop()
    await store.close()
    throw e
  }
  stored?.save()
  guardSockets(server, sockets, trustList(config.current().server.trustedProxies), logger)
  // The answers not yet sent, so that a drain can mark them `Connection: close` and watch them progress.
  const inFlight = new Set<ServerResponse>()
  let draining = false
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.shouldKeepAlive = false
    inFlight.add(res)
    res.once('close', () => inFlight.delete(res))
  })
  const addr = server.address() as AddressInfo
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address
  const url = `http://${shownHost}:${addr.port}`
  logger.info({ url, config: configPath, db: opts.databaseUrl ? redact(opts.databaseUrl) : (opts.db ?? DEFAULT_DB) }, 'collector listening')

  const sweeper = setInterval(() => {
    store
      .closeIdleConversations(Date.now(), CHAT_IDLE_MS)
      .then((n) => n && logger.info({ closed: n }, 'idle conversations closed'))
      .catch((err) => logger.error({ err }, 'idle sweep failed'))
    store
      .pruneRejections(Date.now() - REJECTIONS_KEPT_MS, PRUNE_PER_SWEEP)
      .then((n) => n && logger.info({ deleted: n }, 'old refusals deleted'))
      .catch((err) => logger.error({ err }, 'refusal retention sweep failed'))
  }, SWEEP_EVERY_MS)
  sweeper.unref()
  const flusher = setInterval(() => void rejections.flush(), REJECTIONS_FLUSH_MS)
  flusher.unref()
  const billing = createBillingRunner({ store, config, clock: systemClock, logger })
  if (opts.billing !== false) billing.start(BILL_EVERY_MS)
  const webhooks = createWebhookDelivery({
    store,
    clock: systemClock,
    logger,
    settings: webhookTiming,
    allowPrivateNetworks: config.current().server.webhooks.allowPrivateNetworks,
  })
  webhooks.start()

  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      clearInterval(sweeper)
      clearInterval(flusher)
      billing.stop()
      logger.info('draining')
      await webhooks.stop()
      draining = true
      // Answers still to be sent say `Connection: close`, so keep-alive clients reconnect elsewhere.
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false
      await new Promise<void>((resolve) => {
        // Past the drain time a request still moving bytes may finish (up to DRAIN_MAX_MS); one that
        // made no progress in the last second is cut.
        const progress = () => new Map([...inFlight].map((res) => [res, (res.socket?.bytesRead ?? 0) + (res.socket?.bytesWritten ?? 0)]))
        let last = new Map<ServerResponse, number>()
        let stalled: NodeJS.Timeout | undefined
        const soft = setTimeout(() => {
          last = progress()
          stalled = setInterval(() => {
            const now = progress()
            for (const [res, bytes] of now) {
              if (last.get(res) !== bytes) continue
              logger.warn('a request made no progress while draining; closing it')
              res.socket?.destroy()
            }
            last = now
          }, 1_000)
          stalled.unref()
        }, DRAIN_TIMEOUT_MS)
        soft.unref()
        const hard = setTimeout(() => {
          logger.warn('drain timed out; closing the remaining connections')
          server.closeAllConnections()
        }, DRAIN_MAX_MS)
        hard.unref()
        server.close(() => {
          clearTimeout(soft)
          clearTimeout(hard)
          clearInterval(stalled)
          resolve()
        })
        server.closeIdleConnections()
      })
      await rejections.flush({ final: true })
      await watcher.stop()
      await store.close()
      logger.info('stopped')
    })())
  return { url, port: addr.port, config, adminToken, generatedToken: stored?.created ?? false, adminTokenFile: stored?.file, close }
}

/** Drains on SIGTERM and SIGINT, then exits. */
export function exitOnSignals(close: () => Promise<void>): void {
  const stop = () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

/**
 * `tally bill`: one billing run against the database, outside a running server. The store is
 * opened in this process; the run is the same per-account transaction the server's timer uses,
 * so running it beside a server, or twice, changes nothing more.
 */
export async function billOnce(opts: { config?: string; db?: string; databaseUrl?: string; asOf: number; account?: string }): Promise<AccountRun[]> {
  const logger = pino({ level: readEnv().LOG_LEVEL ?? 'warn' })
  const file = loadConfigFile(opts.config ?? DEMO_CONFIG)
  const store = await openDatabase(opts, async () =>
    opts.databaseUrl ? openPgStore(pgOptions(opts.databaseUrl, logger)) : openSqliteStore({ file: opts.db ?? DEFAULT_DB }),
  )
  try {
    // The versions a running collector reads: the same plans and accounts, the file's changes applied first.
    const config = await openConfig(store, file, { logger })
    if (opts.account !== undefined && !config.account(opts.account)) throw new ConfigError(`no account "${opts.account}"`)
    return await createBillingRunner({ store, config, clock: systemClock, logger, concurrency: BILL_CONCURRENCY }).run(opts.asOf, opts.account)
  } finally {
    await store.close()
  }
}

/**
 * `tally config apply FILE`: what the file changed since it was last applied, merged into the
 * database's versions as one change (docs/configuration.md), or only shown (`dryRun`). Lines of
 * the diff, one per changed field; a running collector reads the new versions by itself.
 */
export async function applyConfigOnce(opts: {
  config: string
  db?: string
  databaseUrl?: string
  dryRun?: boolean
}): Promise<{ lines: string[]; written: number }> {
  const logger = pino({ level: readEnv().LOG_LEVEL ?? 'warn' })
  const file = loadConfigFile(opts.config)
  const store = await openDatabase(opts, async () =>
    opts.databaseUrl ? openPgStore(pgOptions(opts.databaseUrl, logger)) : openSqliteStore({ file: opts.db ?? DEFAULT_DB }),
  )
  try {
    const r = await store.applyConfigFile({ file, at: Date.now(), dryRun: opts.dryRun })
    if (!r.ok) throw new ConfigError(`${opts.config}: ${r.message}`)
    for (const s of r.skipped) logger.warn(s, 'a stored config change no longer applies; skipped at the upgrade')
    return { lines: r.changes.flatMap(describeChange), written: r.rows.length }
  } finally {
    await store.close()
  }
}

/** PostgreSQL settings: the URL, and the pool's size and timeouts from the environment (docs/deployment.md). */
export function pgOptions(url: string, logger?: Logger): PgEngineOptions {
  const env = readEnv()
  return {
    url,
    poolSize: env.TALLY_PG_POOL_SIZE,
    statementTimeoutMs: env.TALLY_PG_STATEMENT_TIMEOUT_MS,
    connectTimeoutMs: env.TALLY_PG_CONNECT_TIMEOUT_MS,
    onConnectionError: (err) => logger?.warn({ err }, 'a database connection failed; the pool drops it'),
  }
}

/** A database URL without its password, for logs. */
export function redact(url: string): string {
  const u = new URL(url)
  if (u.password) u.password = '***'
  return u.toString()
}
