/** Bearer keys: the admin token (PROTOCOL §6) and the account keys (§5). */
import { timingSafeEqual, createHash } from 'node:crypto'
import type { Context } from 'hono'
import { fail } from './errors.js'
import type { ConfigState } from './config.js'

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

/** The account whose read or secret key was presented. */
export function requireAccount(c: Context, config: ConfigState): string {
  const given = bearer(c)
  const found = given ? config.accountByKey(given) : undefined
  if (!found) throw fail('unauthorized', 'an account key is required')
  return found.id
}
