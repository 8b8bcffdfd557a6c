/**
 * The collector as a value: `createApp({ store, clock, config })` builds a Hono app with no
 * global state, so tests build as many as they like and call `app.request()` without a server.
 * This file wires; the routes (./routes) speak HTTP, the services (./services) decide, the store
 * engines (./store) hold SQL. docs/architecture.md has the map.
 */
import { Hono } from 'hono'
import { randomUUID } from 'node:crypto'
import pino, { type Logger } from 'pino'
import type { TallyConfig } from '@tally/protocol'
import { DomainError, statusOf, TallyError } from './errors.js'
import { StoreUnavailable } from './engines/repository.js'
import type { Store } from './services/store.js'
import { createConfigState, type ConfigState } from './domain/config.js'
import { systemClock, type Clock } from './domain/clock.js'
import { createMetrics, type Metrics } from './metrics.js'
import { trustList } from './domain/ratelimit.js'
import { createAuthThrottle } from './middleware/throttle.js'
import { EXPORT_LIMITS, type ExportLimits } from './domain/export-slots.js'
import { cors } from './middleware/cors.js'
import { createRejectionLog, type RejectionLog } from './services/rejections.js'
import type { AppDeps, TallyEnv } from './context.js'
import { eventRoutes } from './routes/events.js'
import { scriptRoutes, SDK_SCRIPT } from './routes/script.js'
import { adminRoutes } from './routes/admin.js'
import { rejectionRoutes } from './routes/rejections.js'
import { usageRoutes } from './routes/usage.js'
import { billingRoutes } from './routes/billing.js'
import { evidenceRoutes } from './routes/evidence.js'
import { usageReportRoutes } from './routes/usage-report.js'
import { dashboardRoutes } from './routes/dashboard.js'
import { portalRoutes } from './routes/portal.js'
import { webhookRoutes } from './routes/webhooks.js'
import { openApiDocument } from './routes/api/document.js'
import { client } from './middleware/client.js'

export interface AppOptions {
  store: Store
  /** A config (validated with `parseConfig`) or a live config state shared with the caller. */
  config: TallyConfig | ConfigState
  clock?: Clock
  logger?: Logger
  /** Concurrent evidence exports and the write timeout (docs/security.md, "Exports"); the defaults otherwise. */
  exports?: Partial<ExportLimits>
  /** `TALLY_ADMIN_TOKEN`; without it the admin routes answer 401. */
  adminToken?: string
  /** Path of the built script-tag SDK. */
  sdkScript?: string
  metrics?: Metrics
  /** The refusal counter; the server passes its own so that it can flush it on a timer and at stop. */
  rejections?: RejectionLog
}

export type { AppDeps } from './context.js'

/** `/readyz` answers 503 this long after a request met a storage failure. */
export const UNREADY_AFTER_FAILURE_MS = 5_000

const isState = (c: TallyConfig | ConfigState): c is ConfigState => typeof (c as ConfigState).current === 'function'

export function createApp(opts: AppOptions): Hono<TallyEnv> {
  const clock = opts.clock ?? systemClock
  const config = isState(opts.config) ? opts.config : createConfigState(opts.config, { now: () => clock.now() })
  const logger = opts.logger ?? pino({ level: 'silent' })
  const deps: AppDeps = {
    store: opts.store,
    clock,
    config,
    logger,
    metrics: opts.metrics ?? createMetrics(),
    adminToken: opts.adminToken,
    trusted: trustList(config.current().server.trustedProxies),
    rejections: opts.rejections ?? createRejectionLog({ store: opts.store, clock, logger }),
  }
  const { metrics, store } = deps
  const app = new Hono<TallyEnv>()

  // Before every route: the one reading of proxy trust (`c.var.client`).
  app.use(client(deps.trusted))

  app.use(async (c, next) => {
    const start = performance.now()
    await next()
    const route = c.req.routePath
    metrics.requests.inc({ route, status: String(c.res.status) })
    metrics.latency.observe({ route }, (performance.now() - start) / 1000)
  })
  app.use('/v1/containers/*', cors())
  // Failed key checks and sign-ins, per address (docs/security.md, "Keys and sign-ins").
  const throttle = createAuthThrottle({ clock, logger })
  app.use('/v1/*', throttle.middleware)
  app.use('/dashboard/sign-in', throttle.middleware)

  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  // Not ready while writes fail: a read-only or full database still answers the ping, so the
  // last storage failure is remembered for a few seconds (and forgotten once they stop).
  let unavailableAt = -Infinity
  app.get('/readyz', async (c) => {
    const ready = await (store.readiness?.() ?? store.ping().then(() => ({ ok: true as const })))
    if (!ready.ok) {
      // Not an error of this request: the load balancer sends traffic elsewhere until the database is back.
      return c.json({ error: { code: 'unavailable', message: ready.reason } }, 503, { 'Retry-After': '1' })
    }
    if (clock.now() - unavailableAt < UNREADY_AFTER_FAILURE_MS) {
      throw new StoreUnavailable('a write failed in the last seconds')
    }
    return c.json({ status: 'ready' })
  })
  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }))

  app.route('/', scriptRoutes(opts.sdkScript ?? SDK_SCRIPT))
  app.route('/', eventRoutes(deps))
  app.route('/', usageRoutes(deps))
  app.route('/', billingRoutes(deps))
  app.route('/', evidenceRoutes(deps, { ...EXPORT_LIMITS, ...opts.exports }))
  app.route('/', usageReportRoutes(deps))
  app.route('/', rejectionRoutes(deps))
  app.route('/', adminRoutes(deps))
  app.route('/', webhookRoutes(deps))
  app.route('/', dashboardRoutes(deps))
  app.route('/', portalRoutes(deps))
  app.get('/openapi.json', (c) => c.json(openApiDocument(app.routes, c.var.client.origin)))

  app.notFound((c) => c.json({ error: { code: 'not_found', message: 'no such route' } }, 404))
  app.onError((err, c) => {
    // A refusal of the domain or of the HTTP edge: its code says its status.
    if (err instanceof DomainError) {
      const incoming = (c.env as { incoming?: { destroyed?: boolean } } | undefined)?.incoming
      if (incoming?.destroyed) logger.info({ route: c.req.routePath, code: err.code }, 'the client closed the connection mid-request')
      return c.json({ error: { code: err.code, message: err.message } }, statusOf(err.code), err instanceof TallyError ? err.headers : {})
    }
    if (err instanceof StoreUnavailable) {
      if (c.req.path !== '/readyz') unavailableAt = clock.now()
      logger.error({ err, cause: err.cause }, 'storage unavailable')
      return c.json({ error: { code: 'unavailable', message: 'storage is unavailable, retry later' } }, 503, { 'Retry-After': '1' })
    }
    // A bug, not a passing fault: no Retry-After, so clients do not retry it forever; the id finds the log line.
    const errorId = randomUUID()
    logger.error({ err, errorId, route: c.req.routePath }, 'unexpected error')
    return c.json({ error: { code: 'internal', message: `internal error (error id ${errorId})`, errorId } }, 500)
  })
  return app
}
