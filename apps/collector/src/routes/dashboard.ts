/**
 * `GET /dashboard`: the read API for people (docs/protocol.md §5). Plain HTML and a script bundled
 * at build time (src/web/dashboard, TypeScript) served by the collector itself, with uPlot from
 * node_modules: nothing to build for the operator, and a Content-Security-Policy of `'self'` so
 * that no request leaves the machine.
 *
 * Sign-in takes the account's read key from a form and keeps it in an HttpOnly, SameSite=Strict
 * cookie; `requireAccount` (auth.ts) accepts that cookie on GET requests, so the page's fetches
 * use the same JSON endpoints as everyone else. The secret key is refused here: it belongs on
 * the vendor's servers, not in a browser.
 */
import { Hono, type Context } from 'hono'
import { getCookie } from 'hono/cookie'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SESSION_COOKIE } from '../middleware/auth.js'
import { readText } from '../middleware/body.js'
import type { AppDeps } from '../context.js'
import { clientOf } from '../middleware/client.js'
import { clearSessionCookie, escapeHtml, fileCache, setSessionCookie } from './pages.js'

/**
 * The page's static files (`../../src/web/dashboard`) and its bundled script
 * (`../../dist/web/dashboard.js`, built from src/web/dashboard by rollup.config.mjs): the same
 * folders from `src/routes` and from `dist/routes`.
 */
const HERE = dirname(fileURLToPath(import.meta.url))
export const DASHBOARD_DIR = resolve(HERE, '../../src/web/dashboard')
const PAGES_DIR = resolve(HERE, '../../dist/web')
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot'))

const ASSETS: Record<string, { dir: string; file?: string; type: string }> = {
  'app.js': { dir: PAGES_DIR, file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  'app.css': { dir: DASHBOARD_DIR, type: 'text/css; charset=utf-8' },
  'favicon.svg': { dir: DASHBOARD_DIR, type: 'image/svg+xml' },
  'uPlot.iife.min.js': { dir: UPLOT_DIR, type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { dir: UPLOT_DIR, type: 'text/css; charset=utf-8' },
}

/** A sign-in form holds one key: its body is never larger than this. */
const SIGN_IN_BODY_BYTES = 4096

/** A sign-in lasts this long; signing in again renews it. */
const SESSION_SECONDS = 12 * 3600

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  // No referrer to other sites; to this one the page's own forms then carry their real `Origin`
  // (under `no-referrer` a browser sends `Origin: null`, which the sign-in check must refuse).
  'Referrer-Policy': 'same-origin',
}

function signInPage(message?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in — Tally</title><link rel="icon" href="/dashboard/assets/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/dashboard/assets/app.css"></head>
<body class="signin"><main>
<h1>Tally dashboard</h1>
<p>Sign in with your account's <strong>read key</strong> (it starts with <code>rk_</code>).</p>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/dashboard/sign-in">
  <label>Read key <input name="key" type="password" autocomplete="current-password" required autofocus></label>
  <button type="submit">Sign in</button>
</form>
</main></body></html>`
}

/** The page a cross-site sign-in or sign-out gets: it changed nothing. */
function crossSitePage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Refused — Tally</title><link rel="icon" href="/dashboard/assets/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/dashboard/assets/app.css"></head>
<body class="signin"><main>
<h1>Refused</h1>
<p class="error" role="alert">This form was sent from another site, so Tally ignored it: nobody was signed in or out.</p>
<p><a href="/dashboard">Open the dashboard</a> and use its own form.</p>
</main></body></html>`
}

export function dashboardRoutes(deps: AppDeps): Hono {
  const { config, logger } = deps
  const app = new Hono()
  const asset = fileCache()
  const page = (c: Context, html: string, status: 200 | 401 = 200) => c.html(html, status, { ...SECURITY_HEADERS, 'Cache-Control': 'no-store' })

  /**
   * A form post from another site (login CSRF: signing a visitor in to the attacker's account, or
   * out of their own). Browsers say where a post comes from in `Sec-Fetch-Site`, and older ones
   * in `Origin`; a request with neither is not from a browser page, so it cannot be forged by one.
   */
  const crossSite = (c: Context) => {
    const site = c.req.header('sec-fetch-site')?.toLowerCase()
    if (site !== undefined) return site !== 'same-origin' && site !== 'none'
    const origin = c.req.header('origin')
    if (origin === undefined) return false
    try {
      return new URL(origin).host !== clientOf(c).host
    } catch {
      return true // `Origin: null` (a sandboxed or privacy-stripped page) proves nothing
    }
  }
  const refuseCrossSite = (c: Context) => {
    logger.warn({ route: c.req.path, origin: c.req.header('origin'), site: c.req.header('sec-fetch-site') }, 'dashboard form post from another site refused')
    return c.html(crossSitePage(), 403, { ...SECURITY_HEADERS, 'Cache-Control': 'no-store' })
  }

  /** The account of a valid sign-in cookie; a rotated key signs everyone out. */
  const signedIn = (c: Context) => {
    const key = getCookie(c, SESSION_COOKIE)
    const found = key ? config.accountByKey(key) : undefined
    return found?.scope === 'read' ? found : undefined
  }

  app.get('/dashboard', async (c) => {
    const found = signedIn(c)
    if (!found) return page(c, signInPage())
    // Function replacers: a string replacement would expand `$&`, `$'`, `` $` `` in an account name.
    const name = escapeHtml(found.account.name || found.id)
    const id = escapeHtml(found.id)
    const html = (await asset('index.html', DASHBOARD_DIR)).replaceAll('%ACCOUNT_NAME%', () => name).replaceAll('%ACCOUNT_ID%', () => id)
    return page(c, html)
  })
  app.get('/dashboard/', (c) => c.redirect('/dashboard', 301))

  app.post('/dashboard/sign-in', async (c) => {
    if (crossSite(c)) return refuseCrossSite(c)
    let key = ''
    // The one body reader, with a limit sized for a form holding one key: a sign-in body can never
    // make the collector hold more than this, whatever it declares (413 past it).
    const text = await readText(c, SIGN_IN_BODY_BYTES)
    if ((c.req.header('content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      key = new URLSearchParams(text).get('key')?.trim() ?? ''
    }
    // Any other body is a sign-in without a key.
    const found = key ? config.accountByKey(key) : undefined
    if (!found) {
      return page(c, signInPage('That key does not open any account. Check the read key and try again.'), 401)
    }
    if (found.scope !== 'read') {
      return page(c, signInPage('That is the secret key. Sign in with the read key; keep the secret key on your servers.'), 401)
    }
    setSessionCookie(c, 'first-party', SESSION_COOKIE, key, SESSION_SECONDS)
    return c.redirect('/dashboard', 303)
  })

  app.post('/dashboard/sign-out', (c) => {
    if (crossSite(c)) return refuseCrossSite(c)
    clearSessionCookie(c, 'first-party', SESSION_COOKIE)
    return c.redirect('/dashboard', 303)
  })

  app.get('/dashboard/assets/:file', async (c) => {
    const name = c.req.param('file')
    const known = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined
    if (!known) return c.json({ error: { code: 'not_found', message: 'no such file' } }, 404)
    return c.body(await asset(known.file ?? name, known.dir), 200, { ...SECURITY_HEADERS, 'Content-Type': known.type, 'Cache-Control': 'no-cache' })
  })

  return app
}
