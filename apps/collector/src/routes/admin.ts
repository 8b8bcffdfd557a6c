/**
 * Admin configuration routes (docs/protocol.md §6, docs/configuration.md): HTTP only. The admin
 * API reads what it writes: the accounts and containers in force. Every write is a new version of
 * the whole account (its containers inside) in the database, in the transaction of its audit
 * entry, before it takes effect here: a 2xx means every collector and every restart reads it.
 * `PUT` replaces; `PATCH` is a JSON merge patch (RFC 7396) applied to the whole account. `?at=`
 * dates a version in the future: the one before stays in force, and is billed, until then.
 */
import { Hono, type Context } from 'hono'
import type { z } from 'zod'
import { MAX_JSON_DEPTH, type TallyConfig } from '@tally/protocol'
import { adminAccount, adminOnly } from '../middleware/auth.js'
import { readJson } from '../middleware/body.js'
import { parseIsoInstant } from '../domain/dates.js'
import { fail } from '../errors.js'
import { changeAccount } from '../services/accounts.js'
import type { AppDeps, TallyEnv } from '../context.js'
import { AdminPath, valid } from './api/define.js'
import { type AccountHistory, AccountPatch, ContainerPatch, EmailGrant } from './api/schemas.js'
import { AT_QUERY, HISTORY_LIMIT, HISTORY_QUERY } from './api/ops-admin.js'
import { whoOf } from './who.js'

export { MAX_EMAIL_GRANT } from './api/schemas.js'

/** Admin bodies: objects and arrays nested at most this deep, refused before any walk (docs/security.md). */
const adminJson = (c: Context) => readJson(c, undefined, { maxDepth: MAX_JSON_DEPTH })

const iso = (ms: number) => new Date(ms).toISOString()

export function adminRoutes(deps: AppDeps): Hono<TallyEnv> {
  const { store, clock, config, adminToken, logger } = deps
  const app = new Hono<TallyEnv>()
  const token = adminOnly(adminToken)
  const who = whoOf(config)
  /** The `:id` of the path: a configuration id (400 otherwise). */
  const pathId = (c: Context<TallyEnv>): string => valid(AdminPath, c.req.param()).id

  /** `?at=`: an ISO-8601 instant not in the past, within the billing calendar's years; null when absent. */
  const effectiveAt = (c: Context<TallyEnv>): number | null => {
    const { at } = valid(AT_QUERY, c.req.query())
    if (at === undefined) return null
    const t = parseIsoInstant(at)
    if (t < clock.now()) throw fail('invalid_request', 'at: in the past; a version takes effect now or later')
    return t
  }

  /** Writes the account the change gives as its next version, through the one account write path (../services/accounts.ts). */
  const write = async (c: Context<TallyEnv>, decide: () => { id: string; next: TallyConfig }) => {
    const r = await changeAccount({ store, config, clock }, { decide, effectiveAt: effectiveAt(c), actor: 'admin' })
    if (r.replayed) throw new Error('an admin change has no receipt to replay')
    return r
  }

  const saveAccount = async (c: Context<TallyEnv>, id: string, body: () => unknown) => {
    const w = await write(c, () => ({ id, next: config.withAccount(id, body()) }))
    logger.info({ account: id, version: w.version, method: c.req.method }, 'account changed')
    return c.json({ id, account: w.account, version: w.version, effectiveAt: iso(w.effectiveAt) })
  }

  const saveContainer = async (c: Context<TallyEnv>, id: string, body: () => unknown) => {
    let owner = ''
    const w = await write(c, () => {
      const b = body()
      const next = config.withContainer(id, b)
      owner = config.container(id)?.accountId ?? (b as { account: string }).account
      return { id: owner, next }
    })
    logger.info({ container: id, account: owner, version: w.version, method: c.req.method }, 'container changed')
    return c.json({ id, account: owner, container: w.account.containers[id], version: w.version, effectiveAt: iso(w.effectiveAt) })
  }

  app.get('/v1/admin/accounts', token, (c) =>
    c.json({
      accounts: Object.entries(config.current().accounts).map(([id, a]) => ({
        id,
        name: a.name,
        active: a.active,
        plan: a.subscription.plan,
        timezone: a.timezone,
        containers: Object.keys(a.containers),
      })),
    }),
  )

  app.get('/v1/admin/accounts/:id', token, (c) => {
    const id = pathId(c)
    const account = config.account(id)
    if (!account) throw fail('not_found', `no account "${id}"`)
    const v = config.version('account', id)
    return c.json(v ? { id, account, version: v.version, effectiveAt: iso(v.effectiveAt) } : { id, account })
  })

  app.get('/v1/admin/containers/:id', token, (c) => {
    const id = pathId(c)
    const entry = config.container(id)
    if (!entry) throw fail('not_found', `no container "${id}"`)
    return c.json({ id, account: entry.accountId, container: entry.container })
  })

  app.get('/v1/admin/accounts/:id/history', token, async (c) => {
    const id = pathId(c)
    const q = valid(HISTORY_QUERY, c.req.query())
    const limit = q.limit ?? HISTORY_LIMIT.default
    const rows = await store.configHistory('account', id, limit + 1, q.before)
    if (rows.length === 0 && q.before === undefined && !config.account(id)) throw fail('not_found', `no account "${id}"`)
    const page = rows.slice(0, limit)
    return c.json({
      id,
      versions: page.map((r) => ({
        version: r.version,
        createdAt: iso(r.createdAt),
        actor: r.actor,
        effectiveAt: iso(r.effectiveAt),
        before: r.before,
        account: r.body,
      })),
      next: rows.length > limit ? page[page.length - 1]!.version : null,
    } satisfies z.input<typeof AccountHistory>)
  })

  // The bodies of a PUT are checked by the configuration's own schemas (`parseAccount`, `parseContainer`), which the document shows.
  // Every admin body is read with the depth limit first: nothing recursive (zod, the merge) walks a deeper one.
  app.put('/v1/admin/accounts/:id', token, async (c) => {
    const id = pathId(c)
    const body = await adminJson(c)
    return saveAccount(c, id, () => body)
  })
  app.patch('/v1/admin/accounts/:id', token, async (c) => {
    const id = pathId(c)
    const patch = await adminJson(c)
    valid(AccountPatch, patch) // The shape only: the merge reads the body as sent (docs/protocol.md §6).
    return saveAccount(c, id, () => config.patchedAccount(id, patch))
  })

  app.put('/v1/admin/containers/:id', token, async (c) => {
    const id = pathId(c)
    const body = await adminJson(c)
    return saveContainer(c, id, () => body)
  })
  app.patch('/v1/admin/containers/:id', token, async (c) => {
    const id = pathId(c)
    const patch = await adminJson(c)
    valid(ContainerPatch, patch) // The shape only: the merge reads the body as sent (docs/protocol.md §6).
    return saveContainer(c, id, () => config.patchedContainer(id, patch))
  })

  /** Extra emails for the current month of the quota (docs/billing.md, "Emails"); idempotent by `id`, logged. */
  app.post('/v1/admin/accounts/:id/email-grants', adminAccount(config, adminToken), async (c) => {
    const at = clock.now()
    const { emails, id, note } = valid(EmailGrant, await adminJson(c))
    const { id: account, billing } = who(c)
    const r = await store.grantEmails({ kind: 'grant', account, billing, id, emails, note: note ?? null, at })
    if (!r.ok) throw fail('invalid_request', 'the account has no current period (its subscription has not started or has ended)')
    const g = r.grant
    if (!r.duplicate) logger.info({ account, grant: id, emails: g.emails, month: g.month, note: g.note }, 'emails granted')
    return c.json({
      account,
      id,
      status: r.duplicate ? 'duplicate' : 'accepted',
      emails: g.emails,
      month: g.month,
      note: g.note,
      grantedAt: new Date(g.grantedAt).toISOString(),
    })
  })

  return app
}
