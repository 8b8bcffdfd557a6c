/**
 * Admin configuration routes (docs/protocol.md §6): HTTP only. The admin API reads what it
 * writes: the accounts and containers in force (the file with the persisted changes replayed).
 * A change is persisted before it takes effect: a 2xx means it survives a restart. `PUT`
 * replaces; `PATCH` is a JSON merge patch (RFC 7396), persisted as the whole body it gives, so
 * that its replay does not depend on what the file says later.
 */
import { Hono, type Context } from 'hono'
import { ID_PATTERN } from '@tally/protocol'
import { adminAccount, adminOnly } from '../middleware/auth.js'
import { readJson } from '../middleware/body.js'
import { checkId } from '../domain/config.js'
import { billingAccount } from '../domain/billing-account.js'
import { changeAccount } from '../services/accounts.js'
import { fail } from '../errors.js'
import type { AppDeps, TallyEnv } from '../context.js'

/** The most one grant can add: a typo of a few zeros is refused rather than granted. */
export const MAX_EMAIL_GRANT = 10_000_000

export function adminRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config, adminToken, logger } = deps
  const app = new Hono<TallyEnv>()
  const token = adminOnly(adminToken)

  const saveAccount = async (c: Context<TallyEnv>, id: string, body: unknown) => {
    const r = await changeAccount({ store, config }, { account: id, body, at: clock.now() })
    logger.info({ account: id, method: c.req.method }, 'account changed')
    return c.json({ id, account: r.account })
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
    const id = c.req.param('id')
    checkId('account', id)
    const account = config.account(id)
    if (!account) throw fail('not_found', `no account "${id}"`)
    return c.json({ id, account })
  })

  app.get('/v1/admin/containers/:id', token, (c) => {
    const id = c.req.param('id')
    checkId('container', id)
    const entry = config.container(id)
    if (!entry) throw fail('not_found', `no container "${id}"`)
    return c.json({ id, account: entry.accountId, container: entry.container })
  })

  app.put('/v1/admin/accounts/:id', token, async (c) => saveAccount(c, c.req.param('id'), await readJson(c)))
  app.patch('/v1/admin/accounts/:id', token, async (c) => {
    const id = c.req.param('id')
    checkId('account', id)
    return saveAccount(c, id, config.patchedAccount(id, await readJson(c)))
  })

  app.put('/v1/admin/containers/:id', token, async (c) => saveContainer(c, c.req.param('id'), await readJson(c)))
  app.patch('/v1/admin/containers/:id', token, async (c) => {
    const id = c.req.param('id')
    checkId('container', id)
    return saveContainer(c, id, config.patchedContainer(id, await readJson(c)))
  })

  /** Extra emails for the current month of the quota (docs/billing.md, "Emails"); idempotent by `id`, logged. */
  app.post('/v1/admin/accounts/:id/email-grants', adminAccount(config, adminToken), async (c) => {
    const at = clock.now()
    const account = c.var.account
    const body = (await readJson(c)) as { emails?: unknown; id?: unknown; note?: unknown } | null
    const { emails, id, note } = body ?? {}
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) throw fail('invalid_request', 'id: expected 1-64 characters of [A-Za-z0-9._:-]')
    if (typeof emails !== 'number' || !Number.isSafeInteger(emails) || emails <= 0 || emails > MAX_EMAIL_GRANT) {
      throw fail('invalid_request', `emails: expected a whole number from 1 to ${MAX_EMAIL_GRANT}`)
    }
    if (note !== undefined && (typeof note !== 'string' || note.length > 500)) throw fail('invalid_request', 'note: expected text of at most 500 characters')
    const billing = billingAccount(config, account)
    if (!billing) throw fail('not_found', `no account "${account}"`)
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
