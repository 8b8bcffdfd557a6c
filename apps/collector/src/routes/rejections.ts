/**
 * Refusals (docs/protocol.md §5): `GET /v1/rejections` for the account's own containers, and its
 * admin twin. HTTP only. The answer is one page of the top keys, whatever the table holds:
 * `limit` (default 50, at most 500) rows sorted by `count` or `lastSeen` (the default, newest
 * first), and a `nextCursor` to pass back (with the same `since` and `sort`) for the next page.
 */
import { Hono, type Context } from 'hono'
import { fail } from '../errors.js'
import { accountReader, adminAccount } from '../middleware/auth.js'
import { localInstant } from '../domain/dates.js'
import type { AppDeps, TallyEnv } from '../context.js'
import type { RejectionPage } from '../engines/repository.js'

/** `GET /v1/rejections` looks back this far by default. */
const REJECTIONS_WINDOW_MS = 7 * 86_400_000
export const REJECTIONS_LIMIT = { default: 50, max: 500 }
/** Pages end here: the offset a cursor may carry (a client pages 20 full pages at most). */
const MAX_OFFSET = 10_000

export const REJECTIONS_QUERY = [
  { name: 'since', description: "A date YYYY-MM-DD in the account's time zone (its local midnight, the days of `GET /v1/usage`) or an ISO-8601 instant with Z or an offset; rows last seen from then on. Default: 7 days ago.", schema: { type: 'string' } },
  { name: 'limit', description: `Rows per page, 1 to ${REJECTIONS_LIMIT.max}; default ${REJECTIONS_LIMIT.default}.`, schema: { type: 'integer', minimum: 1, maximum: REJECTIONS_LIMIT.max } },
  { name: 'sort', description: '`lastSeen` (default, newest first) or `count` (largest first).', schema: { type: 'string', enum: ['lastSeen', 'count'] } },
  { name: 'cursor', description: '`nextCursor` of the previous page (same `since` and `sort`).', schema: { type: 'string' } },
] as const

export function rejectionRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config, adminToken, rejections } = deps
  const app = new Hono<TallyEnv>()

  const answer = async (c: Context<TallyEnv>) => {
    const given = c.req.query('since')
    // Days are the account's, as in the usage report (docs/api.md); the answer names the zone.
    const timezone = config.account(c.var.account)?.timezone ?? 'UTC'
    const since = given === undefined ? clock.now() - REJECTIONS_WINDOW_MS : localInstant(given, timezone)
    if (Number.isNaN(since)) throw fail('invalid_request', "since: expected a date YYYY-MM-DD (years 1970 to 9998, in the account's time zone), or a date-time with Z or an offset")
    const page = parsePage(c.req.query('limit'), c.req.query('sort'), c.req.query('cursor'))
    // What this process counted and has not written yet is part of the answer.
    await rejections.flush()
    const rows = await store.rejections(c.var.account, since, { ...page, limit: page.limit + 1 })
    const more = rows.length > page.limit && page.offset + page.limit < MAX_OFFSET
    return c.json({
      account: c.var.account, timezone, since: new Date(since).toISOString(),
      rejections: rows.slice(0, page.limit).map((r) => ({
        container: r.container, reason: r.reason, origin: r.origin, subject: r.subject, count: r.count,
        firstSeen: new Date(r.firstSeen).toISOString(), lastSeen: new Date(r.lastSeen).toISOString(),
      })),
      nextCursor: more ? Buffer.from(String(page.offset + page.limit)).toString('base64url') : null,
    })
  }

  app.get('/v1/rejections', accountReader(config), answer)
  app.get('/v1/admin/accounts/:id/rejections', adminAccount(config, adminToken), answer)
  return app
}

function parsePage(limit: string | undefined, sort: string | undefined, cursor: string | undefined): RejectionPage {
  const n = limit === undefined ? REJECTIONS_LIMIT.default : Number(limit)
  if (!/^\d{1,4}$/.test(limit ?? '50') || !Number.isInteger(n) || n < 1 || n > REJECTIONS_LIMIT.max) {
    throw fail('invalid_request', `limit: expected an integer from 1 to ${REJECTIONS_LIMIT.max}`)
  }
  if (sort !== undefined && sort !== 'count' && sort !== 'lastSeen') throw fail('invalid_request', 'sort: expected count or lastSeen')
  let offset = 0
  if (cursor !== undefined) {
    const text = /^[A-Za-z0-9_-]{1,12}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : ''
    offset = /^\d{1,5}$/.test(text) ? Number(text) : NaN
    if (!Number.isInteger(offset) || offset > MAX_OFFSET) throw fail('invalid_request', 'cursor: not a cursor this collector gave')
  }
  return { limit: n, offset, sort: sort ?? 'lastSeen' }
}
