/** Bearer keys: the admin token (PROTOCOL §6) and the account keys (§5). */
import { timingSafeEqual, createHash } from 'node:crypto'
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import { fail } from '../errors.js'
import type { ConfigState } from '../domain/config.js'

const bearer = (c: Context): string | undefined => {
  const h = c.req.header('authorization')
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined
}

/** Compares digests, so the time taken says nothing about the token. */
const same = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())

export function requireAdmin(c: Context, token: string | undefined): void {
  const given = bearer(c)
  if (!token || !given || !same(given, token)) throw fail('unauthorized', 'an admin token is required')
}

/** The dashboard's sign-in cookie (see dashboard.ts): it holds the account's read key. */
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
