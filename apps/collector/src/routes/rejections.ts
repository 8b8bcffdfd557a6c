/**
 * Refused beacons (docs/protocol.md §5): `GET /v1/rejections` for the account's own containers,
 * and its admin twin. HTTP only.
 */
import { Hono, type Context } from 'hono'
import { fail } from '../errors.js'
import { accountReader, adminAccount } from '../middleware/auth.js'
import { parseIsoInstant } from '../domain/dates.js'
import type { AppDeps, TallyEnv } from '../context.js'

/** `GET /v1/rejections` looks back this far by default. */
const REJECTIONS_WINDOW_MS = 7 * 86_400_000

export function rejectionRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config, adminToken } = deps
  const app = new Hono<TallyEnv>()

  const answer = async (c: Context<TallyEnv>) => {
    const given = c.req.query('since')
    // The strict parser: `Date.parse` reads "1" as the year 2001.
    const since = given === undefined ? clock.now() - REJECTIONS_WINDOW_MS : parseIsoInstant(given)
    if (Number.isNaN(since)) throw fail('invalid_request', 'since: expected an ISO-8601 date, or a date-time with Z or an offset')
    const rows = await store.rejections(c.var.account, since)
    return c.json({
      rejections: rows.map((r) => ({
        container: r.container, reason: r.reason, origin: r.origin, count: r.count,
        firstSeen: new Date(r.firstSeen).toISOString(), lastSeen: new Date(r.lastSeen).toISOString(),
      })),
    })
  }

  app.get('/v1/rejections', accountReader(config), answer)
  app.get('/v1/admin/accounts/:id/rejections', adminAccount(config, adminToken), answer)
  return app
}
