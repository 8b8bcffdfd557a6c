/**
 * What the collector's own pages share (the dashboard, ./dashboard.ts, and the billing portal,
 * ./portal-session.ts): HTML escaping, their files read once, and the session cookie a page keeps,
 * whose attributes depend on whether the browser reached the collector over HTTPS
 * (`c.var.client`, ../middleware/client.ts).
 */
import type { Context } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { clientOf } from '../middleware/client.js'

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string)

/** A reader of a page's files that reads each once and then answers from memory. */
export function fileCache(): (name: string, dir: string) => Promise<string> {
  const files = new Map<string, string>()
  return async (name, dir) => {
    let body = files.get(name)
    if (body === undefined) {
      body = await readFile(resolve(dir, name), 'utf8')
      files.set(name, body)
    }
    return body
  }
}

/**
 * Whether the browser reached us over HTTPS: directly, or through a configured trusted proxy
 * that says so in `X-Forwarded-Proto` (../middleware/client.ts).
 */
export const overHttps = (c: Context) => clientOf(c).protocol === 'https'

/**
 * How a page's session cookie is sent. `first-party`: the dashboard, used on the collector's own
 * origin only (SameSite=Strict, Secure over HTTPS). `embeddable`: the portal, which works inside
 * the vendor's iframe, where the page is third-party and only SameSite=None (Secure, Partitioned)
 * is sent; over plain HTTP (development) SameSite=Lax.
 */
export type SessionCookieKind = 'first-party' | 'embeddable'

/** Sets the session cookie `name` for `maxAge` seconds. HttpOnly always: no page script reads it. */
export function setSessionCookie(c: Context, kind: SessionCookieKind, name: string, value: string, maxAge: number): void {
  const https = overHttps(c)
  if (kind === 'first-party') setCookie(c, name, value, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge, secure: https })
  else
    setCookie(
      c,
      name,
      value,
      https ? { httpOnly: true, secure: true, sameSite: 'None', partitioned: true, path: '/', maxAge } : { httpOnly: true, sameSite: 'Lax', path: '/', maxAge },
    )
}

/** Clears the session cookie `name`, with the attributes a browser needs to match the one it holds. */
export function clearSessionCookie(c: Context, kind: SessionCookieKind, name: string): void {
  const embedded = kind === 'embeddable' && overHttps(c)
  deleteCookie(c, name, { path: '/', ...(embedded ? { secure: true, sameSite: 'None', partitioned: true } : {}) })
}
