/**
 * Admin configuration routes (docs/protocol.md §6): HTTP only. A configuration change is
 * persisted before it takes effect: a 2xx means it survives a restart.
 */
import { Hono } from 'hono'
import { adminOnly } from '../middleware/auth.js'
import { readJson } from '../middleware/body.js'
import type { AppDeps, TallyEnv } from '../context.js'

export function adminRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config, adminToken, logger } = deps
  const app = new Hono<TallyEnv>()
  const token = adminOnly(adminToken)

  app.put('/v1/admin/accounts/:id', token, async (c) => {
    const id = c.req.param('id')
    const input = await readJson(c)
    const next = config.withAccount(id, input)
    await store.saveConfigChange({ kind: 'account', id, body: input }, clock.now())
    config.set(next)
    logger.info({ account: id }, 'account changed')
    return c.json({ id, account: next.accounts[id] })
  })

  app.put('/v1/admin/containers/:id', token, async (c) => {
    const id = c.req.param('id')
    const input = await readJson(c)
    const next = config.withContainer(id, input)
    // The owner is stored with the change so that the replay finds it.
    const owner = config.container(id)?.accountId ?? (input as { account: string }).account
    await store.saveConfigChange({ kind: 'container', id, body: { ...(input as object), account: owner } }, clock.now())
    config.set(next)
    logger.info({ container: id, account: owner }, 'container changed')
    return c.json({ id, account: owner, container: next.accounts[owner]?.containers[id] })
  })

  return app
}
