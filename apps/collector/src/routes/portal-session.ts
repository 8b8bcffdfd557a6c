/**
 * The billing portal's sessions (docs/portal.md): the vendor's backend mints a one-time link with the
 * secret key, opening it sets the session cookie (HttpOnly; SameSite=None; Secure; Partitioned over
 * HTTPS, so the page works inside the vendor's iframe; SameSite=Lax over plain HTTP in development),
 * and the page, its files and sign-out. `session` guards every portal route: a live session, and on
 * writes the CSRF token the page carries, from a page of this origin; `manager` refuses a member's
 * session what only the account's manager may do. The actions are in ./portal.ts.
 */
import type { Hono, Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fail } from '../errors.js'
import { accountWriter } from '../middleware/auth.js'
import { clientOf } from '../middleware/client.js'
import { readJson } from '../middleware/body.js'
import { PORTAL_SESSION_MS, csrfMatches, csrfOf, digest, frameAncestors, newToken, tokenAccount } from '../domain/portal.js'
import type { PortalSessionRow } from '../engines/repository.js'
import type { AppDeps, TallyEnv } from '../context.js'
import { valid } from './api/define.js'
import { SessionRequest } from './api/portal-schemas.js'
import { clearSessionCookie, escapeHtml, fileCache, setSessionCookie } from './pages.js'

export const PORTAL_COOKIE = 'tally_portal'
/** The page's sources (src/web/portal) are bundled by rollup into `dist/web/portal.js` (apps/collector/rollup.config.mjs); its CSS is served as written. */
const PORTAL_SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/web/portal')
const PORTAL_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/web')
const ASSETS: Record<string, { dir: string; type: string }> = {
  'portal.js': { dir: PORTAL_DIST, type: 'text/javascript; charset=utf-8' },
  'portal.css': { dir: PORTAL_SRC, type: 'text/css; charset=utf-8' },
  'portal-forms.css': { dir: PORTAL_SRC, type: 'text/css; charset=utf-8' },
}
/** The page's styles, in this order: the second builds on the first. Every page of the portal links both. */
const STYLESHEETS = '<link rel="stylesheet" href="/portal/assets/portal.css"><link rel="stylesheet" href="/portal/assets/portal-forms.css">'

/** The portal session a request carries, on `c.var.portal`. */
export interface PortalVars {
  account: string
  member: string | null
  row: PortalSessionRow
  cookie: string
}
export type PortalEnv = { Variables: TallyEnv['Variables'] & { portal: PortalVars } }

const messagePage = (title: string, text: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — Billing</title><link rel="icon" href="/dashboard/assets/favicon.svg" type="image/svg+xml">${STYLESHEETS}</head>
<body><main class="portal message"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main></body></html>`

/** The session checks of the portal's routes, and `routes`, which adds the routes that open, show and close a session. */
export function portalSessions(deps: AppDeps) {
  const { store, clock, config, logger } = deps
  const asset = fileCache()

  const headersFor = (account: string | null) => {
    const a = account ? config.account(account) : undefined
    return {
      'Content-Security-Policy':
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        `form-action 'self'; base-uri 'none'; frame-ancestors ${a ? frameAncestors(a) : "'none'"}`,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    }
  }

  /** The session of the cookie, or null: unknown, from an account that no longer exists, or expired. */
  const sessionOf = async (c: Context): Promise<PortalVars | null> => {
    const cookie = getCookie(c, PORTAL_COOKIE)
    const account = tokenAccount(cookie)
    if (!cookie || !account || !config.account(account)) return null
    const row = await store.portalSession(account, digest(cookie))
    if (!row || row.expiresAt <= clock.now()) return null
    return { account, member: row.member, row, cookie }
  }

  /**
   * A portal session (401 without one); on writes also the CSRF token and a request from a page of
   * this origin (403), so another site can neither read nor drive the portal.
   */
  const session: MiddlewareHandler<PortalEnv> = async (c, next) => {
    const s = await sessionOf(c)
    if (!s) throw fail('unauthorized', 'no portal session, or it expired: open the billing portal again from the app')
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const site = c.req.header('sec-fetch-site')?.toLowerCase()
      if (site !== undefined && site !== 'same-origin') throw fail('forbidden', 'a portal change must come from the portal page')
      const origin = c.req.header('origin')
      if (origin !== undefined && origin !== clientOf(c).origin) throw fail('forbidden', 'a portal change must come from the portal page')
      if (!csrfMatches(s.cookie, c.req.header('x-tally-csrf'))) throw fail('forbidden', 'the CSRF token is missing or wrong: reload the page')
    }
    c.set('account', s.account)
    c.set('portal', s)
    await next()
  }
  /** The account's manager only: a member's session cannot manage the subscription. */
  const manager: MiddlewareHandler<PortalEnv> = async (c, next) => {
    if (c.var.portal.member !== null) throw fail('forbidden', "only the account's manager can do this; a team member's session sees its own wallet")
    await next()
  }

  const routes = (app: Hono<PortalEnv>) => {
    app.post('/v1/portal/sessions', accountWriter(config), async (c) => {
      const account = c.var.account
      const body = valid(SessionRequest, (await readJson(c)) ?? {})
      const a = config.account(account)!
      if (body.member !== undefined && !a.members.includes(body.member))
        throw fail('invalid_request', `member: "${body.member}" is not a member of the account`)
      const at = clock.now()
      const token = newToken(account)
      const row: PortalSessionRow = {
        id: digest(token),
        session: null,
        member: body.member ?? null,
        returnUrl: body.returnUrl ?? null,
        createdAt: at,
        expiresAt: at + PORTAL_SESSION_MS,
        openedAt: null,
      }
      await store.createPortalSession({ account, row, at })
      logger.info({ account, member: row.member }, 'portal session created')
      return c.json({ url: `${clientOf(c).origin}/portal/open?token=${encodeURIComponent(token)}`, expiresAt: new Date(row.expiresAt).toISOString() })
    })

    app.get('/portal/open', async (c) => {
      const token = c.req.query('token')
      const account = tokenAccount(token)
      const gone = () =>
        c.html(
          messagePage('This link has expired', 'Portal links work once and for about an hour. Open the billing portal again from the app.'),
          401,
          headersFor(null),
        )
      if (!token || !account || !config.account(account)) return gone()
      const cookie = newToken(account)
      const row = await store.openPortalLink(account, digest(token), digest(cookie), clock.now())
      if (!row) return gone()
      const maxAge = Math.max(1, Math.floor((row.expiresAt - clock.now()) / 1000))
      // Inside the vendor's iframe the page is third-party: only SameSite=None (Secure, Partitioned) is sent there.
      setSessionCookie(c, 'embeddable', PORTAL_COOKIE, cookie, maxAge)
      // A page rather than a redirect: the token's URL is never sent on as a Referer, and the page
      // goes on to the portal by itself (no script needed).
      return c.html(
        `<!doctype html>
  <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/portal"><meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Opening billing…</title><link rel="icon" href="/dashboard/assets/favicon.svg" type="image/svg+xml">${STYLESHEETS}</head>
  <body><main class="portal message"><p>Opening your billing portal… <a href="/portal">Continue</a></p></main></body></html>`,
        200,
        { ...headersFor(account), 'Referrer-Policy': 'no-referrer' },
      )
    })

    app.get('/portal', async (c) => {
      const s = await sessionOf(c)
      // A browser gets a page that says what to do; any other client the API's error body.
      if (!s && !(c.req.header('accept') ?? '').includes('text/html')) throw fail('unauthorized', 'no portal session, or it expired')
      if (!s)
        return c.html(
          messagePage('Your billing session has ended', 'For your security, billing sessions last about an hour. Open the billing portal again from the app.'),
          401,
          headersFor(null),
        )
      const a = config.account(s.account)!
      const back = s.row.returnUrl
      const html = `<!doctype html>
  <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="tally-csrf" content="${escapeHtml(csrfOf(s.cookie))}">
  <title>Billing — ${escapeHtml(a.name || s.account)}</title>
  <link rel="icon" href="/dashboard/assets/favicon.svg" type="image/svg+xml">${STYLESHEETS}</head>
  <body><div class="portal" id="portal" data-account="${escapeHtml(s.account)}"${back ? ` data-return="${escapeHtml(back)}"` : ''}>
  <p class="loading" role="status">Loading your billing information…</p></div>
  <script src="/portal/assets/portal.js"></script></body></html>`
      return c.html(html, 200, headersFor(s.account))
    })

    app.get('/portal/assets/:file', async (c) => {
      const name = c.req.param('file')
      const known = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined
      if (!known) throw fail('not_found', 'no such file')
      return c.body(await asset(name, known.dir), 200, { 'Content-Type': known.type, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' })
    })

    app.post('/v1/portal/sign-out', session, async (c) => {
      clearSessionCookie(c, 'embeddable', PORTAL_COOKIE)
      return c.body(null, 204)
    })
  }

  return { session, manager, routes }
}
