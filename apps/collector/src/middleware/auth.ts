/**
 * Who is asking: the admin token (docs/protocol.md §6), an account's secret or read key (§4, §5),
 * or a dashboard sign-in cookie (reads only). Each is Hono middleware that refuses with 401/403
 * or sets `c.var.account`, so a route never derives the account itself.
 */
import { timingSafeEqual, createHash } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { fail } from '../errors.js'
import { checkId, type ConfigState } from '../domain/config.js'
import type { TallyEnv } from '../context.js'

export const bearer = (c: Context): string | undefined => {
  const h = c.req.header('authorization')
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined
}

/** Compares digests, so the time taken says nothing about the token. */
const same = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())

export function requireAdmin(c: Context, token: string | undefined): void {
  const given = bearer(c)
  if (!token || !given || !same(given, token)) throw fail('unauthorized', 'an admin token is required')
}

/** The dashboard's sign-in cookie (see routes/dashboard.ts): it holds the account's read key. */
export const SESSION_COOKIE = 'tally_session'

/** The read key of a dashboard sign-in; only reads (GET) accept it, and only a read key. */
function sessionKey(c: Context, config: ConfigState): string | undefined {
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return undefined
  const key = getCookie(c, SESSION_COOKIE)
  return key && config.accountByKey(key)?.scope === 'read' ? key : undefined
}

/** The account whose read or secret key was presented (bearer, or the dashboard's cookie on reads). */
export function requireAccount(c: Context, config: ConfigState): string {
  const given = bearer(c) ?? sessionKey(c, config)
  const found = given ? config.accountByKey(given) : undefined
  if (!found) throw fail('unauthorized', 'an account key is required')
  return found.id
}

/** Reads: the read key, the secret key or a dashboard sign-in. */
export const accountReader =
  (config: ConfigState): MiddlewareHandler<TallyEnv> =>
  async (c, next) => {
    c.set('account', requireAccount(c, config))
    await next()
  }

/** Writes of the vendor's backend: the secret key only (the read key gets 403). */
export const accountWriter =
  (config: ConfigState): MiddlewareHandler<TallyEnv> =>
  async (c, next) => {
    const key = bearer(c)
    const found = key ? config.accountByKey(key) : undefined
    if (!found) throw fail('unauthorized', 'an account key is required')
    if (found.scope !== 'secret') throw fail('forbidden', 'this route needs the account secret key')
    c.set('account', found.id)
    await next()
  }

/** The admin token alone. */
export const adminOnly =
  (token: string | undefined): MiddlewareHandler<TallyEnv> =>
  async (c, next) => {
    requireAdmin(c, token)
    await next()
  }

/** The admin token, for the account named by `:id`: an id (400), that exists (404); it becomes `c.var.account`. */
export const adminAccount =
  (config: ConfigState, token: string | undefined): MiddlewareHandler<TallyEnv> =>
  async (c, next) => {
    requireAdmin(c, token)
    const id = c.req.param('id') ?? ''
    checkId('account', id)
    if (!config.account(id)) throw fail('not_found', `no account "${id.slice(0, 64)}"`)
    c.set('account', id)
    await next()
  }
