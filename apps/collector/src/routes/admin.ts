/**
 * Admin configuration routes (docs/protocol.md §6): HTTP only. The admin API reads what it
 * writes: the accounts and containers in force (the file with the persisted changes replayed).
 * A change is persisted before it takes effect: a 2xx means it survives a restart. `PUT`
 * replaces; `PATCH` is a JSON merge patch (RFC 7396), persisted as the whole body it gives, so
 * that its replay does not depend on what the file says later.
 */
import { Hono, type Context } from 'hono'
import { adminAccount, adminOnly } from '../middleware/auth.js'
import { readJson } from '../middleware/body.js'
import { fail } from '../errors.js'
import type { AppDeps, TallyEnv } from '../context.js'
import { AdminPath, valid } from './api/define.js'
import { AccountPatch, ContainerPatch, EmailGrant } from './api/schemas.js'
import { whoOf } from './who.js'

export { MAX_EMAIL_GRANT } from './api/schemas.js'

export function adminRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config, adminToken, logger } = deps
  const app = new Hono<TallyEnv>()
  const token = adminOnly(adminToken)
  const who = whoOf(config)
  /** The `:id` of the path: a configuration id (400 otherwise). */
  const pathId = (c: Context<TallyEnv>): string => valid(AdminPath, c.req.param()).id

  const saveAccount = async (c: Context<TallyEnv>, id: string, body: unknown) => {
    const next = config.withAccount(id, body)
    await store.saveConfigChange({ kind: 'account', id, body }, clock.now())
    config.set(next)
    logger.info({ account: id, method: c.req.method }, 'account changed')
    return c.json({ id, account: next.accounts[id] })
  }

  const saveContainer = async (c: Context<TallyEnv>, id: string, body: unknown) => {
    const next = config.withContainer(id, body)
    // The owner is stored with the change so that the replay finds it.
    const owner = config.container(id)?.accountId ?? (body as { account: string }).account
    await store.saveConfigChange({ kind: 'container', id, body: { ...(body as object), account: owner } }, clock.now())
    config.set(next)
    logger.info({ container: id, account: owner, method: c.req.method }, 'container changed')
    return c.json({ id, account: owner, container: next.accounts[owner]?.containers[id] })
  }

  app.get('/v1/admin/accounts', token, (c) => c.json({
    accounts: Object.entries(config.current().accounts).map(([id, a]) => ({
      id, name: a.name, active: a.active, plan: a.subscription.plan, timezone: a.timezone, containers: Object.keys(a.containers),
    })),
  }))

  app.get('/v1/admin/accounts/:id', token, (c) => {
    const id = pathId(c)
    const account = config.account(id)
    if (!account) throw fail('not_found', `no account "${id}"`)
    return c.json({ id, account })
  })

  app.get('/v1/admin/containers/:id', token, (c) => {
    const id = pathId(c)
    const entry = config.container(id)
    if (!entry) throw fail('not_found', `no container "${id}"`)
    return c.json({ id, account: entry.accountId, container: entry.container })
  })

  // The bodies of a PUT are checked by the configuration's own schemas (`parseAccount`, `parseContainer`), which the document shows.
  app.put('/v1/admin/accounts/:id', token, async (c) => saveAccount(c, pathId(c), await readJson(c)))
  app.patch('/v1/admin/accounts/:id', token, async (c) => {
    const id = pathId(c)
    const patch = await readJson(c)
    valid(AccountPatch, patch) // The shape only: the merge reads the body as sent (docs/protocol.md §6).
    return saveAccount(c, id, config.patchedAccount(id, patch))
  })

  app.put('/v1/admin/containers/:id', token, async (c) => saveContainer(c, pathId(c), await readJson(c)))
  app.patch('/v1/admin/containers/:id', token, async (c) => {
    const id = pathId(c)
    const patch = await readJson(c)
    valid(ContainerPatch, patch) // The shape only: the merge reads the body as sent (docs/protocol.md §6).
    return saveContainer(c, id, config.patchedContainer(id, patch))
  })

  /** Extra emails for the current month of the quota (docs/billing.md, "Emails"); idempotent by `id`, logged. */
  app.post('/v1/admin/accounts/:id/email-grants', adminAccount(config, adminToken), async (c) => {
    const at = clock.now()
    const { emails, id, note } = valid(EmailGrant, await readJson(c))
    const { id: account, billing } = who(c)
    const r = await store.grantEmails({ kind: 'grant', account, billing, id, emails, note: note ?? null, at })
    if (!r.ok) throw fail('invalid_request', 'the account has no current period (its subscription has not started or has ended)')
    const g = r.grant
    if (!r.duplicate) logger.info({ account, grant: id, emails: g.emails, month: g.month, note: g.note }, 'emails granted')
    return c.json({
      account, id, status: r.duplicate ? 'duplicate' : 'accepted', emails: g.emails, month: g.month, note: g.note,
      grantedAt: new Date(g.grantedAt).toISOString(),
    })
  })

  return app
}
