/**
 * Admin routes (PROTOCOL §6) and the account's view of refused beacons (§5).
 * A configuration change is persisted before it takes effect: a 2xx means it survives a restart.
 */
import { Hono } from 'hono'
import { requireAccount, requireAdmin } from '../middleware/auth.js'
import { fail } from '../errors.js'
import type { AppDeps } from '../app.js'

/** `GET /v1/rejections` looks back this far by default. */
const REJECTIONS_WINDOW_MS = 7 * 86_400_000

export function adminRoutes(deps: AppDeps): Hono {
  const { store, clock, config, adminToken, logger } = deps
  const app = new Hono()

  const body = async (req: Request): Promise<unknown> => {
    try {
      return await req.json()
    } catch {
      throw fail('invalid_json', 'the body is not JSON')
    }
  }

  app.put('/v1/admin/accounts/:id', async (c) => {
    requireAdmin(c, adminToken)
    const id = c.req.param('id')
    const input = await body(c.req.raw)
    const next = config.withAccount(id, input)
    await store.saveConfigChange({ kind: 'account', id, body: input }, clock.now())
    config.set(next)
    logger.info({ account: id }, 'account changed')
    return c.json({ id, account: next.accounts[id] })
  })

  app.put('/v1/admin/containers/:id', async (c) => {
    requireAdmin(c, adminToken)
    const id = c.req.param('id')
    const input = await body(c.req.raw)
    const next = config.withContainer(id, input)
    // The owner is stored with the change so that the replay finds it.
    const owner = config.container(id)?.accountId ?? (input as { account: string }).account
    await store.saveConfigChange({ kind: 'container', id, body: { ...(input as object), account: owner } }, clock.now())
    config.set(next)
    logger.info({ container: id, account: owner }, 'container changed')
    return c.json({ id, account: owner, container: next.accounts[owner]?.containers[id] })
  })

  const rejections = async (account: string, sinceParam: string | undefined) => {
    const since = sinceParam ? Date.parse(sinceParam) : clock.now() - REJECTIONS_WINDOW_MS
    if (Number.isNaN(since)) throw fail('invalid_request', 'since: expected an ISO-8601 date')
    const rows = await store.rejections(account, since)
    return {
      rejections: rows.map((r) => ({
        container: r.container, reason: r.reason, origin: r.origin, count: r.count,
        firstSeen: new Date(r.firstSeen).toISOString(), lastSeen: new Date(r.lastSeen).toISOString(),
      })),
    }
  }

  app.get('/v1/rejections', async (c) => c.json(await rejections(requireAccount(c, config), c.req.query('since'))))

  app.get('/v1/admin/accounts/:id/rejections', async (c) => {
    requireAdmin(c, adminToken)
    const id = c.req.param('id')
    if (!config.account(id)) throw fail('not_found', `no account "${id}"`)
    return c.json(await rejections(id, c.req.query('since')))
  })

  return app
}
