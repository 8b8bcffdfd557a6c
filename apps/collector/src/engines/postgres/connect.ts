/**
 * The PostgreSQL connection pool (node-postgres), what its errors mean to a collector, and the
 * readiness probe behind `/readyz`.
 *
 * Several stateless collectors share one database, so every timeout is short and explicit: a
 * collector that cannot reach the database answers 503 within seconds (the SDK retries later)
 * instead of holding requests for minutes, and one stuck collector cannot hold row locks on the
 * shared rollup rows for longer than `idle_in_transaction_session_timeout`.
 */
import pg from 'pg'

export interface PgPoolOptions {
  /** `postgres://user:password@host:port/database?…` (or `postgresql://`). */
  url: string
  /**
   * Connections this collector keeps open (default 10). Every collector opens up to this many:
   * collectors x poolSize must stay below the server's `max_connections` (100 by default).
   */
  poolSize?: number
  /** Longest any statement may run on the server, ms (default 10 s); it is then cancelled (57014). */
  statementTimeoutMs?: number
  /** Longest to wait for a new connection, or for a free one from a full pool, ms (default 5 s). */
  connectTimeoutMs?: number
  /** A transaction left idle this long is ended by the server, freeing its locks (default 2 x statement timeout). */
  idleInTransactionTimeoutMs?: number
  /** Idle pooled connections are closed after this long, ms (default 30 s). */
  idleTimeoutMs?: number
  /**
   * Send a statement without waiting for the answers to those before it (node-postgres's
   * pipeline mode; default false). The engine uses it to send `COMMIT` right behind a
   * transaction's last write, so row locks are held for one round trip less.
   */
  pipeline?: boolean
  /**
   * Called when a pooled connection fails outside any query: idle in the pool or checked out
   * between two queries (the server restarted, the network dropped). The pool drops it itself.
   */
  onConnectionError?: (e: Error) => void
}

export const PG_POOL_DEFAULTS = { poolSize: 10, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000, idleTimeoutMs: 30_000 } as const

/**
 * Opens a pool; connections are made on first use, so this never fails for an unreachable server.
 *
 * @example
 *   const pool = openPgPool({ url: 'postgres://tally@db:5432/tally', poolSize: 8 })
 *   const { rows } = await pool.query('SELECT 1 AS one')
 *   await pool.end()
 */
export function openPgPool(opts: PgPoolOptions): pg.Pool {
  const url = new URL(opts.url)
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new TypeError(`not a PostgreSQL URL (postgres://…): ${url.protocol}`)
  }
  const statementTimeout = opts.statementTimeoutMs ?? PG_POOL_DEFAULTS.statementTimeoutMs
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? PG_POOL_DEFAULTS.poolSize,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? PG_POOL_DEFAULTS.connectTimeoutMs,
    idleTimeoutMillis: opts.idleTimeoutMs ?? PG_POOL_DEFAULTS.idleTimeoutMs,
    // Sent in the startup packet: in force from the first statement, no extra round trip.
    statement_timeout: statementTimeout,
    idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs ?? 2 * statementTimeout,
    application_name: 'tally',
    pipeline: opts.pipeline ?? false,
    // Lets the kernel notice a server that vanished without closing the connection.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  })
  // An 'error' event without a listener crashes the process. node-postgres listens on idle
  // connections only (and re-emits on the pool), not on checked-out ones, drizzle's transactions
  // included: listen on every connection from its start, and report each failure once, here.
  pool.on('connect', (client) => client.on('error', (e) => opts.onConnectionError?.(e)))
  pool.on('error', () => {})
  return pool
}

export type PgErrorKind = 'unavailable' | 'bug'

/**
 * SQLSTATE classes and codes that say "the database cannot do this now" rather than "this
 * request or this code is wrong": 08 connection exception, 53 insufficient resources (53100 disk
 * full, 53300 too many connections), 57P01/57P02/57P03 shutdown and start-up, 57014 cancelled
 * (statement timeout), 40001/40P01 serialization failure and deadlock (retry the transaction),
 * 55P03 lock not available, 25006 read-only transaction (a failover left us on a standby),
 * 58030 I/O error.
 */
const UNAVAILABLE_CLASSES = ['08', '53']
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '57014', '40001', '40P01', '55P03', '25006', '58030'])
/** Transactions that failed only because of another one: run them again, now. */
const RETRY_CODES = new Set(['40001', '40P01'])
/** Socket errors of Node and of DNS. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
])
/** node-postgres says these in words only, with no code. */
const NETWORK_MESSAGES = [
  /^Connection terminated/, // "… unexpectedly", "… due to connection timeout"
  /^timeout exceeded when trying to connect/,
  /is not queryable/, // a client that lost its connection, or was closed
  /^Cannot use a pool after calling end on the pool/,
  /^Query read timeout/,
]

/**
 * Tells an error of the database layer `'unavailable'` (the database cannot serve now: answer 503,
 * retry later; nothing is wrong with the request) from `'bug'` (a syntax error, a constraint that
 * no `ON CONFLICT` covers, a type mismatch: answer 500 and log it). It looks through drizzle's
 * wrapping (`cause`) and Node's AggregateError (`errors`, one per address tried).
 *
 * @example
 *   try { await pool.query(text, values) } catch (e) {
 *     if (classifyPgError(e) === 'unavailable') throw new StoreUnavailable('…', { cause: e })
 *     throw e
 *   }
 */
export function classifyPgError(e: unknown): PgErrorKind {
  return someError(e, (x) => {
    const code = typeof x.code === 'string' ? x.code : undefined
    // Socket codes first: `EPIPE` has the shape of an SQLSTATE (five capitals) and is not one.
    if (code && NETWORK_CODES.has(code)) return true
    if (code && isSqlState(code)) return UNAVAILABLE_CLASSES.includes(code.slice(0, 2)) || UNAVAILABLE_CODES.has(code)
    return typeof x.message === 'string' && NETWORK_MESSAGES.some((m) => m.test(x.message as string))
  })
    ? 'unavailable'
    : 'bug'
}

/** A serialization failure or a deadlock: the transaction may be run again at once. */
export function isRetryableTransaction(e: unknown): boolean {
  return someError(e, (x) => typeof x.code === 'string' && RETRY_CODES.has(x.code))
}

function isSqlState(code: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code)
}

/** Whether `test` holds for `e` or any error it wraps. */
function someError(e: unknown, test: (x: { code?: unknown; message?: unknown }) => boolean, depth = 0): boolean {
  if (e === null || typeof e !== 'object' || depth > 8) return false
  const x = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown }
  if (test(x)) return true
  if (Array.isArray(x.errors) && x.errors.some((inner) => someError(inner, test, depth + 1))) return true
  return someError(x.cause, test, depth + 1)
}

export type Readiness = { ok: true } | { ok: false; reason: string }

/**
 * For `/readyz`: whether this collector can write to the database now, answered within
 * `timeoutMs` (default 1 s) and never thrown. A full pool that frees no connection in time counts
 * as not ready (the load balancer sends the traffic elsewhere), and so does a database that only
 * reads (a standby after a failover).
 */
export async function readiness(pool: pg.Pool, timeoutMs = 1_000): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `the database did not answer within ${timeoutMs} ms` }), timeoutMs)
  })
  const probe = pool
    .query<{ read_only: string }>(`SELECT current_setting('transaction_read_only') AS read_only`)
    .then((r): Readiness => (r.rows[0]?.read_only === 'off' ? { ok: true } : { ok: false, reason: 'the database is read-only' }))
    .catch((e: unknown): Readiness => ({ ok: false, reason: `the database probe failed: ${(e as Error)?.message ?? String(e)}` }))
  try {
    return await Promise.race([probe, late])
  } finally {
    clearTimeout(timer)
  }
}
