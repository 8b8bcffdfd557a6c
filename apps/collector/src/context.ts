/**
 * What every route shares, built once by `createApp` (./app.ts) and handed to each route module,
 * and the per-request variables the middleware sets. Routes import this file, never the app, so
 * the dependency runs one way: app -> routes -> services -> store.
 */
import type { Logger } from 'pino'
import type { Store } from './services/store.js'
import type { ConfigState } from './domain/config.js'
import type { Clock } from './domain/clock.js'
import type { Metrics } from './metrics.js'
import type { RejectionLog } from './services/rejections.js'
import type { Client } from './middleware/client.js'

export interface AppDeps {
  store: Store
  clock: Clock
  config: ConfigState
  logger: Logger
  metrics: Metrics
  adminToken: string | undefined
  trusted: (address: string) => boolean
  /** Counts refusals a storefront causes (summed in memory, written in batches). */
  rejections: RejectionLog
}

/** Hono's environment for Tally routes: what auth middleware found, on `c.var`. */
export interface TallyEnv {
  Variables: {
    /** The account the request acts for (its key, a dashboard sign-in, or the admin's `:id`). */
    account: string
    /** The client's address, protocol and host, proxy trust applied (./middleware/client.ts). */
    client: Client
  }
}
