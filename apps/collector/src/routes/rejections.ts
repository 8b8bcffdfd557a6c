/**
 * Refusals (docs/protocol.md §5): `GET /v1/rejections` for the account's own containers, and its
 * admin twin. HTTP only. The answer is one page of the top keys, whatever the table holds:
 * `limit` (default 50, at most 500) rows sorted by `count` or `lastSeen` (the default, newest
 * first), and a `nextCursor` to pass back (with the same `since` and `sort`) for the next page.
 */
import { Hono, type Context } from 'hono'
import { accountReader, adminAccount } from '../middleware/auth.js'
import { localInstant } from '../domain/dates.js'
import type { AppDeps, TallyEnv } from '../context.js'
import type { RejectionPage } from '../engines/repository.js'
import { valid } from './api/define.js'
import { MAX_OFFSET, REJECTIONS_LIMIT, REJECTIONS_QUERY } from './api/ops-reads.js'

/** `GET /v1/rejections` looks back this far by default. */
const REJECTIONS_WINDOW_MS = 7 * 86_400_000

export { REJECTIONS_LIMIT } from './api/ops-reads.js'

export function rejectionRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config, adminToken, rejections } = deps
  const app = new Hono<TallyEnv>()

  const answer = async (c: Context<TallyEnv>) => {
    const q = valid(REJECTIONS_QUERY, c.req.query())
    const given = q.since
    // Days are the account's, as in the usage report (docs/api.md); the answer names the zone.
    const timezone = config.account(c.var.account)?.timezone ?? 'UTC'
    const since = given === undefined ? clock.now() - REJECTIONS_WINDOW_MS : localInstant(given, timezone)
    const page: RejectionPage = { limit: q.limit ?? REJECTIONS_LIMIT.default, offset: q.cursor ?? 0, sort: q.sort ?? 'lastSeen' }
    // What this process counted and has not written yet is part of the answer.
    await rejections.flush()
    const rows = await store.rejections(c.var.account, since, { ...page, limit: page.limit + 1 })
    const more = rows.length > page.limit && page.offset + page.limit < MAX_OFFSET
    return c.json({
      account: c.var.account,
      timezone,
      since: new Date(since).toISOString(),
      rejections: rows
        .slice(0, page.limit)
        .map((r) => ({
          container: r.container,
          reason: r.reason,
          origin: r.origin,
          subject: r.subject,
          count: r.count,
          firstSeen: new Date(r.firstSeen).toISOString(),
          lastSeen: new Date(r.lastSeen).toISOString(),
        })),
      nextCursor: more ? Buffer.from(String(page.offset + page.limit)).toString('base64url') : null,
    })
  }

  app.get('/v1/rejections', accountReader(config), answer)
  app.get('/v1/admin/accounts/:id/rejections', adminAccount(config, adminToken), answer)
  return app
}
