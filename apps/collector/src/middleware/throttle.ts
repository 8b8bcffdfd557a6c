/**
 * Throttled authentication (docs/security.md, "Keys and sign-ins"): failed key checks (a `401` on
 * any `/v1/` route: a wrong bearer key, admin token or sign-in cookie) and failed dashboard
 * sign-ins are limited per client address (`c.var.client`, proxy trust applied by ./client.ts; an
 * IPv6 client by its /64). Each address may fail
 * `burst` times at once, then once per `1 / rate` seconds; past that, every request that needs a
 * key is refused with `429` and `Retry-After` before any key is compared, so a guesser from that
 * address gets no answer at all, right key or not. Another address is never affected, the right
 * key's holder included; a success costs nothing.
 *
 * Failures are logged as counts, never a line each: the first failure of an address at once, then
 * at most one line a minute per address with the failures and throttled requests since its
 * previous line (`key checks failed`). At most `maxKeys` addresses are held (a refilled one is
 * forgotten first, as if new).
 */
import type { MiddlewareHandler } from 'hono'
import type { Logger } from 'pino'
import { fail } from '../errors.js'
import { addressKey } from '../domain/ratelimit.js'
import type { Clock } from '../domain/clock.js'
import type { TallyEnv } from '../context.js'

export interface AuthThrottleOptions {
  clock: Clock
  logger: Logger
  /** Failures allowed at once per address. */
  burst?: number
  /** Failures per second regained. */
  rate?: number
  maxKeys?: number
}

/** The defaults: 10 failures at once, then one every 6 s (10 a minute) per address. */
export const AUTH_FAILURES = { burst: 10, rate: 1 / 6 }

const MINUTE = 60_000

interface Entry {
  tokens: number
  at: number
  failed: number
  throttled: number
  since: number
  loggedAt: number
}

export interface AuthThrottle {
  middleware: MiddlewareHandler<TallyEnv>
  /** Logs the counts not logged yet (a timer calls it every minute; the server at stop). */
  flush(): void
}

export function createAuthThrottle(opts: AuthThrottleOptions): AuthThrottle {
  const { clock, logger, burst = AUTH_FAILURES.burst, rate = AUTH_FAILURES.rate, maxKeys = 100_000 } = opts
  const perMs = rate / 1000
  const state = new Map<string, Entry>()

  const refill = (e: Entry, now: number) => {
    e.tokens = Math.min(burst, e.tokens + (now - e.at) * perMs)
    e.at = now
  }
  const line = (address: string, e: Entry, now: number) => {
    if (e.failed === 0 && e.throttled === 0) return
    logger.warn({ address, failed: e.failed, throttled: e.throttled, since: new Date(e.since).toISOString() }, 'key checks failed')
    e.failed = 0
    e.throttled = 0
    e.since = now
    e.loggedAt = now
  }
  const entry = (address: string, now: number): Entry => {
    let e = state.get(address)
    if (!e) {
      if (state.size >= maxKeys) prune(now)
      e = { tokens: burst, at: now, failed: 0, throttled: 0, since: now, loggedAt: -Infinity }
      state.set(address, e)
    }
    return e
  }
  function prune(now: number) {
    for (const [k, e] of state) {
      refill(e, now)
      if (e.tokens >= burst) {
        line(k, e, now)
        state.delete(k)
      }
    }
    if (state.size >= maxKeys) {
      flush()
      state.clear()
    }
  }
  function flush() {
    const now = clock.now()
    for (const [k, e] of state) line(k, e, now)
  }
  const timer = setInterval(flush, MINUTE)
  timer.unref?.()

  const middleware: MiddlewareHandler<TallyEnv> = async (c, next) => {
    // Beacons carry no key: their path never meets this check.
    if (c.req.path.startsWith('/v1/containers/')) return next()
    const address = addressKey(c.var.client.address)
    const now = clock.now()
    const known = state.get(address)
    if (known) {
      refill(known, now)
      if (known.tokens < 1) {
        known.throttled++
        if (now - known.loggedAt >= MINUTE) line(address, known, now)
        const wait = Math.max(1, Math.ceil((1 - known.tokens) / perMs / 1000))
        throw fail('rate_limited', 'too many failed key checks from this address', { 'Retry-After': String(wait) })
      }
    }
    await next()
    if (c.res.status !== 401) return
    const e = known ?? entry(address, now)
    e.tokens -= 1
    e.failed++
    if (now - e.loggedAt >= MINUTE) line(address, e, now)
  }
  return { middleware, flush }
}
